#pragma once
// CloudFormation Lambda Hooks, pure: the request a Hook sends to its Lambda function and the JSON the function
// returns as its result (no ResponseURL: the Lambda result itself is the answer). Source for every name and
// limit here: CloudFormation Hooks User Guide, "Create Lambda functions to evaluate resources for Lambda Hooks"
// (https://docs.aws.amazon.com/cloudformation-cli/latest/hooks-userguide/lambda-hooks-create-lambda-function.html,
// sections "Response input" and "Lambda Hook resource input syntax"), called HOOKS-LAMBDA below.
#include <json/value.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ecrs/common/result.hpp"

namespace ecrs::cfn {

// HOOKS-LAMBDA "Developing a Lambda Hook": "When Hooks invoke your Lambda it will wait up to 30 seconds".
inline constexpr std::chrono::seconds kHookInvocationWait{30};
// HOOKS-LAMBDA hookStatus: "A Hook can return IN_PROGRESS 3 times ... your Lambda function can be invoked up to 3
// times." The two sentences disagree by one (3 IN_PROGRESS answers would mean 4 invocations); we take the
// stricter: at most 3 invocations, so IN_PROGRESS only from the first two and a final answer from the third. A
// hook that never answers finally fails with a message we do not control.
inline constexpr int kMaxHookInvocations = 3;
inline constexpr int kMaxHookInProgressAnswers = kMaxHookInvocations - 1;
// HOOKS-LAMBDA message: "truncated to 4096 characters" for CloudFormation operations, "1024 characters" for
// Cloud Control API operations. We cut in UTF-8 bytes, which never exceeds the character count.
inline constexpr std::size_t kMaxHookMessageChars = 4096;
inline constexpr std::size_t kMaxCloudControlHookMessageChars = 1024;

// HOOKS-LAMBDA actionInvocationPoint valid values.
inline constexpr std::string_view kCreatePreProvision = "CREATE_PRE_PROVISION";
inline constexpr std::string_view kUpdatePreProvision = "UPDATE_PRE_PROVISION";
inline constexpr std::string_view kDeletePreProvision = "DELETE_PRE_PROVISION";

enum class HookInvocationPoint { CreatePreProvision, UpdatePreProvision, DeletePreProvision };
std::string_view to_string(HookInvocationPoint p);
std::optional<HookInvocationPoint> hook_invocation_point_from_string(std::string_view s);

struct HookRequest {
  std::string client_request_token;
  std::string aws_account_id;
  std::string stack_id;        // empty when the caller is Cloud Control API
  std::string change_set_id;   // empty unless a change set started the operation
  std::string hook_type_name;
  std::string hook_type_version;
  Json::Value hook_model;      // object ({"LambdaFunction": ARN}) or null
  std::string action_invocation_point;               // as sent
  std::optional<HookInvocationPoint> invocation_point;  // nullopt for a value we do not know
  // requestData
  std::string target_name;       // the resource type, e.g. AWS::ECR::Repository
  std::string target_type;       // the type again, or RESOURCE under Cloud Control API
  std::string target_logical_id;
  Json::Value resource_properties;           // object; empty on DELETE ("If the resource is being deleted, this value will be empty")
  Json::Value previous_resource_properties;  // object; empty on CREATE
  // requestContext
  int invocation = 1;              // "The current attempt at executing the Hook"
  Json::Value callback_context;    // what our last IN_PROGRESS answer carried, or null

  bool from_cloud_control() const { return stack_id.empty(); }
  // The resource type: targetName, or targetType when targetName is absent.
  const std::string& resource_type() const { return target_name.empty() ? target_type : target_name; }
};

// Shape detection for the dispatcher. A Hooks request carries hookTypeName and actionInvocationPoint as strings
// and requestData as an object; a custom-resource event carries RequestType/ResponseURL/StackId instead, so the
// two never both match.
bool looks_like_hook_request(const Json::Value& event);

// Errors have code "InvalidHookRequest" and name the member that was wrong; type mismatches never throw.
Result<HookRequest> parse_hook_request(const Json::Value& event);

// A string property of the target: previousResourceProperties first (what a DELETE carries per HOOKS-LAMBDA),
// then resourceProperties (where other callers put the current model). Empty strings count as absent.
std::optional<std::string> target_property(const HookRequest& request, const char* name);

// ---- the answer --------------------------------------------------------------------------------------------

enum class HookStatus { SUCCESS, FAILED, IN_PROGRESS };
// HOOKS-LAMBDA errorCode valid values: NonCompliant (evaluated and refused) | InternalFailure (could not evaluate).
enum class HookErrorCode { NonCompliant, InternalFailure };
std::string_view to_string(HookStatus s);
std::string_view to_string(HookErrorCode c);

struct HookResponse {
  HookStatus status = HookStatus::FAILED;
  std::optional<HookErrorCode> error_code;  // required when FAILED; InternalFailure is used if unset
  std::string message;
  Json::Value callback_context;             // object, sent only with IN_PROGRESS
  int callback_delay_seconds = 0;           // sent only with IN_PROGRESS

  static HookResponse success(std::string message);
  static HookResponse failed(HookErrorCode code, std::string message);
  static HookResponse in_progress(Json::Value callback_context, int callback_delay_seconds, std::string message);
};

// The Lambda result: always a JSON object of HOOKS-LAMBDA's shape. hookStatus and clientRequestToken are always
// present (the token echoed, "" if the request had none); errorCode only and always with FAILED; callbackContext
// (an object) and callbackDelaySeconds (≥ 0) only with IN_PROGRESS; message valid UTF-8, at most
// `max_message_bytes` bytes (shortened in the middle).
Json::Value hook_response_json(const HookResponse& response, std::string_view client_request_token,
                               std::size_t max_message_bytes = kMaxHookMessageChars);
std::string build_hook_response(const HookResponse& response, std::string_view client_request_token,
                                std::size_t max_message_bytes = kMaxHookMessageChars);
// The message limit for this request (Cloud Control API truncates sooner).
std::size_t max_hook_message_bytes(const HookRequest& request);

// ---- what our IN_PROGRESS answers carry from one invocation to the next --------------------------------------

inline constexpr const char* kHookProgressField = "ecrSweeper";

struct HookProgress {
  std::string repository;       // resolved once (it may have needed a DescribeStackResource call)
  std::uint64_t deleted = 0;    // images deleted by earlier invocations
  int invocations = 0;          // invocations that answered IN_PROGRESS so far
  friend bool operator==(const HookProgress&, const HookProgress&) = default;
};

// {"ecrSweeper": {"repository": ..., "deleted": N, "invocations": N}}: a callbackContext object.
Json::Value to_callback_context(const HookProgress& progress);
// nullopt when the context is null or holds no progress of ours; an error (InvalidHookRequest) when it holds a
// malformed one (a context we did not write cannot be trusted to resume from).
Result<std::optional<HookProgress>> read_hook_progress(const Json::Value& callback_context);

}  // namespace ecrs::cfn
