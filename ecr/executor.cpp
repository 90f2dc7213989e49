#include "ecrs/ecr/executor.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "ecrs/aws/retry.hpp"
#include "ecrs/ecr/deletion_planner.hpp"

namespace ecrs::ecr {

using std::chrono::duration;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

// ---------------------------------------------------------------------------------------------------------------
// AdaptiveRateController

AdaptiveRateController::AdaptiveRateController(int max_concurrency, const Clock& clock, Sleeper& sleeper)
    : clock_(&clock),
      sleeper_(&sleeper),
      max_(std::max(1, max_concurrency)),
      limit_(std::min(std::max(1, max_concurrency), kInitialConcurrency)) {}

AdaptiveRateController::Ticket AdaptiveRateController::acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ < limit_; });
  ++in_flight_;
  const SteadyTime now = clock_->monotonic();
  SteadyTime send = now;
  if (rate_ > 0) {
    send = std::max(now, next_send_);
    next_send_ = send + duration_cast<std::chrono::steady_clock::duration>(duration<double>(1.0 / rate_));
  }
  lock.unlock();
  // Slots are scheduled on an absolute timeline, so sleeping the floor in whole milliseconds keeps the
  // average rate even when the gap between calls is under a millisecond.
  if (send > now) {
    const auto wait = duration_cast<milliseconds>(send - now);
    if (wait.count() > 0) sleeper_->sleep_for(wait);
  }
  return Ticket{send};
}

void AdaptiveRateController::release_locked() {
  --in_flight_;
  cv_.notify_all();
}

void AdaptiveRateController::on_success(const Ticket&) {
  std::lock_guard lock(mu_);
  release_locked();
  const SteadyTime now = clock_->monotonic();
  successes_.push_back(now);
  while (!successes_.empty() && now - successes_.front() > kRateWindow) successes_.pop_front();
  if (++streak_ >= limit_) {
    streak_ = 0;
    if (limit_ < max_) {
      ++limit_;
      cv_.notify_all();
    }
  }
  if (rate_ > 0) {
    // Additive increase in time, not per call: kRateGrowthPerSecond of the rate of the last cut each second,
    // so the probe back up to the cap takes about (1 - kRateBackoff) / kRateGrowthPerSecond seconds.
    const double dt = duration<double>(now - last_growth_).count();
    last_growth_ = now;
    if (dt > 0) rate_ += kRateGrowthPerSecond * cut_rate_ * std::min(dt, 1.0);
    // Pacing far above what the window achieves is meaningless; keep the number where a cut lands sensibly.
    const double achieved = static_cast<double>(successes_.size()) /
                            duration<double>(kRateWindow).count();
    rate_ = std::min(rate_, std::max(cut_rate_, 2.0 * achieved) + kMinRate);
  }
}

void AdaptiveRateController::on_throttle(const Ticket& t) {
  std::lock_guard lock(mu_);
  release_locked();
  streak_ = 0;
  // One cut per round trip: calls already in flight when we cut were paced by the old rate.
  if (cut_once_ && t.sent < last_cut_) return;
  const SteadyTime now = clock_->monotonic();
  while (!successes_.empty() && now - successes_.front() > kRateWindow) successes_.pop_front();
  // What the server let through over the last second (over a full second even early in a run: a token
  // bucket lets about one second's worth through at first, which is the cap we want).
  const double measured = static_cast<double>(successes_.size()) / duration<double>(kRateWindow).count();
  double next = std::max(kMinRate, measured * kRateBackoff);
  if (rate_ > 0) next = std::min(next, std::max(kMinRate, rate_ * kRateBackoff));
  rate_ = next;
  cut_rate_ = next;
  limit_ = std::max(1, limit_ / 2);
  last_cut_ = now;
  last_growth_ = now;
  cut_once_ = true;
  next_send_ = std::max(next_send_, now);
}

void AdaptiveRateController::on_error(const Ticket&) {
  std::lock_guard lock(mu_);
  release_locked();
}

int AdaptiveRateController::limit() const {
  std::lock_guard lock(mu_);
  return limit_;
}

double AdaptiveRateController::rate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

// ---------------------------------------------------------------------------------------------------------------
// empty_repository

namespace {

constexpr const char* kRepositoryNotFound = "RepositoryNotFoundException";
constexpr const char* kImageNotFound = "ImageNotFoundException";
// Full-jitter backoff for our own BatchDeleteImage retries: rand * min(base * 2^(attempt-1), aws::kMaxBackoff).
// The bases are lower than botocore's 1 s because the rate controller already spaces calls after a throttle:
// a long sleep there only leaves a straggler batch at the end of the run.
constexpr milliseconds kDeleteRetryBase{100};
constexpr milliseconds kThrottleRetryBase{20};

bool is_repository_missing(const Error& e) { return e.code == kRepositoryNotFound; }

milliseconds retry_delay(int attempt, bool throttled, Random& random) {
  const double cap = static_cast<double>(duration_cast<milliseconds>(aws::kMaxBackoff).count());
  const double base = static_cast<double>((throttled ? kThrottleRetryBase : kDeleteRetryBase).count()) *
                      std::pow(2.0, attempt - 1);
  return milliseconds(static_cast<std::int64_t>(random.uniform01() * std::min(base, cap)));
}

void add_stats(EmptyReport& r, const aws::CallStats& s, std::uint64_t EmptyReport::*calls) {
  r.*calls += static_cast<std::uint64_t>(s.attempts);
  r.retries += static_cast<std::uint64_t>(s.retried);
  r.throttled += static_cast<std::uint64_t>(s.throttled);
}

struct Listing {
  std::vector<ImageId> image_ids;          // as listed: one entry per (digest, tag)
  std::vector<std::string> digests;        // unique, in listing order
  std::vector<std::string> tagged_digests;  // unique digests with at least one tag
};

// What one wave's batches did.
struct WaveOutcome {
  std::uint64_t deleted = 0;
  std::uint64_t gone = 0;        // ImageNotFound: someone else got there first
  std::uint64_t permanent = 0;
  std::uint64_t unstarted = 0;   // ids in batches not started because the deadline passed
  std::vector<ImageId> carry;    // ImageReferencedByManifestList and Upstream* failures: try in a later wave
  bool deadline_hit = false;
  bool repository_missing = false;
  std::optional<Error> fatal;
};

class Run {
 public:
  Run(EcrClient& client, const EmptyOptions& options, const Clock& clock, Sleeper& sleeper, Random& random,
      Logger& logger)
      : client_(client),
        opts_(options),
        clock_(clock),
        sleeper_(sleeper),
        random_(random),
        log_(logger.with([&] {
          Json::Value f(Json::objectValue);
          f["repository"] = options.repository;
          return f;
        }())),
        controller_(std::clamp(options.max_concurrency, 1, kMaxWorkers), clock, sleeper),
        started_(clock.monotonic()),
        last_progress_(started_) {}

  Result<EmptyReport> run();

 private:
  static constexpr int kMaxWorkers = 64;  // ours: far above any rate ECR sustains per repository

  bool deadline_passed() const { return opts_.deadline && clock_.now() >= *opts_.deadline; }
  std::string context(std::string_view op) const { return std::string(op) + " repository=" + opts_.repository; }

  Result<Listing> list_all();
  Result<ImageRelations> relations_for(const Listing& listing);
  WaveOutcome run_wave(const std::vector<std::vector<ImageId>>& batches);
  void delete_batch(const std::vector<ImageId>& ids, WaveOutcome& out, std::mutex& out_mu);
  void record_failure(const ImageFailure& f);
  void progress(bool force);
  EmptyProgress snapshot() const;

  EcrClient& client_;
  const EmptyOptions& opts_;
  const Clock& clock_;
  Sleeper& sleeper_;
  Random& random_;
  Logger log_;
  AdaptiveRateController controller_;
  SteadyTime started_;
  SteadyTime last_progress_;

  EmptyReport report_;
  std::set<std::string> failure_keys_;
  mutable std::mutex report_mu_;  // guards report_ counters and failures while workers run
  std::atomic<std::uint64_t> listed_{0};
  std::atomic<std::uint64_t> batches_done_{0};
  std::atomic<std::uint64_t> deleted_live_{0};
  std::atomic<bool> stop_{false};
};

EmptyProgress Run::snapshot() const {
  EmptyProgress p;
  p.deleted = deleted_live_.load();
  p.listed = listed_.load();
  p.batches_done = batches_done_.load();
  {
    std::lock_guard rl(report_mu_);
    p.throttled = report_.throttled;
  }
  p.concurrency = controller_.limit();
  return p;
}

void Run::progress(bool force) {
  const SteadyTime now = clock_.monotonic();
  if (!force && now - last_progress_ < opts_.progress_interval) return;
  last_progress_ = now;
  const EmptyProgress p = snapshot();
  if (opts_.on_progress) opts_.on_progress(p);
}

Result<Listing> Run::list_all() {
  Listing out;
  std::unordered_set<std::string> seen;
  std::unordered_set<std::string> tagged;
  ListImagesRequest req;
  req.repository_name = opts_.repository;
  req.registry_id = opts_.registry_id;
  req.max_results = kMaxListImagesResults;
  // Any number of pages: the loop ends only when ECR stops returning nextToken.
  while (true) {
    aws::CallStats stats{};
    aws::CallOptions call;
    call.stats = &stats;
    call.max_attempts = kMaxReadAttempts;
    auto page = client_.list_images(req, call);
    add_stats(report_, stats, &EmptyReport::list_calls);
    if (!page) return page.error();
    for (auto& id : page->image_ids) {
      if (id.image_digest.empty()) continue;  // the planner reports these; we cannot delete them by digest
      if (seen.insert(id.image_digest).second) out.digests.push_back(id.image_digest);
      if (!id.image_tag.empty() && tagged.insert(id.image_digest).second) out.tagged_digests.push_back(id.image_digest);
      out.image_ids.push_back(std::move(id));
    }
    listed_ = out.digests.size();
    progress(false);
    if (!page->next_token) break;
    req.next_token = std::move(page->next_token);
  }
  return out;
}

// Indexes are nearly always tagged and their per-platform children untagged (ecr-api.md §3), so describing the
// tagged digests finds them at ceil(tagged/100) DescribeImages calls instead of one per 100 of everything. An
// untagged index still works out: its children fail with ImageReferencedByManifestList and go in a later wave.
Result<ImageRelations> Run::relations_for(const Listing& listing) {
  // The DescribeImages calls are independent reads, so they run side by side like the deletes: one at a time
  // they were the longest part of a pass (61 round trips for 10,000 tagged images, against 101 deletes 8 wide).
  // Replies are kept per chunk and merged in listing order, so the result does not depend on timing.
  struct Described {
    std::optional<Result<DescribeImagesResponse>> reply;
    aws::CallStats stats{};
  };
  const std::size_t n = listing.tagged_digests.size();
  std::vector<Described> described((n + kMaxImageIdsPerCall - 1) / kMaxImageIdsPerCall);
  auto describe = [&](std::size_t c) {
    DescribeImagesRequest req;
    req.repository_name = opts_.repository;
    req.registry_id = opts_.registry_id;
    const std::size_t end = std::min(n, (c + 1) * kMaxImageIdsPerCall);
    for (std::size_t j = c * kMaxImageIdsPerCall; j < end; ++j) {
      req.image_ids.push_back(ImageId{listing.tagged_digests[j], ""});
    }
    aws::CallOptions call;
    call.stats = &described[c].stats;
    call.max_attempts = kMaxReadAttempts;
    auto reply = client_.describe_images(req, call);
    if (reply) {
      // Only indexes and referrers (a subject) shape the plan: drop the rest now, so a large repository's
      // details are not held twice while the chunks are merged.
      std::erase_if(reply->image_details, [](const ImageDetail& d) {
        return !is_index_media_type(d.image_manifest_media_type) && d.subject_manifest_digest.empty() &&
               d.child_digests.empty();
      });
    }
    described[c].reply = std::move(reply);
  };
  const std::size_t workers =
      std::min(described.size(), static_cast<std::size_t>(std::clamp(opts_.max_concurrency, 1, kMaxWorkers)));
  if (workers <= 1) {
    for (std::size_t c = 0; c < described.size(); ++c) describe(c);
  } else {
    std::atomic<std::size_t> next{0};
    std::vector<std::jthread> threads;
    threads.reserve(workers);
    for (std::size_t w = 0; w < workers; ++w) {
      threads.emplace_back([&] {
        for (std::size_t c = next++; c < described.size(); c = next++) describe(c);
      });
    }
    threads.clear();  // joins
  }

  std::vector<ImageDetail> details;
  std::vector<std::string> indexes;
  for (auto& [reply, stats] : described) {
    add_stats(report_, stats, &EmptyReport::describe_calls);
    if (!*reply) {
      // An image deleted since the listing fails the whole call; ordering is an optimisation, so go on.
      if (reply->error().code == kImageNotFound) continue;
      return reply->error();
    }
    for (auto& d : (*reply)->image_details) {
      if (is_index_media_type(d.image_manifest_media_type)) indexes.push_back(d.image_digest);
      details.push_back(std::move(d));
    }
  }
  if (!indexes.empty()) {
    aws::CallStats stats{};
    aws::CallOptions call;
    call.stats = &stats;
    call.max_attempts = kMaxReadAttempts;
    auto children = client_.index_children(opts_.repository, opts_.registry_id, indexes, call);
    add_stats(report_, stats, &EmptyReport::describe_calls);
    if (!children) return children.error();
    std::unordered_map<std::string, std::vector<std::string>> by_digest(children->begin(), children->end());
    for (auto& d : details) {
      if (auto it = by_digest.find(d.image_digest); it != by_digest.end()) d.child_digests = it->second;
    }
  }
  return relations_from_details(details);
}

void Run::record_failure(const ImageFailure& f) {
  std::string key = f.image_id.image_digest.empty() ? f.image_id.image_tag : f.image_id.image_digest;
  key += ": " + f.failure_code + ": " + f.failure_reason;
  if (failure_keys_.insert(key).second && report_.failures.size() < kMaxFailureSamples) {
    report_.failures.push_back(std::move(key));
  }
}

void Run::delete_batch(const std::vector<ImageId>& ids, WaveOutcome& out, std::mutex& out_mu) {
  BatchDeleteImageRequest req;
  req.repository_name = opts_.repository;
  req.registry_id = opts_.registry_id;
  req.image_ids = ids;
  for (int attempt = 1;; ++attempt) {
    if (stop_) {
      std::lock_guard l(out_mu);
      out.unstarted += ids.size();
      return;
    }
    if (deadline_passed()) {
      std::lock_guard l(out_mu);
      out.unstarted += ids.size();
      out.deadline_hit = true;
      return;
    }
    const auto ticket = controller_.acquire();
    aws::CallStats stats{};
    aws::CallOptions call;
    call.stats = &stats;
    call.max_attempts = 1;  // our loop owns the retries so every throttle reaches the controller
    auto r = client_.batch_delete_image(req, call);
    {
      std::lock_guard l(report_mu_);
      report_.delete_calls += static_cast<std::uint64_t>(std::max(1, stats.attempts));
    }
    if (r) {
      controller_.on_success(ticket);
      std::unordered_set<std::string> deleted;
      for (const auto& id : r->image_ids) {
        if (!id.image_digest.empty()) deleted.insert(id.image_digest);
      }
      std::lock_guard l(out_mu);
      std::lock_guard rl(report_mu_);
      out.deleted += deleted.size();
      deleted_live_ += deleted.size();
      for (const auto& f : r->failures) {
        switch (classify_delete_failure(f.failure_code)) {
          case DeleteFailureDisposition::already_gone: ++out.gone; break;
          case DeleteFailureDisposition::retry_next_pass:
          case DeleteFailureDisposition::retry:
            if (!f.image_id.image_digest.empty()) out.carry.push_back(ImageId{f.image_id.image_digest, ""});
            break;
          case DeleteFailureDisposition::permanent:
            ++out.permanent;
            record_failure(f);
            break;
        }
      }
      ++batches_done_;
      return;
    }
    Error e = std::move(r).error();
    const bool throttled = aws::is_throttling(e);
    if (throttled) {
      controller_.on_throttle(ticket);
    } else {
      controller_.on_error(ticket);
    }
    {
      std::lock_guard rl(report_mu_);
      if (throttled) ++report_.throttled;
    }
    if (is_repository_missing(e)) {
      std::lock_guard l(out_mu);
      out.repository_missing = true;
      stop_ = true;
      return;
    }
    if (!(throttled || e.retryable) || attempt >= kMaxDeleteAttempts) {
      if (e.context.empty()) e.context = context("BatchDeleteImage");
      if (attempt >= kMaxDeleteAttempts && (throttled || e.retryable)) {
        e.message += " (gave up after " + std::to_string(attempt) + " attempts)";
      }
      std::lock_guard l(out_mu);
      if (!out.fatal) out.fatal = std::move(e);
      stop_ = true;
      return;
    }
    {
      std::lock_guard rl(report_mu_);
      ++report_.retries;
    }
    sleeper_.sleep_for(retry_delay(attempt, throttled, random_));
  }
}

WaveOutcome Run::run_wave(const std::vector<std::vector<ImageId>>& batches) {
  WaveOutcome out;
  std::mutex out_mu;
  std::mutex queue_mu;
  std::size_t next = 0;
  std::condition_variable done_cv;
  int running = 0;

  auto worker = [&] {
    while (true) {
      std::size_t i;
      {
        std::lock_guard l(queue_mu);
        if (next >= batches.size()) break;
        i = next++;
      }
      try {
        delete_batch(batches[i], out, out_mu);
      } catch (const std::exception& ex) {
        // Nothing below throws by contract; if something does, stop the run with what it said rather than let
        // the exception end the process from a worker thread.
        std::lock_guard l(out_mu);
        if (!out.fatal) out.fatal = make_error("InternalError", ex.what(), context("BatchDeleteImage"));
        stop_ = true;
      }
    }
    std::lock_guard l(queue_mu);
    --running;
    done_cv.notify_all();
  };

  const int workers = static_cast<int>(
      std::min<std::size_t>(batches.size(), static_cast<std::size_t>(std::clamp(opts_.max_concurrency, 1, kMaxWorkers))));
  std::vector<std::jthread> threads;
  threads.reserve(static_cast<std::size_t>(workers));
  {
    std::lock_guard l(queue_mu);
    running = workers;
  }
  for (int w = 0; w < workers; ++w) threads.emplace_back(worker);
  {
    std::unique_lock l(queue_mu);
    while (running > 0) {
      // Progress comes from this (the caller's) thread only, so on_progress needs no locking of its own.
      done_cv.wait_for(l, opts_.progress_interval, [&] { return running == 0; });
      l.unlock();
      progress(false);
      l.lock();
    }
  }
  threads.clear();  // joins
  return out;
}

std::vector<std::vector<ImageId>> chunk(const std::vector<ImageId>& ids) {
  std::vector<std::vector<ImageId>> out;
  for (std::size_t i = 0; i < ids.size(); i += kMaxBatchDeleteIds) {
    out.emplace_back(ids.begin() + static_cast<std::ptrdiff_t>(i),
                     ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + kMaxBatchDeleteIds)));
  }
  return out;
}

Result<EmptyReport> Run::run() {
  {
    Json::Value f(Json::objectValue);
    f["dry_run"] = opts_.dry_run;
    f["max_concurrency"] = opts_.max_concurrency;
    if (opts_.registry_id) f["registry_id"] = *opts_.registry_id;
    log_.info("emptying repository", f);
  }
  auto finish = [&]() -> Result<EmptyReport> {
    report_.elapsed = duration_cast<milliseconds>(clock_.monotonic() - started_);
    progress(true);
    Json::Value f(Json::objectValue);
    f["deleted"] = Json::UInt64(report_.deleted);
    f["remaining"] = Json::UInt64(report_.remaining);
    f["complete"] = report_.complete;
    f["repository_missing"] = report_.repository_missing;
    f["deadline_reached"] = report_.deadline_reached;
    f["stalled"] = report_.stalled;
    f["list_calls"] = Json::UInt64(report_.list_calls);
    f["delete_calls"] = Json::UInt64(report_.delete_calls);
    f["describe_calls"] = Json::UInt64(report_.describe_calls);
    f["retries"] = Json::UInt64(report_.retries);
    f["throttled"] = Json::UInt64(report_.throttled);
    f["duration_ms"] = Json::Int64(report_.elapsed.count());
    log_.info(opts_.dry_run ? "dry run planned" : "emptying finished", f);
    return report_;
  };
  auto fatal = [&](Error e) -> Result<EmptyReport> {
    Json::Value f(Json::objectValue);
    f["error"] = e.describe();
    f["deleted"] = Json::UInt64(report_.deleted);
    log_.error("emptying failed", f);
    return e;
  };

  for (int pass = 1;; ++pass) {
    auto listing = list_all();
    if (!listing) {
      if (is_repository_missing(listing.error())) {
        report_.repository_missing = true;
        report_.remaining = 0;
        return finish();
      }
      return fatal(std::move(listing).error());
    }
    const std::uint64_t listed = listing->digests.size();
    report_.remaining = listed;
    if (listed == 0) {
      report_.complete = true;
      return finish();
    }
    if (!opts_.dry_run && deadline_passed()) {
      report_.deadline_reached = true;
      return finish();
    }
    if (pass > kMaxPasses) {
      Json::Value f(Json::objectValue);
      f["passes"] = kMaxPasses;
      f["remaining"] = Json::UInt64(listed);
      log_.warn("images keep appearing; giving up after the maximum number of passes", f);
      return finish();
    }

    auto relations = relations_for(*listing);
    if (!relations) {
      if (is_repository_missing(relations.error())) {
        report_.repository_missing = true;
        report_.remaining = 0;
        return finish();
      }
      return fatal(std::move(relations).error());
    }
    const DeletionPlan plan = plan_deletion(listing->image_ids, *relations);

    if (opts_.dry_run) {
      for (const auto& img : plan.images) {
        if (report_.planned.size() >= kMaxPlannedSamples) break;
        report_.planned.push_back(img.image_digest);
      }
      report_.deleted = plan.image_count();
      return finish();
    }

    Json::Value pf(Json::objectValue);
    pf["pass"] = pass;
    pf["listed"] = Json::UInt64(listed);
    pf["waves"] = Json::UInt64(plan.waves.size());
    pf["batches"] = Json::UInt64(plan.batch_count());
    log_.info("deleting", pf);

    std::uint64_t pass_deleted = 0, pass_gone = 0;
    bool deadline_hit = false;
    std::vector<ImageId> carry;
    for (std::size_t w = 0; w < plan.waves.size() || !carry.empty(); ++w) {
      std::vector<std::vector<ImageId>> batches;
      if (w < plan.waves.size()) {
        for (const auto& b : plan.waves[w].batches) batches.push_back(b.image_ids);
      }
      // Images an index still held go after the wave that deleted (or tried to delete) the index.
      const bool carry_only = w >= plan.waves.size();
      for (auto& b : chunk(carry)) batches.push_back(std::move(b));
      if (!carry.empty()) {
        std::lock_guard rl(report_mu_);
        report_.retries += (carry.size() + kMaxBatchDeleteIds - 1) / kMaxBatchDeleteIds;
      }
      carry.clear();
      WaveOutcome o = run_wave(batches);
      pass_deleted += o.deleted;
      pass_gone += o.gone;
      report_.deleted += o.deleted;
      if (o.fatal) return fatal(std::move(*o.fatal));
      if (o.repository_missing) {
        report_.repository_missing = true;
        report_.remaining = 0;
        return finish();
      }
      if (o.deadline_hit) {
        deadline_hit = true;
        break;
      }
      carry = std::move(o.carry);
      // A wave of retried children that freed nothing will not free anything on a second try in this pass;
      // the next listing decides.
      if (carry_only && o.deleted == 0 && o.gone == 0) break;
    }
    report_.remaining = listed - std::min(listed, pass_deleted + pass_gone);
    if (deadline_hit) {
      report_.deadline_reached = true;
      return finish();
    }
    if (pass_deleted == 0 && pass_gone == 0) {
      report_.stalled = true;
      return finish();
    }
  }
}

}  // namespace

Result<EmptyReport> empty_repository(EcrClient& client, const EmptyOptions& options, const Clock& clock,
                                     Sleeper& sleeper, Random& random, Logger& logger) {
  Run run(client, options, clock, sleeper, random, logger);
  return run.run();
}

}  // namespace ecrs::ecr
