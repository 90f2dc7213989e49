// Issue #21, deadlines: the response PUT to a slow S3 receiver never runs past the deadline. The receiver is a
// transport that takes each attempt's whole timeout on a fake clock (deterministic, no wall time).
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/handler/response_sender.hpp"

namespace ecrs::safety_test {
namespace {

using namespace std::chrono_literals;

class SlowReceiver final : public aws::Transport {
 public:
  explicit SlowReceiver(FakeClock& clock) : clock_(&clock) {}
  Result<aws::HttpResponse> send(const aws::HttpRequest&, const aws::RequestOptions& options) override {
    budgets.push_back(options.total_timeout);
    started.push_back(clock_->now());
    clock_->advance(options.total_timeout);  // never answers within the budget
    return make_error("Timeout", "operation timed out", "PUT");
  }
  std::vector<std::chrono::milliseconds> budgets;
  std::vector<std::chrono::system_clock::time_point> started;

 private:
  FakeClock* clock_;
};

TEST(PutDeadline, ASlowReceiverNeverMakesThePutPassTheDeadline) {
  FakeClock clock{std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000))};
  SlowReceiver receiver(clock);
  FixedRandom random(0.5);
  CaptureSink sink;
  Logger log(sink, clock);
  handler::PutPolicy policy;  // 6 attempts of 10 s each
  const auto deadline = clock.now() + 14s;
  policy.give_up_at = deadline;
  auto r = handler::put_response(receiver, "https://bucket.s3.amazonaws.com/k?X-Amz-Signature=s", "{}", policy, clock,
                                 clock, random, log);
  ASSERT_FALSE(r);
  EXPECT_LE(clock.now(), deadline) << "ran " << (clock.now() - deadline).count() << " past the deadline";
  ASSERT_GE(receiver.budgets.size(), 2u) << "the second attempt gets what is left";
  for (std::size_t i = 0; i < receiver.budgets.size(); ++i) {
    EXPECT_GT(receiver.budgets[i].count(), 0);
    EXPECT_LE(receiver.started[i] + receiver.budgets[i], deadline) << "attempt " << i + 1;
  }
  EXPECT_LT(receiver.budgets[1], policy.attempt_timeout);
}

TEST(PutDeadline, NoAttemptStartsWhenTheDeadlineHasPassed) {
  FakeClock clock{std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000))};
  SlowReceiver receiver(clock);
  FixedRandom random(0.5);
  CaptureSink sink;
  Logger log(sink, clock);
  handler::PutPolicy policy;
  policy.give_up_at = clock.now() + 100ms;
  auto r = handler::put_response(receiver, "https://bucket.s3.amazonaws.com/k", "{}", policy, clock, clock, random, log);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ResponseNotDelivered");
  EXPECT_TRUE(receiver.budgets.empty());
}

}  // namespace
}  // namespace ecrs::safety_test
