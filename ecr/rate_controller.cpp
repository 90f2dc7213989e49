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

AdaptiveRateController::Ticket AdaptiveRateController::acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ < (solo_ ? 1 : max_); });
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
  Ticket t(this, send);
  lock.unlock();
  // Slots are scheduled on an absolute timeline, so sleeping the floor in whole milliseconds keeps the average
  // rate even when the gap between calls is under a millisecond.
  if (send > now) {
    const auto wait = duration_cast<milliseconds>(send - now);
    if (wait.count() > 0) sleeper_->sleep_for(wait);
  }
  return t;
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
  if (solo_ && o == Outcome::success) {
    solo_ = false;
    solo_latency_ = now - t.sent;
  }
  // A call sent before the rate last changed tells about the old rate, not this round's: with many deleters
  // unpaced, the first test round would otherwise open with the flood's last throttles and pace at nothing.
  const bool counts = t.sent >= rate_changed_;
  if (counts) (o == Outcome::success ? round_ok_ : round_throttled_) += 1;
  if (o == Outcome::success) {
    successes_.push_back(now);
    // Bounded by the calls of one kRateWindow, whatever the run's length.
    while (now - successes_.front() > kRateWindow) successes_.pop_front();
  }
  const int n = round_ok_ + round_throttled_;
  const auto elapsed = now - round_start_;
  if (counts && ((n >= kRoundCalls && elapsed >= kRoundMin) || (n >= kRoundMinCalls && elapsed >= kRoundMax) ||
      // A flood of throttles is evidence enough without waiting for a whole round.
      (round_throttled_ >= kRoundCalls / 4 && elapsed >= kRoundMin / 2) ||
      (mode_ == Mode::unpaced && is_flood(round_throttled_, n)))) {
    end_round_locked(now);
  }
}

bool AdaptiveRateController::is_flood(int throttled, int n) const {
  return first_round_ && n >= kFloodCalls && throttled >= kFloodFraction * n && clearly_above(kFloodFraction, floor_, n);
}

bool AdaptiveRateController::clearly_above(double f, double floor, int n) const {
  const double p = std::clamp(floor, 0.02, 0.98);
  const double se = std::sqrt(p * (1 - p) / std::max(1, n));
  return f > floor + std::max(kMargin, 2 * se);
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
  first_round_ = false;
  round_ok_ = round_throttled_ = 0;
  round_start_ = now;
  const auto pace = [&](double r) {
    rate_ = std::max({kMinRate, r, kPeakShare * peak_goodput_});
    rate_changed_ = now;
    next_send_ = std::max(next_send_, now);
  };
  // Slow down to what got through, remembering where we came from in case slowing turns out to cost goodput.
  // What got through is counted over the last second, not this round alone: a round that drained a bucket's
  // initial burst would otherwise overstate the cap.
  const auto start_test = [&](double through) {
    if (mode_ != Mode::testing) prev_rate_ = rate_;
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
  switch (mode_) {
    case Mode::unpaced:
      if (!throttled) {
        flagged_rounds_ = 0;
        // Learn the floor from clean rounds too, so one unlucky round does not keep a stale floor.
        floor_ = 0.8 * floor_ + 0.2 * fraction;
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
      // A goodput from fewer successes than that (a first round that drained a bucket's burst in one latency)
      // says nothing about the rate, so it cannot show that slowing cost goodput.
      const bool comparable = prev_ok_ >= kRoundMinCalls;
      if (comparable && throttled && goodput_ratio < (1.0 + rate_ratio) / 2 && fraction >= prev_fraction_ - kMargin) {
        // Slowing cost goodput: the throttles do not depend on the rate. Their fraction is the floor from now
        // on, and the rate goes back to where it was.
        floor_ = fraction;
        rate_ = prev_rate_;
        rate_changed_ = now;
        mode_ = prev_rate_ > 0 ? Mode::holding : Mode::unpaced;
        clean_rounds_ = 0;
        probe_gain_ = kProbeGain;
      } else if (throttled || goodput_ratio < (1.0 + rate_ratio) / 2) {
        // Still above the cap, or fewer throttles but less goodput (the last estimate held a burst): step down
        // again to what got through this round.
        start_test(goodput);
      } else {
        mode_ = Mode::holding;
        clean_rounds_ = 0;
        probe_gain_ = kProbeGain;
      }
      break;
    }
    case Mode::holding:
      if (throttled) {
        start_test(std::min(goodput, recent_goodput));
      } else if (++clean_rounds_ >= kProbeEvery) {
        mode_ = Mode::probing;
        pace(rate_ * probe_gain_);
      }
      break;
    case Mode::probing:
      mode_ = Mode::holding;
      clean_rounds_ = 0;
      if (throttled) {
        pace(rate_ / probe_gain_);
        probe_gain_ = kProbeGain;
      } else {
        // Clean at the higher rate: keep it, and probe further next time (a held rate far under the cap, say
        // after a test in a starved round, comes back up in a few rounds).
        probe_gain_ = std::min(kMaxProbeGain, 1.0 + 2.0 * (probe_gain_ - 1.0));
      }
      break;
  }
}

// Full jitter: rand * min(base * 2^(attempt-1), cap). A long sleep only leaves a straggler batch at the end of
// the run.
milliseconds AdaptiveRateController::retry_delay(int attempt, Random& random) {
  constexpr milliseconds kBase{10};
  constexpr milliseconds kCap{1000};
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
