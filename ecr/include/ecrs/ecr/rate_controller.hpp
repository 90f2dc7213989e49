#pragma once
// How fast, and whether at all, a BatchDeleteImage is sent: the adaptive rate controller and the recent delete
// latencies that gate a call on the time left. Both outlive one call of delete_images when the caller keeps a
// DeletePacing (scheduled cleanup deletes in re-check windows and must not re-learn a cap in each).
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "ecrs/common/system.hpp"

namespace ecrs::ecr {

// A call is not started with less than this left before EmptyOptions::call_deadline: one ECR round trip from
// Lambda is tens of milliseconds, and a call cut short has done nothing we can count.
inline constexpr std::chrono::milliseconds kMinCallTime{100};
// Nor is a BatchDeleteImage started unless this multiple of its measured latency (kLatencyPercentile of the
// recent successful calls) is left before the call deadline: a batch cut at the deadline may still be deleted
// by ECR, uncounted, so starting one only makes sense when it will very likely answer.
inline constexpr double kCallStartHeadroom = 1.5;
inline constexpr double kLatencyPercentile = 0.95;
inline constexpr std::size_t kLatencySamples = 64;

// ECR publishes no TPS quota for BatchDeleteImage (shared/docs/ecr-api.md §4), so the rate is found at run time,
// and a throttle is taken as evidence of a cap only when sending slower cuts throttles. AWS's adaptive retry
// mode (botocore retries/adaptive.py, bucket.py) cuts its rate to 0.7x the measured send rate on every throttle
// and grows back on a cubic curve: random throttles that do not depend on the rate then drive it to its floor.
// BBR instead estimates the bottleneck from what gets delivered and probes above it now and then. This controller
// does the latter with successful calls as the delivery rate:
//   - unpaced: calls go as fast as the deleters allow. Two rounds in a row (kRoundCalls completions, or kRoundMax)
//     whose throttle fraction is clearly above the learnt random floor start a test;
//   - testing: pace at the goodput (successful calls/s) just measured, which no cap throttles: successes are at
//     most what a cap admits. If the test round's throttles are clearly fewer than the rounds' before it (a
//     two-sample test over the pooled calls), there is a cap, and the test's throttles are the random floor
//     (under kNoFloor, a plain cap's timing: none). The cap admits the attempts that carry the goodput,
//     goodput / (1 - floor): pace there (pacing at the goodput itself would lose the random fraction at every
//     step) and probe up at once, round after round, until a probe is throttled above the floor or, with little
//     random throttling, stops raising the goodput. If goodput instead fell with the rate and the throttles
//     stayed, they are random: pool them into the floor and go back. Fewer throttles than before, but not clearly,
//     is another test round at the same rate, up to kTestCalls calls;
//   - holding: pace at that rate; every kProbeEvery rounds at the floor probe higher, keeping the step when it
//     stays at the floor and stepping back (to what the probe's round admitted, when more) when it does not. A
//     round above the floor steps down to what it admitted, by at most kHoldStep; kHoldFlags in a row, a test.
// The floor is pooled over the last kFloorCalls calls of the rounds judged under any cap (unpaced and hold rounds
// at the floor, test rounds), and paced rounds are judged against the pool with its own uncertainty: in runs of
// 60-100 calls, rounds of 10-20 calls each cannot tell a 20% random fraction from a cap's alone.
// Paced, at most rate x kSlotLatencies round trips of calls are out (in flight or booked): a slot booked ahead
// keeps the rate it was booked at, and 16 deleters at 12 calls/s would keep an old rate for 1.3 s.
// "Clearly" is two standard errors of the round's throttle fraction (a binomial proportion), at least kMargin.
// Thread-safe; acquire() blocks for a concurrency slot and the pacing schedule.
class AdaptiveRateController {
 public:
  // A concurrency slot, released when reported (on_success/on_throttle/on_error) or when destroyed unreported,
  // so an exception between acquire() and the report cannot leak the slot.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& o) noexcept : owner_(o.owner_), epoch_(o.epoch_), sent(o.sent) { o.owner_ = nullptr; }
    Ticket& operator=(Ticket&& o) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

   private:
    friend class AdaptiveRateController;
    Ticket(AdaptiveRateController* owner, std::chrono::steady_clock::time_point t, std::uint64_t epoch)
        : owner_(owner), epoch_(epoch), sent(t) {}
    AdaptiveRateController* owner_ = nullptr;
    std::uint64_t epoch_ = 0;  // the pacing the call was booked under

   public:
    std::chrono::steady_clock::time_point sent{};
  };

  enum class Mode { unpaced, testing, holding, probing };

  AdaptiveRateController(int max_concurrency, const Clock& clock, Sleeper& sleeper);

  // Waits for a slot and for the pacing schedule, then returns the send time.
  Ticket acquire();
  // acquire() for a caller that drives its own clock (the event simulation in the tests): no slot free, nullopt;
  // else the ticket at once, and the caller sends at its `sent` time.
  std::optional<Ticket> try_acquire();
  void on_success(Ticket& t);
  void on_throttle(Ticket& t);
  void on_error(Ticket& t);  // a non-throttle failure: frees the slot, counts in no round

  // While set, one call at a time, until a call succeeds: a caller that must know how long a call takes before
  // starting many (DeletePacing's measure_first) sends the first alone. The latency of that success is kept.
  void set_solo(bool on);
  std::optional<std::chrono::steady_clock::duration> solo_latency() const;

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
  static constexpr double kBlindProbeGain = 1.8;  // the first probe after a test paced at one success
  static constexpr int kStartSlots = 8;  // in flight until the first replies show no flood
  static constexpr int kProbeEvery = 2;
  static constexpr double kMinRate = 1.0;  // calls/s
  static constexpr double kSlotLatencies = 2.0;  // round trips of calls out when paced, one spare slot more
  static constexpr double kFloorCalls = 200.0;   // the floor's pool: enough for a 3-point standard error at 20%
  static constexpr double kMaxFloor = 0.5;       // goodput / (1 - floor) at most doubles the rate
  // Standard errors between a test's throttle fraction and the rounds' before it to conclude a cap. At 2, a test
  // round of 32 calls that drew 12% at 30% random throttling (no cap) concluded one in simulation.
  static constexpr double kCapZ = 2.5;
  static constexpr double kNoFloor = 0.1;  // a floor under this is a plain cap's timing, not random throttling
  static constexpr double kFloorTrustCalls = 40.0;  // a pool this large says a floor under kNoFloor is that low
  // A pool this large, with a floor under kNoFloor, lets a probe that got no more through end the startup probing:
  // at 20% random throttling, 20 calls show at most one throttle 6% of the time.
  static constexpr double kPlateauTrustCalls = 20.0;
  // A test whose rounds show fewer throttles than the rounds before it, but not clearly, goes on at its rate until
  // it has this many calls.
  static constexpr int kTestCalls = 48;
  // A probe round whose goodput is under this share of the round's before it got less through by sending faster:
  // more than two standard deviations of a 10-call round's goodput at 20% random throttling.
  static constexpr double kProbeLuck = 0.75;
  static constexpr int kHoldFlags = 3;
  static constexpr double kHoldStep = 0.8;
  static constexpr std::chrono::milliseconds kRateWindow{1000};
  // Pacing never goes below kPeakShare of the best goodput seen lately. Random throttles on top of a cap make every
  // round look throttled, and each step down to "what got through" then loses the random fraction again; the peak
  // decays by kPeakDecay a round so that a cap that really drops is still followed down.
  static constexpr double kPeakShare = 0.6;
  static constexpr double kPeakDecay = 0.9;

 private:
  enum class Outcome { success, throttle, error };
  void report(Ticket& t, Outcome o);
  int slot_limit_locked() const;
  Ticket book_locked();
  void end_round_locked(std::chrono::steady_clock::time_point now);
  bool clearly_above(double f, double floor, int n) const;
  bool is_flood(int throttled, int n) const;
  void open_slots_locked();
  void add_floor_sample_locked(int throttled, int n);
  static bool clearly_fewer(int k1, int n1, int k2, int n2, bool adjusted = false);
  bool over_floor_locked(int throttled, int n) const;

  const Clock* clock_;
  Sleeper* sleeper_;
  int max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  // The slowest of the last replies (send to reply): how long a slot stays taken.
  std::array<std::chrono::steady_clock::duration, 16> latencies_{};
  std::size_t next_latency_ = 0;
  std::chrono::steady_clock::duration recent_latency_{};
  bool solo_ = false;
  std::optional<std::chrono::steady_clock::duration> solo_latency_;
  Mode mode_ = Mode::unpaced;
  double rate_ = 0.0;
  double floor_ = 0.0;
  std::chrono::steady_clock::time_point next_send_{};
  std::uint64_t epoch_ = 0;  // bumped at every change of pacing
  bool first_round_ = true;
  bool opened_ = false;  // every slot usable: no flood in the first replies, or the throttles proved random
  // The current round.
  std::chrono::steady_clock::time_point round_start_{};
  bool round_started_ = false;
  std::chrono::steady_clock::time_point last_reply_{};  // the last report: with nothing in flight, idle since
  int round_ok_ = 0;
  int round_throttled_ = 0;
  // The round before a test step, and the rate to go back to.
  double prev_goodput_ = 0.0;
  double prev_attempts_ = 0.0;
  double prev_rate_ = 0.0;
  double prev_fraction_ = 0.0;
  int prev_ok_ = 0;  // successes the goodput before the test was measured from
  int above_n_ = 0;  // calls and throttles of the rounds that led to the test
  int above_throttled_ = 0;
  int tested_n_ = 0;  // calls and throttles of the test rounds so far (each paced at what got through)
  int tested_throttled_ = 0;
  bool test_is_sample_ = false;  // the test paces at a measured goodput, not at half the attempts
  double best_through_ = 0.0;    // the highest test rate since the test began
  bool starting_ = false;        // probing straight after a test found a cap, until a probe is throttled
  double last_goodput_ = 0.0;    // the last round's
  double prev_probe_rate_ = 0.0;  // a probe at this rate got less through than the round before: not repeated
  bool blind_probe_ = false;      // the first probe after a blind test, not yet repeated
  // The floor's evidence: calls and throttles of rounds no cap throttled, at most kFloorCalls.
  double floor_calls_ = 0.0;
  double floor_throttled_ = 0.0;
  std::chrono::steady_clock::time_point first_send_{};
  std::deque<std::chrono::steady_clock::time_point> successes_;  // the last kRateWindow
  double peak_goodput_ = 0.0;  // the best recent goodput, decaying by kPeakDecay a round
  double probe_gain_ = kProbeGain;
  int clean_rounds_ = 0;
  int flagged_rounds_ = 0;
};

// What deleting has taught a run, kept across calls of delete_images by a caller that deletes in windows: the rate
// controller's state (a cap found in one window holds in the next) and the recent successful delete latencies
// (a batch starts only when kCallStartHeadroom times their kLatencyPercentile fits before the call deadline).
// Thread-safe. The clock and sleeper must outlive it.
//
// measure_first: until one delete has answered, one delete at a time. Before any sample expected_delete_time() is a
// guess (kMinCallTime), and a caller whose deletes must answer inside a window (scheduled cleanup's in-use re-check
// window) cannot start a flight of them on a guess; the answer of the first is the first sample.
class DeletePacing {
 public:
  DeletePacing(int max_concurrency, const Clock& clock, Sleeper& sleeper, bool measure_first = false)
      : controller_(max_concurrency, clock, sleeper) {
    controller_.set_solo(measure_first);
  }
  AdaptiveRateController& controller() { return controller_; }
  const AdaptiveRateController& controller() const { return controller_; }
  // kCallStartHeadroom x the kLatencyPercentile of the recent successful deletes; kMinCallTime before any.
  std::chrono::milliseconds expected_delete_time() const;
  void record_delete_latency(std::chrono::steady_clock::duration d);

 private:
  AdaptiveRateController controller_;
  mutable std::mutex mu_;
  std::vector<std::chrono::steady_clock::duration> latencies_;  // the last kLatencySamples successful deletes
  std::size_t next_ = 0;
};

}  // namespace ecrs::ecr
