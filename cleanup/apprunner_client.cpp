#include "ecrs/cleanup/apprunner_client.hpp"

#include "ecrs/cleanup/decode.hpp"

namespace ecrs::cleanup {

using detail::opt_string;

Result<std::pair<std::vector<AppRunnerServiceSummary>, std::optional<std::string>>> AppRunnerClient::list_services(
    const std::optional<std::string>& next_token) {
  Json::Value in(Json::objectValue);
  in["MaxResults"] = kMaxAppRunnerResults;
  if (next_token) in["NextToken"] = *next_token;
  ECRS_CLEANUP_TRY(body, call_with(policy_, "", [&](const aws::CallOptions& options) {
                     return aws_->json_call(kAppRunnerTargetPrefix, "ListServices", in, options, "1.0");
                   }));
  std::pair<std::vector<AppRunnerServiceSummary>, std::optional<std::string>> out;
  ECRS_CLEANUP_TRY(items, detail::array_member(body, "ServiceSummaryList", "ListServicesResponse"));
  for (const auto& s : items) {
    ECRS_CLEANUP_TRY(name, opt_string(s, "ServiceName", "ServiceSummary"));
    ECRS_CLEANUP_TRY(arn, opt_string(s, "ServiceArn", "ServiceSummary"));
    out.first.push_back({name, arn});
  }
  ECRS_CLEANUP_TRY(token, opt_string(body, "NextToken", "ListServicesResponse"));
  if (!token.empty()) out.second = token;
  return out;
}

Result<AppRunnerService> AppRunnerClient::describe_service(const std::string& service_arn) {
  Json::Value in(Json::objectValue);
  in["ServiceArn"] = service_arn;
  ECRS_CLEANUP_TRY(body, call_with(policy_, "service=" + service_arn, [&](const aws::CallOptions& options) {
                     return aws_->json_call(kAppRunnerTargetPrefix, "DescribeService", in, options, "1.0");
                   }));
  const Json::Value& s = body["Service"];
  if (!s.isObject()) return detail::invalid("DescribeServiceResponse.Service is missing");
  AppRunnerService out;
  ECRS_CLEANUP_TRY(name, opt_string(s, "ServiceName", "Service"));
  ECRS_CLEANUP_TRY(arn, opt_string(s, "ServiceArn", "Service"));
  const Json::Value& repo = s["SourceConfiguration"]["ImageRepository"];
  ECRS_CLEANUP_TRY(id, opt_string(repo, "ImageIdentifier", "ImageRepository"));
  ECRS_CLEANUP_TRY(type, opt_string(repo, "ImageRepositoryType", "ImageRepository"));
  out.service_name = name;
  out.service_arn = arn;
  out.image_identifier = id;
  out.image_repository_type = type;
  return out;
}

}  // namespace ecrs::cleanup
