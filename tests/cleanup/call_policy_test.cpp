// CallPolicy (how scheduled cleanup makes each AWS call) as tables over a scripted attempt, on a fake clock that
// is also the sleeper, so delays are exact and take no wall time; and the assumed-role provider against
// localaws's STS, refreshing before Expiration.
#include <gtest/gtest.h>

#include <deque>

#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/cleanup/call_policy.hpp"
#include "ecrs/cleanup/sts_client.hpp"
#include "ecrs/localaws/localaws.hpp"

namespace ecrs::cleanup {
namespace {

using namespace std::chrono_literals;

Error failure(const std::string& code, int status = 400) {
  Error e;
  e.code = code;
  e.message = "scripted";
  e.http_status = status;
  return e;
}

// Answers each attempt with the next scripted error, then succeeds; records each attempt's options and the clock.
struct Script {
  std::deque<Error> errors;
  std::vector<aws::CallOptions> seen;
  std::vector<std::chrono::system_clock::time_point> at;
  FakeClock* clock = nullptr;
  Result<int> operator()(const aws::CallOptions& o) {
    seen.push_back(o);
    at.push_back(clock->now());
    if (errors.empty()) return 42;
    Error e = errors.front();
    errors.pop_front();
    return e;
  }
};

std::vector<std::chrono::milliseconds> gaps(const Script& s) {
  std::vector<std::chrono::milliseconds> out;
  for (std::size_t i = 1; i < s.at.size(); ++i) {
    out.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(s.at[i] - s.at[i - 1]));
  }
  return out;
}

TEST(CallPolicy, ThrottlingIsRetriedAfterShortDoublingDelaysAndEachAttemptIsOneClientAttempt) {
  FakeClock clock;
  FixedRandom half(0.5);  // half jitter at 0.5: three quarters of each ceiling
  CallPolicy policy(clock, clock, half);
  Script s{{failure("ThrottlingException"), failure("ThrottlingException"), failure("ThrottlingException")}, {}, {},
           &clock};
  auto r = policy.call("BatchDeleteImage repository=web", s);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(gaps(s), (std::vector<std::chrono::milliseconds>{7ms, 15ms, 30ms}));
  for (const auto& o : s.seen) {
    EXPECT_EQ(o.max_attempts, 1) << "the client's own retries would stack under ours";
    EXPECT_EQ(o.context, "BatchDeleteImage repository=web");
  }
}

TEST(CallPolicy, ThrottlingGivesUpAfterTheLimitAndDelaysStopGrowingAtTheCeiling) {
  FakeClock clock;
  FixedRandom half(0.5);
  CallPolicy policy(clock, clock, half);
  Script s{std::deque<Error>(kMaxThrottleRetries + 5, failure("ThrottlingException")), {}, {}, &clock};
  auto r = policy.call("DescribeImages", s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ThrottlingException");
  EXPECT_EQ(s.seen.size(), static_cast<std::size_t>(kMaxThrottleRetries + 1));
  const auto g = gaps(s);
  ASSERT_FALSE(g.empty());
  EXPECT_EQ(g.back(), std::chrono::duration_cast<std::chrono::milliseconds>(kMaxThrottleDelay * 3 / 4));
}

TEST(CallPolicy, OtherErrorsKeepTheStandardAttemptsAndAccessDeniedIsNotRetried) {
  FakeClock clock;
  FixedRandom half(0.5);
  CallPolicy policy(clock, clock, half, std::nullopt, /*max_attempts=*/3);
  Script transient{{failure("ServiceUnavailable", 503), failure("InternalError", 500), failure("InternalError", 500),
                    failure("InternalError", 500)},
                   {}, {}, &clock};
  auto r = policy.call("ListTasks", transient);
  ASSERT_FALSE(r);
  EXPECT_EQ(transient.seen.size(), 3u);
  // Standard mode's full jitter: rand * 2^(attempt-1) s.
  EXPECT_EQ(gaps(transient), (std::vector<std::chrono::milliseconds>{500ms, 1000ms}));

  // Throttles do not use up the other errors' attempts.
  Script mixed{{failure("ThrottlingException"), failure("InternalError", 500), failure("ThrottlingException"),
                failure("InternalError", 500)},
               {}, {}, &clock};
  EXPECT_TRUE(policy.call("ListTasks", mixed));
  EXPECT_EQ(mixed.seen.size(), 5u);

  Script denied{{failure("AccessDeniedException")}, {}, {}, &clock};
  auto d = policy.call("DescribeImages", denied);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, "AccessDeniedException");
  EXPECT_EQ(denied.seen.size(), 1u);
}

TEST(CallPolicy, NoAttemptStartsOrSleepsPastTheDeadlineAndEachEndsByIt) {
  FakeClock clock(std::chrono::system_clock::now());
  FixedRandom half(0.5);
  const auto deadline = clock.now() + 3s;
  CallPolicy policy(clock, clock, half, deadline);
  Script ok{{}, {}, {}, &clock};
  ASSERT_TRUE(policy.call("DescribeImages", ok));
  EXPECT_EQ(ok.seen.at(0).request.total_timeout, 3000ms) << "the attempt's timeout ends at the deadline";
  EXPECT_LE(ok.seen.at(0).request.connect_timeout, 3000ms);

  // A 500 whose standard backoff (rand * 2 s on the second retry) would end past the deadline: DeadlineReached,
  // naming the last failure, after the sleeps that fit.
  clock.advance(2200ms);
  Script slow{{failure("InternalError", 500), failure("InternalError", 500)}, {}, {}, &clock};
  auto r = policy.call("DescribeImages", slow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, kDeadlineReached);
  EXPECT_NE(r.error().message.find("InternalError"), std::string::npos) << r.error().message;
  EXPECT_LE(clock.now(), deadline);
  EXPECT_EQ(slow.seen.size(), 2u);

  clock.advance(1s);
  EXPECT_TRUE(policy.expired());
  Script late{{}, {}, {}, &clock};
  auto none = policy.call("DescribeImages", late);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, kDeadlineReached);
  EXPECT_TRUE(late.seen.empty()) << "no call starts after the deadline";
}

// The one AssumeRole path of clean and the sweep: credentials from STS, the same ones until
// aws::kAdvisoryRefresh before their Expiration (localaws: one hour), then fresh ones.
TEST(AssumeRoleProvider, RenewsTheCredentialsBeforeTheyExpire) {
  localaws::LocalAws server;
  server.start();
  SystemClock signing_clock;
  RealSleeper sleeper;
  FixedRandom random(0.5);
  aws::RetryStrategy retry;
  MapEnvironment env;
  aws::CurlTransport transport(env);
  sigv4::Credentials creds;
  creds.access_key_id = "test";
  creds.secret_access_key = Secret("test");
  aws::StaticCredentialsProvider own(creds);
  aws::AwsClient sts(aws::AwsContext{transport, own, signing_clock, sleeper, random, retry, nullptr},
                     aws::Endpoint{server.endpoint(), "us-east-1", "sts"});
  FakeClock clock(std::chrono::system_clock::now());
  auto provider = assume_role_provider(sts, "arn:aws:iam::210987654321:role/member", "ecr-sweeper-test", clock);
  auto first = provider->credentials();
  ASSERT_TRUE(first) << first.error().describe();
  ASSERT_TRUE(first->expiration) << "Expiration is read from the AssumeRole reply";
  auto again = provider->credentials();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->access_key_id, first->access_key_id) << "cached while well before Expiration";

  clock.advance(std::chrono::duration_cast<std::chrono::milliseconds>(*first->expiration - clock.now() -
                                                                        aws::kAdvisoryRefresh + 1s));
  auto renewed = provider->credentials();
  ASSERT_TRUE(renewed) << renewed.error().describe();
  EXPECT_NE(renewed->access_key_id, first->access_key_id) << "a run longer than the session gets new credentials";
  server.stop();
}

}  // namespace
}  // namespace ecrs::cleanup
