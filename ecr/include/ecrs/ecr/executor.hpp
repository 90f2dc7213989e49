#pragma once
// Emptying a repository: list (ListImages pages of kMaxListImagesResults), learn index/referrer relations,
// plan (deletion_planner.hpp), run BatchDeleteImage batches concurrently under an adaptive rate controller,
// read every failure, then re-list until a listing comes back empty, a pass makes no progress, or the
// deadline arrives.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/ecr/ecr_client.hpp"

namespace ecrs::ecr {

struct EmptyProgress {
  std::uint64_t deleted = 0;
  std::uint64_t listed = 0;
  std::uint64_t batches_done = 0;
  std::uint64_t throttled = 0;
  int concurrency = 0;
};

struct EmptyOptions {
  std::string repository;
  std::optional<std::string> registry_id;
  bool dry_run = false;
  int max_concurrency = 8;  // ECRS_CONCURRENCY / --concurrency
  std::optional<std::chrono::system_clock::time_point> deadline;  // stop starting new work; report what is left
  std::function<void(const EmptyProgress&)> on_progress;          // called at least every ~2 s while working
  std::chrono::milliseconds progress_interval{2000};
};

struct EmptyReport {
  bool repository_missing = false;
  bool complete = false;  // a final ListImages saw nothing
  bool deadline_reached = false;
  bool stalled = false;   // a whole pass made no progress
  std::uint64_t deleted = 0;    // digests deleted (or that would be, in dry run)
  std::uint64_t remaining = 0;  // digests known to be left when stopping
  std::uint64_t list_calls = 0, delete_calls = 0, describe_calls = 0, retries = 0, throttled = 0;
  std::vector<std::string> failures;  // up to kMaxFailureSamples "digest: code: reason" of permanent failures
  std::vector<std::string> planned;   // dry run: digests that would go (bounded sample; the count is `deleted`)
  std::chrono::milliseconds elapsed{0};
};

inline constexpr std::size_t kMaxFailureSamples = 20;
inline constexpr std::size_t kMaxPlannedSamples = 100;
// Our bound on attempts for one BatchDeleteImage batch that keeps failing with throttles or 5xx; beyond it the
// run fails with the last error rather than spinning. Ten attempts at 30% throttling fail with p ≈ 6e-6.
inline constexpr int kMaxDeleteAttempts = 10;
// ListImages/DescribeImages/BatchGetImage go through the client's standard retries (3 attempts by default,
// aws/retry.hpp); a throttled listing is worth waiting for, so the executor raises the bound for them.
inline constexpr int kMaxReadAttempts = 10;
// A safety net on re-listing: each pass must delete something, but an endless stream of pushes must not keep
// a run (and a CloudFormation stack) alive forever.
inline constexpr int kMaxPasses = 50;

// A null on_progress and no deadline give a run to completion. A Result error only for fatal problems
// (AccessDenied, bad credentials, unknown errors after retries); RepositoryNotFoundException is
// report.repository_missing.
Result<EmptyReport> empty_repository(EcrClient& client, const EmptyOptions& options, const Clock& clock,
                                     Sleeper& sleeper, Random& random, Logger& logger);

// ECR publishes no TPS quota for BatchDeleteImage (shared/docs/ecr-api.md §4), so the rate is found at run
// time: AIMD on both a concurrency window and a pacing rate. Growth is additive while calls succeed; a
// ThrottlingException cuts the window in half and sets the pacing rate just under the success rate measured
// over the last second (what the server actually let through), at most once per round trip: throttles of
// calls sent before the last cut do not cut again. Thread-safe.
class AdaptiveRateController {
 public:
  struct Ticket {
    std::chrono::steady_clock::time_point sent;
  };

  AdaptiveRateController(int max_concurrency, const Clock& clock, Sleeper& sleeper);

  // Waits for a slot in the window and for the pacing rate, then returns the send time.
  Ticket acquire();
  void on_success(const Ticket& t);
  void on_throttle(const Ticket& t);
  void on_error(const Ticket& t);  // a non-throttle failure: frees the slot, changes nothing

  int limit() const;
  double rate() const;  // calls/s; 0 = not paced (no throttle seen yet)

  static constexpr int kInitialConcurrency = 4;
  static constexpr double kRateBackoff = 0.95;          // new rate = measured success rate * this
  static constexpr double kRateGrowthPerSecond = 0.1;   // additive growth, as a fraction of the last cut's rate
  static constexpr double kMinRate = 1.0;               // calls/s
  static constexpr std::chrono::milliseconds kRateWindow{1000};
  static constexpr std::chrono::milliseconds kMinMeasureWindow{50};

 private:
  void release_locked();

  const Clock* clock_;
  Sleeper* sleeper_;
  int max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int limit_;
  int in_flight_ = 0;
  int streak_ = 0;
  double rate_ = 0.0;
  double cut_rate_ = 0.0;
  std::chrono::steady_clock::time_point next_send_{};
  std::chrono::steady_clock::time_point last_cut_{};
  std::chrono::steady_clock::time_point last_growth_{};
  bool cut_once_ = false;
  std::deque<std::chrono::steady_clock::time_point> successes_;
};

}  // namespace ecrs::ecr
