#include "ecrs/ecr/rate_controller.hpp"

#include <algorithm>
#include <cmath>

#include "ecrs/aws/retry.hpp"

namespace ecrs::ecr {

using std::chrono::duration;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

// ---------------------------------------------------------------------------------------------------------------
// AdaptiveRateController

AdaptiveRateController::Ticket& AdaptiveRateController::Ticket::operator=(Ticket&& o) noexcept {
  if (this != &o) {
    if (owner_ != nullptr) owner_->on_error(*this);
    owner_ = o.owner_;
    epoch_ = o.epoch_;
    sent = o.sent;
    o.owner_ = nullptr;
  }
  return *this;
}

AdaptiveRateController::Ticket::~Ticket() {
  if (owner_ != nullptr) owner_->on_error(*this);
}

AdaptiveRateController::AdaptiveRateController(int max_concurrency, const Clock& clock, Sleeper& sleeper)
    : clock_(&clock), sleeper_(&sleeper), max_(std::max(1, max_concurrency)) {}

int AdaptiveRateController::slot_limit_locked() const {
  if (solo_) return 1;
  // Half the deleters until the first replies show no flood: 16 at once into a cap with a burst of 2 is one or two
  // successes among 16 replies, and a test paced at what got through then starts at half the cap or less (in 1 of
  // 4 runs against localaws at 20 calls/s: 53% of the cap held over 6,000 images, against 99-100% from 8).
  if (!opened_ && rate_ <= 0) return std::min(max_, kStartSlots);
  if (rate_ <= 0 || recent_latency_ <= std::chrono::steady_clock::duration::zero()) return max_;
  // Paced, no more calls are out (in flight, or booked and waiting for their slot) than the rate keeps busy for
  // kSlotLatencies round trips. More would only book slots ahead, and a booked slot keeps the rate it was booked
  // at: with 16 deleters at 12 calls/s a new rate would reach the wire 1.3 s later.
  const double busy = rate_ * duration<double>(recent_latency_).count() * kSlotLatencies;
  return std::clamp(static_cast<int>(std::ceil(busy)) + 1, 1, max_);
}

AdaptiveRateController::Ticket AdaptiveRateController::book_locked() {
  ++in_flight_;
  const SteadyTime now = clock_->monotonic();
  if (!round_started_) {
    round_start_ = first_send_ = now;
    round_started_ = true;
  } else if (in_flight_ == 1 && now - last_reply_ > kRoundMin) {
    // Nothing was in flight for a while (a caller between two delete_images calls, scheduled cleanup re-checking
    // in use; deleters waiting for a listing page): that time is nobody's rate. Rounds and the recent goodput
    // measure sending time only, so an idle gap does not read as slowing that cost goodput (which a test round
    // would take for random throttles, and go back to unpaced, into the cap).
    const auto idle = now - last_reply_;
    round_start_ += idle;
    first_send_ += idle;
    for (auto& s : successes_) s += idle;
  }
  SteadyTime send = now;
  if (rate_ > 0) {
    send = std::max(now, next_send_);
    next_send_ = send + duration_cast<std::chrono::steady_clock::duration>(duration<double>(1.0 / rate_));
  }
  return Ticket(this, send, epoch_);
}

AdaptiveRateController::Ticket AdaptiveRateController::acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ < slot_limit_locked(); });
  Ticket t = book_locked();
  const SteadyTime now = clock_->monotonic();
  lock.unlock();
  // Slots are scheduled on an absolute timeline, so sleeping the floor in whole milliseconds keeps the average
  // rate even when the gap between calls is under a millisecond.
  if (t.sent > now) {
    const auto wait = duration_cast<milliseconds>(t.sent - now);
    if (wait.count() > 0) sleeper_->sleep_for(wait);
  }
  return t;
}

std::optional<AdaptiveRateController::Ticket> AdaptiveRateController::try_acquire() {
  std::lock_guard lock(mu_);
  if (in_flight_ >= slot_limit_locked()) return std::nullopt;
  return book_locked();
}

void AdaptiveRateController::on_success(Ticket& t) { report(t, Outcome::success); }
void AdaptiveRateController::on_throttle(Ticket& t) { report(t, Outcome::throttle); }
void AdaptiveRateController::on_error(Ticket& t) { report(t, Outcome::error); }

void AdaptiveRateController::report(Ticket& t, Outcome o) {
  if (t.owner_ == nullptr) return;  // already reported
  t.owner_ = nullptr;
  std::lock_guard lock(mu_);
  --in_flight_;
  cv_.notify_all();
  const SteadyTime now = clock_->monotonic();
  last_reply_ = now;
  if (o == Outcome::error) return;
  latencies_[next_latency_] = now - t.sent;
  next_latency_ = (next_latency_ + 1) % latencies_.size();
  recent_latency_ = *std::max_element(latencies_.begin(), latencies_.end());
  if (solo_ && o == Outcome::success) {
    solo_ = false;
    solo_latency_ = now - t.sent;
  }
  // A call sent before the rate last changed tells about the old rate, not this round's: with many deleters
  // unpaced, the first test round would otherwise open with the flood's last throttles and pace at nothing.
  const bool counts = t.epoch_ == epoch_;
  if (counts) (o == Outcome::success ? round_ok_ : round_throttled_) += 1;
  if (o == Outcome::success) {
    successes_.push_back(now);
    // Bounded by the calls of one kRateWindow, whatever the run's length.
    while (now - successes_.front() > kRateWindow) successes_.pop_front();
  }
  const int n = round_ok_ + round_throttled_;
  const auto elapsed = now - round_start_;
  // The first kFloodCalls replies are enough to rule out a flood: open every slot then, not a whole round later.
  if (!opened_ && first_round_ && mode_ == Mode::unpaced && n >= kFloodCalls && !is_flood(round_throttled_, n)) {
    open_slots_locked();
  }
  // A round never ends on a count of throttles alone: rounds that stop at their eighth throttle read high (at 30%
  // random throttling, 8 of 16 came often enough to start tests on nothing), and the run's first replies have
  // is_flood for a flood.
  if (counts && ((n >= kRoundCalls && elapsed >= kRoundMin) || (n >= kRoundMinCalls && elapsed >= kRoundMax) ||
                 (mode_ == Mode::unpaced && is_flood(round_throttled_, n)))) {
    end_round_locked(now);
  }
}

void AdaptiveRateController::open_slots_locked() {
  opened_ = true;
  cv_.notify_all();
}

bool AdaptiveRateController::is_flood(int throttled, int n) const {
  return first_round_ && n >= kFloodCalls && throttled >= kFloodFraction * n && clearly_above(kFloodFraction, floor_, n);
}

bool AdaptiveRateController::clearly_above(double f, double floor, int n) const {
  const double p = std::clamp(floor, 0.02, 0.98);
  const double se = std::sqrt(p * (1 - p) / std::max(1, n));
  return f > floor + std::max(kMargin, 2 * se);
}

// Two throttle fractions, k1 of n1 against k2 of n2: whether the first is below the second by more than kCapZ
// standard errors of the difference. `adjusted` (a round against the floor's pool): each fraction counts one
// throttle and one success more (Agresti and Caffo's adjustment for a difference of proportions), since from a few
// calls a fraction near 0 has a plug-in variance near 0. Against localaws (20/s cap, 20% random), a floor of 0
// learnt from a test of 11 calls took a probe at 18/s, under the cap, that drew 5 throttles in 16 for clearly above
// it, and held the run at 10/s for 6 s (53% of cap x (1 - p)); adjusted, 0 of 11 against 5 of 16 is not clear.
// The cap test (a test round against the flood's rounds) keeps the plug-in form: adjusted there, the simulation's
// worst 120-batch run fell from 0.81 to 0.64 of cap x (1 - p).
bool AdaptiveRateController::clearly_fewer(int k1, int n1, int k2, int n2, bool adjusted) {
  if (n1 <= 0 || n2 <= 0) return false;
  const double extra = adjusted ? 1.0 : 0.0;  // throttles added to each, and as many successes
  const double m1 = n1 + 2 * extra, m2 = n2 + 2 * extra;
  const double p1 = (k1 + extra) / m1, p2 = (k2 + extra) / m2;
  const auto var = [adjusted](double p, double m) {
    const double q = adjusted ? p : std::clamp(p, 0.02, 0.98);  // plug-in: each at least 0.02 for its variance
    return q * (1 - q) / m;
  };
  return p2 - p1 > std::max(kMargin, kCapZ * std::sqrt(var(p1, m1) + var(p2, m2)));
}

bool AdaptiveRateController::over_floor_locked(int throttled, int n) const {
  if (throttled < 2 || !clearly_above(static_cast<double>(throttled) / n, floor_, n)) return false;
  // With random throttling learnt, also against the floor's whole pool, whose own uncertainty counts too: a floor
  // learnt from one test round of ten calls would otherwise flag every unlucky round as over the cap. Under
  // kNoFloor, any throttles clearly above it are a cap's, once the pool is large enough to say the floor is that
  // low: 0 throttles in an 11-call test round happen 9% of the time at 20% random throttling, and a floor of 0
  // from it read every later round's random throttles as the cap, stepping the rate down to 3 calls/s.
  return (floor_ < kNoFloor && floor_calls_ >= kFloorTrustCalls) || floor_calls_ < kRoundMinCalls ||
         clearly_fewer(static_cast<int>(std::lround(floor_throttled_)), static_cast<int>(std::lround(floor_calls_)),
                       throttled, n, true);
}

void AdaptiveRateController::add_floor_sample_locked(int throttled, int n) {
  floor_calls_ += n;
  floor_throttled_ += throttled;
  // A bounded pool: the evidence of the last kFloorCalls calls, so a floor that changes is followed.
  if (floor_calls_ > kFloorCalls) {
    floor_throttled_ *= kFloorCalls / floor_calls_;
    floor_calls_ = kFloorCalls;
  }
  floor_ = floor_calls_ > 0 ? floor_throttled_ / floor_calls_ : 0.0;
}

void AdaptiveRateController::end_round_locked(SteadyTime now) {
  const int n = round_ok_ + round_throttled_;
  const double seconds = std::max(duration<double>(now - round_start_).count(), 1e-3);
  const double fraction = static_cast<double>(round_throttled_) / n;
  const int ok = round_ok_;
  const double goodput = round_ok_ / seconds;
  const double attempts = n / seconds;
  const bool throttled = round_throttled_ >= 2 && clearly_above(fraction, floor_, n);
  const bool flood = is_flood(round_throttled_, n);
  const int throttles = round_throttled_;
  first_round_ = false;
  round_ok_ = round_throttled_ = 0;
  round_start_ = now;
  const auto pace = [&](double r) {
    rate_ = std::max({kMinRate, r, kPeakShare * peak_goodput_});
    ++epoch_;
    next_send_ = std::max(next_send_, now);
    cv_.notify_all();  // the slot limit follows the rate
  };
  // Slow down to what got through, remembering where we came from in case slowing turns out to cost goodput.
  // What got through is counted over the last second, not this round alone: a round that drained a bucket's
  // initial burst would otherwise overstate the cap.
  const auto start_test = [&](double through) {
    const bool was_sample = mode_ == Mode::testing && test_is_sample_;
    if (mode_ != Mode::testing) {
      prev_rate_ = rate_;
      above_n_ = above_throttled_ = 0;
      tested_n_ = tested_throttled_ = 0;
    }
    // The flagged rounds that led to the test, all sent faster than it: pooled, their throttles are what slowing
    // down has to cut to show a cap. A test round that found throttles left joins the test rounds' pool instead:
    // it may have been at the floor already, and the floor among the rounds above would hide the cap.
    if (was_sample) {
      tested_n_ += n;
      tested_throttled_ += throttles;
    } else {
      above_n_ += n;
      above_throttled_ += throttles;
    }
    // The best of the test rates: each was what got through just before, so the best is the nearest the cap.
    best_through_ = mode_ == Mode::testing ? std::max(best_through_, through) : through;
    test_is_sample_ = ok > 0;
    prev_goodput_ = goodput;
    prev_attempts_ = attempts;
    prev_fraction_ = fraction;
    prev_ok_ = ok;
    mode_ = Mode::testing;
    // A round in which every reply was a throttle (a cap's bucket already empty, or random throttles on top of
    // it) measures no goodput at all, and pacing at that would leave the run at kMinRate with rounds seconds
    // long. Halve the attempt rate instead, and let the next round measure.
    pace(ok == 0 ? attempts / 2 : through);
  };
  while (!successes_.empty() && now - successes_.front() > kRateWindow) successes_.pop_front();
  const double window = std::clamp(duration<double>(now - first_send_).count(),
                                   duration<double>(kRoundMin).count(), duration<double>(kRateWindow).count());
  const double recent_goodput = static_cast<double>(successes_.size()) / window;
  // Not from the first round alone, which may be a bucket's burst arriving in one latency.
  if (now - first_send_ >= 2 * kRoundMin) peak_goodput_ = std::max(kPeakDecay * peak_goodput_, recent_goodput);
  const double last_goodput = last_goodput_;
  last_goodput_ = goodput;
  switch (mode_) {
    case Mode::unpaced:
      if (!throttled) {
        open_slots_locked();
        flagged_rounds_ = 0;
        // Learn the floor from clean rounds too, so one unlucky round does not keep a stale floor.
        add_floor_sample_locked(throttles, n);
      } else if (flood || ++flagged_rounds_ >= 2) {
        // Two rounds in a row: one alone is as likely a bucket's initial burst running out, or noise. A flood
        // in the run's first round (most of the first replies throttled: deleters starting far above a cap)
        // tests at once; waiting for a second round would cost every deleter's retries meanwhile, and a false
        // alarm (p ≈ 0.015 per run at 30% random throttling) costs a test round and a few probes.
        flagged_rounds_ = 0;
        start_test(recent_goodput);
      }
      break;
    case Mode::testing: {
      // Random throttles cut goodput in proportion to the send rate; a cap keeps goodput where it was. Which
      // of the two ratios is this round's goodput closer to?
      const double rate_ratio = attempts / prev_attempts_;
      const double goodput_ratio = prev_goodput_ > 0 ? goodput / prev_goodput_ : 1.0;
      // The test rounds so far, this one included.
      const int tested = tested_n_ + n;
      const int tested_throttled = tested_throttled_ + throttles;
      // Slowing to what got through cut throttles: the rounds before were above a cap. This one was sent at what
      // got through, which is at most what the cap admits, so its throttles are random ones: the floor. What the
      // cap admits is the attempts that carry that goodput, goodput / (1 - floor), so the hold rate is the test
      // rate over (1 - floor): pacing at the goodput itself would lose the random fraction at every step.
      if (test_is_sample_ && clearly_fewer(tested_throttled, tested, above_throttled_, above_n_)) {
        // Under kNoFloor the test's throttles are a plain cap's timing (a test at what got through sits right at
        // the cap, right after a flood emptied the bucket), not random ones: held as a floor, they would let
        // every later round up to that much over the cap pass as at the floor.
        add_floor_sample_locked(tested_throttled < kNoFloor * tested ? 0 : tested_throttled, tested);
        // The test rates came from what got through in short windows, so the hold rate is a lower bound: probe
        // up at once, round after round while probes stay clean (a probe over the cap measures it).
        mode_ = Mode::probing;
        starting_ = true;
        flagged_rounds_ = clean_rounds_ = 0;
        // A test paced at a flood's single success measured nothing: one success in the window's kRoundMin floor
        // reads as 10 calls/s whatever the cap is. Climbing from there in steps of 10%, 20%, 40% took 3-4 s of
        // 1-s rounds against localaws (20/s cap, 20% random), as long as a 6,000-image run; the first step is
        // large instead, and a probe over the cap measures it.
        probe_gain_ = prev_ok_ <= 1 ? kBlindProbeGain : kProbeGain;
        blind_probe_ = prev_ok_ <= 1;
        const double hold = std::max(rate_, best_through_) / (1.0 - std::min(floor_, kMaxFloor));
        pace(hold * probe_gain_);
        break;
      }
      // Fewer throttles than in the rounds before, but not yet clearly: another round at the same rate, pooled with
      // this one. Stepping down to this round's goodput instead would lose the random fraction again (at a 20/s cap
      // with 20% random throttling, tests went 20 -> 10.7 -> 7.7 calls/s, then read the throttles as random and
      // flooded the cap again); kTestCalls bounds the wait before the evidence decides.
      if (test_is_sample_ && tested < kTestCalls && above_n_ > 0 &&
          static_cast<double>(tested_throttled) / tested <
              static_cast<double>(above_throttled_) / above_n_ - kMargin) {
        tested_n_ = tested;
        tested_throttled_ = tested_throttled;
        break;
      }
      // A goodput from fewer successes than that (a first round that drained a bucket's burst in one latency)
      // says nothing about the rate, so it cannot show that slowing cost goodput.
      const bool comparable = prev_ok_ >= kRoundMinCalls;
      if (comparable && throttled && goodput_ratio < (1.0 + rate_ratio) / 2 && fraction >= prev_fraction_ - kMargin) {
        // Slowing cost goodput: the throttles do not depend on the rate. Their fraction is the floor from now
        // on, and the rate goes back to where it was.
        const double before = std::min(floor_, kMaxFloor);
        add_floor_sample_locked(throttles, n);
        // A held rate was the attempts that carried the goodput under the floor learnt then.
        rate_ = prev_rate_ * (1.0 - before) / (1.0 - std::min(floor_, kMaxFloor));
        ++epoch_;
        cv_.notify_all();
        mode_ = prev_rate_ > 0 ? Mode::holding : Mode::unpaced;
        open_slots_locked();  // random throttles: more deleters only carry more retries, at the same fraction
        flagged_rounds_ = clean_rounds_ = 0;
        probe_gain_ = kProbeGain;
      } else if (throttled || goodput_ratio < (1.0 + rate_ratio) / 2) {
        // Still above the cap, or fewer throttles but less goodput (the last estimate held a burst): step down
        // again to what got through this round.
        start_test(goodput);
      } else {
        mode_ = Mode::holding;
        flagged_rounds_ = clean_rounds_ = 0;
        probe_gain_ = kProbeGain;
      }
      break;
    }
    case Mode::holding:
      if (over_floor_locked(throttles, n)) {
        // Throttled above the floor at the hold rate: over the cap, whose admitted rate is what got through
        // over (1 - floor). Step down to that, by at most kHoldStep (one round's goodput is a noisy measure). A
        // test, which paces at the goodput itself (a step as deep as the floor), only when that would not slow
        // down, or after kHoldFlags such rounds in a row, when the floor itself may have risen.
        const double admitted = goodput / (1.0 - std::min(floor_, kMaxFloor));
        if (++flagged_rounds_ >= kHoldFlags || kHoldGain * admitted >= rate_) {
          flagged_rounds_ = 0;
          start_test(std::min(goodput, recent_goodput));
        } else {
          pace(std::max(kHoldGain * admitted, kHoldStep * rate_));
        }
      } else {
        flagged_rounds_ = 0;
        add_floor_sample_locked(throttles, n);  // at the floor: its throttles are the random ones
        if (++clean_rounds_ >= kProbeEvery) {
          mode_ = Mode::probing;
          pace(rate_ * probe_gain_);
        }
      }
      break;
    case Mode::probing:
      flagged_rounds_ = clean_rounds_ = 0;
      // Sent faster by probe_gain_, a round under the cap gets that much more through; at the cap it gets no more
      // (half the gain is the line, as BBR's startup ends when delivery stops growing). Only with little random
      // throttling, and a pool large enough to say so: at a floor of 20% a round's goodput varies by more than that,
      // and a test of 11 calls at 10/s shows at most one throttle a third of the time (stopped there, runs against
      // localaws held 10-11 calls/s for the rest of their 8 s, under a 20/s cap).
      const bool plateau = starting_ && floor_ < kNoFloor && floor_calls_ >= kPlateauTrustCalls &&
                           goodput < last_goodput * (1.0 + (probe_gain_ - 1.0) / 2);
      // Sent faster and got clearly less through: a cap cannot do that (over a cap, goodput stays at what the cap
      // admits, at least what the slower round got), random throttles can. Judged as over the cap, an unlucky
      // round (5 of 10 throttled at 20% random, against a floor learnt from a test of 11 calls) ended the startup
      // probing at half the cap, where hold-mode probes climb 10% every few seconds. Nor is it the plateau the line
      // above looks for, which is no more through, not clearly less. Probe again at this rate.
      const bool got_less = goodput < kProbeLuck * last_goodput;
      if (got_less && rate_ > prev_probe_rate_) {
        prev_probe_rate_ = rate_;
        break;
      }
      prev_probe_rate_ = 0.0;
      const bool over = over_floor_locked(throttles, n);
      // The first probe after a blind test (paced at a flood's single success) is a guess kBlindProbeGain above
      // another guess, judged on one round against a floor from a test of about ten calls: over the floor there is
      // as likely one unlucky round as the cap. Traced against localaws (20/s cap, burst 2, 20% random, fault seed
      // 9): the probe at 18/s drew 7 throttles in 16, went back to 10/s and climbed 10% every other second, 57% of
      // the cap used. One more round at the same rate decides; under a real cap it costs one round of throttles.
      if (over && blind_probe_) {
        blind_probe_ = false;
        break;
      }
      blind_probe_ = false;
      if (over || plateau) {
        // Over the cap: back a step, or to what the cap admitted in this round (goodput over (1 - floor)) when
        // that is more. A probe paced above the cap measures it better than any round under it.
        mode_ = Mode::holding;
        starting_ = false;
        const double admitted = goodput / (1.0 - std::min(floor_, kMaxFloor));
        pace(std::min(rate_, std::max(rate_ / probe_gain_, kHoldGain * admitted)));
        probe_gain_ = kProbeGain;
      } else {
        // Clean at the higher rate: keep it, and probe further next time (a held rate far under the cap, say
        // after a test in a starved round, comes back up in a few rounds); right after a test, at once.
        probe_gain_ = std::min(kMaxProbeGain, 1.0 + 2.0 * (probe_gain_ - 1.0));
        if (starting_) {
          pace(rate_ * probe_gain_);
        } else {
          mode_ = Mode::holding;
        }
      }
      break;
  }
}

// Full jitter: rand * min(base * 2^(attempt-1), cap). A long sleep only leaves a straggler batch at the end of
// the run.
milliseconds AdaptiveRateController::retry_delay(int attempt, Random& random) {
  constexpr milliseconds kBase{10};
  // A quarter second: longer waits only left a run's last batch waiting after every other had finished (simulated,
  // 50 runs each: 250 batches at 30% random throttling with 8 deleters, the slowest 2.8x the unthrottled run with a
  // 1 s cap, 2.3x with this one; a 20/s cap plus 20% random, median 95% -> 98% of cap x (1 - p)).
  constexpr milliseconds kCap{250};
  const double base = static_cast<double>(kBase.count()) * std::pow(2.0, attempt - 1);
  return milliseconds(
      static_cast<std::int64_t>(random.uniform01() * std::min(base, static_cast<double>(kCap.count()))));
}

void AdaptiveRateController::set_solo(bool on) {
  {
    std::lock_guard lock(mu_);
    solo_ = on;
  }
  cv_.notify_all();
}

std::optional<std::chrono::steady_clock::duration> AdaptiveRateController::solo_latency() const {
  std::lock_guard lock(mu_);
  return solo_latency_;
}

int AdaptiveRateController::limit() const { return max_; }

double AdaptiveRateController::rate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

AdaptiveRateController::Mode AdaptiveRateController::mode() const {
  std::lock_guard lock(mu_);
  return mode_;
}

double AdaptiveRateController::throttle_floor() const {
  std::lock_guard lock(mu_);
  return floor_;
}

// ---------------------------------------------------------------------------------------------------------------
// DeletePacing

milliseconds DeletePacing::expected_delete_time() const {
  std::vector<std::chrono::steady_clock::duration> v;
  {
    std::lock_guard l(mu_);
    v = latencies_;
  }
  // The executor records only single-attempt latencies (before freeing the slot): a solo call answered after a
  // retry records none, and the controller's own measure of it stands in, so no call freed by it starts on the
  // guess.
  if (v.empty()) {
    const auto solo = controller_.solo_latency();
    if (!solo) return kMinCallTime;
    v.push_back(*solo);
  }
  const auto k = static_cast<std::size_t>(kLatencyPercentile * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  const duration<double, std::milli> expected = v[k] * kCallStartHeadroom;
  return std::max(kMinCallTime, milliseconds(static_cast<std::int64_t>(std::ceil(expected.count()))));
}

void DeletePacing::record_delete_latency(std::chrono::steady_clock::duration d) {
  std::lock_guard l(mu_);
  if (latencies_.size() < kLatencySamples) {
    latencies_.push_back(d);
  } else {
    latencies_[next_] = d;
    next_ = (next_ + 1) % kLatencySamples;
  }
}

}  // namespace ecrs::ecr
