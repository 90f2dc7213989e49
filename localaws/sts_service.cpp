#include "world_services.hpp"

#include <ctime>

namespace ecrs::localaws {
namespace {

constexpr const char* kNs = "https://sts.amazonaws.com/doc/2011-06-15/";
constexpr const char* kRequestId = "<ResponseMetadata><RequestId>11111111-2222-3333-4444-555555555555</RequestId>"
                                   "</ResponseMetadata>";

std::string iso8601(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string account_of(const std::string& arn) {
  std::size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  const auto end = arn.find(':', pos);
  return end == std::string::npos ? "" : arn.substr(pos, end - pos);
}

HttpResponse xml_ok(const std::string& body) {
  HttpResponse res;
  res.headers.emplace_back("Content-Type", "text/xml");
  res.body = body;
  return res;
}

}  // namespace

bool StsService::handle(const HttpRequest& req, const Responder& respond) {
  if (req.method != "POST" || req.path != "/" || signing_service_of(req) != "sts") return false;
  AuthFailure failure;
  auto account = principals_.authenticate(req, worlds_.region(), "sts", clock_.now(), &failure);
  if (!account) {
    respond(query_error(403, failure.error_code == "UnrecognizedClientException" ? "InvalidClientTokenId"
                                                                                   : failure.error_code,
                        failure.message));
    return true;
  }
  const auto form = parse_form(req.body);
  const std::string action = form.count("Action") ? form.at("Action") : "";
  if (action == "GetCallerIdentity") {
    respond(xml_ok(std::string("<GetCallerIdentityResponse xmlns=\"") + kNs +
                   "\"><GetCallerIdentityResult><Arn>arn:aws:iam::" + *account +
                   ":user/localaws</Arn><UserId>AIDALOCALAWS</UserId><Account>" + *account +
                   "</Account></GetCallerIdentityResult>" + kRequestId + "</GetCallerIdentityResponse>"));
  } else if (action == "AssumeRole") {
    const std::string role = form.count("RoleArn") ? form.at("RoleArn") : "";
    const std::string session = form.count("RoleSessionName") ? form.at("RoleSessionName") : "";
    const std::string target = account_of(role);
    if (target.size() != 12 || session.empty()) {
      respond(query_error(400, "ValidationError", "RoleArn and RoleSessionName are required"));
      return true;
    }
    const auto issued = principals_.issue(target);
    const auto role_name = role.substr(role.rfind('/') + 1);
    respond(xml_ok(std::string("<AssumeRoleResponse xmlns=\"") + kNs + "\"><AssumeRoleResult><Credentials>" +
                   "<AccessKeyId>" + issued.access_key_id + "</AccessKeyId><SecretAccessKey>" +
                   issued.secret_access_key + "</SecretAccessKey><SessionToken>" + issued.session_token +
                   "</SessionToken><Expiration>" + iso8601(clock_.now() + std::chrono::hours(1)) +
                   "</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROALOCALAWS:" + xml_escape(session) +
                   "</AssumedRoleId><Arn>arn:aws:sts::" + target + ":assumed-role/" + xml_escape(role_name) + "/" +
                   xml_escape(session) + "</Arn></AssumedRoleUser></AssumeRoleResult>" + kRequestId +
                   "</AssumeRoleResponse>"));
  } else {
    respond(query_error(400, "InvalidAction", "Could not find operation " + action));
  }
  return true;
}

}  // namespace ecrs::localaws
