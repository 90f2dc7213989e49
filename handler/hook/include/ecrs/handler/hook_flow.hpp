#pragma once
// The stack-deletion hook (issue 11): an AWS::CloudFormation::LambdaHook calls this function before
// CloudFormation deletes any AWS::ECR::Repository in the account; the flow empties the repository with the same
// engine as Custom::EmptyEcrRepository and answers with the Lambda result itself (cfn/hook.hpp), which the runtime
// loop POSTs to /invocation/<id>/response. There is no ResponseURL and nothing to PUT.
//
// Per invocation: resolve the repository (target model, else the stack's physical id), refuse a repository
// tagged ecr-sweeper:keep-on-delete=true (FAILED NonCompliant), empty it until the earlier of the Lambda deadline
// and the Hooks wait (kHookInvocationWait), then SUCCESS, or IN_PROGRESS with what is done in callbackContext while
// Hooks allows more invocations, or FAILED InternalFailure naming what is left. Any other target or action:
// SUCCESS at once, no AWS call.
#include <json/value.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "ecrs/aws/client.hpp"
#include "ecrs/aws/endpoints.hpp"
#include "ecrs/cfn/hook.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/ecr/executor.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/ecr/ecr_client.hpp"

namespace ecrs::handler {

struct InvocationMetrics;  // modes.hpp

// botocore cloudformation service-2.json metadata: protocol "query", apiVersion "2010-05-15".
using aws::kCloudFormation;
inline constexpr std::string_view kCloudFormationApiVersion = "2010-05-15";

inline constexpr std::string_view kEcrRepositoryType = "AWS::ECR::Repository";
// The opt-out: a repository carrying this tag with value "true" is never emptied and its deletion is blocked.
inline constexpr std::string_view kKeepOnDeleteTagKey = "ecr-sweeper:keep-on-delete";
inline constexpr std::string_view kKeepOnDeleteTagValue = "true";

// Hooks re-invoke after callbackDelaySeconds; the guide sets no bound, and the work is ready at once, so short.
inline constexpr int kHookCallbackDelaySeconds = 1;
// Hooks start their 30 s wait before Lambda starts us (queueing, cold start): kept back from it so our answer
// arrives inside the wait rather than just after it.
inline constexpr std::chrono::milliseconds kHookWaitMargin{5000};
// Kept before Lambda-Runtime-Deadline-Ms: the first half for calls started before the work stops (their timeouts
// are cut to it), the second for the /response POST. Small enough that Lambda's default 3 s timeout works.
inline constexpr std::chrono::milliseconds kHookReplyReserve{800};

// PhysicalResourceId of a stack's resource: how a repository CloudFormation named itself is found.
class StackResourceResolver {
 public:
  virtual ~StackResourceResolver() = default;
  // nullopt when the stack knows the resource but it has no physical id (it was never created).
  virtual Result<std::optional<std::string>> physical_resource_id(const std::string& stack_id,
                                                                  const std::string& logical_resource_id) = 0;
};

// DescribeStackResource (query protocol, CloudFormation API 2010-05-15): StackName accepts the stack ARN, which
// also names a stack that is being deleted; the answer's StackResourceDetail/PhysicalResourceId is the name.
class CloudFormationStackResolver final : public StackResourceResolver {
 public:
  explicit CloudFormationStackResolver(aws::AwsClient& cloudformation) : cloudformation_(&cloudformation) {}
  Result<std::optional<std::string>> physical_resource_id(const std::string& stack_id,
                                                          const std::string& logical_resource_id) override;

 private:
  aws::AwsClient* cloudformation_;
};

// Pure, exposed for tests: the PhysicalResourceId in a DescribeStackResource reply; nullopt when absent.
std::optional<std::string> physical_id_from_describe_stack_resource(std::string_view xml);

struct HookFlowConfig {
  int concurrency = ecr::kDefaultConcurrency;  // ECRS_CONCURRENCY
  int max_invocations = cfn::kMaxHookInvocations;
  int callback_delay_seconds = kHookCallbackDelaySeconds;
  std::chrono::milliseconds invocation_wait = cfn::kHookInvocationWait;
  std::chrono::milliseconds wait_margin = kHookWaitMargin;
  std::chrono::milliseconds reply_reserve = kHookReplyReserve;
};

// ECRS_CONCURRENCY, read as the custom-resource flow reads it; an unparsable value is an error naming it.
Result<HookFlowConfig> hook_flow_config_from_env(const Environment& env);

class HookFlow {
 public:
  // `stacks` may be null: an auto-named repository then fails with a message saying so. Every reference must
  // outlive the flow.
  HookFlow(ecr::EcrClient& ecr, StackResourceResolver* stacks, HookFlowConfig config, const Clock& clock,
           Sleeper& sleeper, Random& random, Logger& logger);

  // `event` looks like a Hooks request (cfn::looks_like_hook_request). The result is the Lambda result: always a
  // JSON object of the documented shape with clientRequestToken echoed, whatever happened (never throws).
  // `metrics`, when given, gets the repository and what this invocation deleted, for its EMF record.
  std::string handle(const Json::Value& event, std::optional<std::chrono::system_clock::time_point> deadline,
                     InvocationMetrics* metrics = nullptr) noexcept;

  // The decision without the JSON, for tests and logs.
  cfn::HookResponse decide(const cfn::HookRequest& request,
                           std::optional<std::chrono::system_clock::time_point> deadline, Logger& log,
                           InvocationMetrics* metrics = nullptr);

  // Work may continue until this time (the earlier of the Hooks wait and the Lambda deadline, less margins).
  std::chrono::system_clock::time_point work_until(std::chrono::system_clock::time_point start,
                                                   std::optional<std::chrono::system_clock::time_point> deadline) const;

 private:
  Result<std::optional<std::string>> repository_name(const cfn::HookRequest& request,
                                                     const std::optional<cfn::HookProgress>& progress);
  cfn::HookResponse retry_or_fail(const Error& error, const std::string& what, const cfn::HookProgress& progress,
                                  int invocation, Logger& log);

  ecr::EcrClient* ecr_;
  StackResourceResolver* stacks_;
  HookFlowConfig config_;
  const Clock* clock_;
  Sleeper* sleeper_;
  Random* random_;
  Logger* logger_;
};

}  // namespace ecrs::handler
