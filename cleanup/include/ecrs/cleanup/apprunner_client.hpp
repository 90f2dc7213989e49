#pragma once
// The App Runner calls the in-use scan needs, awsJson1.0 (botocore/data/apprunner/2020-05-15/service-2.json:
// targetPrefix AppRunner).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/aws/client.hpp"
#include "ecrs/cleanup/call_policy.hpp"
#include "ecrs/common/result.hpp"

namespace ecrs::cleanup {

inline constexpr std::string_view kAppRunnerTargetPrefix = "AppRunner";
// ListServices MaxResults upper bound (App Runner API reference: 1-20).
inline constexpr int kMaxAppRunnerResults = 20;

struct AppRunnerServiceSummary {
  std::string service_name;
  std::string service_arn;
};
struct AppRunnerService {
  std::string service_name;
  std::string service_arn;
  std::string image_identifier;       // SourceConfiguration.ImageRepository.ImageIdentifier; "" for code sources
  std::string image_repository_type;  // ECR | ECR_PUBLIC
};

class AppRunnerClient {
 public:
  // `policy` (optional, must outlive the client): deadline and throttling patience for every call.
  explicit AppRunnerClient(aws::AwsClient& aws, const CallPolicy* policy = nullptr) : aws_(&aws), policy_(policy) {}
  Result<std::pair<std::vector<AppRunnerServiceSummary>, std::optional<std::string>>> list_services(
      const std::optional<std::string>& next_token);
  Result<AppRunnerService> describe_service(const std::string& service_arn);

 private:
  aws::AwsClient* aws_;
  const CallPolicy* policy_;
};

}  // namespace ecrs::cleanup
