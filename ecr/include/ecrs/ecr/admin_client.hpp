#pragma once
// Repository administration over the awsJson 1.1 core: creating a repository with its settings and tags, its
// repository policy, and the repository creation templates ECR applies when it creates a repository itself
// (appliedFor CREATE_ON_PUSH, launched Dec 2025; shared/docs/ecr-api.md §6). Lifecycle policies are
// LifecycleClient's (lifecycle_client.hpp). Members keep the model's names (botocore ecr/2015-09-21
// service-2.json) in snake_case.
#include <json/value.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/aws/client.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/ecr/ecr_client.hpp"

namespace ecrs::ecr {

// TagList: "maximum of 50 tags" (service-2.json TagList / CreateRepository tags).
inline constexpr std::size_t kMaxResourceTags = 50;

// Shape EncryptionConfiguration / EncryptionConfigurationForRepositoryCreationTemplate.
struct EncryptionConfiguration {
  std::string encryption_type = "AES256";  // AES256 | KMS | KMS_DSSE
  std::optional<std::string> kms_key;      // key ARN; absent with KMS = the AWS-managed key
};

struct CreateRepositoryRequest {
  std::string repository_name;
  std::optional<std::string> registry_id;
  std::optional<std::string> image_tag_mutability;  // MUTABLE | IMMUTABLE | *_WITH_EXCLUSION
  std::optional<bool> scan_on_push;                 // imageScanningConfiguration.scanOnPush
  std::optional<EncryptionConfiguration> encryption_configuration;
  std::vector<Tag> tags;
};
// Shape Repository, with the settings CreateRepository echoes back.
struct RepositoryDetail {
  Repository repository;
  bool scan_on_push = false;
  EncryptionConfiguration encryption_configuration;
};

struct TagResourceRequest {
  std::string resource_arn;
  std::vector<Tag> tags;
};

struct SetRepositoryPolicyRequest {
  std::string repository_name;
  std::optional<std::string> registry_id;
  std::string policy_text;
  bool force = false;
};

// Shape RCTAppliedFor.
inline constexpr std::string_view kAppliedForCreateOnPush = "CREATE_ON_PUSH";
inline constexpr std::string_view kAppliedForReplication = "REPLICATION";
inline constexpr std::string_view kAppliedForPullThroughCache = "PULL_THROUGH_CACHE";

// Shape RepositoryCreationTemplate (Create/Update input members are the same, minus the dates). On Update an
// absent optional member is left out of the request.
struct RepositoryCreationTemplate {
  std::string prefix;  // 1..256 or ROOT; "a trailing / is always assumed" (service-2.json Prefix)
  std::optional<std::string> description;
  std::optional<EncryptionConfiguration> encryption_configuration;
  std::vector<Tag> resource_tags;
  std::optional<std::string> image_tag_mutability;
  std::optional<std::string> repository_policy;
  std::optional<std::string> lifecycle_policy;
  std::vector<std::string> applied_for;  // required on Create
  std::optional<std::string> custom_role_arn;
  std::optional<double> created_at;
  std::optional<double> updated_at;
};

struct DescribeRepositoryCreationTemplatesRequest {
  std::vector<std::string> prefixes;  // empty: all
  std::optional<int> max_results;
  std::optional<std::string> next_token;
};
struct DescribeRepositoryCreationTemplatesResponse {
  std::string registry_id;
  std::vector<RepositoryCreationTemplate> repository_creation_templates;
  std::optional<std::string> next_token;
};

class EcrAdminClient {
 public:
  explicit EcrAdminClient(aws::AwsClient& aws) : aws_(&aws) {}

  Result<RepositoryDetail> create_repository(const CreateRepositoryRequest& request, aws::CallOptions options = {});
  Result<void> tag_resource(const TagResourceRequest& request, aws::CallOptions options = {});
  Result<void> set_repository_policy(const SetRepositoryPolicyRequest& request, aws::CallOptions options = {});

  Result<RepositoryCreationTemplate> create_repository_creation_template(const RepositoryCreationTemplate& t,
                                                                         aws::CallOptions options = {});
  Result<RepositoryCreationTemplate> update_repository_creation_template(const RepositoryCreationTemplate& t,
                                                                         aws::CallOptions options = {});
  Result<DescribeRepositoryCreationTemplatesResponse> describe_repository_creation_templates(
      const DescribeRepositoryCreationTemplatesRequest& request, aws::CallOptions options = {});
  Result<RepositoryCreationTemplate> delete_repository_creation_template(const std::string& prefix,
                                                                         aws::CallOptions options = {});

 private:
  Result<Json::Value> call(std::string_view operation, const Json::Value& input, const std::string& subject,
                           aws::CallOptions& options);
  aws::AwsClient* aws_;
};

// Pure encoders/decoders, exposed for tests.
Json::Value encode_create_repository(const CreateRepositoryRequest& request);
Json::Value encode_repository_creation_template(const RepositoryCreationTemplate& t);
Result<RepositoryDetail> decode_create_repository(const Json::Value& body);
Result<RepositoryCreationTemplate> decode_repository_creation_template(const Json::Value& v);

}  // namespace ecrs::ecr
