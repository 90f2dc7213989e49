// AwsSession: the AWS CLI's precedence for --profile and --endpoint-url, the insecure-http opt-in, retry
// settings reaching every client, and clients shared by identity with expired ones evicted.
#include "ecrs/handler/aws_session.hpp"

#include <gtest/gtest.h>

#include "fixture.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::handler {
namespace {
using namespace std::chrono_literals;
using test::TempHome;

sigv4::Credentials keys(const std::string& akid, std::optional<std::chrono::system_clock::time_point> expiration = {}) {
  sigv4::Credentials c;
  c.access_key_id = akid;
  c.secret_access_key = Secret("s");
  c.session_token = Secret("t");
  c.expiration = expiration;
  return c;
}

struct SessionFixture {
  explicit SessionFixture(SessionOptions options = {}) : logger(sink, clock, LogLevel::debug) {
    env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
    env.set("AWS_SECRET_ACCESS_KEY", "s");
    options_ = std::move(options);
  }
  AwsSession& session() {
    if (!session_) session_ = std::make_unique<AwsSession>(env, clock, clock, random, logger, options_);
    return *session_;
  }
  TempHome home;
  MapEnvironment env = test::isolated_env(home);
  FakeClock clock{std::chrono::system_clock::now()};
  FixedRandom random{0.5};
  CaptureSink sink;
  Logger logger;
  SessionOptions options_;
  std::unique_ptr<AwsSession> session_;
};

TEST(AwsSessionConfig, ProfileFlagBeatsAwsProfileAndEndpointFlagBeatsEverything) {
  SessionFixture f(SessionOptions{std::nullopt, std::string("flagged"), std::nullopt, false});
  f.home.write(".aws/config",
               "[profile flagged]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:1111\n"
               "[profile fromenv]\nregion = ap-south-1\n");
  f.env.set("AWS_REGION", "");
  f.env.set("AWS_PROFILE", "fromenv");
  EXPECT_EQ(f.session().profile(), "flagged");
  EXPECT_EQ(f.session().region().value(), "eu-west-1");
  EXPECT_EQ(f.session().client(aws::kEcr).value()->endpoint().url, "http://127.0.0.1:1111");

  SessionFixture g(SessionOptions{std::nullopt, std::string("flagged"), std::string("http://127.0.0.1:2222"), false});
  g.home.write(".aws/config", "[profile flagged]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:1111\n");
  g.env.set("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:3333");
  EXPECT_EQ(g.session().client(aws::kEcr).value()->endpoint().url, "http://127.0.0.1:2222");
}

TEST(AwsSessionConfig, PlainHttpToAnotherHostNeedsTheOptInAndWarnsOnce) {
  SessionFixture refused;
  refused.env.set("AWS_ENDPOINT_URL", "http://localstack:4566");
  auto r = refused.session().client(aws::kEcr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "InsecureEndpoint");
  EXPECT_NE(r.error().message.find("ECRS_ALLOW_INSECURE_HTTP=1"), std::string::npos) << r.error().message;

  SessionFixture by_env;
  by_env.env.set("AWS_ENDPOINT_URL", "http://localstack:4566");
  by_env.env.set("ECRS_ALLOW_INSECURE_HTTP", "1");
  ASSERT_TRUE(by_env.session().client(aws::kEcr));
  ASSERT_TRUE(by_env.session().client(aws::kSts));
  int warnings = 0;
  for (const auto& line : by_env.sink.lines()) warnings += line.find("plain http") != std::string::npos ? 1 : 0;
  EXPECT_EQ(warnings, 1);

  SessionFixture by_flag(SessionOptions{std::nullopt, std::nullopt, std::string("http://10.0.0.5:4566"), true});
  ASSERT_TRUE(by_flag.session().client(aws::kEcr));
}

TEST(AwsSessionRetries, RefusedConnectionFailsWithinTheConfiguredAttempts) {
  for (const auto& [setting, expected] : std::vector<std::pair<std::string, int>>{{"", 3}, {"2", 2}}) {
    SessionFixture f;
    f.env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:" + std::to_string(test::unused_local_port()));
    if (!setting.empty()) f.env.set("AWS_MAX_ATTEMPTS", setting);
    EXPECT_EQ(f.session().max_attempts().value(), expected);
    auto* client = f.session().client(aws::kEcr).value();
    EXPECT_EQ(client->max_attempts(), expected);
    aws::CallStats stats;
    aws::CallOptions options;
    options.stats = &stats;
    auto r = client->json_call("AmazonEC2ContainerRegistry_V20150921", "DescribeRepositories", Json::Value(), options);
    ASSERT_FALSE(r);
    EXPECT_EQ(stats.attempts, expected);
    EXPECT_LE(stats.backoff, std::chrono::milliseconds((1 << (expected - 1)) * 1000)) << "full-jitter bound, seconds";
  }
}

TEST(AwsSessionClients, SharedByIdentityAndExpiredOnesReleaseTheirCredentials) {
  SessionFixture f;
  f.env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:1");
  auto a = std::make_shared<aws::StaticCredentialsProvider>(keys("ASIAONE", f.clock.now() + 1h));
  auto same = std::make_shared<aws::StaticCredentialsProvider>(keys("ASIAONE", f.clock.now() + 1h));
  auto other = std::make_shared<aws::StaticCredentialsProvider>(keys("ASIATWO", f.clock.now() + 3h));
  auto* first = f.session().client(aws::kEcr, "us-east-1", a).value();
  EXPECT_EQ(f.session().client(aws::kEcr, "us-east-1", same).value(), first) << "same access key, same client";
  EXPECT_NE(f.session().client(aws::kEcr, "us-east-1", other).value(), first);
  std::weak_ptr<aws::CredentialsProvider> watch_a = a, watch_other = other;
  a.reset();
  same.reset();
  other.reset();
  EXPECT_FALSE(watch_a.expired()) << "the session keeps a live client's credentials";
  f.clock.advance(1h + kEvictAfterExpiry + 1min);
  ASSERT_TRUE(f.session().client(aws::kSts, "us-east-1"));  // any call evicts
  EXPECT_TRUE(watch_a.expired()) << "expired credentials are released";
  EXPECT_FALSE(watch_other.expired()) << "still valid";
}

}  // namespace
}  // namespace ecrs::handler
