#include "ecrs/ecr/executor.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <exception>
#include <memory>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_set>

#include "ecrs/aws/retry.hpp"
#include "ecrs/ecr/deletion_planner.hpp"

namespace ecrs::ecr {

using std::chrono::duration;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

// The pipeline

namespace {

constexpr const char* kRepositoryNotFound = "RepositoryNotFoundException";
constexpr const char* kDeadlineReached = "DeadlineReached";  // ours: a call not started for lack of time
// The transport's default per-attempt timeout (aws/transport.hpp); a deadline only ever shortens it.
constexpr milliseconds kDefaultCallTimeout{60000};
constexpr milliseconds kDefaultConnectTimeout{5000};
constexpr int kMaxWorkers = 64;  // ours: far above any rate ECR sustains per repository

// No HTTP reply, and not a failure that happens before the request is sent (connecting, TLS, a refused URL):
// the request may have reached ECR and been carried out.
bool request_may_have_arrived(const Error& e) {
  if (e.http_status != 0) return false;
  for (const char* before_send : {"ConnectionError", "TlsError", "InsecureEndpoint", "InvalidUrl", kDeadlineReached}) {
    if (e.code == before_send) return false;
  }
  return true;
}

// Progress at least every options.progress_interval, and at least four times before a deadline closer than that.
milliseconds progress_every(const EmptyOptions& o, const Clock& clock) {
  constexpr int kProgressLinesPerBudget = 4;
  constexpr milliseconds kMinProgressEvery{50};  // the waits between lines are this long: no busy loop
  if (!o.deadline) return o.progress_interval;
  const auto budget = duration_cast<milliseconds>(*o.deadline - clock.now()) / kProgressLinesPerBudget;
  return std::min(o.progress_interval, std::max(kMinProgressEvery, budget));
}


// FNV-1a, 64 bits: the seen-set keeps this instead of the 71-character digest. Two of 100,000 digests collide
// with p ≈ 3e-10; a digest skipped for a collision is found by the next pass's listing.
std::uint64_t digest_hash(std::string_view s) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h == 0 ? 1 : h;  // 0 marks an empty slot
}

// Open addressing with linear probing, at most half full: 16 bytes per digest at worst, no node per entry. Only
// ListImages pages (one entry per tag) and delete_images' list go through it: DescribeImages gives one entry per
// digest, so the default listing keeps nothing per digest (2 MB at 100,000 digests, 3 MB while growing).
class DigestSet {
 public:
  bool insert(std::string_view digest) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::uint64_t h = digest_hash(digest);
    for (std::size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i] == h) return false;
      if (slots_[i] == 0) {
        slots_[i] = h;
        ++size_;
        return true;
      }
    }
  }
  void clear() {
    std::vector<std::uint64_t>(kInitialSlots, 0).swap(slots_);  // a pass's slots are not kept for the next
    size_ = 0;
  }

 private:
  static constexpr std::size_t kInitialSlots = 1024;
  void grow() {
    std::vector<std::uint64_t> old(std::max(kInitialSlots, slots_.size() * 2), 0);
    old.swap(slots_);
    for (std::uint64_t h : old) {
      if (h == 0) continue;
      std::size_t i = h & (slots_.size() - 1);
      while (slots_[i] != 0) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = h;
    }
  }
  std::vector<std::uint64_t> slots_;
  std::size_t size_ = 0;
};

// A digest on its way to BatchDeleteImage, with the imageSizeInBytes its listing gave (0: not known).
struct Target {
  std::string digest;
  std::uint64_t size_bytes = 0;
};

struct Batch {
  std::vector<Target> images;
  std::uint64_t gate = 0;  // first batches (indexes, referrers) that must be done before this one starts
  bool first = false;
};

// One listing page, reduced to what the pipeline needs.
struct PageEntry {
  std::string digest;
  std::uint64_t size_bytes = 0;
  bool first = false;  // an index or a referrer: delete before plain images
};

// One listing chain and the plain images it collects into batches (Run::list_lanes). Only untagged images wait
// for the index batches queued before them: an index's children are untagged, and a tagged image an index holds
// is refused and carried like any other, so tagged batches need not lose a round trip per page waiting.
struct Lane {
  std::optional<TagStatus> status;
  bool gated = true;  // its images wait for the index batches queued before them
  std::vector<Target> pending;
  bool pending_gated = false;  // pending holds images handed over from a gated lane
};

// A listing chain's page on its way to the lister; `more` is false on the chain's last item.
struct ChainItem {
  std::size_t lane = 0;
  Result<RawPage> page;
  bool more = false;
};

// The chains hand their pages to the lister through this: a chain sends its next request as soon as its page is
// read (no thread hop on the chain), and memory stays a few pages.
class PageChannel {
 public:
  explicit PageChannel(std::size_t capacity) : capacity_(std::max<std::size_t>(1, capacity)) {}
  void push(ChainItem item) {
    std::unique_lock l(mu_);
    room_.wait(l, [&] { return items_.size() < capacity_; });
    items_.push_back(std::move(item));
    l.unlock();
    ready_.notify_one();
  }
  std::optional<ChainItem> pop_for(milliseconds wait) {
    std::unique_lock l(mu_);
    if (!ready_.wait_for(l, wait, [&] { return !items_.empty(); })) return std::nullopt;
    ChainItem item = std::move(items_.front());
    items_.pop_front();
    l.unlock();
    room_.notify_one();
    return item;
  }

 private:
  std::size_t capacity_;
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<ChainItem> items_;
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
        pacing_(options.pacing ? options.pacing
                               : std::make_shared<DeletePacing>(std::clamp(options.max_concurrency, 1, kMaxWorkers),
                                                                clock, sleeper)),
        controller_(pacing_->controller()),
        started_(clock.monotonic()),
        last_progress_(started_),
        progress_every_(progress_every(options, clock)) {
    seen_.clear();
  }
  ~Run() { stop_workers(); }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  Result<EmptyReport> run_empty();
  Result<EmptyReport> run_given(std::span<const ImageId> images);

 private:
  std::string context(std::string_view op) const { return std::string(op) + " repository=" + opts_.repository; }
  bool deadline_passed() const { return opts_.deadline && clock_.now() >= *opts_.deadline; }
  // Past the work's deadline or the calls' (a caller may set only call_deadline): a call failing now was cut.
  bool out_of_time() const {
    return deadline_passed() || (opts_.call_deadline && clock_.now() >= *opts_.call_deadline);
  }
  // No more listing: a dry run deletes nothing, so only a real run's work deadline stops it.
  bool out_of_work_time() const { return !opts_.dry_run && deadline_passed(); }
  std::optional<aws::CallOptions> call_options(aws::CallStats* stats, std::optional<int> max_attempts,
                                               milliseconds min_left = kMinCallTime) const;

  template <class Call>
  auto read(Call&& call, std::uint64_t EmptyReport::*counter) -> decltype(call(aws::CallOptions{}));
  Result<RawPage> fetch_page(bool describe, std::optional<TagStatus> status, const std::optional<std::string>& token);
  void run_chain(std::size_t lane, bool describe, std::optional<TagStatus> status, PageChannel& channel,
                 const std::atomic<bool>& cancel);
  bool describe_fallback(const Error& e);
  Result<void> decode_page(bool describe, const RawPage& raw, std::vector<PageEntry>& entries);
  void list_pass(std::optional<Error>& list_error, bool split);
  bool list_lanes(bool describe, std::optional<Error>& list_error, bool split);
  bool list_chains(bool describe, std::optional<Error>& list_error);
  template <class Request>
  Request page_request(std::optional<TagStatus> status, const std::optional<std::string>& token) const {
    Request req;
    req.repository_name = opts_.repository;
    req.registry_id = opts_.registry_id;
    req.max_results = kMaxListImagesResults;
    req.next_token = token;
    req.tag_status = status;
    return req;
  }

  // `distinct`: the entries are one per digest across the whole listing (DescribeImages), so no seen-set.
  void feed(std::vector<PageEntry>& entries, Lane& lane, bool distinct);
  void submit(Batch batch);
  void submit_pending_images(Lane& lane);
  void drain();
  std::size_t submit_carried();
  void requeue_carried_early();
  bool retry_carried();
  void worker();
  void delete_batch(const Batch& batch);
  void note_fatal(Error e);
  void record_failure(const ImageFailure& f);
  void start_workers();
  void stop_workers();

  void progress(bool force);
  EmptyProgress snapshot() const;
  Result<EmptyReport> finish();
  Result<EmptyReport> fail(Error e);
  void add_stats(const aws::CallStats& s, std::uint64_t EmptyReport::*calls);

  EcrClient& client_;
  const EmptyOptions& opts_;
  const Clock& clock_;
  Sleeper& sleeper_;
  Random& random_;
  Logger log_;
  std::shared_ptr<DeletePacing> pacing_;
  AdaptiveRateController& controller_;
  SteadyTime started_;
  SteadyTime last_progress_;
  milliseconds progress_every_;

  // The lister's (caller's thread) state.
  DigestSet seen_;
  bool describe_ok_ = true;
  std::vector<Target> index_pending_;
  std::vector<Lane> lanes_;
  std::atomic<std::uint64_t> listed_{0};  // distinct digests listed this pass
  std::atomic<bool> listing_done_{false};
  std::uint64_t pass_base_deleted_ = 0, pass_base_gone_ = 0, pass_base_unknown_ = 0;

  // Shared with the deleters.
  mutable std::mutex report_mu_;
  EmptyReport report_;
  std::set<std::string> failure_keys_;
  std::vector<Target> carry_;  // refused while an index held them, or upstream trouble: try again later
  std::optional<Error> fatal_;
  std::atomic<std::uint64_t> deleted_{0}, gone_{0}, unstarted_{0}, permanent_{0}, batches_done_{0};
  std::atomic<std::uint64_t> bytes_deleted_{0};
  std::atomic<std::uint64_t> unknown_{0};  // digests of calls cut at the deadline: EmptyReport::possibly_deleted
  std::atomic<bool> stop_{false};
  std::atomic<bool> deadline_hit_{false};
  std::atomic<bool> repository_missing_{false};

  std::mutex q_mu_;
  std::condition_variable work_cv_;  // deleters wait for a ready batch
  std::condition_variable idle_cv_;  // the lister waits for room or for the queue to drain
  std::deque<Batch> queue_;
  int busy_ = 0;
  bool closing_ = false;
  std::uint64_t first_submitted_ = 0, first_done_ = 0;
  std::vector<std::jthread> workers_;  // last: joined first
};

std::optional<aws::CallOptions> Run::call_options(aws::CallStats* stats, std::optional<int> max_attempts,
                                                  milliseconds min_left) const {
  aws::CallOptions o;
  o.stats = stats;
  o.max_attempts = max_attempts;
  const auto limit = opts_.call_deadline ? opts_.call_deadline : opts_.deadline;
  if (limit) {
    const auto left = duration_cast<milliseconds>(*limit - clock_.now());
    if (left < std::max(kMinCallTime, min_left)) return std::nullopt;
    o.request.total_timeout = std::min(kDefaultCallTimeout, left);
    o.request.connect_timeout = std::min(kDefaultConnectTimeout, left);
  }
  return o;
}

void Run::add_stats(const aws::CallStats& s, std::uint64_t EmptyReport::*calls) {
  std::lock_guard l(report_mu_);
  report_.*calls += static_cast<std::uint64_t>(std::max(1, s.attempts));
  report_.retries += static_cast<std::uint64_t>(s.retried);
  report_.throttled += static_cast<std::uint64_t>(s.throttled);
}

// Throttles are retried here, quickly (they say nothing about reachability); any other retryable failure goes
// through the client's configured policy (AWS_MAX_ATTEMPTS, retry mode), so an unreachable endpoint fails
// within the standard budget.
template <class Call>
auto Run::read(Call&& call, std::uint64_t EmptyReport::*counter) -> decltype(call(aws::CallOptions{})) {
  for (int attempt = 1;; ++attempt) {
    aws::CallStats stats{};
    auto o = call_options(&stats, 1);
    if (!o) return make_error(kDeadlineReached, "no time left for the call", "");
    auto r = call(*o);
    add_stats(stats, counter);
    if (r) return r;
    if (aws::is_throttling(r.error())) {
      if (attempt >= kMaxDeleteAttempts) return r;
      {
        std::lock_guard l(report_mu_);
        ++report_.retries;
      }
      sleeper_.sleep_for(AdaptiveRateController::retry_delay(attempt, random_));
      continue;
    }
    if (!r.error().retryable || client_.max_attempts() <= 1) return r;
    // The first attempt above counts against the configured budget (AWS_MAX_ATTEMPTS is attempts in total).
    aws::CallStats more{};
    auto configured = call_options(&more, client_.max_attempts() - 1);
    if (!configured) return r;
    auto again = call(*configured);
    add_stats(more, counter);
    return again;
  }
}

// DescribeImages first, ListImages only when it fails. DescribeImages gives one entry per digest (ListImages one per
// tag: a repository with three tags an image needs three times the pages, and the page chain is the critical path),
// each image's size (EmptyReport::bytes_deleted, the records' BytesReclaimed) and its media type and subject, so
// indexes go first with no refusal round, and no seen-set is needed (ListImages': 8 bytes a digest, +1.9 MB peak RSS at
// 100,000). The price is a heavier page, ~390 bytes an entry against ~100. Our side of it is small since the decode is
// streaming and overlaps the next request (nextToken read from the page's end in 0.4 us, where scanning for it took 0.5
// ms; 0.5 ms to decode, against 5.8 ms for jsoncpp's tree; bench/micro_bench). Measured side by side at 20 ms per call
// against localaws, two chains a pass, ListImages forced by denying DescribeImages (bench/harness.py --ab, 3 runs
// each): 10k 1.34x T_lb against 1.33x, 100k 1.01x against 0.89x, peak RSS at 100k 19.2 MB against 21.3 MB. The time gap
// is localaws building the larger reply; real ECR's page costs are not known to us. ListImages first would cost the
// memory goal (growth from 1k to 100k <= 4 MB) and the sizes, for at most an eighth of the time at 100k.
Result<RawPage> Run::fetch_page(bool describe, std::optional<TagStatus> status,
                                const std::optional<std::string>& token) {
  if (describe) {
    const auto req = page_request<DescribeImagesRequest>(status, token);
    return read([&](const aws::CallOptions& o) { return client_.describe_images_page(req, o); },
                &EmptyReport::describe_calls);
  }
  const auto req = page_request<ListImagesRequest>(status, token);
  return read([&](const aws::CallOptions& o) { return client_.list_images_page(req, o); }, &EmptyReport::list_calls);
}

// One chain of pages (each request needs the last one's token), on its own thread: the next request goes out as
// soon as the last reply is read, while the lister decodes and queues that page. Always ends with an item whose
// `more` is false, so the lister knows when every chain is done.
void Run::run_chain(std::size_t lane, bool describe, std::optional<TagStatus> status, PageChannel& channel,
                    const std::atomic<bool>& cancel) {
  std::optional<std::string> token;
  while (true) {
    Result<RawPage> page = [&]() -> Result<RawPage> {
      try {
        return fetch_page(describe, status, token);
      } catch (const std::exception& e) {
        return make_error("InternalError", e.what(), context(describe ? "DescribeImages" : "ListImages"));
      }
    }();
    const bool more = page && page->next_token && !cancel && !stop_ && !out_of_work_time();
    if (more) token = page->next_token;
    channel.push(ChainItem{lane, std::move(page), more});
    if (!more) return;
  }
}

// A failed DescribeImages: true when the run goes on with ListImages (one warning), false when the failure is the
// run's (the repository is gone, no time left, or no HTTP reply: ListImages would fail the same way, after as
// many attempts again).
bool Run::describe_fallback(const Error& e) {
  if (e.code == kRepositoryNotFound || e.code == kDeadlineReached || e.http_status == 0) return false;
  Json::Value f(Json::objectValue);
  f["error"] = e.describe();
  log_.warn("DescribeImages failed; listing with ListImages and ordering indexes by ECR's refusals instead "
            "(ecr:DescribeImages only saves those retries)", f);
  describe_ok_ = false;
  return true;
}

// The chain followed the token read from the page's end (trailing_next_token); only the decode, which checks the
// whole text, can tell that was the top-level member. In valid JSON they cannot differ (a repeated member: the scan
// keeps the last, as the end does), so this guards trailing_next_token itself: a wrong token fails the run.
Error token_mismatch(std::string_view op) {
  return make_error("InvalidResponse",
                    std::string(op) + " reply: the nextToken at its end is not the one the whole reply decodes to");
}

Result<void> Run::decode_page(bool describe, const RawPage& raw, std::vector<PageEntry>& entries) {
  entries.clear();
  if (describe) {
    auto r = decode_describe_images(raw.body, [&](ImageDetail& d) {
      const bool first = is_index_media_type(d.image_manifest_media_type) || !d.subject_manifest_digest.empty();
      const auto size = static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.image_size_in_bytes.value_or(0)));
      entries.push_back(PageEntry{std::move(d.image_digest), size, first});
    });
    if (!r) return r.error();
    if (*r != raw.next_token) return token_mismatch("DescribeImages");
    std::lock_guard l(report_mu_);
    report_.ordered_by_media_type = true;
    return {};
  }
  auto r = decode_list_images(raw.body,
                              [&](ImageId& id) { entries.push_back(PageEntry{std::move(id.image_digest), 0, false}); });
  if (!r) return r.error();
  if (*r != raw.next_token) return token_mismatch("ListImages");
  return {};
}

// One pass over the listing, feeding the deleters page by page. Ends with listing_done_, deadline_hit_, stop_ (a
// deleter's fatal error or the repository gone) or `list_error`. `split`: a pass expected to find images.
void Run::list_pass(std::optional<Error>& list_error, bool split) {
  if (stop_) return;
  if (out_of_work_time()) {
    deadline_hit_ = true;
    return;
  }
  if (list_lanes(describe_ok_, list_error, split)) return;
  // DescribeImages refused: start the listing over with ListImages. DescribeImages pages skip the seen-set, so
  // digests already queued from them go again and come back ImageNotFound (counted as gone); a denied
  // DescribeImages fails on its first page.
  list_lanes(false, list_error, split);
}

// False when DescribeImages failed in a way that ListImages may not (describe_fallback).
//
// A pass that expects images lists the tagged and the untagged ones as two chains at once. Each is its own
// nextToken chain, so the pass takes as many page round trips as the larger of the two, not their sum. Side by
// side at 20 ms a call, 60% tagged, medians of 5 (bench/harness.py --ab, 2026-12-05): 10,000 images 1.09x the
// one-chain lower bound against 1.44x in one chain, 100,000 0.94x against 1.30x. One chain misses because a page
// costs more than L: traced against localaws, a 1,000-entry DescribeImages page (~390 KB) came back L + 2.5 ms
// after it was sent with nothing else running, L + 2-10 ms while the deleters shared the 2 cores (ListImages'
// ~100 KB pages: L + 1.2 ms), and a one-chain pass pays that on every page. The price is a call: a pass costs
// ceil(tagged/1000) + ceil(untagged/1000) listing calls, at most one more than one chain would (two for an empty
// repository), sent at the same time, so it costs no time. A verifying pass is one chain: one call when empty.
bool Run::list_lanes(bool describe, std::optional<Error>& list_error, bool split) {
  lanes_.clear();
  if (split) {
    lanes_.push_back(Lane{TagStatus::tagged, false, {}, false});
    lanes_.push_back(Lane{TagStatus::untagged, true, {}, false});
  } else {
    lanes_.push_back(Lane{std::nullopt, true, {}, false});
  }
  return list_chains(describe, list_error);
}

// The lanes' chains at once until every one has ended. False when DescribeImages failed in a way that ListImages
// may not (describe_fallback): the caller lists again with ListImages.
bool Run::list_chains(bool describe, std::optional<Error>& list_error) {
  // One page waiting, whatever the number of chains: a chain that finds it taken holds its page until the lister
  // frees the place, and its next request waits too, but the lister decodes a page in ~0.5 ms against a page
  // round trip of 20+, so the chains hardly wait. Side by side against one place per chain (medians of 5,
  // 2026-12-05): peak RSS at 100,000 images 18.5 MB against 18.9 (each run 18.4-18.6 against 18.7-19.0; one
  // ~390 KB DescribeImages page fewer alive), the same at 1,000, and time unchanged (10k 1.08x T_lb against
  // 1.12x, 100k 0.91x against 0.90x).
  PageChannel channel(1);
  std::atomic<bool> cancel{false};
  std::vector<std::jthread> chains;
  std::size_t running = 0, ended = 0;
  // However this returns (an exception from a callback or from starting a thread included), the chains started
  // are stopped and let finish before they are joined: a chain waiting for room in the channel would otherwise
  // never end.
  struct Drain {
    PageChannel& channel;
    std::atomic<bool>& cancel;
    std::size_t& running;
    ~Drain() {
      if (running == 0) return;
      cancel = true;
      while (running > 0) {
        if (auto item = channel.pop_for(milliseconds(100)); item && !item->more) --running;
      }
    }
  } drain{channel, cancel, running};
  chains.reserve(lanes_.size());
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    chains.emplace_back([this, i, describe, status = lanes_[i].status, &channel, &cancel] {
      run_chain(i, describe, status, channel, cancel);
    });
    ++running;
  }
  start_workers();
  std::vector<bool> open(lanes_.size(), true);
  std::vector<PageEntry> entries;
  bool fallback = false;
  while (running > 0) {
    auto item = channel.pop_for(std::max(progress_every_, milliseconds(1)));
    if (!item) {
      progress(false);
      continue;
    }
    if (!item->more) --running;
    if (cancel) continue;  // after a failure, the other chains' pages are not used
    if (!item->page) {
      cancel = true;
      const Error& e = item->page.error();
      if (describe && describe_fallback(e)) {
        fallback = true;
      } else if (e.code == kDeadlineReached || (opts_.deadline && deadline_passed() && e.retryable)) {
        // A listing cut short by the call deadline is the deadline, not a failure: the next invocation goes on.
        deadline_hit_ = true;
      } else {
        list_error = e;
      }
      continue;
    }
    const bool last = !item->page->next_token;
    auto decoded = decode_page(describe, *item->page, entries);
    std::string().swap(item->page->body);  // the page's text is not kept once decoded
    if (!decoded) {
      cancel = true;
      list_error = std::move(decoded).error();
      list_error->context = context(describe ? "DescribeImages" : "ListImages");
      continue;
    }
    Lane& lane = lanes_[item->lane];
    feed(entries, lane, describe);
    if (last) {
      ++ended;
      open[item->lane] = false;
      // Its short batch joins a lane still listing, so a pass has one short batch, not one per chain.
      const auto other = std::find(open.begin(), open.end(), true);
      if (other == open.end()) {
        submit_pending_images(lane);
      } else {
        Lane& to = lanes_[static_cast<std::size_t>(other - open.begin())];
        const bool gated = lane.gated || lane.pending_gated;
        for (auto& t : lane.pending) {
          to.pending.push_back(std::move(t));
          // Per image: a full batch submitted midway clears the flag, and what follows it is still gated.
          to.pending_gated = to.pending_gated || gated;
          if (to.pending.size() == kMaxBatchDeleteIds) submit_pending_images(to);
        }
        lane.pending.clear();
      }
    } else if (!item->more && !stop_) {
      deadline_hit_ = true;  // the chain stopped short for lack of time
    }
    progress(false);
  }
  chains.clear();  // joins: every chain has pushed its last item
  if (fallback) {
    for (auto& lane : lanes_) lane.pending.clear();
    return false;
  }
  if (!list_error && ended == lanes_.size()) listing_done_ = true;
  return true;
}

void Run::feed(std::vector<PageEntry>& entries, Lane& lane, bool distinct) {
  std::vector<Target> page_images;
  for (auto& e : entries) {
    // ListImages gives one entry per tag, and a caller's list may repeat a digest: each digest goes once.
    if (e.digest.empty() || (!distinct && !seen_.insert(e.digest))) continue;
    ++listed_;
    if (opts_.dry_run) {
      std::lock_guard l(report_mu_);
      report_.bytes_deleted += e.size_bytes;
      if (report_.planned.size() < opts_.max_planned_samples) report_.planned.push_back(e.digest);
      continue;
    }
    if (e.first) {
      index_pending_.push_back(Target{std::move(e.digest), e.size_bytes});
      if (index_pending_.size() == kMaxBatchDeleteIds) submit(Batch{std::exchange(index_pending_, {}), 0, true});
    } else {
      page_images.push_back(Target{std::move(e.digest), e.size_bytes});
    }
  }
  // The page's indexes go before its images, even in a short batch: at most one extra call per page.
  if (!index_pending_.empty()) submit(Batch{std::exchange(index_pending_, {}), 0, true});
  for (auto& d : page_images) {
    lane.pending.push_back(std::move(d));
    if (lane.pending.size() == kMaxBatchDeleteIds) submit_pending_images(lane);
  }
}

void Run::submit_pending_images(Lane& lane) {
  if (lane.pending.empty()) return;
  std::uint64_t gate = 0;
  if (lane.gated || lane.pending_gated) {
    std::lock_guard l(q_mu_);
    gate = first_submitted_;
  }
  lane.pending_gated = false;
  submit(Batch{std::exchange(lane.pending, {}), gate, false});
}

void Run::submit(Batch batch) {
  start_workers();
  std::unique_lock l(q_mu_);
  while (queue_.size() >= kMaxQueuedBatches) {
    idle_cv_.wait_for(l, progress_every_, [&] { return queue_.size() < kMaxQueuedBatches; });
    l.unlock();
    progress(false);
    l.lock();
  }
  if (batch.first) {
    ++first_submitted_;
    // Ahead of the plain batches already queued: this page's images wait for it, so it starts at the next free
    // slot instead of behind the previous page's backlog (a whole delete latency of idle deleters per page).
    const auto pos = std::find_if(queue_.begin(), queue_.end(), [](const Batch& b) { return !b.first; });
    queue_.insert(pos, std::move(batch));
  } else {
    queue_.push_back(std::move(batch));
  }
  l.unlock();
  // One batch, one deleter: waking them all would have every deleter scan the queue and compete for the two
  // cores with the lister, whose next page is the pipeline's critical path.
  work_cv_.notify_one();
}

void Run::drain() {
  std::unique_lock l(q_mu_);
  while (!(queue_.empty() && busy_ == 0)) {
    // Progress comes from this (the caller's) thread only, so on_progress needs no locking of its own.
    idle_cv_.wait_for(l, progress_every_, [&] { return queue_.empty() && busy_ == 0; });
    l.unlock();
    progress(false);
    l.lock();
  }
}

std::size_t Run::submit_carried() {
  std::vector<Target> carry;
  {
    std::lock_guard l(report_mu_);
    carry.swap(carry_);
    report_.retries += (carry.size() + kMaxBatchDeleteIds - 1) / kMaxBatchDeleteIds;
  }
  for (std::size_t i = 0; i < carry.size(); i += kMaxBatchDeleteIds) {
    const auto end = std::min(carry.size(), i + kMaxBatchDeleteIds);
    submit(Batch{std::vector<Target>(std::make_move_iterator(carry.begin() + static_cast<std::ptrdiff_t>(i)),
                                          std::make_move_iterator(carry.begin() + static_cast<std::ptrdiff_t>(end))),
                 0, false});
  }
  return carry.size();
}

// Once the whole listing is queued and every index batch is done, nothing still holds the children refused so
// far: they join the tail of the queue instead of waiting for it to drain and costing a round of their own.
void Run::requeue_carried_early() {
  {
    std::unique_lock l(q_mu_);
    while (first_done_ < first_submitted_ && !(queue_.empty() && busy_ == 0) && !stop_ && !deadline_hit_) {
      idle_cv_.wait_for(l, progress_every_, [&] {
        return first_done_ >= first_submitted_ || (queue_.empty() && busy_ == 0);
      });
      l.unlock();
      progress(false);
      l.lock();
    }
  }
  if (!stop_ && !deadline_hit_) submit_carried();
}

// Ids refused while an index still held them go again once everything else queued is done; a round that frees
// nothing will not free anything on a second try, and the next listing decides.
bool Run::retry_carried() {
  while (!stop_ && !deadline_hit_) {
    const std::uint64_t before = deleted_ + gone_;
    if (submit_carried() == 0) return true;
    drain();
    if (deleted_ + gone_ == before) {
      std::lock_guard l(report_mu_);
      carry_.clear();  // the re-list finds them
      return false;
    }
  }
  return false;
}

void Run::worker() {
  while (true) {
    Batch batch;
    {
      std::unique_lock l(q_mu_);
      auto ready = [&] {
        return std::find_if(queue_.begin(), queue_.end(), [&](const Batch& b) { return b.gate <= first_done_; });
      };
      work_cv_.wait(l, [&] { return closing_ || ready() != queue_.end(); });
      auto it = ready();
      if (it == queue_.end()) return;  // closing, nothing left
      batch = std::move(*it);
      queue_.erase(it);
      ++busy_;
    }
    // Whatever happens below, the batch counts as done and its slot in the pool is freed.
    struct Done {
      Run* run;
      bool first;
      ~Done() {
        {
          std::lock_guard l(run->q_mu_);
          --run->busy_;
          if (first) ++run->first_done_;
        }
        // Only a finished index batch can make waiting batches ready (their gate); this deleter looks for its
        // next batch itself.
        if (first) run->work_cv_.notify_all();
        run->idle_cv_.notify_all();
      }
    } done{this, batch.first};
    try {
      delete_batch(batch);
    } catch (const std::exception& e) {
      // Nothing below throws by contract; if something does, the run stops with what it said instead of the
      // exception ending the process from a worker thread.
      note_fatal(make_error("InternalError", e.what(), context("BatchDeleteImage")));
    } catch (...) {
      note_fatal(make_error("InternalError", "unknown exception", context("BatchDeleteImage")));
    }
  }
}

void Run::note_fatal(Error e) {
  std::lock_guard l(report_mu_);
  if (!fatal_) fatal_ = std::move(e);
  stop_ = true;
}

void Run::record_failure(const ImageFailure& f) {
  std::string key = f.image_id.image_digest.empty() ? f.image_id.image_tag : f.image_id.image_digest;
  key += ": " + f.failure_code + ": " + f.failure_reason;
  if (failure_keys_.insert(key).second && report_.failures.size() < kMaxFailureSamples) {
    report_.failures.push_back(std::move(key));
  }
}

void Run::delete_batch(const Batch& batch) {
  BatchDeleteImageRequest req;
  req.repository_name = opts_.repository;
  req.registry_id = opts_.registry_id;
  req.image_ids.reserve(batch.images.size());
  for (const auto& t : batch.images) req.image_ids.push_back(ImageId{t.digest, ""});
  const auto give_up = [&](bool deadline) {
    unstarted_ += batch.images.size();
    if (deadline) deadline_hit_ = true;
  };
  bool configured_policy = false;  // after a non-throttle failure, the client's retry policy takes over
  for (int attempt = 1;; ++attempt) {
    if (stop_) return give_up(false);
    if (deadline_passed()) return give_up(true);
    auto ticket = controller_.acquire();
    // Decided at the send time, after the pacing wait: the call's timeout, and whether it will likely answer
    // before the call deadline.
    aws::CallStats stats{};
    auto call = call_options(&stats, configured_policy ? std::nullopt : std::optional<int>(1), pacing_->expected_delete_time());
    if (!call || deadline_passed()) return give_up(true);  // the ticket frees its slot, counted in no round
    const SteadyTime sent = clock_.monotonic();
    auto r = client_.batch_delete_image(req, *call);
    add_stats(stats, &EmptyReport::delete_calls);
    if (r) {
      // The latency first: releasing the slot lets the next batch be gated on it.
      if (stats.attempts <= 1) pacing_->record_delete_latency(clock_.monotonic() - sent);
      controller_.on_success(ticket);
      std::unordered_set<std::string_view> deleted;
      for (const auto& id : r->image_ids) {
        if (!id.image_digest.empty()) deleted.insert(id.image_digest);
      }
      deleted_ += deleted.size();
      // Sizes of what this call deleted: not of the digests already gone, failed or refused.
      std::uint64_t bytes = 0;
      for (const auto& t : batch.images) {
        if (deleted.erase(t.digest) != 0) bytes += t.size_bytes;
      }
      bytes_deleted_ += bytes;
      const auto size_of = [&](std::string_view digest) -> std::uint64_t {
        const auto it = std::find_if(batch.images.begin(), batch.images.end(),
                                     [&](const Target& t) { return t.digest == digest; });
        return it == batch.images.end() ? 0 : it->size_bytes;
      };
      std::lock_guard l(report_mu_);
      for (const auto& f : r->failures) {
        switch (classify_delete_failure(f.failure_code)) {
          case DeleteFailureDisposition::already_gone: ++gone_; break;
          case DeleteFailureDisposition::retry_next_pass:
          case DeleteFailureDisposition::retry:
            if (!f.image_id.image_digest.empty()) {
              carry_.push_back(Target{f.image_id.image_digest, size_of(f.image_id.image_digest)});
            }
            break;
          case DeleteFailureDisposition::permanent:
            ++permanent_;
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
    if (e.code == kRepositoryNotFound) {
      repository_missing_ = true;
      stop_ = true;
      return give_up(false);
    }
    // A call cut short by the deadline after it was sent: ECR may have deleted the batch or not, and only the
    // next listing can tell. Its digests are neither deleted nor remaining.
    if (out_of_time() && request_may_have_arrived(e)) {
      unknown_ += batch.images.size();
      deadline_hit_ = true;
      Json::Value f(Json::objectValue);
      f["error"] = e.describe();
      f["possibly_deleted"] = Json::UInt64(batch.images.size());
      log_.warn("BatchDeleteImage cut short at the deadline; its images may or may not be deleted", f);
      return;
    }
    if (deadline_passed() && (throttled || e.retryable)) return give_up(true);
    const bool retry = throttled ? attempt < kMaxThrottledDeleteAttempts : (e.retryable && !configured_policy);
    if (!retry) {
      if (e.context.empty()) e.context = context("BatchDeleteImage");
      if (throttled) e.message += " (gave up after " + std::to_string(attempt) + " throttled attempts)";
      give_up(false);
      return note_fatal(std::move(e));
    }
    {
      std::lock_guard l(report_mu_);
      ++report_.retries;
    }
    if (throttled) {
      sleeper_.sleep_for(AdaptiveRateController::retry_delay(attempt, random_));
    } else {
      configured_policy = true;
    }
  }
}

// Not in the constructor: 16 threads take 2.4-3.3 ms to start on a 2-core VM (bench harness, traced), time the
// first listing call would wait for. Started right after the listing chains, they are up long before the first
// page is back; submit() starts them too, for a batch queued with no listing before it. Never after stop_workers().
void Run::start_workers() {
  if (opts_.dry_run || !workers_.empty() || closing_) return;
  const int n = std::clamp(opts_.max_concurrency, 1, kMaxWorkers);
  workers_.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) workers_.emplace_back([this] { worker(); });
}

void Run::stop_workers() {
  {
    std::lock_guard l(q_mu_);
    closing_ = true;
  }
  work_cv_.notify_all();
  workers_.clear();  // joins
}

EmptyProgress Run::snapshot() const {
  EmptyProgress p;
  p.deleted = deleted_;
  p.listed = listed_;
  const std::uint64_t done_this_pass = deleted_ - pass_base_deleted_ + gone_ - pass_base_gone_;
  p.known_total = p.deleted + (p.listed > done_this_pass ? p.listed - done_this_pass : 0);
  p.total_final = listing_done_;
  p.batches_done = batches_done_;
  {
    std::lock_guard rl(report_mu_);
    p.throttled = report_.throttled;
  }
  const double seconds = duration<double>(clock_.monotonic() - started_).count();
  p.rate = seconds > 0 ? static_cast<double>(p.deleted) / seconds : 0.0;
  p.pacing = controller_.rate();
  p.concurrency = controller_.limit();
  return p;
}

void Run::progress(bool force) {
  const SteadyTime now = clock_.monotonic();
  if (!force && now - last_progress_ < progress_every_) return;
  last_progress_ = now;
  if (opts_.on_progress) opts_.on_progress(snapshot());
}

Result<EmptyReport> Run::finish() {
  stop_workers();
  std::lock_guard l(report_mu_);
  report_.deleted = opts_.dry_run ? report_.deleted : deleted_.load();
  if (!opts_.dry_run) report_.bytes_deleted = bytes_deleted_;
  report_.possibly_deleted = unknown_;
  report_.elapsed = duration_cast<milliseconds>(clock_.monotonic() - started_);
  Json::Value f(Json::objectValue);
  f["deleted"] = Json::UInt64(report_.deleted);
  f["bytes_deleted"] = Json::UInt64(report_.bytes_deleted);
  f["remaining"] = Json::UInt64(report_.remaining);
  f["possibly_deleted"] = Json::UInt64(report_.possibly_deleted);
  f["complete"] = report_.complete;
  f["repository_missing"] = report_.repository_missing;
  f["deadline_reached"] = report_.deadline_reached;
  f["stalled"] = report_.stalled;
  f["list_calls"] = Json::UInt64(report_.list_calls);
  f["delete_calls"] = Json::UInt64(report_.delete_calls);
  f["describe_calls"] = Json::UInt64(report_.describe_calls);
  f["retries"] = Json::UInt64(report_.retries);
  f["throttled"] = Json::UInt64(report_.throttled);
  f["ordered_by_media_type"] = report_.ordered_by_media_type;
  f["duration_ms"] = Json::Int64(report_.elapsed.count());
  log_.info(opts_.dry_run ? "dry run planned" : "emptying finished", f);
  return report_;
}

Result<EmptyReport> Run::fail(Error e) {
  stop_workers();
  Json::Value f(Json::objectValue);
  f["error"] = e.describe();
  f["deleted"] = Json::UInt64(deleted_.load());
  log_.error("emptying failed", f);
  return e;
}

Result<EmptyReport> Run::run_empty() {
  {
    Json::Value f(Json::objectValue);
    f["dry_run"] = opts_.dry_run;
    f["max_concurrency"] = opts_.max_concurrency;
    if (opts_.registry_id) f["registry_id"] = *opts_.registry_id;
    log_.info("emptying repository", f);
  }
  for (int pass = 1;; ++pass) {
    seen_.clear();
    listed_ = 0;
    listing_done_ = false;
    pass_base_deleted_ = deleted_;
    pass_base_gone_ = gone_;
    pass_base_unknown_ = unknown_;
    const std::uint64_t unstarted_before = unstarted_;
    std::optional<Error> list_error;
    // The first pass splits its listing; later passes verify, or mop up the few an earlier pass could not delete.
    list_pass(list_error, pass == 1);
    if (!listing_done_) {
      for (auto& lane : lanes_) lane.pending.clear();  // never queued: the next invocation's listing finds them
    }
    // Only with the media types known: without them an index can still be anywhere in the queue.
    if (listing_done_ && !list_error && !opts_.dry_run && describe_ok_) requeue_carried_early();
    drain();
    if (listing_done_ && !list_error) retry_carried();

    if (list_error && list_error->code == kRepositoryNotFound) repository_missing_ = true;
    if (repository_missing_) {
      {
        std::lock_guard l(report_mu_);
        report_.repository_missing = true;
        report_.remaining = 0;
      }
      return finish();
    }
    if (list_error) return fail(std::move(*list_error));
    {
      std::unique_lock l(report_mu_);
      if (fatal_) {
        Error e = *fatal_;
        l.unlock();
        return fail(std::move(e));
      }
    }
    const std::uint64_t listed = listed_;
    const std::uint64_t done =
        deleted_ - pass_base_deleted_ + gone_ - pass_base_gone_ + unknown_ - pass_base_unknown_;
    bool end = true;
    bool too_many_passes = false;
    {
      std::lock_guard l(report_mu_);
      report_.remaining = listed - std::min(listed, done);
      if (opts_.dry_run) {
        report_.deleted = listed;
        report_.remaining = listed;
      } else if (listing_done_ && listed == 0) {
        report_.complete = true;
      } else if (deadline_hit_ || unstarted_ > unstarted_before) {
        report_.deadline_reached = true;
      } else if (done == 0) {
        report_.stalled = true;
      } else if (pass >= kMaxPasses) {
        too_many_passes = true;
      } else {
        end = false;
      }
    }
    if (too_many_passes) {
      Json::Value f(Json::objectValue);
      f["passes"] = kMaxPasses;
      f["remaining"] = Json::UInt64(listed - std::min(listed, done));
      log_.warn("images keep appearing; giving up after the maximum number of passes", f);
    }
    if (end) return finish();
  }
}

Result<EmptyReport> Run::run_given(std::span<const ImageId> images) {
  {
    Json::Value f(Json::objectValue);
    f["dry_run"] = opts_.dry_run;
    f["images"] = Json::UInt64(images.size());
    log_.info("deleting chosen images", f);
  }
  std::vector<PageEntry> chunk;
  lanes_.assign(1, Lane{std::nullopt, true, {}, false});
  for (std::size_t i = 0; i < images.size() && !stop_; i += static_cast<std::size_t>(kMaxListImagesResults)) {
    if (!opts_.dry_run && deadline_passed()) {
      deadline_hit_ = true;
      break;
    }
    const std::size_t end = std::min(images.size(), i + static_cast<std::size_t>(kMaxListImagesResults));
    chunk.clear();
    for (std::size_t j = i; j < end; ++j) {
      const std::uint64_t size = j < opts_.image_sizes.size() ? opts_.image_sizes[j] : 0;
      chunk.push_back(PageEntry{images[j].image_digest, size, false});
    }
    feed(chunk, lanes_.front(), false);
    if (end == images.size()) submit_pending_images(lanes_.front());
    progress(false);
  }
  listing_done_ = true;
  drain();
  retry_carried();
  {
    std::unique_lock l(report_mu_);
    if (fatal_) {
      Error e = *fatal_;
      l.unlock();
      return fail(std::move(e));
    }
  }
  {
    std::lock_guard l(report_mu_);
    const std::uint64_t listed = listed_;
    const std::uint64_t done = deleted_ + gone_ + unknown_;
    report_.repository_missing = repository_missing_;
    report_.remaining = repository_missing_ ? 0 : listed - std::min(listed, done);
    if (opts_.dry_run) {
      report_.deleted = listed;
      report_.remaining = listed;
    } else {
      report_.deadline_reached = deadline_hit_;
      report_.complete = report_.remaining == 0 && unknown_ == 0;
    }
  }
  return finish();
}

}  // namespace

Result<EmptyReport> empty_repository(EcrClient& client, const EmptyOptions& options, const Clock& clock,
                                     Sleeper& sleeper, Random& random, Logger& logger) {
  Run run(client, options, clock, sleeper, random, logger);
  return run.run_empty();
}

Result<EmptyReport> delete_images(EcrClient& client, const EmptyOptions& options, std::span<const ImageId> images,
                                  const Clock& clock, Sleeper& sleeper, Random& random, Logger& logger) {
  Run run(client, options, clock, sleeper, random, logger);
  return run.run_given(images);
}

}  // namespace ecrs::ecr
