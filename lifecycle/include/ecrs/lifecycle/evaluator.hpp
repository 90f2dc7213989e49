#pragma once
// A local, pure model of ECR's lifecycle policy evaluator: which images a policy expires (or archives) and by
// which rule. Semantics from "Lifecycle policy evaluation rules"
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html) and checked against every worked
// example of https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html:
//  - every rule identifies the images its selection (tagStatus, tag lists, storageClass) matches, all of them,
//    whether or not a higher-priority rule already expired them ("can still identify them as if they haven't been
//    expired"), so imageCountMoreThan counts them too;
//  - rules are then applied lowest rulePriority first; a rule cannot expire an image that a higher-priority rule's
//    selection matched, even when that rule left the image alone ("An image that matches the tagging requirements of
//    a rule cannot be expired by a rule with a lower priority");
//  - counts are over images (digests), never tags; imageCountMoreThan keeps the newest countNumber by push time;
//  - since* rules act on images strictly older than countNumber days: an image pushed exactly N×24 h ago is kept
//    ([LPX] "Filtering on all images", Example B: the untagged image pushed 1 day ago survives a 1-day rule).
// Not modelled: the manifest-list guard (a child of a manifest list is not expired before its list) and the 24 h
// delay before ECR acts.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/lifecycle/policy.hpp"

namespace ecrs::lifecycle {

// ECR timestamps are epoch seconds with a fraction; milliseconds keep what matters at a day boundary.
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

// One image (digest) from DescribeImages.
struct Image {
  std::string image_digest;
  std::vector<std::string> image_tags;              // empty: untagged
  Timestamp image_pushed_at{};
  std::optional<Timestamp> last_recorded_pull_time;  // absent: never pulled
  StorageClass storage_class = StorageClass::standard;
  std::optional<Timestamp> last_archived_at;   // when it moved to archive (sinceImageTransitioned)
  std::optional<Timestamp> last_activated_at;  // when it was last restored from archive, if ever
};

enum class ImageAction { keep, expire, transition };
std::string_view to_string(ImageAction a);

struct ImageVerdict {
  ImageAction action = ImageAction::keep;
  std::optional<std::int64_t> rule_priority;  // the rule that expired or archived the image
};

struct Evaluation {
  std::vector<ImageVerdict> verdicts;  // verdicts[i] is for images[i]
  std::size_t expired = 0;
  std::size_t transitioned = 0;
  std::size_t kept = 0;
};

// `now` is passed in (never read from a clock here) so previews are reproducible.
Evaluation evaluate_policy(const Policy& policy, std::span<const Image> images, Timestamp now);

// Tag matching as the evaluation rules describe it, exposed for tests and for explaining a verdict.
// A pattern matches a whole tag, `*` standing for any run of characters (possibly empty); case-sensitive.
bool matches_tag_pattern(std::string_view pattern, std::string_view tag);
// The rule's tag requirements and storage class, ignoring counts and ages: "identified by" in ECR's words.
bool rule_selects(const Rule& rule, const Image& image);

}  // namespace ecrs::lifecycle
