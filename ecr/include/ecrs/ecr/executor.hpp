#pragma once
// Deleting images as a stream. Listing pages (DescribeImages, maxResults 1000; ListImages when DescribeImages is
// not allowed) feed batches of up to 100 distinct digests to a pool of deleters as soon as a batch fills, while the
// next page is fetched. Indexes and referrers go first when DescribeImages tells their media type; an image an
// index still holds (ImageReferencedByManifestList) is retried after the others. The repository is re-listed until
// a listing comes back empty, a pass makes no progress, or the deadline arrives. Memory does not grow with the
// repository: the page in flight, a bounded queue of batches and the carried-over ids; listed with ListImages (one
// entry per tag), also an 8-byte hash per digest, so a digest goes once.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "ecrs/ecr/rate_controller.hpp"

namespace ecrs::ecr {

struct EmptyProgress {
  std::uint64_t deleted = 0;       // digests deleted so far in this run
  std::uint64_t listed = 0;        // distinct digests listed so far in the current pass
  std::uint64_t known_total = 0;   // deleted + what the listing has shown to be left: a lower bound on the total
  bool total_final = false;        // the current pass has listed every page, so known_total is the total
  std::uint64_t batches_done = 0;
  std::uint64_t throttled = 0;     // ThrottlingException replies so far (every operation)
  double rate = 0.0;               // digests deleted per second since the run started
  double pacing = 0.0;             // BatchDeleteImage calls/s the rate controller allows; 0 = not paced
  int concurrency = 0;
};

inline constexpr std::size_t kMaxPlannedSamples = 100;

// Deletes in flight unless told otherwise. With two listing chains feeding them, 8 left the deleters the
// bottleneck: at 20 ms a call, 10,000 images took 1.7x the lower bound at 8 and 1.2x at 16, 100,000 images 1.5x
// and 0.9-1.0x (bench harness, one machine, side by side). The rate controller still backs off below it on
// throttling.
inline constexpr int kDefaultConcurrency = 16;

struct EmptyOptions {
  std::string repository;
  std::optional<std::string> registry_id;
  bool dry_run = false;
  int max_concurrency = kDefaultConcurrency;  // ECRS_CONCURRENCY / --concurrency
  std::optional<std::chrono::system_clock::time_point> deadline;  // stop starting new work; report what is left
  // No call may still be in flight after this: each call's timeout is cut to it (so a call cannot overrun the
  // caller's budget) and a call that would get less than kMinCallTime is not started. Unset: the deadline.
  std::optional<std::chrono::system_clock::time_point> call_deadline;
  // Called at least every progress_interval while working; with a deadline closer than four intervals, four
  // times before it, so a 3 s Lambda still logs its progress.
  std::function<void(const EmptyProgress&)> on_progress;
  std::chrono::milliseconds progress_interval{2000};
  // Dry run: how many digests report.planned names (the count is report.deleted either way). The custom resource
  // and the Hook keep the default sample; the CLI asks for every digest, so its plan and JSON are complete.
  std::size_t max_planned_samples = kMaxPlannedSamples;
  // A caller that deletes in several calls (scheduled cleanup, once per in-use re-check window) keeps one, so the
  // rate found and the latencies measured carry over. Null: the run makes its own from max_concurrency.
  std::shared_ptr<DeletePacing> pacing;
  // delete_images only: imageSizeInBytes of images[i] (as the caller's own listing told it), summed into
  // EmptyReport::bytes_deleted for what is deleted. Shorter than `images` (or empty): the rest count 0.
  std::span<const std::uint64_t> image_sizes;
};

struct EmptyReport {
  bool repository_missing = false;
  bool complete = false;  // a final ListImages saw nothing
  bool deadline_reached = false;
  bool stalled = false;   // a whole pass made no progress
  std::uint64_t deleted = 0;    // digests deleted (or that would be, in dry run)
  std::uint64_t remaining = 0;  // digests known to be left when stopping
  // Digests of a BatchDeleteImage cut short by the call deadline (no reply): ECR may have deleted them or not.
  // Counted in neither `deleted` nor `remaining`; the next listing tells which.
  std::uint64_t possibly_deleted = 0;
  // imageSizeInBytes summed over the digests in `deleted` (dry run: that would be), as the DescribeImages listing
  // gave it; not of digests already gone, failed or cut at the deadline. 0 for digests listed with ListImages
  // alone (DescribeImages denied), which gives no sizes; delete_images counts the sizes given in
  // EmptyOptions::image_sizes. Layers
  // shared between images count once per image, so this can exceed the storage ECR frees.
  std::uint64_t bytes_deleted = 0;
  // Listing pages by the operation that made them, attempts included: list_calls ListImages (the fallback when
  // DescribeImages is denied, whose failed attempt is counted in describe_calls), describe_calls DescribeImages.
  std::uint64_t list_calls = 0, delete_calls = 0, describe_calls = 0, retries = 0, throttled = 0;
  bool ordered_by_media_type = false;  // DescribeImages answered, so indexes went first
  std::vector<std::string> failures;  // up to kMaxFailureSamples "digest: code: reason" of permanent failures
  std::vector<std::string> planned;   // dry run: digests that would go (bounded sample; the count is `deleted`)
  std::chrono::milliseconds elapsed{0};
};

inline constexpr std::size_t kMaxFailureSamples = 20;
// Our bound on attempts for one call that keeps being throttled; beyond it the run fails with the last error
// rather than spinning. Ten attempts at 30% throttling fail with p ≈ 6e-6. Every other failure goes through the
// client's configured retry policy (AWS_MAX_ATTEMPTS, aws/retry.hpp), so an unreachable endpoint fails within
// the standard budget.
inline constexpr int kMaxDeleteAttempts = 10;
// A throttled BatchDeleteImage is retried on the rate controller's schedule, and while it finds a cap every
// deleter is throttled in turn: the bound is higher there, still finite (up to ~30 s of kThrottleRetryCap).
inline constexpr int kMaxThrottledDeleteAttempts = 30;
// Batches queued ahead of the deleters: two pages' worth, so the lister runs ahead by one page and no further.
inline constexpr std::size_t kMaxQueuedBatches = 20;
// A safety net on re-listing: each pass must delete something, but an endless stream of pushes must not keep
// a run (and a CloudFormation stack) alive forever.
inline constexpr int kMaxPasses = 50;

// A null on_progress and no deadline give a run to completion. A Result error only for fatal problems
// (AccessDenied on ListImages or BatchDeleteImage, bad credentials, unknown errors after retries);
// RepositoryNotFoundException is report.repository_missing. Only ecr:ListImages and ecr:BatchDeleteImage are
// needed: a failing DescribeImages (AccessDenied or anything else) logs one warning and the run goes on with
// ListImages, ordering indexes by their ImageReferencedByManifestList refusals instead.
Result<EmptyReport> empty_repository(EcrClient& client, const EmptyOptions& options, const Clock& clock,
                                     Sleeper& sleeper, Random& random, Logger& logger);

// Deletes exactly `images` (by digest; entries without a digest are skipped, duplicates collapse) through the
// same deleters and rate control as empty_repository, for callers that chose what goes (clean --apply, the
// sweep). Pass indexes before the images they reference, as cleanup's planner orders them: a child refused with
// ImageReferencedByManifestList is retried after the rest. Nothing is listed. report.complete when every digest
// was deleted or already gone; report.remaining counts the rest (deadline, permanent failures, a refused child
// whose index was not in `images`). options.dry_run counts and samples without deleting.
Result<EmptyReport> delete_images(EcrClient& client, const EmptyOptions& options, std::span<const ImageId> images,
                                  const Clock& clock, Sleeper& sleeper, Random& random, Logger& logger);

}  // namespace ecrs::ecr
