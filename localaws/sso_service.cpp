#include "sso_service.hpp"

#include "ecrs/common/json.hpp"

namespace ecrs::localaws {
namespace {

constexpr const char* kJson = "application/json";
constexpr std::chrono::seconds kDefaultTokenLifetime{3600};  // a fresh `aws sso login` token lasts hours
constexpr std::size_t kAccountIdLength = 12;

HttpResponse unauthorized() {
  HttpResponse res = json_error(401, "UnauthorizedException", "Session token not found or invalid", kJson);
  res.headers.emplace_back("x-amzn-ErrorType", "UnauthorizedException");
  return res;
}

}  // namespace

bool SsoPortalService::handle(const HttpRequest& req, const Responder& respond) {
  if (req.method == "POST" && req.path == "/_localaws/sso/token") {
    auto body = parse_json(req.body, "sso/token");
    const std::string token = body ? get_string(*body, "access_token").value_or("") : "";
    if (token.empty()) {
      respond(json_error(400, "BadRequest", "sso/token needs \"access_token\"", kJson));
      return true;
    }
    const auto lifetime = std::chrono::seconds(get_int(*body, "expires_in").value_or(kDefaultTokenLifetime.count()));
    {
      std::lock_guard lock(mu_);
      tokens_[token] = clock_.now() + lifetime;
    }
    respond(json_reply(200, Json::Value(Json::objectValue), kJson));
    return true;
  }
  if (req.path != "/federation/credentials") return false;
  if (req.method != "GET") {
    respond(json_error(405, "MethodNotAllowed", "GetRoleCredentials is GET", kJson));
    return true;
  }
  const std::string token = req.header("x-amz-sso_bearer_token");
  {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(token);
    if (token.empty() || it == tokens_.end() || it->second <= clock_.now()) {
      respond(unauthorized());
      return true;
    }
  }
  const auto query = parse_form(req.query);
  const std::string account = query.count("account_id") ? query.at("account_id") : "";
  const std::string role = query.count("role_name") ? query.at("role_name") : "";
  if (account.size() != kAccountIdLength || role.empty()) {
    respond(json_error(400, "InvalidRequestException", "account_id and role_name are required", kJson));
    return true;
  }
  const auto issued = principals_.issue(account);
  Json::Value creds;
  creds["accessKeyId"] = issued.access_key_id;
  creds["secretAccessKey"] = issued.secret_access_key;
  creds["sessionToken"] = issued.session_token;
  creds["expiration"] = static_cast<Json::Int64>(
      std::chrono::duration_cast<std::chrono::milliseconds>((clock_.now() + std::chrono::hours(1)).time_since_epoch())
          .count());
  Json::Value out;
  out["roleCredentials"] = creds;
  respond(json_reply(200, out, kJson));
  return true;
}

}  // namespace ecrs::localaws
