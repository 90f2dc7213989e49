#pragma once
// The one option group every CLI verb that calls AWS carries, with the AWS CLI's names, meanings and precedence
// (flag > environment > profile), and the terminal conventions every verb shares: exit codes, color, the
// readable rendering of log lines, file and repository-name errors. A verb declares the group with
// add_common_options() on each subcommand that calls AWS; run_cli builds the AwsSession from what was parsed.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/handler/aws_session.hpp"

namespace CLI {
class App;
}

namespace ecrs::handler {

// Exit codes of every verb (documented by kExitCodesHelp and the README).
inline constexpr int kCliExitOk = 0;
inline constexpr int kCliExitFailed = 1;   // an AWS call or the run failed
inline constexpr int kCliExitUsage = 2;    // bad option, argument, repository name, file or policy
// A check the user asked for by flag found something: changes to make (clean --detailed-exitcode, as issue #20
// and terraform's -detailed-exitcode, whose 2 is our usage code) or an image in use (lifecycle --fail-on-in-use).
inline constexpr int kCliExitFlagged = 3;
inline constexpr int kCliExitPartial = 4;  // some repositories were done, some failed

// The footer line every verb's --help ends with.
extern const char* const kExitCodesHelp;

// The heading the group appears under in every verb's --help (a test looks for it).
inline constexpr const char* kCommonOptionsGroup = "AWS and output options";

enum class OutputFormat { text, json, table };
std::string_view to_string(OutputFormat f);

struct CommonOptionSpec {
  bool table = false;             // --output table makes sense for this subcommand
  bool repeatable_region = false;  // --region may be given more than once (clean: every region to work in)
};

struct CommonOptions {
  bool declared = false;  // add_common_options ran for this verb
  std::vector<std::string> regions;
  std::string profile;
  std::string endpoint_url;
  std::string output;  // as given; empty: not given
  bool debug = false;
  bool no_color = false;
  bool allow_insecure_http = false;
  bool allow_table = false;

  // --region (the first one), --profile, --endpoint-url, --allow-insecure-http; empty means "not given", so the environment and the
  // profile decide (AwsSession).
  SessionOptions session() const;
  // --output, else AWS_DEFAULT_OUTPUT (the AWS CLI's variable), else the active profile's `output` in the
  // shared config file, each only when it names a format this verb has; else `fallback`.
  OutputFormat output_format(const Environment& env, OutputFormat fallback = OutputFormat::text) const;
  // Whether --output, AWS_DEFAULT_OUTPUT or the profile chose the format (a verb may otherwise pick a table on a
  // terminal).
  bool output_chosen(const Environment& env) const;
  // --debug, else ECRS_LOG_LEVEL, else warn.
  LogLevel log_level(const Environment& env) const;

 private:
  std::optional<OutputFormat> configured_format(const Environment& env) const;
};

// Only --output, for a subcommand that prints a document but calls no AWS (lifecycle validate).
void add_output_option(CLI::App& cmd, CommonOptions& into, CommonOptionSpec spec = {});

// Adds the group to `cmd`, bound to `into` (several subcommands of one verb may share one CommonOptions: only
// one of them is parsed).
void add_common_options(CLI::App& cmd, CommonOptions& into, CommonOptionSpec spec = {});

// What the process's terminal allows: color and the progress bar only on a terminal, never under NO_COLOR
// (https://no-color.org: set to anything non-empty) or --no-color.
struct Terminal {
  bool stderr_tty = false;
  bool color = false;
  bool progress = false;
};
Terminal terminal_for(bool stderr_is_tty, const CommonOptions& common, const Environment& env);

// Renders JSON log lines for a person: one line per retry, warning or error ("warning: retrying ListImages
// (ThrottlingException, HTTP 400), attempt 2"); debug/info lines are dropped. Used on a terminal unless --debug,
// so an error appears once, readable, not as a JSON line beside the verb's own message.
class ReadableLogSink final : public LogSink {
 public:
  ReadableLogSink(std::ostream& err, bool color);
  void write(std::string_view line) override;
  // True when an error line carrying `text` was already shown (the verb then need not repeat it).
  bool shown(std::string_view text) const;

 private:
  std::ostream* err_;
  bool color_;
  mutable std::mutex mu_;
  std::vector<std::string> shown_;
};

// One readable sentence from one JSON log line (exposed for tests); empty for lines a person need not see.
std::string render_log_line(std::string_view json_line, bool color);

// "error: ..." / "warning: ..." in the terminal's colors when `color`.
std::string error_prefix(bool color);
std::string warning_prefix(bool color);

// A file's contents, or an error naming the file and why (strerror text, "is a directory").
Result<std::string> read_text_file(const std::string& path);

// The CLI's check of a repository-name argument, the same for every verb (ECR's pattern and length), as one
// message: "invalid repository name 'X': ...".
Result<void> check_repository_argument(const std::string& name);

}  // namespace ecrs::handler
