#include "ecrs/aws/retry.hpp"

#include <gtest/gtest.h>

namespace ecrs::aws {
namespace {
using std::chrono::milliseconds;

Error err(std::string code, int status = 400) {
  Error e = make_error(std::move(code), "m");
  e.http_status = status;
  return classify(std::move(e));
}

TEST(RetryClassification, ThrottlingAndTransientAreRetryableValidationAndQuotasAreNot) {
  for (const char* code : {"ThrottlingException", "ThrottleException", "Throttling", "TooManyRequestsException",
                           "RequestLimitExceeded", "SlowDown", "ProvisionedThroughputExceededException",
                           "RequestThrottledException"}) {
    EXPECT_TRUE(is_throttling(err(code))) << code;
    EXPECT_TRUE(err(code).retryable) << code;
  }
  for (const char* code : {"RequestTimeout", "RequestTimeoutException", "ConnectionError", "Timeout", "TransportError"})
    EXPECT_TRUE(err(code, 0).retryable) << code;
  for (int status : {500, 502, 503, 504}) EXPECT_TRUE(err("ServerException", status).retryable) << status;
  EXPECT_TRUE(err("Whatever", 429).retryable);
  EXPECT_TRUE(is_throttling(err("Whatever", 429)));
  for (const char* code : {"LimitExceededException", "ValidationException", "InvalidParameterException",
                           "RepositoryNotFoundException", "AccessDeniedException", "TlsError", "InsecureEndpoint"}) {
    EXPECT_FALSE(err(code).retryable) << code;
    EXPECT_FALSE(is_throttling(err(code))) << code;
  }
  EXPECT_FALSE(err("NotImplemented", 501).retryable);
  EXPECT_TRUE(is_timeout(err("Timeout", 0)));
  EXPECT_TRUE(is_clock_skew_error(err("InvalidSignatureException")));
  EXPECT_TRUE(is_clock_skew_error(err("RequestTimeTooSkewed", 403)));
  EXPECT_FALSE(is_clock_skew_error(err("ThrottlingException")));
}

TEST(RetryPolicy, BackoffIsFullJitterOfTwoToTheAttemptCappedAtTwentySeconds) {
  EXPECT_EQ(RetryStrategy::backoff(1, 0.0), milliseconds(0));
  EXPECT_EQ(RetryStrategy::backoff(1, 0.5), milliseconds(500));
  EXPECT_EQ(RetryStrategy::backoff(2, 0.5), milliseconds(1000));
  EXPECT_EQ(RetryStrategy::backoff(3, 0.75), milliseconds(3000));
  EXPECT_EQ(RetryStrategy::backoff(5, 1.0), milliseconds(16000));
  EXPECT_EQ(RetryStrategy::backoff(6, 1.0), milliseconds(20000));
  EXPECT_EQ(RetryStrategy::backoff(30, 0.25), milliseconds(5000));
}

TEST(RetryPolicy, StopsAtMaxAttempts) {
  RetryStrategy strategy;
  FixedRandom random(0.5);
  Error throttled = err("ThrottlingException");
  auto d1 = strategy.on_failure(throttled, 1, strategy.max_attempts(), random);
  EXPECT_TRUE(d1.retry);
  EXPECT_EQ(d1.delay, milliseconds(500));
  EXPECT_EQ(d1.cost, kRetryCost);
  auto d2 = strategy.on_failure(throttled, 2, strategy.max_attempts(), random);
  EXPECT_TRUE(d2.retry);
  EXPECT_EQ(d2.delay, milliseconds(1000));
  auto d3 = strategy.on_failure(throttled, 3, strategy.max_attempts(), random);
  EXPECT_FALSE(d3.retry);
  EXPECT_EQ(d3.reason, "max attempts reached");
  EXPECT_FALSE(strategy.on_failure(throttled, 1, 1, random).retry) << "max_attempts=1 means no retry";
}

TEST(RetryPolicy, NeverRetriesNonRetryableCodes) {
  RetryStrategy strategy;
  FixedRandom random(0.5);
  auto d = strategy.on_failure(err("LimitExceededException"), 1, 3, random);
  EXPECT_FALSE(d.retry);
  EXPECT_EQ(d.reason, "not retryable");
  EXPECT_EQ(strategy.available_tokens(), kInitialRetryTokens);
}

TEST(RetryPolicy, QuotaDrainsByCostAndRefundsOnSuccess) {
  RetryStrategy strategy(3, 20);
  FixedRandom random(0.0);
  auto a = strategy.on_failure(err("Timeout", 0), 1, 3, random);
  ASSERT_TRUE(a.retry);
  EXPECT_EQ(a.cost, kTimeoutRetryCost);
  EXPECT_EQ(strategy.available_tokens(), 10);
  auto b = strategy.on_failure(err("ServerException", 500), 1, 3, random);
  ASSERT_TRUE(b.retry);
  EXPECT_EQ(strategy.available_tokens(), 5);
  auto c = strategy.on_failure(err("ServerException", 500), 1, 3, random);
  ASSERT_TRUE(c.retry);
  EXPECT_EQ(strategy.available_tokens(), 0);
  auto exhausted = strategy.on_failure(err("ServerException", 500), 1, 3, random);
  EXPECT_FALSE(exhausted.retry);
  EXPECT_EQ(exhausted.reason, "retry quota exhausted");
  strategy.on_success(c.cost);
  EXPECT_EQ(strategy.available_tokens(), 5);
  strategy.on_success(0);
  EXPECT_EQ(strategy.available_tokens(), 6);
  for (int i = 0; i < 100; ++i) strategy.on_success(kRetryCost);
  EXPECT_EQ(strategy.available_tokens(), 20) << "refunds never exceed the capacity";
}

TEST(RetryPolicy, DefaultQuotaAllowsOneHundredRetriesThenStops) {
  RetryStrategy strategy;
  FixedRandom random(0.1);
  int granted = 0;
  while (strategy.on_failure(err("ThrottlingException"), 1, 3, random).retry) ++granted;
  EXPECT_EQ(granted, kInitialRetryTokens / kRetryCost);
}

TEST(RetryPolicy, MaxAttemptsComesFromEnvironment) {
  EXPECT_EQ(max_attempts_from_env(MapEnvironment{}).value(), kDefaultMaxAttempts);
  EXPECT_EQ(max_attempts_from_env(MapEnvironment(std::map<std::string, std::string>{{"AWS_MAX_ATTEMPTS", "7"}})).value(), 7);
  for (const char* bad : {"0", "-1", "x", "3x"}) {
    auto r = max_attempts_from_env(MapEnvironment(std::map<std::string, std::string>{{"AWS_MAX_ATTEMPTS", bad}}));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "InvalidConfiguration");
  }
}

TEST(ClockSkewCorrection, ParsesHttpDateAndAdjustsOnlyForMaterialSkew) {
  auto t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  ASSERT_TRUE(t);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count(), 784111777);
  EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date(""));

  ClockSkew skew;
  EXPECT_FALSE(skew.update(*t + std::chrono::seconds(30), *t)) << "30 s is noise";
  EXPECT_EQ(skew.offset(), milliseconds(0));
  EXPECT_TRUE(skew.update(*t + std::chrono::hours(1), *t));
  EXPECT_EQ(skew.offset(), std::chrono::hours(1));
  EXPECT_FALSE(skew.update(*t + std::chrono::hours(1), *t)) << "already applied: retrying again would not help";
}

}  // namespace
}  // namespace ecrs::aws
