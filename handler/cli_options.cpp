#include "ecrs/handler/cli_options.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "ecrs/aws/endpoints.hpp"
#include "ecrs/aws/shared_config.hpp"
#include "ecrs/cfn/properties.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/handler/modes.hpp"

namespace ecrs::handler {

const char* const kExitCodesHelp =
    "Exit codes: 0 done; 1 an AWS call or the run failed; 2 usage or invalid input (option, repository name,\n"
    "file, policy); 3 a check asked for by flag found something (clean --detailed-exitcode: images to delete;\n"
    "lifecycle preview --fail-on-in-use: an image in use); 4 partial: some repositories failed, the others\n"
    "were done.";

namespace {

constexpr const char* kRed = "\x1b[31m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kReset = "\x1b[0m";

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<OutputFormat> parse_format(const std::string& s, bool allow_table) {
  if (s == "text") return OutputFormat::text;
  if (s == "json") return OutputFormat::json;
  if (s == "table" && allow_table) return OutputFormat::table;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(OutputFormat f) {
  switch (f) {
    case OutputFormat::json:
      return "json";
    case OutputFormat::table:
      return "table";
    case OutputFormat::text:
      break;
  }
  return "text";
}

SessionOptions CommonOptions::session() const {
  SessionOptions s;
  if (!regions.empty()) s.region = regions.front();
  if (!profile.empty()) s.profile = profile;
  if (!endpoint_url.empty()) s.endpoint_url = endpoint_url;
  s.allow_insecure_http = allow_insecure_http;
  return s;
}

std::optional<OutputFormat> CommonOptions::configured_format(const Environment& env) const {
  if (auto f = parse_format(output, allow_table)) return f;
  // The AWS CLI's own variable and profile setting, in its order: a user who exported AWS_DEFAULT_OUTPUT=json,
  // or wrote `output = json` in ~/.aws/config, gets JSON here too; a format this verb lacks (table on `empty`) is
  // not an error, it just does not apply.
  if (auto v = env.get("AWS_DEFAULT_OUTPUT")) {
    if (auto f = parse_format(lower(*v), allow_table)) return f;
  }
  // An unreadable config file is the session's error to report when it builds a client; here it only means the
  // profile chose no format.
  auto config = aws::ConfigView::load(env, profile.empty() ? std::nullopt : std::optional<std::string>(profile));
  if (config) {
    if (auto v = config->profile_get("output")) return parse_format(lower(*v), allow_table);
  }
  return std::nullopt;
}

OutputFormat CommonOptions::output_format(const Environment& env, OutputFormat fallback) const {
  return configured_format(env).value_or(fallback);
}

bool CommonOptions::output_chosen(const Environment& env) const { return configured_format(env).has_value(); }

LogLevel CommonOptions::log_level(const Environment& env) const {
  if (debug) return LogLevel::debug;
  auto v = env.get("ECRS_LOG_LEVEL");
  if (!v) return LogLevel::warn;
  const std::string s = lower(*v);
  if (s == "debug") return LogLevel::debug;
  if (s == "info") return LogLevel::info;
  if (s == "error") return LogLevel::error;
  return LogLevel::warn;
}

void add_output_option(CLI::App& cmd, CommonOptions& into, CommonOptionSpec spec) {
  into.allow_table = into.allow_table || spec.table;
  std::vector<std::string> formats{"text", "json"};
  if (spec.table) formats.emplace_back("table");
  std::string formats_text;
  for (const auto& f : formats) formats_text += (formats_text.empty() ? "" : "|") + f;
  cmd.add_option("--output", into.output,
                 "Output format (default: AWS_DEFAULT_OUTPUT, the profile's output, else text)")
      ->type_name(formats_text)
      ->check([formats, formats_text](const std::string& v) {
        for (const auto& f : formats) {
          if (v == f) return std::string();
        }
        return "'" + v + "' is not one of " + formats_text;
      });
}

void add_common_options(CLI::App& cmd, CommonOptions& into, CommonOptionSpec spec) {
  into.declared = true;
  into.allow_table = into.allow_table || spec.table;
  auto* g = cmd.add_option_group(kCommonOptionsGroup);
  auto* region = g->add_option("--region", into.regions,
                               spec.repeatable_region
                                   ? "AWS region (repeatable; default: AWS_REGION, AWS_DEFAULT_REGION, the profile)"
                                   : "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile)");
  region->type_name("REGION")->check([](const std::string& r) {
    return aws::is_valid_region(r) ? std::string() : "'" + r + "' is not a region name (e.g. us-east-1)";
  });
  if (!spec.repeatable_region) region->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::Throw);
  g->add_option("--profile", into.profile, "Named profile from the shared config files (default: AWS_PROFILE)")
      ->type_name("NAME");
  g->add_option("--endpoint-url", into.endpoint_url,
                "Send every call to this URL (default: AWS_ENDPOINT_URL[_<SERVICE>], the profile's endpoint_url)")
      ->type_name("URL");
  // Off by default: plain http sends every request and its signature unencrypted (docker compose's
  // http://localstack:4566 is the case it is for). Loopback endpoints need no opt-in.
  g->add_flag("--allow-insecure-http", into.allow_insecure_http,
              "Allow a plain-http endpoint on a non-loopback host (also: ECRS_ALLOW_INSECURE_HTTP=1)");
  add_output_option(*g, into, spec);
  g->add_flag("--debug", into.debug, "Debug log lines (JSON) on stderr; secrets stay redacted");
  g->add_flag("--no-color", into.no_color, "No color and no progress bar (also: NO_COLOR set)");
}

Terminal terminal_for(bool stderr_is_tty, const CommonOptions& common, const Environment& env) {
  Terminal t;
  t.stderr_tty = stderr_is_tty;
  const auto no_color = env.get("NO_COLOR");
  t.color = stderr_is_tty && !common.no_color && !(no_color && !no_color->empty());
  // The bar redraws the line with escape sequences: the same conditions as color, and never under --debug,
  // whose JSON lines would interleave with it.
  t.progress = t.color && !common.debug;
  return t;
}

std::string error_prefix(bool color) {
  return color ? std::string(kRed) + "error:" + kReset + " " : std::string("error: ");
}
std::string warning_prefix(bool color) {
  return color ? std::string(kYellow) + "warning:" + kReset + " " : std::string("warning: ");
}

std::string render_log_line(std::string_view json_line, bool color) {
  auto parsed = parse_json(json_line, "log line");
  if (!parsed || !parsed->isObject()) return std::string(json_line);
  const Json::Value& v = *parsed;
  const std::string level = v.get("level", "").asString();
  if (level != "warn" && level != "error") return {};
  std::ostringstream s;
  s << (level == "error" ? error_prefix(color) : warning_prefix(color)) << v.get("msg", "").asString();
  if (v.isMember("repository") && v["repository"].isString()) s << " [" << v["repository"].asString() << ']';
  if (v.isMember("op") && v["op"].isString()) s << ": " << v["op"].asString();
  std::vector<std::string> details;
  if (v.isMember("code") && v["code"].isString() && !v["code"].asString().empty()) details.push_back(v["code"].asString());
  if (v.isMember("http_status") && v["http_status"].isIntegral() && v["http_status"].asInt() != 0) {
    details.push_back("HTTP " + std::to_string(v["http_status"].asInt()));
  }
  if (v.isMember("attempt") && v["attempt"].isIntegral()) details.push_back("attempt " + std::to_string(v["attempt"].asInt()));
  if (v.isMember("delay_ms") && v["delay_ms"].isIntegral()) {
    details.push_back("next in " + std::to_string(v["delay_ms"].asInt64()) + " ms");
  }
  if (!details.empty()) {
    s << " (";
    for (std::size_t i = 0; i < details.size(); ++i) s << (i ? ", " : "") << details[i];
    s << ')';
  }
  if (v.isMember("error") && v["error"].isString()) s << ": " << v["error"].asString();
  return s.str();
}

ReadableLogSink::ReadableLogSink(std::ostream& err, bool color) : err_(&err), color_(color) {}

void ReadableLogSink::write(std::string_view line) {
  std::string text = render_log_line(line, color_);
  if (text.empty()) return;
  std::lock_guard lock(mu_);
  if (auto parsed = parse_json(line, "log line"); parsed && parsed->isObject() && (*parsed)["error"].isString()) {
    shown_.push_back((*parsed)["error"].asString());
  }
  // \r\x1b[K: a progress bar may be on the line; the message replaces it and the bar redraws below.
  *err_ << (color_ ? "\r\x1b[K" : "") << text << '\n' << std::flush;
}

bool ReadableLogSink::shown(std::string_view text) const {
  std::lock_guard lock(mu_);
  for (const auto& s : shown_) {
    if (s == text) return true;
  }
  return false;
}

Result<std::string> read_text_file(const std::string& path) {
  auto fail = [&](const std::string& why) {
    return Error{"InvalidInput", "cannot read '" + path + "': " + why, "", 0, false, ""};
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return fail("is a directory");
  std::string text;
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(std::strerror(errno));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

Result<void> check_repository_argument(const std::string& name) {
  auto valid = cfn::validate_repository_name(name);
  if (valid) return {};
  Error e = valid.error();
  e.code = "InvalidInput";
  e.message = "invalid repository name '" + name + "': " + valid.error().message;
  return e;
}

int CliContext::fail(std::string_view verb, std::string_view message, int code) const {
  if (readable == nullptr || !readable->shown(message)) {
    err << (terminal.color ? "\r\x1b[K" : "") << "ecr-sweeper " << verb << ": " << error_prefix(terminal.color)
        << message << '\n';
  }
  return code;
}

void CliContext::warn(std::string_view verb, std::string_view message) const {
  err << "ecr-sweeper " << verb << ": " << warning_prefix(terminal.color) << message << '\n';
}

}  // namespace ecrs::handler
