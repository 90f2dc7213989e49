#pragma once
// PhysicalResourceIds: non-empty, ≤1 KB, the same in every response for one resource
// (CFNUG/crpg-ref-responses). Derived from registry + repository, so a re-run or a duplicate delivery answers
// with the same id, unlike cfn-response's log-stream default that triggers accidental replacement.
#include <optional>
#include <string>
#include <string_view>

namespace ecrs::cfn {

inline constexpr std::size_t kMaxPhysicalResourceIdBytes = 1024;  // CFNUG/crpg-ref-responses: "1 KB"
inline constexpr std::string_view kPhysicalIdPrefix = "ecr-sweeper:";
inline constexpr std::string_view kDefaultRegistryLabel = "default";
inline constexpr std::string_view kCreateFailedLabel = "CREATE_FAILED";

// "ecr-sweeper:<registry id or 'default'>:<repository>".
std::string physical_resource_id(const std::optional<std::string>& registry_id, std::string_view repository_name);

// "ecr-sweeper:CREATE_FAILED:<LogicalResourceId>", the id answered with a failed Create. CloudFormation then
// sends Delete with this id (gh:aws/aws-cdk#5525), which must succeed having touched nothing.
std::string create_failed_id(std::string_view logical_resource_id);
bool is_create_failed_id(std::string_view physical_resource_id);

// The registry and repository an id of ours names; nullopt for the CREATE_FAILED marker and for ids we did not
// make (CloudFormation may invent one when a Delete races a pending Create: gh:binxio/cfn-certificate-provider#31).
struct RepositoryRef {
  std::optional<std::string> registry_id;
  std::string repository_name;
  friend bool operator==(const RepositoryRef&, const RepositoryRef&) = default;
};
std::optional<RepositoryRef> parse_physical_resource_id(std::string_view physical_resource_id);

}  // namespace ecrs::cfn
