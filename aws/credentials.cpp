#include "ecrs/aws/credentials.hpp"

#include <sys/wait.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "credential_util.hpp"
#include "ecrs/aws/assume_role.hpp"
#include "ecrs/aws/endpoints.hpp"
#include "ecrs/aws/http.hpp"
#include "ecrs/aws/shared_config.hpp"
#include "ecrs/aws/xml.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::aws {
namespace detail {

Error not_configured(std::string why) { return make_error(std::string(kCredentialsNotConfigured), std::move(why)); }
Error failed(std::string why, std::string source) { return make_error("CredentialsError", std::move(why), std::move(source)); }

std::optional<std::string> non_empty(const Environment& env, const char* name) {
  auto v = env.get(name);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

Result<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("CredentialsError", "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// credential_process: the command line runs through the shell as aws-sdk-cpp and the AWS CLI v1 document it;
// stdout carries the JSON (Version 1). Its output may hold secrets, so errors never quote it.
Result<sigv4::Credentials> run_credential_process(const std::string& command, const std::string& profile) {
  std::string source = "credential_process of profile " + profile;
  struct PipeCloser {
    void operator()(FILE* f) const { if (f != nullptr) pclose(f); }
  };
  std::unique_ptr<FILE, PipeCloser> pipe(popen(command.c_str(), "r"));
  if (!pipe) return failed("cannot start the command", source);
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe.get())) out.append(buf.data(), n);
  int status = pclose(pipe.release());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    int code = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
    return failed("the command failed (exit status " + std::to_string(code) + ")", source);
  }
  auto json = parse_json(out, source);
  if (!json) return failed("the command's output is not JSON", source);
  auto version = get_int(*json, "Version");
  if (!version || *version != 1) return failed("the command's output must have \"Version\": 1", source);
  return parse_credentials_json(out, source);
}

}  // namespace detail

using namespace detail;
using namespace std::chrono_literals;

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s) {
  using namespace std::chrono;
  // YYYY-MM-DDTHH:MM:SS[.fff](Z|UTC|(+|-)HH[:]MM)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  auto num = [](std::string_view text, std::size_t pos, std::size_t len, int& out) {
    if (pos + len > text.size()) return false;
    auto [p, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return ec == std::errc{} && p == text.data() + pos + len;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!num(s, 0, 4, y) || !num(s, 5, 2, mo) || !num(s, 8, 2, d) || !num(s, 11, 2, h) || !num(s, 14, 2, mi) ||
      !num(s, 17, 2, sec))
    return std::nullopt;
  std::string_view rest = s.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  minutes offset{0};
  if (rest == "Z" || rest == "z" || rest == "UTC") {
  } else if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) {
    // botocore parses Expiration with dateutil, which takes any numeric offset ("+02:00", "-0500").
    int oh = 0, om = 0;
    std::string_view digits = rest.substr(1);
    bool ok = digits.size() == 5 ? (digits[2] == ':' && num(digits, 0, 2, oh) && num(digits, 3, 2, om))
                                 : (digits.size() == 4 && num(digits, 0, 2, oh) && num(digits, 2, 2, om));
    if (!ok || oh > 23 || om > 59) return std::nullopt;
    offset = hours{oh} + minutes{om};
    if (rest.front() == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} - offset;
}

Result<sigv4::Credentials> parse_credentials_json(std::string_view body, std::string_view source) {
  auto json = parse_json(body, source);
  if (!json) return failed("the credentials document is not valid JSON", std::string(source));
  auto akid = get_string(*json, "AccessKeyId");
  auto secret = get_string(*json, "SecretAccessKey");
  auto token = get_string(*json, "Token");
  if (!token) token = get_string(*json, "SessionToken");
  if (!akid || akid->empty() || !secret || secret->empty())
    return failed("the credentials document lacks AccessKeyId or SecretAccessKey", std::string(source));
  sigv4::Credentials c;
  c.access_key_id = *akid;
  c.secret_access_key = Secret(*secret);
  if (token) c.session_token = Secret(*token);
  if (auto exp = get_string(*json, "Expiration"); exp && !exp->empty()) {
    auto t = parse_iso8601(*exp);
    if (!t) return failed("the credentials document has an unreadable Expiration \"" + *exp + "\"", std::string(source));
    c.expiration = *t;
  }
  return c;
}

Result<sigv4::Credentials> EnvironmentCredentialsProvider::credentials() {
  auto akid = non_empty(env_, "AWS_ACCESS_KEY_ID");
  auto secret = non_empty(env_, "AWS_SECRET_ACCESS_KEY");
  if (!akid && !secret) return not_configured("AWS_ACCESS_KEY_ID not set");
  if (!akid || !secret)
    return failed(std::string(akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") + " is missing while the other is set",
                  "environment");
  sigv4::Credentials c;
  c.access_key_id = *akid;
  c.secret_access_key = Secret(*secret);
  if (auto token = non_empty(env_, "AWS_SESSION_TOKEN")) c.session_token = Secret(*token);
  return c;
}

Result<sigv4::Credentials> WebIdentityCredentialsProvider::credentials() {
  // botocore AssumeRoleWithWebIdentityProvider: each setting from its variable, else from the profile.
  std::optional<SharedFiles> files;
  if (profile_) {
    auto loaded = load_shared_files(env_);
    if (!loaded) return loaded.error();
    files = std::move(*loaded);
  }
  auto setting = [&](const char* var, const char* key) -> std::optional<std::string> {
    if (use_env_)
      if (auto v = non_empty(env_, var)) return v;
    if (files)
      if (auto v = profile_value(*files, *profile_, key); v && !v->empty()) return v;
    return std::nullopt;
  };
  auto token_file = setting("AWS_WEB_IDENTITY_TOKEN_FILE", "web_identity_token_file");
  if (!token_file) return not_configured(use_env_ ? "AWS_WEB_IDENTITY_TOKEN_FILE not set" : "no web_identity_token_file");
  auto role_arn = setting("AWS_ROLE_ARN", "role_arn");
  const std::string source = "web identity";
  if (!role_arn) return failed("a web identity token file is set but no role ARN (AWS_ROLE_ARN or role_arn)", source);
  auto token = read_small_file(*token_file);
  if (!token) return failed("cannot read the web identity token file " + *token_file, source);
  // STS is regional by default since botocore 1.36 (sts_regional_endpoints); without a region, us-east-1.
  auto region = resolve_region(std::nullopt, env_);
  auto endpoint = resolve_endpoint(kSts, region ? *region : "us-east-1", env_);
  if (!endpoint) return endpoint.error();
  std::string session = setting("AWS_ROLE_SESSION_NAME", "role_session_name")
                            .value_or("ecr-sweeper-" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                          clock_.now().time_since_epoch())
                                                                          .count()));
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint->url + "/";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  // AssumeRoleWithWebIdentity is an unsigned operation (botocore model: "authtype": "none").
  req.body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + form_encode(*role_arn) +
             "&RoleSessionName=" + form_encode(session) + "&WebIdentityToken=" + form_encode(*token);
  auto res = transport_.send(req, RequestOptions{5s, 10s});
  if (!res) {
    Error e = res.error();
    e.context = source;
    return e;
  }
  if (res->status != 200) {
    Error e = make_error(xml_text(res->body, "Code").value_or("HTTP" + std::to_string(res->status)),
                         xml_text(res->body, "Message").value_or("AssumeRoleWithWebIdentity failed"),
                         source + " AssumeRoleWithWebIdentity");
    e.http_status = res->status;
    e.request_id = xml_text(res->body, "RequestId").value_or(res->header("x-amzn-RequestId"));
    return e;
  }
  return parse_assume_role_response(res->body, source + " AssumeRoleWithWebIdentity");
}

bool is_container_metadata_host(std::string_view host) {
  return is_loopback_host(host) || host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23" ||
         host == "localhost";
}

Result<sigv4::Credentials> ContainerCredentialsProvider::credentials() {
  // ECS task metadata endpoint (SDKREF feature-container-credentials).
  static constexpr std::string_view kEcsHost = "http://169.254.170.2";
  // botocore ContainerMetadataFetcher: TIMEOUT_SECONDS, RETRY_ATTEMPTS, SLEEP_TIME.
  static constexpr auto kTimeout = 2s;
  static constexpr int kAttempts = 3;
  static constexpr auto kPause = 1s;
  const std::string source = "container credentials";
  std::string url;
  if (auto rel = non_empty(env_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = std::string(kEcsHost) + *rel;
  } else if (auto full = non_empty(env_, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
  } else {
    return not_configured("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set");
  }
  auto parsed = parse_url(url);
  if (!parsed) return failed("the container credentials URI is invalid: " + parsed.error().message, source);
  if (parsed->scheme == "http" && !is_container_metadata_host(parsed->host))
    return failed("the container credentials URI must be https, or http to a loopback address, 169.254.170.2, "
                  "169.254.170.23, fd00:ec2::23 or localhost (got host " + parsed->host + ")",
                  source);
  HttpRequest req{"GET", url, {{"Accept", "application/json"}}, ""};
  std::optional<std::string> auth;
  if (auto file = non_empty(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    auto t = read_small_file(*file);
    if (!t) return failed("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + *file, source);
    auth = *t;
  } else if (auto t = non_empty(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    auth = *t;
  }
  if (auth) {
    if (has_line_break(*auth)) return failed("the container authorization token contains a line break", source);
    req.headers.emplace_back("Authorization", *auth);
  }
  RequestOptions opts{kTimeout, kTimeout};
  opts.no_proxy = true;
  opts.allow_http = parsed->scheme == "http";  // checked against the host list above
  Error last;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    if (attempt > 1) sleeper_.sleep_for(kPause);
    auto res = transport_.send(req, opts);
    if (!res) {
      last = res.error();
      last.context = source;
      continue;
    }
    if (res->status != 200) {
      last = failed("the endpoint answered HTTP " + std::to_string(res->status), source);
      last.http_status = res->status;
      continue;
    }
    auto creds = parse_credentials_json(res->body, source);
    if (creds) return creds;
    last = creds.error();
  }
  last.message += " (after " + std::to_string(kAttempts) + " attempts)";
  return last;
}

Result<sigv4::Credentials> ImdsCredentialsProvider::credentials() {
  static constexpr std::string_view kDefaultEndpoint = "http://169.254.169.254";
  static constexpr std::string_view kTokenTtlSeconds = "21600";  // 6 h, the value the SDKs request
  static constexpr std::string_view kRolePath = "/latest/meta-data/iam/security-credentials/";
  // botocore: metadata_service_timeout 1 s, metadata_service_num_attempts 1.
  static constexpr int kDefaultTimeoutSeconds = 1;
  static constexpr int kDefaultAttempts = 1;
  static constexpr int kBadRequest = 400;
  const std::string source = "instance metadata";
  if (auto disabled = env_.get("AWS_EC2_METADATA_DISABLED"); disabled && is_true(*disabled))
    return not_configured("disabled by AWS_EC2_METADATA_DISABLED");
  std::string base = non_empty(env_, "AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(std::string(kDefaultEndpoint));
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto parsed = parse_url(base);
  if (!parsed) return failed("AWS_EC2_METADATA_SERVICE_ENDPOINT is invalid: " + parsed.error().message, source);
  auto positive = [&](const char* var, int fallback) {
    int v = 0;
    auto text = non_empty(env_, var);
    if (!text) return fallback;
    auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    return ec == std::errc{} && p == text->data() + text->size() && v > 0 ? v : fallback;
  };
  const auto timeout = std::chrono::seconds(positive("AWS_METADATA_SERVICE_TIMEOUT", kDefaultTimeoutSeconds));
  const int attempts = positive("AWS_METADATA_SERVICE_NUM_ATTEMPTS", kDefaultAttempts);
  const bool v1_disabled = env_.get("AWS_EC2_METADATA_V1_DISABLED") && is_true(*env_.get("AWS_EC2_METADATA_V1_DISABLED"));
  RequestOptions opts{timeout, timeout};
  opts.no_proxy = true;
  opts.allow_http = parsed->scheme == "http" && (parsed->host == "169.254.169.254" || parsed->host == "fd00:ec2::254");
  // Unreachable or refusing IMDS means "not on EC2" for the chain: not configured, with the reason kept.
  auto unavailable = [&](const std::string& why) { return not_configured(base + ": " + why); };
  // A response, or nullopt after `attempts` transport errors or non-200 answers (botocore _get_request).
  auto get = [&](const std::string& path, const HeaderList& headers, std::string& why) -> std::optional<HttpResponse> {
    for (int i = 0; i < attempts; ++i) {
      auto r = transport_.send({"GET", base + path, headers, ""}, opts);
      if (!r) {
        why = r.error().code;
        continue;
      }
      if (r->status == 200 && !r->body.empty()) return std::move(*r);
      why = "GET " + path + " answered HTTP " + std::to_string(r->status);
      if (r->status == 404) return std::nullopt;
    }
    return std::nullopt;
  };

  // botocore _fetch_metadata_token: 200 gives a token; 403/404/405, a timeout or a connection failure mean no
  // token (IMDSv1 follows); 400 is an error.
  std::optional<std::string> token;
  std::string token_why = "token PUT failed";
  for (int i = 0; i < attempts && !token; ++i) {
    auto r = transport_.send(
        {"PUT", base + "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", std::string(kTokenTtlSeconds)}}, ""},
        opts);
    if (!r) {
      token_why = r.error().code;
      if (r.error().code == "Timeout") break;
      continue;
    }
    if (r->status == 200 && !r->body.empty() && !has_line_break(r->body)) token = r->body;
    else if (r->status == kBadRequest) return failed("the token PUT was refused as a bad request (HTTP 400)", source);
    else {
      token_why = "token PUT answered HTTP " + std::to_string(r->status);
      if (r->status == 403 || r->status == 404 || r->status == 405) break;
    }
  }
  if (!token && v1_disabled) return unavailable(token_why + "; IMDSv1 disabled by AWS_EC2_METADATA_V1_DISABLED");
  HeaderList auth;
  if (token) auth.emplace_back("X-aws-ec2-metadata-token", *token);
  std::string why;
  auto role = get(std::string(kRolePath), auth, why);
  if (!role) return unavailable((token ? "" : token_why + ", then IMDSv1: ") + why);
  std::string role_name = role->body.substr(0, role->body.find('\n'));
  if (role_name.empty() || role_name.find_first_of("/?#") != std::string::npos) return unavailable("malformed role name");
  auto creds = get(std::string(kRolePath) + role_name, auth, why);
  if (!creds) return unavailable(why);
  auto json = parse_json(creds->body, source);
  if (json) {
    if (auto code = get_string(*json, "Code"); code && *code != "Success")
      return failed("instance metadata reports Code " + *code, source);
  }
  return parse_credentials_json(creds->body, source);
}

Result<sigv4::Credentials> CachingCredentialsProvider::credentials() {
  using Clock = std::chrono::system_clock;
  auto needs_refresh = [](const std::optional<sigv4::Credentials>& c, Clock::time_point now, std::chrono::minutes window) {
    return !c || (c->expiration && *c->expiration - now < window);
  };
  auto snapshot = [&] {
    std::lock_guard l(state_mu_);
    return cached_;
  };
  auto cached = snapshot();
  if (!needs_refresh(cached, clock_.now(), kAdvisoryRefresh)) return *cached;
  std::unique_lock refresh(refresh_mu_, std::try_to_lock);
  if (!refresh.owns_lock()) {
    // Someone else is refreshing: in the advisory window keep using what we have.
    if (!needs_refresh(cached, clock_.now(), kMandatoryRefresh)) return *cached;
    refresh.lock();
  }
  cached = snapshot();
  const auto now = clock_.now();
  if (!needs_refresh(cached, now, kAdvisoryRefresh)) return *cached;
  const bool mandatory = needs_refresh(cached, now, kMandatoryRefresh);
  auto fresh = inner_->credentials();
  if (!fresh) {
    if (mandatory) return fresh;
    if (logger_ != nullptr) {
      Json::Value f;
      f["error"] = fresh.error().describe();
      logger_->warn("credential refresh failed in the advisory window; using the current credentials", f);
    }
    return *cached;
  }
  if (fresh->expiration && *fresh->expiration <= now)
    return failed("the refreshed credentials are already expired", identity().empty() ? "credentials" : identity());
  std::lock_guard l(state_mu_);
  cached_ = *fresh;
  return fresh;
}

Result<sigv4::Credentials> ChainCredentialsProvider::credentials() {
  std::lock_guard l(mu_);
  if (winner_) {
    auto r = sources_[*winner_].second->credentials();
    if (r || r.error().code != kCredentialsNotConfigured) return r;
    winner_.reset();  // the source went away (e.g. env cleared): walk the chain again
  }
  std::string tried;
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    auto r = sources_[i].second->credentials();
    if (r) {
      winner_ = i;
      if (logger_ != nullptr) {
        Json::Value f;
        f["source"] = sources_[i].first;
        f["access_key_id"] = r->access_key_id;
        logger_->debug("credentials resolved", f);
      }
      return r;
    }
    if (r.error().code != kCredentialsNotConfigured) {
      Error e = std::move(r).error();
      if (e.context.empty()) e.context = sources_[i].first;
      return e;
    }
    if (!tried.empty()) tried += "; ";
    tried += sources_[i].first + " (" + r.error().message + ")";
  }
  return make_error("NoCredentials", "no AWS credentials found; tried: " + tried);
}

std::unique_ptr<CredentialsProvider> make_named_source(std::string_view name, const CredentialContext& ctx) {
  if (name == "Environment") return std::make_unique<EnvironmentCredentialsProvider>(ctx.env);
  if (name == "Ec2InstanceMetadata")
    return std::make_unique<CachingCredentialsProvider>(std::make_unique<ImdsCredentialsProvider>(ctx.env, ctx.transport),
                                                        ctx.clock, ctx.logger);
  if (name == "EcsContainer")
    return std::make_unique<CachingCredentialsProvider>(
        std::make_unique<ContainerCredentialsProvider>(ctx.env, ctx.transport, ctx.sleeper), ctx.clock, ctx.logger);
  return nullptr;
}

std::unique_ptr<CredentialsProvider> make_default_chain(const CredentialContext& ctx) {
  using Stage = ProfileCredentialsProvider::Stage;
  const bool explicit_profile = ctx.profile && !ctx.profile->empty();
  std::vector<ChainCredentialsProvider::Source> sources;
  if (!explicit_profile) sources.emplace_back("environment", std::make_unique<EnvironmentCredentialsProvider>(ctx.env));
  sources.emplace_back("assume-role profile", std::make_unique<ProfileCredentialsProvider>(ctx, Stage::assume_role));
  sources.emplace_back("web identity", std::make_unique<WebIdentityCredentialsProvider>(
                                           ctx.env, ctx.transport, ctx.clock, active_profile(ctx.env, ctx.profile),
                                           !explicit_profile));
  sources.emplace_back("shared files", std::make_unique<ProfileCredentialsProvider>(ctx, Stage::files));
  sources.emplace_back("container", std::make_unique<ContainerCredentialsProvider>(ctx.env, ctx.transport, ctx.sleeper));
  sources.emplace_back("instance metadata", std::make_unique<ImdsCredentialsProvider>(ctx.env, ctx.transport));
  auto chain = std::make_unique<ChainCredentialsProvider>(std::move(sources), ctx.logger,
                                                          "default-chain:" + active_profile(ctx.env, ctx.profile));
  return std::make_unique<CachingCredentialsProvider>(std::move(chain), ctx.clock, ctx.logger);
}

}  // namespace ecrs::aws
