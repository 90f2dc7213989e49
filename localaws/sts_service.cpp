#include "world_services.hpp"

#include <cctype>
#include <charconv>
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

// STS API reference, AssumeRole: DurationSeconds 900..43200 (default 3600), RoleSessionName [\w+=,.@-]{2,64},
// ExternalId [\w+=,.@:\/-]{2,1224}.
constexpr int kMinDuration = 900;
constexpr int kMaxDuration = 43200;
constexpr int kDefaultDuration = 3600;
constexpr std::size_t kMinName = 2, kMaxSessionName = 64, kMaxExternalId = 1224;

bool word_or(char c, std::string_view extra) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || extra.find(c) != std::string_view::npos;
}

bool matches(const std::string& s, std::size_t max, std::string_view extra) {
  if (s.size() < kMinName || s.size() > max) return false;
  for (char c : s)
    if (!word_or(c, extra)) return false;
  return true;
}

// The message shape STS uses for a constraint violation.
std::string validation(const std::string& value, const std::string& member, const std::string& constraint) {
  return "1 validation error detected: Value '" + value + "' at '" + member + "' failed to satisfy constraint: " + constraint;
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
    // STS speaks the query protocol's codes: InvalidClientTokenId and SignatureDoesNotMatch where the JSON
    // services say UnrecognizedClientException and InvalidSignatureException.
    std::string code = failure.error_code;
    if (code == "UnrecognizedClientException") code = "InvalidClientTokenId";
    if (code == "InvalidSignatureException") code = "SignatureDoesNotMatch";
    respond(query_error(403, code, failure.message));
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
    if (!matches(session, kMaxSessionName, "+=,.@-")) {
      respond(query_error(400, "ValidationError",
                          validation(session, "roleSessionName", "Member must satisfy regular expression pattern: [\\w+=,.@-]*")));
      return true;
    }
    int duration = kDefaultDuration;
    if (form.count("DurationSeconds")) {
      const std::string& text = form.at("DurationSeconds");
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), duration);
      if (ec != std::errc{} || p != text.data() + text.size() || duration < kMinDuration || duration > kMaxDuration) {
        respond(query_error(400, "ValidationError",
                            validation(text, "durationSeconds",
                                       duration < kMinDuration ? "Member must have value greater than or equal to 900"
                                                               : "Member must have value less than or equal to 43200")));
        return true;
      }
    }
    if (form.count("ExternalId") && !matches(form.at("ExternalId"), kMaxExternalId, "+=,.@:/-")) {
      respond(query_error(400, "ValidationError",
                          validation(form.at("ExternalId"), "externalId",
                                     "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*")));
      return true;
    }
    const auto issued = principals_.issue(target);
    const auto role_name = role.substr(role.rfind('/') + 1);
    respond(xml_ok(std::string("<AssumeRoleResponse xmlns=\"") + kNs + "\"><AssumeRoleResult><Credentials>" +
                   "<AccessKeyId>" + issued.access_key_id + "</AccessKeyId><SecretAccessKey>" +
                   issued.secret_access_key + "</SecretAccessKey><SessionToken>" + issued.session_token +
                   "</SessionToken><Expiration>" + iso8601(clock_.now() + std::chrono::seconds(duration)) +
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
