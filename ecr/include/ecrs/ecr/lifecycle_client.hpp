#pragma once
// Typed ECR lifecycle-policy calls over the awsJson 1.1 core: Get/Put/DeleteLifecyclePolicy and the service-side
// preview (StartLifecyclePolicyPreview, then GetLifecyclePolicyPreview until its status leaves IN_PROGRESS).
// Members keep botocore's names (botocore/data/ecr/2015-09-21/service-2.json) in snake_case.
#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/aws/client.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/ecr/types.hpp"

namespace ecrs::ecr {

// Error codes the callers treat as data, not failure (service-2.json errors of the lifecycle operations).
inline constexpr std::string_view kLifecyclePolicyNotFound = "LifecyclePolicyNotFoundException";
inline constexpr std::string_view kLifecyclePolicyPreviewNotFound = "LifecyclePolicyPreviewNotFoundException";
inline constexpr std::string_view kLifecyclePolicyPreviewInProgress = "LifecyclePolicyPreviewInProgressException";
inline constexpr std::string_view kRepositoryNotFoundException = "RepositoryNotFoundException";
// GetLifecyclePolicyPreview maxResults: shape LifecyclePreviewMaxResults, 1..100.
inline constexpr int kMaxLifecyclePreviewResults = 100;

struct LifecyclePolicyRequest {  // Get/Delete/Put share repositoryName + registryId
  std::string repository_name;
  std::optional<std::string> registry_id;
};

// GetLifecyclePolicyResponse / PutLifecyclePolicyResponse / DeleteLifecyclePolicyResponse.
struct LifecyclePolicyResponse {
  std::string registry_id;
  std::string repository_name;
  std::string lifecycle_policy_text;
  std::optional<double> last_evaluated_at;  // epoch seconds (Get/Delete only)
};

struct PutLifecyclePolicyInput {
  std::string repository_name;
  std::optional<std::string> registry_id;
  std::string lifecycle_policy_text;
};

// Shape LifecyclePolicyPreviewStatus.
enum class LifecyclePolicyPreviewStatus { in_progress, complete, expired, failed, unknown };
LifecyclePolicyPreviewStatus parse_preview_status(std::string_view s);
std::string_view to_string(LifecyclePolicyPreviewStatus s);

struct StartLifecyclePolicyPreviewRequest {
  std::string repository_name;
  std::optional<std::string> registry_id;
  std::optional<std::string> lifecycle_policy_text;  // absent: ECR previews the repository's current policy
};
struct StartLifecyclePolicyPreviewResponse {
  std::string repository_name;
  LifecyclePolicyPreviewStatus status = LifecyclePolicyPreviewStatus::unknown;
};

struct GetLifecyclePolicyPreviewRequest {
  std::string repository_name;
  std::optional<std::string> registry_id;
  std::optional<int> max_results;  // 1..kMaxLifecyclePreviewResults
  std::optional<std::string> next_token;
};
// Shape LifecyclePolicyPreviewResult.
struct LifecyclePolicyPreviewResult {
  std::string image_digest;
  std::vector<std::string> image_tags;
  std::optional<double> image_pushed_at;
  std::string action_type;  // LifecyclePolicyRuleAction.type: EXPIRE | TRANSITION
  std::optional<std::int64_t> applied_rule_priority;
};
struct GetLifecyclePolicyPreviewResponse {
  std::string repository_name;
  LifecyclePolicyPreviewStatus status = LifecyclePolicyPreviewStatus::unknown;
  std::vector<LifecyclePolicyPreviewResult> preview_results;
  std::optional<std::int64_t> expiring_image_total_count;  // summary.expiringImageTotalCount
  std::optional<std::string> next_token;
};

class LifecycleClient {
 public:
  explicit LifecycleClient(aws::AwsClient& aws) : aws_(&aws) {}

  // LifecyclePolicyNotFoundException stays an Error here; is_lifecycle_policy_not_found() tells it apart.
  Result<LifecyclePolicyResponse> get_lifecycle_policy(const LifecyclePolicyRequest& request,
                                                       aws::CallOptions options = {});
  Result<LifecyclePolicyResponse> put_lifecycle_policy(const PutLifecyclePolicyInput& request,
                                                       aws::CallOptions options = {});
  Result<LifecyclePolicyResponse> delete_lifecycle_policy(const LifecyclePolicyRequest& request,
                                                          aws::CallOptions options = {});
  Result<StartLifecyclePolicyPreviewResponse> start_lifecycle_policy_preview(
      const StartLifecyclePolicyPreviewRequest& request, aws::CallOptions options = {});
  Result<GetLifecyclePolicyPreviewResponse> get_lifecycle_policy_preview(const GetLifecyclePolicyPreviewRequest& request,
                                                                         aws::CallOptions options = {});

 private:
  Result<Json::Value> call(std::string_view operation, const Json::Value& input, const std::string& repository,
                           aws::CallOptions& options);
  aws::AwsClient* aws_;
};

bool is_lifecycle_policy_not_found(const Error& e);

// Pure decoders, exposed for tests: a body that does not match the model is an Error (code InvalidResponse).
Result<LifecyclePolicyResponse> decode_lifecycle_policy(const Json::Value& body, std::string_view operation);
Result<GetLifecyclePolicyPreviewResponse> decode_get_lifecycle_policy_preview(const Json::Value& body);

}  // namespace ecrs::ecr
