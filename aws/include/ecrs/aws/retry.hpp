#pragma once
// Standard retry mode as botocore defines it (botocore/retries/standard.py, quota.py; SDKREF
// feature-retry-behavior; lambda-runtime.md §7), plus the single error classification table that sets
// Error::retryable for the whole project.
#include <atomic>
#include <memory>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ecrs/aws/shared_config.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::aws {

inline constexpr int kDefaultMaxAttempts = 3;                // SDKREF: standard mode, 3 attempts in total
inline constexpr int kInitialRetryTokens = 500;              // botocore quota.py INITIAL_CAPACITY
inline constexpr int kRetryCost = 5;                         // botocore quota.py RETRY_COST
inline constexpr int kTimeoutRetryCost = 10;                 // botocore quota.py TIMEOUT_RETRY_COST
inline constexpr int kNoRetryIncrement = 1;                  // botocore quota.py NO_RETRY_INCREMENT
inline constexpr std::chrono::seconds kMaxBackoff{20};       // botocore standard.py MAX_BACKOFF
// The SDKs correct skew only when it is material (aws-sdk-java: 4 minutes); a smaller offset is noise.
inline constexpr std::chrono::seconds kClockSkewThreshold{4 * 60};

// Error classes. The transport and the protocol parsers produce Errors; classify() is the one place that
// decides `retryable`.
bool is_throttling(const Error& e);
bool is_transient(const Error& e);       // 500/502/503/504, RequestTimeout, connection errors, timeouts
bool is_timeout(const Error& e);         // costs kTimeoutRetryCost
bool is_clock_skew_error(const Error& e);  // RequestTimeTooSkewed, "Signature expired", ...
bool is_retryable(const Error& e);       // throttling or transient
Error classify(Error e);                 // sets e.retryable = is_retryable(e)

// AWS_MAX_ATTEMPTS (a positive integer) or the default; an unparsable value is an error, as in botocore.
Result<int> max_attempts_from_env(const Environment& env);

// SDKREF feature-retry-behavior. botocore 1.43 itself defaults to legacy; we default to standard, as the AWS
// CLI v2 and the other SDKs do.
enum class RetryMode { legacy, standard, adaptive };
inline constexpr int kLegacyMaxAttempts = 5;  // botocore data/_retry.json __default__ max_attempts
std::string_view to_string(RetryMode mode);

struct RetryConfig {
  RetryMode mode = RetryMode::standard;
  int max_attempts = kDefaultMaxAttempts;  // total, the first attempt included
};
// AWS_RETRY_MODE, else the profile's retry_mode; AWS_MAX_ATTEMPTS, else the profile's max_attempts, else the
// mode's default. An unknown mode or a max_attempts that is not a positive integer is an error naming its source.
Result<RetryConfig> resolve_retry_config(const ConfigView& config);

struct RetryDecision {
  bool retry = false;
  std::chrono::milliseconds delay{0};
  int cost = 0;            // quota taken for this retry (refunded when the call finally succeeds)
  std::string reason;      // why not: "not retryable", "max attempts", "retry quota exhausted"
};

// Shared by every call of a client (and across threads): the quota is a process-wide token bucket, as
// botocore keeps one per client.
class RetryStrategy {
 public:
  explicit RetryStrategy(int max_attempts = kDefaultMaxAttempts, int quota_capacity = kInitialRetryTokens);
  explicit RetryStrategy(RetryConfig config);
  ~RetryStrategy();

  int max_attempts() const { return max_attempts_; }
  RetryMode mode() const { return mode_; }

  // Adaptive mode's client-side rate limiter (botocore retries/adaptive.py): how long to wait before sending,
  // once a throttle has switched it on (zero otherwise, and always in the other modes).
  std::chrono::milliseconds before_send(std::chrono::steady_clock::time_point now);
  // Every response (or failure) of an attempt feeds the limiter's measured rate and CUBIC adjustments.
  void on_attempt_result(bool throttled, std::chrono::steady_clock::time_point now);

  // `attempt` is the 1-based number of the attempt that just failed with `e`; `max_attempts` is this call's
  // limit (CallOptions may lower or raise the strategy's default). Backoff is full jitter:
  // rand * min(2^(attempt-1), 20) s, with no delay before the first attempt.
  RetryDecision on_failure(const Error& e, int attempt, int max_attempts, Random& random);
  // After a successful attempt: refund the cost of the retry that led to it, or kNoRetryIncrement.
  void on_success(int last_retry_cost);

  int available_tokens() const;

  static std::chrono::milliseconds backoff(int attempt, double random01);
  // Legacy mode: rand * 2^(attempt-1) s, uncapped (botocore _retry.json "base": "rand", "growth_factor": 2).
  static std::chrono::milliseconds legacy_backoff(int attempt, double random01);

 private:
  class RateLimiter;
  RetryMode mode_ = RetryMode::standard;
  int max_attempts_;
  int capacity_;
  mutable std::mutex mu_;
  int tokens_;
  std::unique_ptr<RateLimiter> limiter_;
};

// Offset between the server's clock and ours, learnt from a response Date header after a skew error and
// applied to every later signature. Thread-safe.
class ClockSkew {
 public:
  std::chrono::milliseconds offset() const { return std::chrono::milliseconds(offset_ms_.load()); }
  // Returns true when the offset changed materially (worth retrying the request).
  bool update(std::chrono::system_clock::time_point server_time, std::chrono::system_clock::time_point local_now);

 private:
  std::atomic<long long> offset_ms_{0};
};

// RFC 7231 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), as in the HTTP Date header.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s);

}  // namespace ecrs::aws
