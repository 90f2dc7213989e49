#include "ecrs/aws/retry.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "ecrs/aws/http.hpp"

namespace ecrs::aws {
namespace {

// botocore/retries/standard.py ThrottledRetryableChecker._THROTTLED_ERROR_CODES (and special.py), with one
// deliberate omission: LimitExceededException. botocore lists it as a throttle, but ECR (and Lambda) use it
// for a quota such as the repository count (ecr-api.md §1): retrying cannot help. And one addition:
// ThrottleException, the name ECR's troubleshooting page gives its throttle ("HTTP 429: Too Many Requests or
// ThrottleException", AmazonECR/latest/userguide/common-errors.html); botocore's list lacks it.
constexpr std::array<std::string_view, 14> kThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottleException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

// botocore/retries/standard.py TransientRetryableChecker._TRANSIENT_ERROR_CODES plus our transport codes
// (botocore retries ConnectionError, ConnectTimeoutError, ReadTimeoutError the same way).
constexpr std::array<std::string_view, 6> kTransientCodes = {
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    "TransportError", "ConnectionError",         "Timeout",
};

// _TRANSIENT_STATUS_CODES
constexpr std::array<int, 4> kTransientStatuses = {500, 502, 503, 504};
constexpr int kTooManyRequestsStatus = 429;

// The codes the SDKs (aws-sdk-java ClockSkewAdjuster, aws-sdk-js) treat as possible clock skew. Whether the
// clock really is off is decided from the response's Date header, not from the code.
constexpr std::array<std::string_view, 6> kClockSkewCodes = {
    "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
    "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& table, std::string_view code) {
  return std::find(table.begin(), table.end(), code) != table.end();
}

}  // namespace

// botocore retries/adaptive.py ClientRateLimiter with throttling.py CubicCalculator, bucket.py TokenBucket and
// adaptive.py RateClocker, in seconds as doubles.
class RetryStrategy::RateLimiter {
 public:
  std::chrono::milliseconds before_send(std::chrono::steady_clock::time_point now) {
    std::lock_guard l(mu_);
    if (!enabled_) return std::chrono::milliseconds(0);
    refill(seconds(now));
    capacity_ -= 1.0;  // take the token now; a negative balance is the wait
    if (capacity_ >= 0.0) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(static_cast<long long>(std::ceil(-capacity_ / fill_rate_ * 1000.0)));
  }

  void on_result(bool throttled, std::chrono::steady_clock::time_point now) {
    std::lock_guard l(mu_);
    const double t = seconds(now);
    const double measured = record(t);
    double new_rate = 0;
    if (!throttled) {
      new_rate = kScale * std::pow(t - last_fail_ - k_, 3.0) + w_max_;
    } else {
      const double rate_to_use = enabled_ ? std::min(measured, max_rate_) : measured;
      w_max_ = rate_to_use;
      k_ = std::cbrt(w_max_ * (1.0 - kBeta) / kScale);
      last_fail_ = t;
      new_rate = rate_to_use * kBeta;
      enabled_ = true;
    }
    set_max_rate(std::min(new_rate, kMaxRateAdjustScale * measured), t);
  }

 private:
  static constexpr double kScale = 0.4;              // throttling.py _SCALE_CONSTANT
  static constexpr double kBeta = 0.7;               // throttling.py _BETA
  static constexpr double kMinRate = 0.5;            // bucket.py _MIN_RATE
  static constexpr double kMaxRateAdjustScale = 2.0; // adaptive.py _MAX_RATE_ADJUST_SCALE
  static constexpr double kSmoothing = 0.8;          // adaptive.py RateClocker._DEFAULT_SMOOTHING
  static constexpr double kTimeBucket = 0.5;         // adaptive.py RateClocker._TIME_BUCKET_RANGE

  static double seconds(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
  }
  double record(double t) {
    const double bucket = std::floor(t / kTimeBucket) * kTimeBucket;
    if (!started_) {
      started_ = true;
      last_bucket_ = std::floor(t);
      last_fail_ = t;
      last_refill_ = t;
    }
    count_ += 1;
    if (bucket > last_bucket_) {
      measured_ = count_ / (bucket - last_bucket_) * kSmoothing + measured_ * (1 - kSmoothing);
      count_ = 0;
      last_bucket_ = bucket;
    }
    return measured_;
  }
  void refill(double t) {
    if (last_refill_ > 0) capacity_ = std::min(max_capacity_, capacity_ + (t - last_refill_) * fill_rate_);
    last_refill_ = t;
  }
  void set_max_rate(double value, double t) {
    refill(t);
    max_rate_ = std::max(value, kMinRate);
    fill_rate_ = max_rate_;
    max_capacity_ = max_rate_ < 1.0 ? 1.0 : max_rate_;
    capacity_ = std::min(capacity_, max_capacity_);
  }

  std::mutex mu_;
  bool enabled_ = false;
  bool started_ = false;
  double max_rate_ = 1.0, fill_rate_ = 1.0, max_capacity_ = 1.0, capacity_ = 0.0, last_refill_ = 0.0;
  double w_max_ = 0.0, k_ = 0.0, last_fail_ = 0.0;
  double measured_ = 0.0, count_ = 0.0, last_bucket_ = 0.0;
};

std::chrono::milliseconds RetryStrategy::before_send(std::chrono::steady_clock::time_point now) {
  return limiter_ ? limiter_->before_send(now) : std::chrono::milliseconds(0);
}

void RetryStrategy::on_attempt_result(bool throttled, std::chrono::steady_clock::time_point now) {
  if (limiter_) limiter_->on_result(throttled, now);
}

bool is_throttling(const Error& e) {
  return contains(kThrottlingCodes, e.code) || e.http_status == kTooManyRequestsStatus;
}

bool is_timeout(const Error& e) { return e.code == "Timeout" || e.code == "RequestTimeout" || e.code == "RequestTimeoutException"; }

bool is_transient(const Error& e) {
  return contains(kTransientCodes, e.code) ||
         std::find(kTransientStatuses.begin(), kTransientStatuses.end(), e.http_status) != kTransientStatuses.end();
}

bool is_clock_skew_error(const Error& e) { return contains(kClockSkewCodes, e.code); }

bool is_retryable(const Error& e) { return is_throttling(e) || is_transient(e); }

Error classify(Error e) {
  e.retryable = is_retryable(e);
  return e;
}

Result<int> max_attempts_from_env(const Environment& env) {
  auto v = env.get("AWS_MAX_ATTEMPTS");
  if (!v || v->empty()) return kDefaultMaxAttempts;
  int n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || p != v->data() + v->size() || n < 1)
    return make_error("InvalidConfiguration", "AWS_MAX_ATTEMPTS must be a positive integer, got \"" + *v + "\"");
  return n;
}

std::string_view to_string(RetryMode mode) {
  switch (mode) {
    case RetryMode::legacy: return "legacy";
    case RetryMode::standard: return "standard";
    case RetryMode::adaptive: return "adaptive";
  }
  return "standard";
}

Result<RetryConfig> resolve_retry_config(const ConfigView& config) {
  RetryConfig out;
  const bool mode_from_env = config.env().get("AWS_RETRY_MODE").value_or("").size() > 0;
  if (auto mode = config.get("AWS_RETRY_MODE", "retry_mode")) {
    const std::string source = mode_from_env ? "AWS_RETRY_MODE" : "retry_mode of profile " + config.profile();
    if (*mode == "legacy") out.mode = RetryMode::legacy;
    else if (*mode == "standard") out.mode = RetryMode::standard;
    else if (*mode == "adaptive") out.mode = RetryMode::adaptive;
    else
      return make_error("InvalidConfiguration",
                        source + " must be legacy, standard or adaptive, got \"" + *mode + "\"");
  }
  out.max_attempts = out.mode == RetryMode::legacy ? kLegacyMaxAttempts : kDefaultMaxAttempts;
  const bool attempts_from_env = config.env().get("AWS_MAX_ATTEMPTS").value_or("").size() > 0;
  if (auto v = config.get("AWS_MAX_ATTEMPTS", "max_attempts")) {
    const std::string source = attempts_from_env ? "AWS_MAX_ATTEMPTS" : "max_attempts of profile " + config.profile();
    int n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || p != v->data() + v->size() || n < 1)
      return make_error("InvalidConfiguration", source + " must be a positive integer, got \"" + *v + "\"");
    out.max_attempts = n;
  }
  return out;
}

RetryStrategy::RetryStrategy(int max_attempts, int quota_capacity)
    : max_attempts_(std::max(1, max_attempts)), capacity_(quota_capacity), tokens_(quota_capacity) {}

RetryStrategy::RetryStrategy(RetryConfig config) : RetryStrategy(config.max_attempts) {
  mode_ = config.mode;
  if (mode_ == RetryMode::adaptive) limiter_ = std::make_unique<RateLimiter>();
}

RetryStrategy::~RetryStrategy() = default;

std::chrono::milliseconds RetryStrategy::legacy_backoff(int attempt, double random01) {
  return std::chrono::milliseconds(static_cast<long long>(std::floor(random01 * std::pow(2.0, attempt - 1) * 1000.0)));
}

std::chrono::milliseconds RetryStrategy::backoff(int attempt, double random01) {
  double base_s = std::min(std::pow(2.0, attempt - 1), static_cast<double>(kMaxBackoff.count()));
  return std::chrono::milliseconds(static_cast<long long>(std::floor(random01 * base_s * 1000.0)));
}

RetryDecision RetryStrategy::on_failure(const Error& e, int attempt, int max_attempts, Random& random) {
  RetryDecision d;
  if (!e.retryable) {
    d.reason = "not retryable";
    return d;
  }
  if (attempt >= max_attempts) {
    d.reason = "max attempts reached";
    return d;
  }
  if (mode_ == RetryMode::legacy) {
    // Legacy mode has no retry quota.
    d.retry = true;
    d.delay = legacy_backoff(attempt, random.uniform01());
    return d;
  }
  int cost = is_timeout(e) ? kTimeoutRetryCost : kRetryCost;
  {
    std::lock_guard l(mu_);
    if (tokens_ < cost) {
      d.reason = "retry quota exhausted";
      return d;
    }
    tokens_ -= cost;
  }
  d.retry = true;
  d.cost = cost;
  d.delay = backoff(attempt, random.uniform01());
  return d;
}

void RetryStrategy::on_success(int last_retry_cost) {
  if (mode_ == RetryMode::legacy) return;
  std::lock_guard l(mu_);
  tokens_ = std::min(capacity_, tokens_ + (last_retry_cost > 0 ? last_retry_cost : kNoRetryIncrement));
}

int RetryStrategy::available_tokens() const {
  std::lock_guard l(mu_);
  return tokens_;
}

bool ClockSkew::update(std::chrono::system_clock::time_point server_time,
                       std::chrono::system_clock::time_point local_now) {
  auto offset = std::chrono::duration_cast<std::chrono::milliseconds>(server_time - local_now);
  auto previous = std::chrono::milliseconds(offset_ms_.load());
  // Only a material skew is corrected; if the offset is already applied, retrying again would not help.
  if (std::chrono::abs(offset - previous) < kClockSkewThreshold) return false;
  offset_ms_.store(offset.count());
  return true;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) {
  using namespace std::chrono;
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  auto comma = s.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  s.remove_prefix(comma + 2);
  if (s.size() < 24) return std::nullopt;
  auto num = [](std::string_view t, int& out) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return ec == std::errc{} && p == t.data() + t.size();
  };
  int day = 0, yr = 0, hh = 0, mm = 0, ss = 0;
  if (!num(s.substr(0, 2), day) || s[2] != ' ' || s[6] != ' ' || !num(s.substr(7, 4), yr) || s[11] != ' ' ||
      !num(s.substr(12, 2), hh) || s[14] != ':' || !num(s.substr(15, 2), mm) || s[17] != ':' ||
      !num(s.substr(18, 2), ss) || s.substr(20, 4) != " GMT")
    return std::nullopt;
  auto it = std::find(kMonths.begin(), kMonths.end(), s.substr(3, 3));
  if (it == kMonths.end()) return std::nullopt;
  year_month_day ymd{year{yr}, month{static_cast<unsigned>(it - kMonths.begin() + 1)}, std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  return sys_days{ymd} + hours{hh} + minutes{mm} + seconds{ss};
}

}  // namespace ecrs::aws
