#pragma once
// The typed form of an ECR lifecycle policy, produced only from text that validate_policy accepts.
// Field names and values follow AWS's "Lifecycle policy properties in Amazon ECR"
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecrs::lifecycle {

enum class TagStatus { tagged, untagged, any };
enum class CountType { image_count_more_than, since_image_pushed, since_image_pulled, since_image_transitioned };
// `storageClass` (selection) and `targetStorageClass` (action) arrived with ECR's archive storage class.
enum class StorageClass { standard, archive };
enum class ActionType { expire, transition };

// The JSON spelling of each value ("tagged", "imageCountMoreThan", "standard", "expire").
std::string_view to_string(TagStatus v);
std::string_view to_string(CountType v);
std::string_view to_string(StorageClass v);
std::string_view to_string(ActionType v);

std::optional<TagStatus> parse_tag_status(std::string_view s);
std::optional<CountType> parse_count_type(std::string_view s);
std::optional<StorageClass> parse_storage_class(std::string_view s);
std::optional<ActionType> parse_action_type(std::string_view s);

// True for the count types measured in days (countUnit required): everything but imageCountMoreThan.
bool is_time_based(CountType v);

struct Rule {
  std::int64_t rule_priority = 0;
  std::string description;
  TagStatus tag_status = TagStatus::any;
  std::vector<std::string> tag_prefix_list;   // at most one of the two lists is non-empty, and only when tagged
  std::vector<std::string> tag_pattern_list;
  StorageClass storage_class = StorageClass::standard;  // "If you omit this, the value of standard will be used"
  CountType count_type = CountType::image_count_more_than;
  std::int64_t count_number = 0;
  ActionType action = ActionType::expire;
  std::optional<StorageClass> target_storage_class;  // set only for transition (always archive today)
};

struct Policy {
  std::vector<Rule> rules;  // sorted by rule_priority, lowest (applied first) to highest
};

}  // namespace ecrs::lifecycle
