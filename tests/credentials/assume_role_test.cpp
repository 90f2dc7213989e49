#include "ecrs/aws/assume_role.hpp"

#include <gtest/gtest.h>

#include "fixture.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::aws {
namespace {
using namespace std::chrono_literals;
using test::Effects;
using test::TempHome;

sigv4::Credentials local_keys() {
  sigv4::Credentials c;
  c.access_key_id = test::kLocalKey;
  c.secret_access_key = Secret(test::kLocalSecret);
  return c;
}

class AssumeRoleOnLocalAws : public ::testing::Test {
 protected:
  test::RunningLocalAws local_;
  localaws::LocalAws& aws_ = local_.aws;
  TempHome home_;
  MapEnvironment env_ = test::isolated_env(home_, aws_.endpoint());
  // The fake clock starts 10 min behind localaws's: advancing it into the refresh window of 15-minute
  // credentials keeps every signature within STS's 15 min of allowed skew.
  Effects fx_{env_, std::chrono::system_clock::now() - 10min};
  RetryStrategy retry_{1};
  std::shared_ptr<CredentialsProvider> source_ = std::make_shared<StaticCredentialsProvider>(local_keys());
  AwsClient sts_{AwsContext{fx_.transport, *source_, fx_.clock, fx_.clock, fx_.random, retry_, nullptr},
                 resolve_endpoint(kSts, "us-east-1", env_).value()};
};

TEST_F(AssumeRoleOnLocalAws, SignedCallReturnsTheRoleAccountsKeysAndRefreshesInTheAdvisoryWindow) {
  CaptureSink sink;
  Logger logger(sink, fx_.clock, LogLevel::debug);
  AssumeRoleProvider role(sts_, AssumeRoleParams{"arn:aws:iam::210987654321:role/cleaner", "sweep-1", 900, {}, {}, "--assume-role"},
                          fx_.clock, &logger);
  auto first = role.credentials();
  ASSERT_TRUE(first) << first.error().describe();
  EXPECT_TRUE(first->access_key_id.starts_with("ASIA")) << first->access_key_id;
  ASSERT_TRUE(first->expiration);
  EXPECT_NEAR(
      std::chrono::duration_cast<std::chrono::seconds>(*first->expiration - std::chrono::system_clock::now()).count(), 900, 5)
      << "DurationSeconds reached STS";
  fx_.clock.advance(9min);  // 16 min left on the fake clock
  EXPECT_EQ(role.credentials()->access_key_id, first->access_key_id) << "cached while far from expiry";
  fx_.clock.advance(2min);  // 14 min left: inside botocore's advisory window
  auto second = role.credentials();
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_NE(second->access_key_id, first->access_key_id) << "refreshed before expiry; log: "
                                                         << (sink.lines().empty() ? "" : sink.lines().back());
  for (const auto& line : sink.lines()) EXPECT_EQ(line.find(first->secret_access_key.reveal()), std::string::npos);
  EXPECT_EQ(role.identity(), "assume-role:arn:aws:iam::210987654321:role/cleaner|session=sweep-1");
}

TEST_F(AssumeRoleOnLocalAws, BadSignatureIsRefusedByLocalAwsStsLikeAws) {
  sigv4::Credentials wrong = local_keys();
  wrong.secret_access_key = Secret("not-the-secret");
  StaticCredentialsProvider wrong_source(wrong);
  AwsClient sts{AwsContext{fx_.transport, wrong_source, fx_.clock, fx_.clock, fx_.random, retry_, nullptr},
                resolve_endpoint(kSts, "us-east-1", env_).value()};
  AssumeRoleProvider role(sts, AssumeRoleParams{"arn:aws:iam::210987654321:role/cleaner", "s1", {}, {}, {}, ""}, fx_.clock);
  auto r = role.credentials();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "SignatureDoesNotMatch") << r.error().describe();
  EXPECT_EQ(r.error().http_status, 403);
}

TEST_F(AssumeRoleOnLocalAws, OutOfRangeDurationIsStsValidationError) {
  AssumeRoleProvider role(sts_, AssumeRoleParams{"arn:aws:iam::210987654321:role/cleaner", "s1", 60, {}, {}, ""}, fx_.clock);
  auto r = role.credentials();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ValidationError");
  EXPECT_NE(r.error().message.find("greater than or equal to 900"), std::string::npos) << r.error().message;
}

TEST(AssumeRole, SendsSessionNameDurationAndExternalIdAndRefusesMfa) {
  test::ScriptedHttpServer server;
  server.set_handler([](const test::RecordedRequest&) {
    return test::reply(200, "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAX</AccessKeyId>"
                            "<SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>"
                            "<Expiration>2031-01-01T01:00:00+01:00</Expiration></Credentials></AssumeRoleResult>"
                            "</AssumeRoleResponse>");
  });
  TempHome home;
  auto env = test::isolated_env(home, server.url());
  Effects fx(env, *parse_iso8601("2030-06-01T00:00:00Z"));
  RetryStrategy retry(1);
  StaticCredentialsProvider source(local_keys());
  AwsClient sts{AwsContext{fx.transport, source, fx.clock, fx.clock, fx.random, retry, nullptr},
                resolve_endpoint(kSts, "us-east-1", env).value()};
  AssumeRoleProvider role(sts, AssumeRoleParams{"arn:aws:iam::1:role/r", "", 3600, "ext-42", {}, ""}, fx.clock);
  auto c = role.credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(*c->expiration, *parse_iso8601("2031-01-01T00:00:00Z"));
  const std::string body = server.requests().at(0).body;
  EXPECT_NE(body.find("Action=AssumeRole&Version=2011-06-15"), std::string::npos) << body;
  EXPECT_NE(body.find("RoleSessionName=ecr-sweeper-"), std::string::npos) << "botocore-style default name: " << body;
  EXPECT_NE(body.find("DurationSeconds=3600"), std::string::npos) << body;
  EXPECT_NE(body.find("ExternalId=ext-42"), std::string::npos) << body;

  AssumeRoleProvider mfa(sts, AssumeRoleParams{"arn:aws:iam::1:role/r", "", {}, {}, "arn:aws:iam::1:mfa/me", "profile p"},
                         fx.clock);
  auto refused = mfa.credentials();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("MFA"), std::string::npos) << refused.error().message;
  EXPECT_EQ(server.request_count(), 1u) << "no STS call for an MFA role";
}

}  // namespace
}  // namespace ecrs::aws
