#pragma once
// SweeperBackend over the real ECR and Lambda APIs.
#include "ecrs/aws/client.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "ecrs/handler/backend.hpp"

namespace ecrs::handler {

// Lambda Invoke (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html): restJson1.
inline constexpr const char* kLambdaInvokePathPrefix = "/2015-03-31/functions/";
inline constexpr const char* kLambdaInvokePathSuffix = "/invocations";

// FunctionName is a URI label in the model (no greedy '+'), so ':' in an ARN is percent-encoded.
std::string lambda_invoke_path(const std::string& function_name_or_arn);

class AwsBackend final : public SweeperBackend {
 public:
  AwsBackend(ecr::EcrClient& ecr, aws::AwsClient& lambda, const Clock& clock, Sleeper& sleeper, Random& random,
             Logger& logger)
      : ecr_(&ecr), lambda_(&lambda), clock_(&clock), sleeper_(&sleeper), random_(&random), logger_(&logger) {}

  Result<bool> repository_exists(const std::string& repository, const std::optional<std::string>& registry_id) override;
  Result<ecr::EmptyReport> empty_repository(const ecr::EmptyOptions& options) override;
  Result<void> invoke_async(const std::string& function_arn, const std::string& payload) override;

 private:
  ecr::EcrClient* ecr_;
  aws::AwsClient* lambda_;
  const Clock* clock_;
  Sleeper* sleeper_;
  Random* random_;
  Logger* logger_;
};

}  // namespace ecrs::handler
