#include "ecrs/aws/sso.hpp"

#include <openssl/evp.h>

#include "credential_util.hpp"
#include "ecrs/aws/client.hpp"
#include "ecrs/aws/endpoints.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::aws {
namespace {

std::string sha1_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

std::string login_hint(const SsoConfig& c) {
  return c.session_name ? "run `aws sso login --sso-session " + *c.session_name + "`"
                        : "run `aws sso login --profile " + c.profile + "`";
}

}  // namespace

Result<std::optional<SsoConfig>> sso_config_of(const SharedFiles& files, const std::string& profile) {
  using Found = std::optional<SsoConfig>;
  Profile p = merged_profile(files, profile);
  // botocore SSOProvider: sso_role_name or sso_account_id mark an SSO profile.
  if (p.count("sso_role_name") == 0 && p.count("sso_account_id") == 0) return Found();
  const std::string where = "profile " + profile;
  std::optional<std::string> session_name;
  if (auto s = p.find("sso_session"); s != p.end()) {
    session_name = s->second;
    auto session = files.sso_sessions.find(s->second);
    if (session == files.sso_sessions.end())
      return make_error("InvalidConfiguration", where + " names sso_session \"" + s->second +
                                                    "\", which has no [sso-session " + s->second + "] section in " +
                                                    files.config_path);
    for (const auto& [k, v] : session->second) {
      if (auto mine = p.find(k); mine != p.end() && mine->second != v)
        return make_error("InvalidConfiguration", "the value of " + k + " differs between " + where +
                                                      " and [sso-session " + s->second + "]");
      p[k] = v;
    }
  }
  std::string missing;
  for (const char* key : {"sso_role_name", "sso_account_id", "sso_start_url", "sso_region"})
    if (p.count(key) == 0 || p[key].empty()) missing += std::string(missing.empty() ? "" : ", ") + key;
  if (!missing.empty())
    return make_error("InvalidConfiguration", where + " is configured for SSO but lacks " + missing);
  return Found(SsoConfig{profile, p["sso_start_url"], p["sso_region"], p["sso_account_id"], p["sso_role_name"],
                         session_name});
}

std::string sso_token_cache_path(const Environment& env, const SsoConfig& config) {
  std::string home = env.get("HOME").value_or("");
  return home + "/.aws/sso/cache/" + sha1_hex(config.session_name ? *config.session_name : config.start_url) + ".json";
}

SsoCredentialsProvider::SsoCredentialsProvider(SsoConfig config, const CredentialContext& ctx)
    : config_(std::move(config)), ctx_(ctx) {}

std::string SsoCredentialsProvider::identity() const {
  return "sso:" + config_.account_id + "/" + config_.role_name + "@" + config_.start_url;
}

Result<sigv4::Credentials> SsoCredentialsProvider::credentials() {
  const std::string source = "SSO profile " + config_.profile;
  const std::string path = sso_token_cache_path(ctx_.env, config_);
  auto text = detail::read_small_file(path);
  if (!text)
    return detail::failed("no cached SSO token at " + path + "; " + login_hint(config_), source);
  auto json = parse_json(*text, path);
  auto token = json ? get_string(*json, "accessToken") : std::nullopt;
  auto expires = json ? get_string(*json, "expiresAt") : std::nullopt;
  if (!token || token->empty() || !expires)
    return detail::failed("the cached SSO token " + path + " is invalid; " + login_hint(config_), source);
  auto expires_at = parse_iso8601(*expires);
  if (!expires_at || *expires_at <= ctx_.clock.now())
    return detail::failed("the SSO session has expired; " + login_hint(config_), source);
  Secret access_token(*token);

  auto region = config_.sso_region;
  auto config_view = ConfigView::load(ctx_.env, ctx_.profile);
  if (!config_view) return config_view.error();
  auto endpoint = resolve_endpoint(kSso, region, *config_view);
  if (!endpoint) return endpoint.error();
  HttpRequest req;
  req.method = "GET";
  req.url = endpoint->url + "/federation/credentials?account_id=" + form_encode(config_.account_id) +
            "&role_name=" + form_encode(config_.role_name);
  req.headers = {{"x-amz-sso_bearer_token", access_token.reveal()}, {"Accept", "application/json"}};
  RetryStrategy retry(kDefaultMaxAttempts);
  auto res = send_unsigned(ctx_.transport, req, RequestOptions{}, retry, ctx_.sleeper, ctx_.random);
  if (!res) {
    Error e = res.error();
    e.context = source + " GetRoleCredentials";
    return e;
  }
  if (res->status == 401 || res->status == 403) {
    Error e = detail::failed("the SSO portal refused the cached token (HTTP " + std::to_string(res->status) +
                                 "); " + login_hint(config_),
                             source + " GetRoleCredentials");
    e.http_status = res->status;
    return e;
  }
  if (res->status != 200) {
    Error e = parse_json_error(*res);
    e.context = source + " GetRoleCredentials";
    return e;
  }
  auto body = parse_json(res->body, source);
  if (!body || !(*body)["roleCredentials"].isObject())
    return detail::failed("GetRoleCredentials answered without roleCredentials", source);
  const Json::Value& rc = (*body)["roleCredentials"];
  auto akid = get_string(rc, "accessKeyId");
  auto secret = get_string(rc, "secretAccessKey");
  auto session = get_string(rc, "sessionToken");
  auto expiration_ms = get_int(rc, "expiration");
  if (!akid || !secret || !session || !expiration_ms)
    return detail::failed("GetRoleCredentials answered without accessKeyId, secretAccessKey, sessionToken or expiration",
                          source);
  sigv4::Credentials c;
  c.access_key_id = *akid;
  c.secret_access_key = Secret(*secret);
  c.session_token = Secret(*session);
  c.expiration = std::chrono::system_clock::time_point(std::chrono::milliseconds(*expiration_ms));
  return c;
}

}  // namespace ecrs::aws
