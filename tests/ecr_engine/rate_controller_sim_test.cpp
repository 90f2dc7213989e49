// The rate controller driven by C simulated deleters on a simulated clock, as the executor drives it: acquire a
// slot (its send time is the pacing schedule), the server decides at the send time, the reply comes one latency
// later, a throttled call is retried after AdaptiveRateController::retry_delay. Events run in time order on one
// thread, so every count below is the same on every machine: throttles at a token-bucket cap before pacing
// starts and over a whole run, the share of the cap held, and the cost of random (rate-independent) throttling.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <queue>
#include <random>
#include <vector>

#include "ecrs/ecr/executor.hpp"

namespace ecrs::ecr {
namespace {

using Micros = std::chrono::microseconds;
using namespace std::chrono_literals;

class SimClock final : public Clock, public Sleeper {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point{} + std::chrono::duration_cast<std::chrono::system_clock::duration>(t_);
  }
  std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::time_point{} + t_;
  }
  // The pacing wait is the ticket's send time, which the simulation schedules; nothing to do here.
  void sleep_for(std::chrono::milliseconds) override {}
  void set(Micros t) { t_ = std::max(t_, t); }
  Micros at() const { return t_; }

 private:
  Micros t_{0};
};

Micros since_start(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<Micros>(t - std::chrono::steady_clock::time_point{});
}

struct SimResult {
  int ok = 0;
  int throttled = 0;
  int throttled_before_pacing = 0;  // throttles replied before the controller first left unpaced mode
  Micros elapsed{0};
  Micros paced_at{-1};
};

// `server(t)`: true when a call sent at simulated time t succeeds. Runs on `c` from the clock's present time (a
// caller may run several, as scheduled cleanup calls delete_images once per re-check window); elapsed and paced_at
// count from there.
SimResult simulate_on(SimClock& clock, AdaptiveRateController& c, int deleters, Micros latency, int batches,
                      const std::function<bool(Micros)>& server, std::uint64_t seed = 1) {
  const Micros start = clock.at();
  class SeededRandom final : public Random {
   public:
    explicit SeededRandom(std::uint64_t s) : rng_(s) {}
    double uniform01() override { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

   private:
    std::mt19937_64 rng_;
  } random(seed);
  enum class Kind { ready, send, reply };
  struct Event {
    Micros at;
    long order;
    int deleter;
    Kind kind;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : order > o.order; }
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  long order = 0;
  std::vector<AdaptiveRateController::Ticket> tickets(static_cast<std::size_t>(deleters));
  std::vector<int> attempt(static_cast<std::size_t>(deleters), 0);
  std::vector<bool> outcome(static_cast<std::size_t>(deleters), false);
  int started = 0;
  std::deque<int> waiting;  // deleters blocked in acquire(): no slot free
  SimResult r;
  const auto try_start = [&](int d, Micros at) {
    auto ticket = c.try_acquire();
    if (!ticket) return false;
    tickets[static_cast<std::size_t>(d)] = std::move(*ticket);
    events.push({std::max(at, since_start(tickets[static_cast<std::size_t>(d)].sent)), order++, d, Kind::send});
    return true;
  };
  for (int d = 0; d < deleters && started < batches; ++d, ++started) events.push({start, order++, d, Kind::ready});
  while (!events.empty()) {
    const Event e = events.top();
    events.pop();
    clock.set(e.at);
    const auto i = static_cast<std::size_t>(e.deleter);
    switch (e.kind) {
      case Kind::ready:
        if (!try_start(e.deleter, e.at)) waiting.push_back(e.deleter);
        break;
      case Kind::send:
        outcome[i] = server(e.at);
        events.push({e.at + latency, order++, e.deleter, Kind::reply});
        break;
      case Kind::reply:
        if (outcome[i]) {
          c.on_success(tickets[i]);
          ++r.ok;
          attempt[i] = 0;
          r.elapsed = e.at - start;
          if (started < batches) {
            ++started;
            events.push({e.at, order++, e.deleter, Kind::ready});
          }
        } else {
          c.on_throttle(tickets[i]);
          ++r.throttled;
          if (r.paced_at < Micros{0}) ++r.throttled_before_pacing;
          const auto wait = AdaptiveRateController::retry_delay(++attempt[i], random);
          events.push({e.at + std::chrono::duration_cast<Micros>(wait), order++, e.deleter, Kind::ready});
        }
        if (r.paced_at < Micros{0} && c.mode() != AdaptiveRateController::Mode::unpaced) r.paced_at = e.at - start;
        // A reply frees a slot, and may change the rate and with it the number of slots.
        while (!waiting.empty() && try_start(waiting.front(), e.at)) waiting.pop_front();
        break;
    }
  }
  return r;
}

SimResult simulate(int deleters, Micros latency, int batches, const std::function<bool(Micros)>& server,
                   std::uint64_t seed = 1) {
  SimClock clock;
  AdaptiveRateController c(deleters, clock, clock);
  return simulate_on(clock, c, deleters, latency, batches, server, seed);
}

// A token bucket as localaws's --tps OP=N:B keeps it.
std::function<bool(Micros)> token_bucket(double rate, double burst) {
  struct State {
    double tokens;
    Micros last{0};
  };
  auto s = std::make_shared<State>(State{burst});
  return [s, rate, burst](Micros t) {
    s->tokens = std::min(burst, s->tokens + std::chrono::duration<double>(t - s->last).count() * rate);
    s->last = t;
    if (s->tokens < 1.0) return false;
    s->tokens -= 1.0;
    return true;
  };
}

std::function<bool(Micros)> random_throttles(double fraction, std::uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return [rng, fraction](Micros) { return !std::bernoulli_distribution(fraction)(*rng); };
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

void print(const char* what, const SimResult& r) {
  std::printf("[ sim ] %s: ok=%d throttled=%d before_pacing=%d paced_at=%.3fs elapsed=%.3fs\n", what, r.ok,
              r.throttled, r.throttled_before_pacing, static_cast<double>(r.paced_at.count()) / 1e6,
              static_cast<double>(r.elapsed.count()) / 1e6);
}

// The case: BatchDeleteImage capped at 20 calls/s with a burst of 2, 6,000 images (60 batches), replies
// in 5 ms (localaws) or 20 ms, eight or sixteen deleters.
struct CapCase {
  int deleters;
  Micros latency;
};
void PrintTo(const CapCase& c, std::ostream* os) { *os << c.deleters << " deleters, " << c.latency.count() << " us"; }

class AtARateCap : public ::testing::TestWithParam<CapCase> {};

TEST_P(AtARateCap, PacesAfterFewThrottlesAndHoldsNinetyPercentOfTheCap) {
  constexpr double kCap = 20.0, kBurst = 2.0;
  constexpr int kBatches = 60;
  const auto [deleters, latency] = GetParam();
  const SimResult r = simulate(deleters, latency, kBatches, token_bucket(kCap, kBurst));
  print("20 TPS cap", r);
  ASSERT_EQ(r.ok, kBatches);
  ASSERT_GE(r.paced_at, Micros{0}) << "never paced";
  EXPECT_LE(r.throttled_before_pacing, 16);
  EXPECT_LE(r.throttled, 40);
  // Held: the calls past the burst, over the time they took, against the cap.
  const double held = (r.ok - kBurst) / std::chrono::duration<double>(r.elapsed).count();
  EXPECT_GE(held, 0.9 * kCap) << held << " calls/s";
}

INSTANTIATE_TEST_SUITE_P(Deleters, AtARateCap,
                         ::testing::Values(CapCase{8, 5ms}, CapCase{8, 20ms}, CapCase{16, 5ms}, CapCase{16, 20ms}),
                         [](const auto& info) {
                           return std::to_string(info.param.deleters) + "Deleters" +
                                  std::to_string(info.param.latency.count() / 1000) + "Ms";
                         });

// Scheduled cleanup deletes in re-check windows, one delete_images call each, with a re-check between them. With
// one controller for the run (DeletePacing kept across calls) the second window starts at the rate the first found;
// with one per call it starts unpaced and pays the first window's throttles again.
TEST(AtARateCapAcrossCalls, ACapFoundInOneCallHoldsInTheNext) {
  constexpr double kCap = 20.0, kBurst = 2.0;
  constexpr int kDeleters = 8, kBatches = 30;
  constexpr Micros kReCheck = 300ms;
  const auto two_windows = [&](bool shared) {
    SimClock clock;
    auto bucket = token_bucket(kCap, kBurst);
    AdaptiveRateController run(kDeleters, clock, clock);
    const SimResult first = simulate_on(clock, run, kDeleters, 20ms, kBatches, bucket);
    clock.set(clock.at() + kReCheck);
    AdaptiveRateController own(kDeleters, clock, clock);
    const SimResult second = simulate_on(clock, shared ? run : own, kDeleters, 20ms, kBatches, bucket);
    print(shared ? "window 1, one controller" : "window 1, one per call", first);
    print(shared ? "window 2, one controller" : "window 2, one per call", second);
    return std::pair{first, second};
  };
  const auto [first, second] = two_windows(true);
  const auto [own_first, own_second] = two_windows(false);
  ASSERT_EQ(second.ok, kBatches);
  ASSERT_GE(first.throttled, 4) << "the first window found no cap: the test proves nothing";
  EXPECT_LE(3 * second.throttled, first.throttled);
  EXPECT_GE(own_second.throttled, own_first.throttled / 2) << "a controller per call no longer re-learns: reword";
  const double held = second.ok / std::chrono::duration<double>(second.elapsed).count();
  EXPECT_GE(held, 0.9 * kCap) << held << " calls/s";
}

// 30% of calls throttled whatever the rate: the run costs little more than its retries and a test round. The
// issue's bound is 3x the unthrottled run (a retry per throttle alone is 1/0.7 = 1.43x); over seeds 1-20 the slowest
// run was 2.2x (8 deleters) and 2.8x (16), the median 1.8x (before the changes noted at the cap-plus-random test
// below: 3.0x and 3.2x, median 1.8-1.9x).
TEST(AtRandomThrottling, ThirtyPercentCostsLittleMoreThanItsRetries) {
  for (const int deleters : {8, 16}) {
    const SimResult clean = simulate(deleters, 20ms, 250, [](Micros) { return true; });
    std::vector<double> ratios;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      const SimResult noisy = simulate(deleters, 20ms, 250, random_throttles(0.3, seed), seed);
      ASSERT_EQ(noisy.ok, 250);
      EXPECT_GT(noisy.throttled, 0);
      ratios.push_back(static_cast<double>(noisy.elapsed.count()) / static_cast<double>(clean.elapsed.count()));
    }
    const double mid = median(ratios);
    const double worst = *std::max_element(ratios.begin(), ratios.end());
    std::printf("[ sim ] 30%% random, %d deleters: %.2fx the unthrottled run at the median, %.2fx at worst\n",
                deleters, mid, worst);
    EXPECT_LE(worst, 3.0) << deleters << " deleters";
    EXPECT_LE(mid, 2.0) << deleters << " deleters";
  }
}

// Both at once: a 20 calls/s cap (burst 2) and 20% of calls throttled at random on top. Random throttles do not
// go away when sending slower, so a controller that reads every throttle as the cap steps its rate down round after
// round (before the peak-goodput floor, 60 batches took 64-75 s at 0.8 calls/s).
//
// What is achievable: a random throttle here comes after the bucket spent its token (token_bucket runs first, as
// localaws's FaultInjector::decide checks --tps before --throttle-rate, and as an AWS front end throttles at
// admission), so the best goodput is cap x (1 - p) = 16 calls/s, reached by sending at the cap or above it.
//
// Achieved (simulated, 8 and 16 deleters, seeds 1-100 each), share of cap x (1 - p), worst / median:
//   15 batches 0.43 / 1.09-1.12, 60 batches 0.71 / 0.99, 120 batches 0.81 / 0.98
// Before three changes (a test that read fewer throttles than the rounds before it stepped down to what got
// through, round after round, instead of going on at its rate; rounds ended at their eighth throttle; a probe that
// got no more through than the test ended the startup probing even when the floor came from a test of 11 calls,
// which held runs at 10-11 calls/s): 60 batches 0.57 / 0.99, 120 batches 0.65 / 0.98. What remains is the start:
// the first estimate comes from a flood that lasted one round trip, where one success in 100 ms reads as 10/s at a
// 20/s cap, and rounds of 10-20 calls tell a 20% random fraction from a cap's only slowly, so a run can spend a
// second or two of its 4 s under the cap. 15 batches (one second) end inside that learning: they are held only to
// not collapsing.
TEST(AtARateCapWithRandomThrottling, HoldsMostOfWhatTheCapLeavesAndNeverCollapses) {
  constexpr double kCap = 20.0, kBurst = 2.0, kRandom = 0.2;
  constexpr double kAchievable = kCap * (1 - kRandom);
  struct Goal {
    int batches;
    double worst;
    double median;
  };
  for (const int deleters : {8, 16}) {
    for (const Goal goal : {Goal{15, 0.4, 0.9}, Goal{60, 0.7, 0.9}, Goal{120, 0.8, 0.9}}) {
      std::vector<double> shares;
      for (std::uint64_t seed = 1; seed <= 100; ++seed) {
        auto bucket = token_bucket(kCap, kBurst);
        auto noise = random_throttles(kRandom, seed);
        const SimResult r =
            simulate(deleters, 20ms, goal.batches, [&](Micros t) { return bucket(t) && noise(t); }, seed);
        ASSERT_EQ(r.ok, goal.batches);
        shares.push_back(r.ok / std::chrono::duration<double>(r.elapsed).count() / kAchievable);
      }
      const double mid = median(shares);
      const double worst = *std::min_element(shares.begin(), shares.end());
      std::printf("[ sim ] 20 TPS cap + 20%% random, %d deleters, %d batches: worst %.2f, median %.2f\n", deleters,
                  goal.batches, worst, mid);
      EXPECT_GE(worst, goal.worst) << deleters << " deleters, " << goal.batches << " batches";
      EXPECT_GE(mid, goal.median) << deleters << " deleters, " << goal.batches << " batches";
    }
  }
}

// Sixteen deleters into a cap with a burst of 2 got one or two successes among 16 replies, and the test paced at
// what got through started at half the cap or less (1 run in 4 against localaws). Half the slots are used until the
// first kFloodCalls replies show no flood, then all of them.
TEST(AdaptiveRateController, UsesHalfItsSlotsUntilItsFirstRepliesShowNoFlood) {
  SimClock clock;
  AdaptiveRateController c(16, clock, clock);
  std::vector<AdaptiveRateController::Ticket> out;
  while (auto t = c.try_acquire()) out.push_back(std::move(*t));
  ASSERT_EQ(out.size(), static_cast<std::size_t>(AdaptiveRateController::kStartSlots));
  clock.set(20ms);
  for (int i = 0; i < AdaptiveRateController::kFloodCalls - 1; ++i) {
    c.on_success(out.back());
    out.pop_back();
  }
  // One reply short of the evidence: still half.
  while (auto t = c.try_acquire()) out.push_back(std::move(*t));
  EXPECT_EQ(out.size(), static_cast<std::size_t>(AdaptiveRateController::kStartSlots));
  c.on_success(out.front());
  out.erase(out.begin());
  while (auto t = c.try_acquire()) out.push_back(std::move(*t));
  EXPECT_EQ(out.size(), 16u);
  EXPECT_EQ(c.mode(), AdaptiveRateController::Mode::unpaced);
}

// The traced scenarios below, replayed on a simulated clock from the run's start.
struct Script {
  SimClock clock;
  AdaptiveRateController c{16, clock, clock};

  // The run's first slots sent at once and answered 27 ms later, the first `ok` of them successes.
  void flood(int ok) {
    std::vector<AdaptiveRateController::Ticket> out;
    while (auto t = c.try_acquire()) out.push_back(std::move(*t));
    clock.set(27ms);
    for (std::size_t i = 0; i < out.size(); ++i) {
      i < static_cast<std::size_t>(ok) ? c.on_success(out[i]) : c.on_throttle(out[i]);
    }
  }

  // One call at a time, each answered 20 ms after its paced send time, for one round: at these rates a round is
  // kRoundMax long, and it began at the last reply.
  void round(const std::function<bool(int)>& ok) {
    const Micros start = clock.at();
    for (int i = 0; clock.at() - start < AdaptiveRateController::kRoundMax; ++i) {
      auto t = c.try_acquire();
      ASSERT_TRUE(t.has_value());
      clock.set(since_start(t->sent) + 20ms);
      ok(i) ? c.on_success(*t) : c.on_throttle(*t);
    }
  }

  // A flood with `flood_ok` successes, then the test round it starts, 1 throttle in 11, which finds a cap: the
  // controller is left at its first probe. Call it under ASSERT_NO_FATAL_FAILURE.
  void to_first_probe(int flood_ok) {
    flood(flood_ok);
    ASSERT_EQ(c.mode(), AdaptiveRateController::Mode::testing);
    round([](int i) { return i != 3; });
    ASSERT_EQ(c.mode(), AdaptiveRateController::Mode::probing);
  }
};

// Traced against localaws (20/s cap, burst 2, 20% random): a test drew 1 throttle in 11 (a floor of 0); the first
// probe, 10% faster, drew 5 in 10 by chance and was taken as over the cap, which held the run at half the cap for
// 8 s. Sent faster, it got half as much through: a cap cannot do that, so the probe is repeated at its rate instead
// of ending the climb. (The flood here gets two successes: after one, the first probe is kBlindProbeGain faster.)
TEST(AdaptiveRateController, AProbeThatGotLessThroughBySendingFasterIsRepeatedNotTakenForTheCap) {
  using Mode = AdaptiveRateController::Mode;
  Script s;
  ASSERT_NO_FATAL_FAILURE(s.to_first_probe(2));
  const double probe = s.c.rate();
  s.round([](int i) { return i % 2 == 0; });  // the unlucky probe: every other call throttled
  EXPECT_EQ(s.c.mode(), Mode::probing);
  EXPECT_GE(s.c.rate(), probe);
  s.round([](int i) { return i != 5; });  // the same rate again, at the floor: the climb goes on
  EXPECT_GT(s.c.rate(), probe);
}

// One success among a flood's replies reads as 10 calls/s (one in the window's 100-ms floor) whatever the cap, and
// a climb from there in 10%, 20%, 40% steps of 1-s rounds took most of a 6,000-image run against localaws. After a
// test paced at such a guess confirms a cap, the first probe is kBlindProbeGain faster; after a flood with two
// successes, the usual kProbeGain.
TEST(AdaptiveRateController, AfterAFloodWithOneSuccessTheFirstProbeIsALargeStep) {
  for (const int flood_ok : {1, 2}) {
    Script s;
    s.flood(flood_ok);
    ASSERT_EQ(s.c.mode(), AdaptiveRateController::Mode::testing);
    const double test_rate = s.c.rate();
    s.round([](int) { return true; });  // the test round, clean: a cap, and a floor of 0
    ASSERT_EQ(s.c.mode(), AdaptiveRateController::Mode::probing) << flood_ok;
    const double gain = flood_ok == 1 ? AdaptiveRateController::kBlindProbeGain : AdaptiveRateController::kProbeGain;
    EXPECT_NEAR(s.c.rate(), test_rate * gain, 0.01) << flood_ok;
  }
}

// Traced against localaws (20/s cap, burst 2, 20% random): a flood with one success, a test at 10/s with 1 throttle
// in 11 (a floor of 0 from 11 calls), then the first probe, at 18/s and under the cap, drew 5 throttles in 16. Judged
// clearly above a floor of 0, it sent the run back to 10/s, where hold-mode probes climb 10% every 2 s: 53% of cap x
// (1 - p) over 6,000 images. Eleven calls cannot say the floor is 0; the climb goes on.
TEST(AdaptiveRateController, AProbeIsNotJudgedOverTheCapAgainstAFloorFromAFewCalls) {
  using Mode = AdaptiveRateController::Mode;
  Script s;
  ASSERT_NO_FATAL_FAILURE(s.to_first_probe(1));
  const double probe = s.c.rate();
  ASSERT_GT(probe, 15.0);
  s.round([](int i) { return i % 3 != 1; });  // the probe: a third throttled, more through than the test
  EXPECT_EQ(s.c.mode(), Mode::probing);
  EXPECT_GE(s.c.rate(), probe);
}

// Traced against localaws (20/s cap, burst 2, 20% random, fault seed 9): a flood with one success, a test at 10/s
// with 1 throttle in 11, then the first probe, at 18/s and under the cap, drew 7 throttles in 16: clearly over even
// the adjusted floor, and as much through as the test. Taken for the cap, it held the run at 10/s (57% of the cap
// used over 6,000 images). A blind probe over the floor is repeated once at its rate: a round at the floor goes on
// climbing, a second round over it is the cap.
TEST(AdaptiveRateController, ABlindProbeOverTheFloorIsRepeatedOnceBeforeItIsTakenForTheCap) {
  using Mode = AdaptiveRateController::Mode;
  const auto unlucky = [](int i) { return i % 9 != 0 && i % 9 != 2 && i % 9 != 4 && i % 9 != 6; };  // 4 in 9
  for (const bool capped : {false, true}) {
    Script s;
    ASSERT_NO_FATAL_FAILURE(s.to_first_probe(1));
    const double probe = s.c.rate();
    ASSERT_GT(probe, 15.0);
    s.round(unlucky);
    EXPECT_EQ(s.c.mode(), Mode::probing) << capped;
    EXPECT_DOUBLE_EQ(s.c.rate(), probe) << capped;
    if (capped) {
      s.round(unlucky);  // over the floor again: the cap, and back to what it admitted
      EXPECT_EQ(s.c.mode(), Mode::holding);
      EXPECT_LT(s.c.rate(), probe);
    } else {
      s.round([](int i) { return i % 6 != 5; });  // a sixth throttled: at the floor, the climb goes on
      EXPECT_EQ(s.c.mode(), Mode::probing);
      EXPECT_GT(s.c.rate(), probe);
    }
  }
}

// A probe after a test paced at a measured goodput (two successes in the flood) is judged at once, as before.
TEST(AdaptiveRateController, ASightedProbeOverTheFloorIsTakenForTheCapAtOnce) {
  Script s;
  ASSERT_NO_FATAL_FAILURE(s.to_first_probe(2));
  const double probe = s.c.rate();
  s.round([](int i) { return i % 3 != 2; });  // a third throttled, not clearly less through than the test
  EXPECT_EQ(s.c.mode(), AdaptiveRateController::Mode::holding);
  EXPECT_LT(s.c.rate(), probe);
}

}  // namespace
}  // namespace ecrs::ecr
