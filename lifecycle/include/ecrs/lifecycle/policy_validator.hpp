#pragma once
// Checks a lifecycle policy text the way PutLifecyclePolicy would, before it is sent anywhere.
// Sources, cited per check in policy_validator.cpp:
//  [LPP] https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
//  [LP]  https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html (evaluation rules)
//  [LPX] https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html
//  [M]   botocore ecr service-2.json: LifecyclePolicyText min 100, max 30720.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/common/result.hpp"
#include "ecrs/lifecycle/policy.hpp"

namespace ecrs::lifecycle {

// [M] LifecyclePolicyText: "min":100, "max":30720 (characters).
inline constexpr std::size_t kMinPolicyTextChars = 100;
inline constexpr std::size_t kMaxPolicyTextChars = 30720;
// [LPP] "There is a maximum limit of four wildcards (*) per string."
inline constexpr int kMaxWildcardsPerPattern = 4;
// [LPX] "Images must be in archive storage for a minimum of 90 days before deletion."
inline constexpr std::int64_t kMinArchiveDaysBeforeExpire = 90;
// What `ecr-sweeper lifecycle validate` exits with when the policy has an error.
inline constexpr int kExitInvalidPolicy = 2;

enum class Severity { error, warning };
std::string_view to_string(Severity s);

struct Finding {
  Severity severity = Severity::error;
  std::string code;                         // stable identifier for scripts and tests, e.g. "WildcardLimit"
  std::string path;                         // JSON path: "rules[2].selection.countUnit"; "" for the document
  std::optional<std::int64_t> rule_priority;  // when the rule's priority could be read
  std::string message;                      // for a person: what is wrong and what ECR expects
};

struct ValidationReport {
  std::vector<Finding> findings;

  bool valid() const;  // no finding of severity error (warnings do not make a policy invalid)
  std::size_t error_count() const;
  // "error rules[1].selection.countUnit (rulePriority 2): ..." one finding per line.
  std::string describe() const;
};

ValidationReport validate_policy(std::string_view policy_text);

// 0 when valid, kExitInvalidPolicy otherwise.
int exit_code(const ValidationReport& report);

// The typed policy, or Error{code "InvalidLifecyclePolicy", message listing the errors}.
Result<Policy> parse_policy(std::string_view policy_text);

}  // namespace ecrs::lifecycle
