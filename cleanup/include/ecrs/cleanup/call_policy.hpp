#pragma once
// How scheduled cleanup (the clean verb, the scheduled event, the sweep task) makes each AWS call: inside the
// run's deadline, and patient with throttling.
//
// Why not the client's standard retry alone: standard mode sleeps rand * 2^(attempt-1) s between attempts and
// gives up after 3 (botocore standard.py). In an account that throttles a fifth of all calls at random that loses
// one call in 125 (0.2^3) — and one lost in-use scan call fails the whole run — and adds about 0.1 s of sleep per
// call, 50x a 2 ms call. Here throttling is retried up to kMaxThrottleRetries times after a short delay that
// doubles per consecutive throttle of the same call (kFirstThrottleDelay .. kMaxThrottleDelay, half jitter):
// random throttling costs about one extra round trip per throttled call, and a real rate cap still sees each
// caller slow down exponentially until it fits. Other retryable errors (5xx, timeouts, refused connections) keep
// the standard mode's backoff and attempt count (AWS_MAX_ATTEMPTS, passed in as max_attempts).
//
// With a deadline, no attempt starts with less than kMinAttemptTime left, each attempt's timeout ends at the
// deadline, and no retry sleeps past it: the call fails with kDeadlineReached instead, which the runner turns
// into a cursor. So a run overruns its deadline by at most one connection set-up (the transport's connect
// timeout is clamped too) and the reply's own time.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <type_traits>

#include "ecrs/aws/client.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::cleanup {

// Error code of a call refused or abandoned because the run's deadline came; never retried.
inline constexpr const char* kDeadlineReached = "DeadlineReached";
inline constexpr int kMaxThrottleRetries = 10;
inline constexpr std::chrono::milliseconds kFirstThrottleDelay{10};
inline constexpr std::chrono::milliseconds kMaxThrottleDelay{2000};
// An attempt with less time than this cannot get an answer from a Region across the Internet (a TLS handshake
// alone is a few round trips): not worth starting.
inline constexpr std::chrono::milliseconds kMinAttemptTime{200};

class CallPolicy {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  CallPolicy(const Clock& clock, Sleeper& sleeper, Random& random, std::optional<TimePoint> deadline = std::nullopt,
             int max_attempts = aws::kDefaultMaxAttempts)
      : clock_(&clock), sleeper_(&sleeper), random_(&random), deadline_(deadline),
        max_attempts_(std::max(1, max_attempts)) {}

  // Runs `attempt(const aws::CallOptions&)` (which returns a Result) until it succeeds, fails for good, or the
  // deadline comes. `context` names the call and its subject for the errors.
  template <class F>
  std::invoke_result_t<F&, const aws::CallOptions&> call(const std::string& context, F&& attempt) const {
    using R = std::invoke_result_t<F&, const aws::CallOptions&>;
    int attempts = 0, throttles = 0;
    for (;;) {
      auto options = attempt_options(context);
      if (!options) return R(options.error());
      ++attempts;
      R result = attempt(*options);
      if (result) return result;
      auto delay = retry_delay(result.error(), attempts, throttles);
      if (!delay) return result;
      if (!fits(*delay)) return R(deadline_error(context, &result.error()));
      sleeper_->sleep_for(*delay);
    }
  }

  bool expired() const { return deadline_ && !fits(std::chrono::milliseconds{0}); }
  const std::optional<TimePoint>& deadline() const { return deadline_; }
  const Clock& clock() const { return *clock_; }
  // A kDeadlineReached Error for `context`, carrying the last failure's code and message when there was one.
  Error deadline_error(const std::string& context, const Error* last = nullptr) const;

 private:
  Result<aws::CallOptions> attempt_options(const std::string& context) const;
  // nullopt: give up (not retryable, or out of attempts).
  std::optional<std::chrono::milliseconds> retry_delay(const Error& e, int attempts, int& throttles) const;
  // Whether `delay` and then a useful attempt still fit before the deadline.
  bool fits(std::chrono::milliseconds delay) const;

  const Clock* clock_;
  Sleeper* sleeper_;
  Random* random_;
  std::optional<TimePoint> deadline_;
  int max_attempts_;
};

bool is_deadline_reached(const Error& e);

// `policy->call(...)`, or one call with the client's own retries when there is no policy (callers outside
// scheduled cleanup, e.g. lifecycle preview's in-use scan).
template <class F>
std::invoke_result_t<F&, const aws::CallOptions&> call_with(const CallPolicy* policy, const std::string& context,
                                                            F&& attempt) {
  if (policy) return policy->call(context, attempt);
  aws::CallOptions options;
  options.context = context;
  return attempt(options);
}

}  // namespace ecrs::cleanup
