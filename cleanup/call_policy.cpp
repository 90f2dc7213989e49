#include "ecrs/cleanup/call_policy.hpp"

#include "ecrs/aws/retry.hpp"

namespace ecrs::cleanup {

Error CallPolicy::deadline_error(const std::string& context, const Error* last) const {
  Error e;
  e.code = kDeadlineReached;
  e.message = "the run's deadline came before the call could finish";
  if (last) e.message += " (last attempt: " + last->code + ": " + last->message + ")";
  e.context = context;
  e.retryable = false;
  return e;
}

bool CallPolicy::fits(std::chrono::milliseconds delay) const {
  if (!deadline_) return true;
  return clock_->now() + delay + kMinAttemptTime <= *deadline_;
}

Result<aws::CallOptions> CallPolicy::attempt_options(const std::string& context) const {
  aws::CallOptions options;
  options.context = context;
  options.max_attempts = 1;  // the retries are ours (see the header)
  if (!deadline_) return options;
  if (!fits(std::chrono::milliseconds{0})) return deadline_error(context);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - clock_->now());
  options.request.total_timeout = std::min(options.request.total_timeout, left);
  options.request.connect_timeout = std::min(options.request.connect_timeout, left);
  return options;
}

std::optional<std::chrono::milliseconds> CallPolicy::retry_delay(const Error& e, int attempts,
                                                                 int& throttles) const {
  if (aws::is_throttling(e)) {
    if (++throttles > kMaxThrottleRetries) return std::nullopt;
    auto ceiling = kFirstThrottleDelay;
    for (int i = 1; i < throttles && ceiling < kMaxThrottleDelay; ++i) ceiling *= 2;
    ceiling = std::min(ceiling, kMaxThrottleDelay);
    // Half jitter: callers throttled together spread out, and the delay still grows with every throttle.
    const double factor = 0.5 + 0.5 * random_->uniform01();
    return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(ceiling.count()) * factor));
  }
  if (!aws::is_retryable(e) || is_deadline_reached(e)) return std::nullopt;
  const int other_attempts = attempts - throttles;
  if (other_attempts >= max_attempts_) return std::nullopt;
  return aws::RetryStrategy::backoff(other_attempts, random_->uniform01());
}

bool is_deadline_reached(const Error& e) { return e.code == kDeadlineReached; }

}  // namespace ecrs::cleanup
