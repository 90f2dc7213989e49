#pragma once
// The stable document behind `ecr-sweeper lifecycle preview --output json`:
//   {"repositories": [{"repositoryName": "web",
//                      "expire": [{"imageDigest": "sha256:…", "imageTags": ["v1"], "rulePriority": 1, "inUse": false}],
//                      "transition": [ same shape, images a rule would move to archive ],
//                      "kept": 3}]}
// Repositories appear in the order given; within a repository, entries go oldest push first (then by digest), which
// is the order ECR expires them. "kept" counts every image not expired (archived ones included). "transition" is
// always present (empty unless the policy archives), so scripts see the same keys every time. Keys are emitted in
// sorted order by jsoncpp; consumers should not rely on key order anyway.
#include <json/value.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "ecrs/lifecycle/evaluator.hpp"

namespace ecrs::lifecycle {

struct PreviewEntry {
  std::string image_digest;
  std::vector<std::string> image_tags;
  std::int64_t rule_priority = 0;
  bool in_use = false;  // filled by the caller from the in-use scan
};

struct RepositoryPreview {
  std::string repository_name;
  std::vector<PreviewEntry> expire;
  std::vector<PreviewEntry> transition;
  std::size_t kept = 0;
};

// `evaluation` must come from evaluate_policy over the same `images`.
RepositoryPreview make_repository_preview(std::string repository_name, std::span<const Image> images,
                                          const Evaluation& evaluation);

// Sets in_use on every expire/transition entry whose digest is in `in_use_digests`; returns how many were flagged.
std::size_t mark_in_use(RepositoryPreview& preview, const std::set<std::string>& in_use_digests);

Json::Value preview_to_json_value(std::span<const RepositoryPreview> repositories);
// Compact, one line.
std::string preview_to_json(std::span<const RepositoryPreview> repositories);

}  // namespace ecrs::lifecycle
