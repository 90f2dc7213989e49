#include "world_services.hpp"

#include "ecrs/common/json.hpp"

namespace ecrs::localaws {
namespace {

constexpr const char* kTarget = "AppRunner.";
constexpr const char* kContentType = "application/x-amz-json-1.0";
constexpr int kDefaultMaxResults = 20;  // ListServices MaxResults 1..20

std::string service_arn(const std::string& region, const std::string& account, const std::string& name) {
  return "arn:aws:apprunner:" + region + ":" + account + ":service/" + name + "/0123456789abcdef";
}

}  // namespace

bool AppRunnerService::handle(const HttpRequest& req, const Responder& respond) {
  const std::string target = req.header("X-Amz-Target");
  if (req.method != "POST" || target.rfind(kTarget, 0) != 0) return false;
  const std::string op = target.substr(std::string(kTarget).size());
  AuthFailure failure;
  auto account = principals_.authenticate(req, worlds_.region(), "apprunner", clock_.now(), &failure);
  if (!account) {
    respond(json_error(403, failure.error_code, failure.message, kContentType));
    return true;
  }
  auto parsed = parse_json(req.body.empty() ? "{}" : req.body, op);
  if (!parsed || !parsed->isObject()) {
    respond(json_error(400, "SerializationException", "", kContentType));
    return true;
  }
  const Json::Value& in = *parsed;
  std::lock_guard lock(worlds_.mutex());
  World& world = worlds_.world(*account);
  const std::string& region = worlds_.region();
  if (op == "ListServices") {
    const int max = in.isMember("MaxResults") ? in["MaxResults"].asInt() : kDefaultMaxResults;
    std::size_t start = in.isMember("NextToken") ? std::stoul(in["NextToken"].asString()) : 0;
    Json::Value out;
    out["ServiceSummaryList"] = Json::Value(Json::arrayValue);
    std::size_t i = start;
    for (; i < world.apprunner_services.size() && i < start + static_cast<std::size_t>(max); ++i) {
      Json::Value s;
      s["ServiceName"] = world.apprunner_services[i].name;
      s["ServiceArn"] = service_arn(region, *account, world.apprunner_services[i].name);
      s["Status"] = "RUNNING";
      out["ServiceSummaryList"].append(s);
    }
    if (i < world.apprunner_services.size()) out["NextToken"] = std::to_string(i);
    respond(json_reply(200, out, kContentType));
  } else if (op == "DescribeService") {
    const std::string arn = in.get("ServiceArn", "").asString();
    for (const auto& s : world.apprunner_services) {
      if (service_arn(region, *account, s.name) != arn) continue;
      Json::Value out;
      Json::Value& svc = out["Service"];
      svc["ServiceName"] = s.name;
      svc["ServiceArn"] = arn;
      svc["Status"] = "RUNNING";
      svc["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"] = s.image_identifier;
      svc["SourceConfiguration"]["ImageRepository"]["ImageRepositoryType"] = s.image_repository_type;
      respond(json_reply(200, out, kContentType));
      return true;
    }
    respond(json_error(400, "ResourceNotFoundException", "Service not found: " + arn, kContentType));
  } else {
    respond(json_error(400, "UnknownOperationException", "", kContentType));
  }
  return true;
}

}  // namespace ecrs::localaws
