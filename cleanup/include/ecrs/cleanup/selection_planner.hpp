#pragma once
// The pure half of scheduled cleanup: given one repository's images, the rules and what is in use, decide per
// digest whether it goes, and why. No I/O, no clock: `now` is an argument, so tables and property tests drive it.
//
// A digest is removed only when nothing uses it and no rule keeps it. Rules (shared/seeds 001 and 003):
//   keep the newest `keep_count` images (digests, not tags), keep anything pushed in the last `keep_days`,
//   keep images with a tag matching `keep_tag_patterns`. Children of an image index and OCI 1.1 referrers follow
//   the image they belong to: a kept or in-use index keeps its children (deleting a child a kept index lists
//   fails with ImageReferencedByManifestList and would break the index anyway), a kept subject keeps its
//   signatures and SBOMs. In-use references by tag are resolved to the digest the tag names in this listing; a
//   running task's resolved imageDigest protects the digest it actually runs even after the tag moved on.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ecrs/cleanup/image_ref.hpp"
#include "ecrs/ecr/types.hpp"

namespace ecrs::cleanup {

// seed 001: "keep the latest n number of images ... Defaults to 100".
inline constexpr int kDefaultKeepCount = 100;
// seed 003: DEFAULT_KEEP_DAYS "default 30".
inline constexpr int kDefaultKeepDays = 30;
inline constexpr double kSecondsPerDay = 86400.0;

struct Rules {
  int keep_count = kDefaultKeepCount;
  int keep_days = kDefaultKeepDays;
  std::vector<std::string> keep_tag_patterns{"latest", "release-*"};
};

// One thing that runs (or could roll back to) an image, and who it is: "ecs:task/prod/abc (container web)",
// "lambda:function:api:3 (alias live)", "apprunner:service/site".
struct InUseRef {
  ImageRef ref;
  std::string user;
};

// In-use references grouped by the repository they point at (any account or region). Unresolved references
// (ImageRef::unresolved) are kept apart: each holds every repository it may name.
class InUseIndex {
 public:
  InUseIndex() = default;
  explicit InUseIndex(const std::vector<InUseRef>& refs);
  void add(InUseRef ref);
  const std::vector<InUseRef>& for_repository(const RepositoryKey& key) const;
  std::vector<const InUseRef*> unresolved_for(const RepositoryKey& key) const;
  std::size_t size() const { return count_; }

 private:
  std::map<RepositoryKey, std::vector<InUseRef>> by_repo_;
  std::vector<InUseRef> unresolved_;
  std::size_t count_ = 0;
};

struct RepositoryListing {
  RepositoryKey key;
  std::vector<ecr::ImageDetail> images;  // child_digests filled for indexes
};

struct ImageDecision {
  std::string image_digest;
  std::vector<std::string> image_tags;
  std::optional<double> image_pushed_at;
  std::int64_t image_size_in_bytes = 0;
  std::vector<std::string> reasons;  // why it stays (every reason) or why it goes (one line)
};

struct RepositoryPlan {
  RepositoryKey key;
  Rules rules;
  // In deletion order: referrers, then indexes, then untagged images (oldest first), then tagged ones, then
  // index children, so no BatchDeleteImage meets ImageReferencedByManifestList. Each group is its own phase.
  std::vector<ImageDecision> remove;
  std::vector<int> remove_phase;  // parallel to `remove`: 0 referrers+indexes, 1 plain images, 2 children
  std::vector<ImageDecision> keep;
  std::int64_t bytes_reclaimed = 0;
};

// The keep reason an unresolved reference gives every image of a repository it may name.
std::string unresolved_keep_reason(const InUseRef& use);

RepositoryPlan plan_repository(const RepositoryListing& listing, const Rules& rules, const InUseIndex& in_use,
                               double now_epoch_seconds);

// Repository opt-in (seed 003 tags, ours, or a name pattern from the command line) and per-repository overrides.
inline constexpr const char* kEnabledTag = "ecr-sweeper:enabled";
inline constexpr const char* kKeepDaysTag = "ecr-sweeper:keep-days";
inline constexpr const char* kKeepCountTag = "ecr-sweeper:keep-count";
inline constexpr const char* kBoxCleanerEnabledTag = "BoxCleanerEnabled";    // devopsbox-io/aws-ecr-cleaner
inline constexpr const char* kBoxCleanerKeepDaysTag = "BoxCleanerKeepDays";  // devopsbox-io/aws-ecr-cleaner

struct Selection {
  bool selected = false;
  std::string why;  // "tag ecr-sweeper:enabled=true", "name matches team-*"
  Rules rules;      // `base` with the repository's tag overrides applied
};
Selection select_repository(const std::string& repository_name, const std::map<std::string, std::string>& tags,
                            const std::vector<std::string>& name_patterns, const Rules& base);

}  // namespace ecrs::cleanup
