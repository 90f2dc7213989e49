#pragma once
// Issue 9: one lifecycle policy across many repositories. `ecr-sweeper lifecycle validate|preview|apply` (a
// CliVerb) and the Custom::EcrLifecyclePolicy custom resource (an EventMode), both over lifecycle_ops.hpp.
#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "ecrs/handler/lifecycle_ops.hpp"
#include "ecrs/handler/modes.hpp"

namespace ecrs::handler {

inline constexpr const char* kLifecycleResourceType = "Custom::EcrLifecyclePolicy";
inline constexpr const char* kPolicyProperty = "Policy";
inline constexpr const char* kRepositoryNamesProperty = "RepositoryNames";
inline constexpr const char* kRepositoryPatternProperty = "RepositoryPattern";
inline constexpr const char* kLifecyclePhysicalIdPrefix = "ecr-sweeper:lifecycle:";

struct LifecycleVerbOptions {
  // Which digests are in use, per repository. Unset: `preview` runs the scheduled-cleanup in-use scan over the
  // account (lifecycle_in_use.hpp) unless --no-in-use; tests set it to skip the scan.
  InUseLookup in_use;
  // Asks `question` and reads the answer; nullopt when nobody can answer (stdin is not a terminal). Unset: the
  // process's terminal.
  std::function<std::optional<bool>(std::ostream& out, const std::string& question)> confirm;
  // Aligned table instead of plain lines; unset: whether stdout is a terminal.
  std::optional<bool> table;
  RemotePreviewOptions remote;
};

std::unique_ptr<CliVerb> make_lifecycle_verb();
std::unique_ptr<CliVerb> make_lifecycle_verb(LifecycleVerbOptions options);

// Accepts only custom-resource events whose ResourceType is Custom::EcrLifecyclePolicy.
std::unique_ptr<EventMode> make_lifecycle_resource_mode(AwsSession& session);

// The typed properties (pure; exposed for tests). Policy is a JSON string or an object (CloudFormation passes a
// YAML/JSON mapping as an object); exactly one of RepositoryNames (list) and RepositoryPattern (glob).
struct LifecyclePolicyProperties {
  std::string policy_text;  // compact JSON
  RepositorySelector selector;
};
enum class UnknownLifecycleProperties { reject, ignore };
Result<LifecyclePolicyProperties> parse_lifecycle_properties(const Json::Value& resource_properties,
                                                             UnknownLifecycleProperties unknown);

}  // namespace ecrs::handler
