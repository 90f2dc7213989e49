#include "ecrs/lifecycle/policy.hpp"

namespace ecrs::lifecycle {

std::string_view to_string(TagStatus v) {
  switch (v) {
    case TagStatus::tagged: return "tagged";
    case TagStatus::untagged: return "untagged";
    case TagStatus::any: return "any";
  }
  return "any";
}

std::string_view to_string(CountType v) {
  switch (v) {
    case CountType::image_count_more_than: return "imageCountMoreThan";
    case CountType::since_image_pushed: return "sinceImagePushed";
    case CountType::since_image_pulled: return "sinceImagePulled";
    case CountType::since_image_transitioned: return "sinceImageTransitioned";
  }
  return "imageCountMoreThan";
}

std::string_view to_string(StorageClass v) { return v == StorageClass::archive ? "archive" : "standard"; }

std::string_view to_string(ActionType v) { return v == ActionType::transition ? "transition" : "expire"; }

std::optional<TagStatus> parse_tag_status(std::string_view s) {
  if (s == "tagged") return TagStatus::tagged;
  if (s == "untagged") return TagStatus::untagged;
  if (s == "any") return TagStatus::any;
  return std::nullopt;
}

std::optional<CountType> parse_count_type(std::string_view s) {
  if (s == "imageCountMoreThan") return CountType::image_count_more_than;
  if (s == "sinceImagePushed") return CountType::since_image_pushed;
  if (s == "sinceImagePulled") return CountType::since_image_pulled;
  if (s == "sinceImageTransitioned") return CountType::since_image_transitioned;
  return std::nullopt;
}

std::optional<StorageClass> parse_storage_class(std::string_view s) {
  if (s == "standard") return StorageClass::standard;
  if (s == "archive") return StorageClass::archive;
  return std::nullopt;
}

std::optional<ActionType> parse_action_type(std::string_view s) {
  if (s == "expire") return ActionType::expire;
  if (s == "transition") return ActionType::transition;
  return std::nullopt;
}

bool is_time_based(CountType v) { return v != CountType::image_count_more_than; }

}  // namespace ecrs::lifecycle
