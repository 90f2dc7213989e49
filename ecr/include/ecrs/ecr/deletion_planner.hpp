#pragma once
// The pure half of emptying a repository: listings in, ordered batches of digests out. No I/O, so every ordering
// and chunking rule is a table-driven test (tests/ecr/deletion_planner_test.cpp).
#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/ecr/types.hpp"

namespace ecrs::ecr {

// BatchDeleteImage's imageIds is shape ImageIdentifierList, "max": 100 in botocore's ECR model; more is an
// InvalidParameterException (gh:awslabs/ecr-cleanup-lambda#11).
inline constexpr std::size_t kMaxBatchDeleteIds = 100;

// What must go before what. Both maps are keyed by digest; edges to digests outside the listing are ignored
// (that image is not being deleted in this pass, so it cannot block or be blocked).
struct ImageRelations {
  std::map<std::string, std::vector<std::string>> index_children;  // index digest -> manifests[].digest
  std::map<std::string, std::string> subject_of;                   // referrer digest -> subjectManifestDigest
};

// Builds relations from DescribeImages details (subject_manifest_digest) and BatchGetImage reads (child_digests).
ImageRelations relations_from_details(std::span<const ImageDetail> details);

enum class ImageRole { image, index, referrer };
std::string_view to_string(ImageRole role);

struct PlannedImage {
  std::string image_digest;
  std::vector<std::string> image_tags;  // every tag seen for the digest, in listing order (reports, dry run)
  ImageRole role = ImageRole::image;
  std::size_t wave = 0;
};

// One BatchDeleteImage call: ≤ kMaxBatchDeleteIds ids, digests only (a tag would delete just the tag).
struct DeletionBatch {
  std::vector<ImageId> image_ids;
};

// Every batch of a wave may run concurrently; a wave must complete before the next one starts.
struct DeletionWave {
  std::vector<DeletionBatch> batches;
};

// A listing entry the planner refuses to act on, reported rather than dropped.
struct InvalidListing {
  ImageId image_id;
  std::string reason;
};

struct DeletionPlan {
  std::vector<DeletionWave> waves;
  std::vector<PlannedImage> images;     // in deletion order (wave by wave)
  std::vector<InvalidListing> invalid;  // entries without a usable digest
  // Digests caught in a reference cycle. Content addressing makes one impossible in real data (a manifest's
  // digest covers the digests it names), so these come from a malformed listing; they are put in a last wave
  // and the executor's retry of ImageReferencedByManifestList decides their fate.
  std::vector<std::string> cycle_digests;

  std::size_t image_count() const { return images.size(); }
  std::size_t batch_count() const;
  std::size_t tag_count() const;
  bool empty() const { return images.empty(); }
};

// Dedups by digest (duplicates across pages and one entry per tag collapse to one id), orders waves so that
// an index goes before the children it references and a referrer before its subject, and chunks each wave
// into batches of at most `max_batch` ids (clamped to 1..kMaxBatchDeleteIds).
//
// Why parents first: "Deleting a child an index still references fails with ImageReferencedByManifestList;
// delete indexes first" (shared/docs/ecr-api.md §3, gh:aws/aws-cdk#25789). Referrers go before their subject
// because ECR does not cascade a subject's deletion to them (ecr-api.md §3): deleting them first leaves no
// orphan behind if the run stops between waves.
DeletionPlan plan_deletion(std::span<const ImageId> listing, const ImageRelations& relations = {},
                           std::size_t max_batch = kMaxBatchDeleteIds);

// The same from DescribeImages details: each detail is one listed image, relations come from its own fields.
DeletionPlan plan_deletion(std::span<const ImageDetail> details, std::size_t max_batch = kMaxBatchDeleteIds);

// What a BatchDeleteImage `failures[].failureCode` means for an executor emptying a repository.
enum class DeleteFailureDisposition {
  already_gone,      // ImageNotFound: the goal (image absent) is met
  retry_next_pass,   // ImageReferencedByManifestList: an index still names it; retry after the index is gone
  retry,             // Upstream throttling/unavailability: transient, retry with backoff
  permanent,         // bad id, KMS, access: retrying cannot help; report it
};
std::string_view to_string(DeleteFailureDisposition d);

// Codes from the ImageFailureCode enum in botocore's ECR model. Unknown codes are permanent: retrying something
// we do not understand could loop, and the executor reports what is left.
DeleteFailureDisposition classify_delete_failure(std::string_view failure_code);

}  // namespace ecrs::ecr
