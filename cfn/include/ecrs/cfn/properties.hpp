#pragma once
// Typed properties of Custom::EmptyEcrRepository. CloudFormation sends every scalar as a string ("true", "14":
// gh:aws-cloudformation/cloudformation-coverage-roadmap#1037), so strings are the normal case; real JSON booleans
// are accepted for DryRun because hand-written test events use them.
#include <json/value.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/common/result.hpp"

namespace ecrs::cfn {

inline constexpr const char* kResourceType = "Custom::EmptyEcrRepository";
inline constexpr const char* kRepositoryNameProperty = "RepositoryName";
inline constexpr const char* kRegistryIdProperty = "RegistryId";
inline constexpr const char* kDryRunProperty = "DryRun";
// The variable the handler reads for the fallback repository name (the seed's style).
inline constexpr const char* kRepositoryNameEnvVar = "ECR_REPOSITORY_NAME";

// Shape RepositoryName in botocore's ECR model: "min": 2, "max": 256.
inline constexpr std::size_t kMinRepositoryNameLength = 2;
inline constexpr std::size_t kMaxRepositoryNameLength = 256;
// Shape RegistryId: "pattern": "[0-9]{12}" (an AWS account id).
inline constexpr std::size_t kRegistryIdLength = 12;

struct EmptyEcrRepositoryProperties {
  std::string repository_name;
  std::optional<std::string> registry_id;  // nullopt = the caller's default registry
  bool dry_run = false;
  bool repository_name_from_environment = false;  // RepositoryName was absent; the fallback was used
  friend bool operator==(const EmptyEcrRepositoryProperties&, const EmptyEcrRepositoryProperties&) = default;
};

// Validates against botocore 1.43's RepositoryName shape: length 2..256 and pattern
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
// The error (code InvalidProperty) says which rule failed and where.
Result<void> validate_repository_name(std::string_view name);
Result<void> validate_registry_id(std::string_view id);

// "true"/"false" (any case) or a JSON boolean; anything else is an error naming the property and the value.
Result<bool> parse_bool_property(const Json::Value& properties, const char* name, bool default_value);

enum class UnknownProperties { reject, ignore };

// Reads ResourceProperties. `default_repository_name` is the value of ECR_REPOSITORY_NAME (read by the handler),
// used when RepositoryName is absent or empty. Unknown properties are rejected on Create/Update (a typo such as
// "Repositoryname" must not silently fall back to the environment's repository) and ignored on Delete, where
// old property formats reappear (CDK custom-resources README). Errors: MissingProperty, InvalidProperty.
Result<EmptyEcrRepositoryProperties> parse_properties(const Json::Value& resource_properties,
                                                      const std::optional<std::string>& default_repository_name,
                                                      UnknownProperties unknown = UnknownProperties::reject);

}  // namespace ecrs::cfn
