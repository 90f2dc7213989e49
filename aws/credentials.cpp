#include "ecrs/aws/credentials.hpp"

#include <sys/wait.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "ecrs/aws/endpoints.hpp"
#include "ecrs/aws/http.hpp"
#include "ecrs/aws/shared_config.hpp"
#include "ecrs/aws/xml.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::aws {
namespace {
using namespace std::chrono_literals;

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

// The well-known link-local credential endpoints are plain http by design (no TLS on 169.254.x.x).
bool is_metadata_host(std::string_view host) {
  return host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23" || host == "169.254.169.254" ||
         host == "fd00:ec2::254";
}

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

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s) {
  using namespace std::chrono;
  // YYYY-MM-DDTHH:MM:SS[.fff](Z|+00:00)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return ec == std::errc{} && p == s.data() + pos + len;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) || !num(17, 2, sec))
    return std::nullopt;
  std::string_view rest = s.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  if (rest != "Z" && rest != "z" && rest != "+00:00") return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec};
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

Result<sigv4::Credentials> ProfileCredentialsProvider::credentials() {
  auto files = load_shared_files(env_);
  if (!files) return files.error();
  std::string profile = active_profile(env_);
  std::string where = (files->credentials_path.empty() ? "~/.aws/credentials" : files->credentials_path) + ", " +
                      (files->config_path.empty() ? "~/.aws/config" : files->config_path);
  bool found = files->credentials.count(profile) != 0 || files->config.count(profile) != 0;
  if (!found) {
    std::string why = "profile " + profile + " not found in " + where;
    // An explicitly chosen profile that doesn't exist is a mistake to report, not a reason to try IMDS.
    if (profile_explicitly_set(env_)) return failed(why, "shared files");
    return not_configured(why);
  }
  std::string source = "profile " + profile;
  auto akid = profile_value(*files, profile, "aws_access_key_id");
  auto secret = profile_value(*files, profile, "aws_secret_access_key");
  if (akid && secret && !akid->empty() && !secret->empty()) {
    sigv4::Credentials c;
    c.access_key_id = *akid;
    c.secret_access_key = Secret(*secret);
    if (auto token = profile_value(*files, profile, "aws_session_token"); token && !token->empty())
      c.session_token = Secret(*token);
    return c;
  }
  if (akid || secret) return failed("aws_access_key_id and aws_secret_access_key must both be set", source);
  if (auto process = profile_value(*files, profile, "credential_process"); process && !process->empty())
    return run_credential_process(*process, profile);
  if (profile_value(*files, profile, "role_arn"))
    return failed("role_arn profiles (assume role) are not supported; use credential_process or environment keys", source);
  if (profile_value(*files, profile, "sso_session") || profile_value(*files, profile, "sso_start_url"))
    return failed("SSO profiles are not supported; run `aws configure export-credentials` via credential_process", source);
  return not_configured("profile " + profile + " has no credentials in " + where);
}

Result<sigv4::Credentials> WebIdentityCredentialsProvider::credentials() {
  auto token_file = non_empty(env_, "AWS_WEB_IDENTITY_TOKEN_FILE");
  auto role_arn = non_empty(env_, "AWS_ROLE_ARN");
  if (!token_file) return not_configured("AWS_WEB_IDENTITY_TOKEN_FILE not set");
  const std::string source = "web identity";
  if (!role_arn) return failed("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not", source);
  auto token = read_small_file(*token_file);
  if (!token) return failed("cannot read the web identity token file " + *token_file, source);
  // STS is regional by default since botocore 1.36 (sts_regional_endpoints); without a region, us-east-1.
  auto region = resolve_region(std::nullopt, env_);
  auto endpoint = resolve_endpoint(kSts, region ? *region : "us-east-1", env_);
  if (!endpoint) return endpoint.error();
  std::string session = non_empty(env_, "AWS_ROLE_SESSION_NAME")
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
  auto akid = xml_text(res->body, "AccessKeyId");
  auto secret = xml_text(res->body, "SecretAccessKey");
  auto session_token = xml_text(res->body, "SessionToken");
  auto expiration = xml_text(res->body, "Expiration");
  if (!akid || !secret || !session_token)
    return failed("AssumeRoleWithWebIdentity reply lacks AccessKeyId, SecretAccessKey or SessionToken", source);
  sigv4::Credentials c;
  c.access_key_id = *akid;
  c.secret_access_key = Secret(*secret);
  c.session_token = Secret(*session_token);
  if (expiration) c.expiration = parse_iso8601(*expiration);
  return c;
}

Result<sigv4::Credentials> ContainerCredentialsProvider::credentials() {
  // ECS task metadata endpoint (SDKREF feature-container-credentials).
  static constexpr std::string_view kEcsHost = "http://169.254.170.2";
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
  if (parsed->scheme == "http" && !is_loopback_host(parsed->host) && !is_metadata_host(parsed->host))
    return failed("the container credentials URI must be https, loopback, 169.254.170.2 or 169.254.170.23 (got host " +
                      parsed->host + ")",
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
  RequestOptions opts{2s, 5s};  // botocore ContainerMetadataFetcher: 2 s timeout
  opts.no_proxy = true;
  opts.allow_http = is_metadata_host(parsed->host);
  auto res = transport_.send(req, opts);
  if (!res) {
    Error e = res.error();
    e.context = source;
    return e;
  }
  if (res->status != 200) {
    Error e = failed("the endpoint answered HTTP " + std::to_string(res->status), source);
    e.http_status = res->status;
    return e;
  }
  return parse_credentials_json(res->body, source);
}

Result<sigv4::Credentials> ImdsCredentialsProvider::credentials() {
  static constexpr std::string_view kDefaultEndpoint = "http://169.254.169.254";
  static constexpr std::string_view kTokenTtlSeconds = "21600";  // 6 h, the value the SDKs request
  static constexpr std::string_view kRolePath = "/latest/meta-data/iam/security-credentials/";
  if (auto disabled = env_.get("AWS_EC2_METADATA_DISABLED"); disabled && (*disabled == "true" || *disabled == "TRUE" || *disabled == "True"))
    return not_configured("disabled by AWS_EC2_METADATA_DISABLED");
  std::string base = non_empty(env_, "AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(std::string(kDefaultEndpoint));
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto parsed = parse_url(base);
  if (!parsed) return failed("AWS_EC2_METADATA_SERVICE_ENDPOINT is invalid: " + parsed.error().message, "IMDSv2");
  RequestOptions opts{1s, 1s};
  opts.no_proxy = true;
  opts.allow_http = is_metadata_host(parsed->host);
  // Unreachable or refusing IMDS means "not on EC2" for the chain: not configured, with the reason kept.
  auto unavailable = [&](const std::string& why) { return not_configured(base + ": " + why); };

  auto token = transport_.send({"PUT", base + "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", std::string(kTokenTtlSeconds)}}, ""}, opts);
  if (!token) return unavailable(token.error().code);
  if (token->status != 200 || token->body.empty()) return unavailable("token PUT answered HTTP " + std::to_string(token->status));
  if (has_line_break(token->body)) return unavailable("malformed token");
  HeaderList auth = {{"X-aws-ec2-metadata-token", token->body}};
  auto role = transport_.send({"GET", base + std::string(kRolePath), auth, ""}, opts);
  if (!role) return unavailable(role.error().code);
  if (role->status == 404) return unavailable("no instance profile attached");
  if (role->status != 200) return unavailable("role GET answered HTTP " + std::to_string(role->status));
  std::string role_name = role->body.substr(0, role->body.find('\n'));
  if (role_name.empty() || role_name.find_first_of("/?#") != std::string::npos) return unavailable("malformed role name");
  auto creds = transport_.send({"GET", base + std::string(kRolePath) + role_name, auth, ""}, opts);
  if (!creds) {
    Error e = creds.error();
    e.context = "IMDSv2";
    return e;
  }
  if (creds->status != 200) return failed("credentials GET answered HTTP " + std::to_string(creds->status), "IMDSv2");
  auto json = parse_json(creds->body, "IMDSv2");
  if (json) {
    if (auto code = get_string(*json, "Code"); code && *code != "Success")
      return failed("instance metadata reports Code " + *code, "IMDSv2");
  }
  return parse_credentials_json(creds->body, "IMDSv2");
}

Result<sigv4::Credentials> CachingCredentialsProvider::credentials() {
  std::lock_guard l(mu_);
  auto now = clock_.now();
  if (cached_ && (!cached_->expiration || now < *cached_->expiration - kRefreshBeforeExpiry)) return *cached_;
  auto fresh = inner_->credentials();
  if (fresh) {
    cached_ = *fresh;
    return fresh;
  }
  if (cached_ && cached_->expiration && now < *cached_->expiration) {
    if (logger_ != nullptr) {
      Json::Value f;
      f["error"] = fresh.error().describe();
      logger_->warn("credential refresh failed; using credentials still valid until expiry", f);
    }
    return *cached_;
  }
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

std::unique_ptr<CredentialsProvider> make_default_chain(const Environment& env, Transport& transport,
                                                        const Clock& clock, Logger* logger) {
  std::vector<ChainCredentialsProvider::Source> sources;
  if (!profile_explicitly_set(env))
    sources.emplace_back("environment", std::make_unique<EnvironmentCredentialsProvider>(env));
  sources.emplace_back("web identity", std::make_unique<WebIdentityCredentialsProvider>(env, transport, clock));
  sources.emplace_back("shared files", std::make_unique<ProfileCredentialsProvider>(env));
  sources.emplace_back("container", std::make_unique<ContainerCredentialsProvider>(env, transport));
  sources.emplace_back("IMDSv2", std::make_unique<ImdsCredentialsProvider>(env, transport));
  auto chain = std::make_unique<ChainCredentialsProvider>(std::move(sources), logger);
  return std::make_unique<CachingCredentialsProvider>(std::move(chain), clock, logger);
}

}  // namespace ecrs::aws
