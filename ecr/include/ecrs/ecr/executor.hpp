#pragma once
// Deleting images as a stream. Listing pages (DescribeImages, maxResults 1000; ListImages when DescribeImages is
// not allowed) feed batches of up to 100 distinct digests to a pool of deleters as soon as a batch fills, while the
// next page is fetched. Indexes and referrers go first when DescribeImages tells their media type; an image an
// index still holds (ImageReferencedByManifestList) is retried after the others. The repository is re-listed until
// a listing comes back empty, a pass makes no progress, or the deadline arrives. Memory does not grow with the
// repository: the page in flight, a bounded queue of batches, the carried-over ids and an 8-byte hash per digest.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/ecr/ecr_client.hpp"

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

struct EmptyOptions {
  std::string repository;
  std::optional<std::string> registry_id;
  bool dry_run = false;
  int max_concurrency = 8;  // ECRS_CONCURRENCY / --concurrency
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
// A call is not started with less than this left before EmptyOptions::call_deadline: one ECR round trip from
// Lambda is tens of milliseconds, and a call cut short has done nothing we can count.
inline constexpr std::chrono::milliseconds kMinCallTime{100};
// Nor is a BatchDeleteImage started unless this multiple of its measured latency (kLatencyPercentile of the
// recent successful calls) is left before the call deadline: a batch cut at the deadline may still be deleted
// by ECR, uncounted, so starting one only makes sense when it will very likely answer.
inline constexpr double kCallStartHeadroom = 1.5;
inline constexpr double kLatencyPercentile = 0.95;
inline constexpr std::size_t kLatencySamples = 64;
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

// ECR publishes no TPS quota for BatchDeleteImage (shared/docs/ecr-api.md §4), so the rate is found at run time,
// and a throttle is taken as evidence of a cap only when sending slower cuts throttles. AWS's adaptive retry
// mode (botocore retries/adaptive.py, bucket.py) cuts its rate to 0.7x the measured send rate on every throttle
// and grows back on a cubic curve: random throttles that do not depend on the rate then drive it to its floor.
// BBR instead estimates the bottleneck from what gets delivered and probes above it now and then. This controller
// does the latter with successful calls as the delivery rate:
//   - unpaced: calls go as fast as the deleters allow. Two rounds in a row (kRoundCalls completions, or kRoundMax)
//     whose throttle fraction is clearly above the learnt random floor start a test;
//   - testing: pace at the goodput (successful calls/s) just measured. Random throttles cut goodput in proportion
//     to the send rate; a cap keeps it where it was. If goodput fell with the rate, the throttles are random:
//     their fraction becomes the floor and the rate goes back. If it held, there is a cap: hold, or test again
//     one step lower while throttles stay above the floor;
//   - holding: pace at the cap; a throttled round starts a test; every kProbeEvery clean rounds probe higher,
//     keeping the step when it stays clean (and probing further next time) and stepping back when it throttles.
// "Clearly" is two standard errors of the round's throttle fraction (a binomial proportion), at least kMargin.
// Thread-safe; acquire() blocks for a concurrency slot and the pacing schedule.
class AdaptiveRateController {
 public:
  // A concurrency slot, released when reported (on_success/on_throttle/on_error) or when destroyed unreported,
  // so an exception between acquire() and the report cannot leak the slot.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& o) noexcept : owner_(o.owner_), sent(o.sent) { o.owner_ = nullptr; }
    Ticket& operator=(Ticket&& o) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

   private:
    friend class AdaptiveRateController;
    Ticket(AdaptiveRateController* owner, std::chrono::steady_clock::time_point t) : owner_(owner), sent(t) {}
    AdaptiveRateController* owner_ = nullptr;

   public:
    std::chrono::steady_clock::time_point sent{};
  };

  enum class Mode { unpaced, testing, holding, probing };

  AdaptiveRateController(int max_concurrency, const Clock& clock, Sleeper& sleeper);

  // Waits for a slot and for the pacing schedule, then returns the send time.
  Ticket acquire();
  void on_success(Ticket& t);
  void on_throttle(Ticket& t);
  void on_error(Ticket& t);  // a non-throttle failure: frees the slot, counts in no round

  int limit() const;
  double rate() const;  // calls/s; 0 = not paced
  Mode mode() const;
  double throttle_floor() const;  // the learnt fraction of throttles that slowing down does not remove

  // How long a deleter waits before retrying its throttled call (attempt >= 1): full jitter, short, because the
  // pacing, not this wait, keeps the rate under a cap.
  static std::chrono::milliseconds retry_delay(int attempt, Random& random);

  static constexpr int kRoundCalls = 32;
  static constexpr std::chrono::milliseconds kRoundMin{100};
  static constexpr std::chrono::milliseconds kRoundMax{1000};
  static constexpr int kRoundMinCalls = 4;  // a kRoundMax round with fewer completions waits for more
  static constexpr double kMargin = 0.05;
  // In the run's first round, this many replies of which at least kFloodFraction throttled end the round and
  // start a test at once. Random throttling at 30% gives 6 of 8 with p ≈ 0.01.
  static constexpr int kFloodCalls = 8;
  static constexpr double kFloodFraction = 0.75;
  static constexpr double kHoldGain = 0.98;  // pace this far under the measured cap
  static constexpr double kMaxProbeGain = 2.0;
  static constexpr double kProbeGain = 1.10;
  static constexpr int kProbeEvery = 2;
  static constexpr double kMinRate = 1.0;  // calls/s
  static constexpr std::chrono::milliseconds kRateWindow{1000};
  // Pacing never goes below kPeakShare of the best goodput seen lately. Random throttles on top of a cap make every
  // round look throttled, and each step down to "what got through" then loses the random fraction again; the peak
  // decays by kPeakDecay a round so that a cap that really drops is still followed down.
  static constexpr double kPeakShare = 0.6;
  static constexpr double kPeakDecay = 0.9;

 private:
  enum class Outcome { success, throttle, error };
  void report(Ticket& t, Outcome o);
  void end_round_locked(std::chrono::steady_clock::time_point now);
  bool clearly_above(double f, double floor, int n) const;
  bool is_flood(int throttled, int n) const;

  const Clock* clock_;
  Sleeper* sleeper_;
  int max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  Mode mode_ = Mode::unpaced;
  double rate_ = 0.0;
  double floor_ = 0.0;
  std::chrono::steady_clock::time_point next_send_{};
  std::chrono::steady_clock::time_point rate_changed_{};
  bool first_round_ = true;
  // The current round.
  std::chrono::steady_clock::time_point round_start_{};
  bool round_started_ = false;
  int round_ok_ = 0;
  int round_throttled_ = 0;
  // The round before a test step, and the rate to go back to.
  double prev_goodput_ = 0.0;
  double prev_attempts_ = 0.0;
  double prev_rate_ = 0.0;
  double prev_fraction_ = 0.0;
  int prev_ok_ = 0;  // successes the goodput before the test was measured from
  std::chrono::steady_clock::time_point first_send_{};
  std::deque<std::chrono::steady_clock::time_point> successes_;  // the last kRateWindow
  double peak_goodput_ = 0.0;  // the best recent goodput, decaying by kPeakDecay a round
  double probe_gain_ = kProbeGain;
  int clean_rounds_ = 0;
  int flagged_rounds_ = 0;
};

}  // namespace ecrs::ecr
