// Endpoint URLs, retry settings and the shared config's sections, as botocore's config store resolves them.
#include <gtest/gtest.h>

#include "ecrs/aws/endpoints.hpp"
#include "ecrs/aws/retry.hpp"
#include "ecrs/aws/shared_config.hpp"
#include "fixture.hpp"

namespace ecrs::aws {
namespace {
using test::TempHome;

constexpr const char* kConfig =
    "[profile dev]\n"
    "endpoint_url = http://profile-global:1\n"
    "services = local\n"
    "retry_mode = adaptive\n"
    "max_attempts = 7\n"
    "[profile plain]\n"
    "endpoint_url = http://plain:1\n"
    "[profile broken]\n"
    "services = nope\n"
    "[profile ignoring]\n"
    "endpoint_url = http://plain:1\n"
    "ignore_configured_endpoint_urls = true\n"
    "[services local]\n"
    "ecr =\n"
    "  endpoint_url = http://services-ecr:2\n"
    "sts =\n"
    "  endpoint_url = http://services-sts:3\n";

struct EndpointRow {
  const char* name;
  std::optional<std::string> profile;
  std::map<std::string, std::string> env;
  std::optional<std::string> explicit_url;
  const ServiceInfo* service;
  std::string expected;  // URL, or "error:<text>"
};

TEST(ConfiguredEndpoints, FollowBotocoresOrder) {
  TempHome home;
  home.write(".aws/config", kConfig);
  const std::vector<EndpointRow> rows = {
      {"rule table", std::nullopt, {}, {}, &kEcr, "https://api.ecr.us-east-1.amazonaws.com"},
      {"services section", "dev", {}, {}, &kEcr, "http://services-ecr:2"},
      {"services section, another service", "dev", {}, {}, &kSts, "http://services-sts:3"},
      {"profile endpoint_url for a service the section lacks", "dev", {}, {}, &kLambda, "http://profile-global:1"},
      {"AWS_ENDPOINT_URL beats the services section", "dev", {{"AWS_ENDPOINT_URL", "http://env-global:4"}}, {}, &kEcr,
       "http://env-global:4"},
      {"per-service variable beats AWS_ENDPOINT_URL", "dev",
       {{"AWS_ENDPOINT_URL", "http://env-global:4"}, {"AWS_ENDPOINT_URL_ECR", "http://env-ecr:5"}}, {}, &kEcr,
       "http://env-ecr:5"},
      {"--endpoint-url beats everything", "dev", {{"AWS_ENDPOINT_URL_ECR", "http://env-ecr:5"}},
       std::string("http://flag:6"), &kEcr, "http://flag:6"},
      {"ignore variable", "dev", {{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"}, {"AWS_ENDPOINT_URL", "http://x:1"}},
       {}, &kEcr, "https://api.ecr.us-east-1.amazonaws.com"},
      {"ignore in the profile", "ignoring", {}, {}, &kSts, "https://sts.us-east-1.amazonaws.com"},
      {"ignore keeps the flag", "ignoring", {}, std::string("http://flag:6"), &kSts, "http://flag:6"},
      {"App Runner variable name", std::nullopt, {{"AWS_ENDPOINT_URL_APPRUNNER", "http://ar:7"}}, {}, &kAppRunner,
       "http://ar:7"},
      {"SSO portal host", std::nullopt, {}, {}, &kSso, "https://portal.sso.us-east-1.amazonaws.com"},
      {"missing services section", "broken", {}, {}, &kEcr, "error:\"nope\", which does not exist"},
  };
  for (const auto& row : rows) {
    MapEnvironment env = test::isolated_env(home);
    for (const auto& [k, v] : row.env) env.set(k, v);
    auto view = ConfigView::load(env, row.profile);
    ASSERT_TRUE(view) << row.name;
    auto ep = resolve_endpoint(*row.service, "us-east-1", *view, row.explicit_url);
    if (row.expected.starts_with("error:")) {
      ASSERT_FALSE(ep) << row.name;
      EXPECT_NE(ep.error().message.find(row.expected.substr(6)), std::string::npos) << row.name << ": " << ep.error().message;
    } else {
      ASSERT_TRUE(ep) << row.name << ": " << ep.error().describe();
      EXPECT_EQ(ep->url, row.expected) << row.name;
    }
  }
}

TEST(RetryConfiguration, EnvironmentBeatsProfileAndModesHaveBotocoresDefaults) {
  TempHome home;
  home.write(".aws/config", kConfig);
  auto config_for = [&](std::optional<std::string> profile, std::map<std::string, std::string> vars) {
    MapEnvironment env = test::isolated_env(home);
    for (const auto& [k, v] : vars) env.set(k, v);
    auto view = ConfigView::load(env, profile).value();
    return resolve_retry_config(view);
  };
  auto plain = config_for(std::nullopt, {});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->mode, RetryMode::standard);
  EXPECT_EQ(plain->max_attempts, 3);
  auto dev = config_for("dev", {});
  EXPECT_EQ(dev->mode, RetryMode::adaptive);
  EXPECT_EQ(dev->max_attempts, 7);
  auto env_wins = config_for("dev", {{"AWS_RETRY_MODE", "legacy"}, {"AWS_MAX_ATTEMPTS", "2"}});
  EXPECT_EQ(env_wins->mode, RetryMode::legacy);
  EXPECT_EQ(env_wins->max_attempts, 2);
  auto legacy_default = config_for(std::nullopt, {{"AWS_RETRY_MODE", "legacy"}});
  EXPECT_EQ(legacy_default->max_attempts, kLegacyMaxAttempts);
  auto bad_mode = config_for(std::nullopt, {{"AWS_RETRY_MODE", "fast"}});
  ASSERT_FALSE(bad_mode);
  EXPECT_NE(bad_mode.error().message.find("AWS_RETRY_MODE"), std::string::npos);
  auto bad_attempts = config_for(std::nullopt, {{"AWS_MAX_ATTEMPTS", "0"}});
  ASSERT_FALSE(bad_attempts);
}

TEST(RetryModes, LegacyHasNoQuotaAndAdaptiveSlowsDownAfterThrottling) {
  Error throttled = classify(make_error("ThrottlingException", "slow down"));
  RetryStrategy legacy(RetryConfig{RetryMode::legacy, 5});
  FixedRandom half(0.5);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(legacy.on_failure(throttled, 1, 5, half).retry) << "no quota in legacy";
  EXPECT_EQ(legacy.on_failure(throttled, 4, 5, half).delay, std::chrono::milliseconds(4000)) << "0.5 * 2^3 s";

  RetryStrategy standard(RetryConfig{RetryMode::standard, 3});
  int granted = 0;
  for (int i = 0; i < 200; ++i) granted += standard.on_failure(throttled, 1, 3, half).retry ? 1 : 0;
  EXPECT_EQ(granted, kInitialRetryTokens / kRetryCost) << "standard drains its quota";

  RetryStrategy adaptive(RetryConfig{RetryMode::adaptive, 3});
  auto t = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(adaptive.before_send(t).count(), 0) << "off until the first throttle";
  // A burst of successful sends then a throttle: the limiter switches on and spaces the next sends.
  for (int i = 0; i < 20; ++i) adaptive.on_attempt_result(false, t += std::chrono::milliseconds(50));
  adaptive.on_attempt_result(true, t += std::chrono::milliseconds(50));
  std::chrono::milliseconds waited{0};
  for (int i = 0; i < 10; ++i) waited += adaptive.before_send(t);
  EXPECT_GT(waited.count(), 0) << "sending ten at once after a throttle must wait";
  EXPECT_EQ(standard.before_send(t).count(), 0);
}

TEST(SharedConfigFile, KeepsSsoSessionsAndServicesSectionsApart) {
  ConfigFile f = parse_config_file(std::string(kConfig) + "[sso-session corp]\nsso_region = eu-west-1\n[bare]\nx = 1\n");
  EXPECT_EQ(f.profiles.count("dev"), 1u);
  EXPECT_EQ(f.profiles.count("bare"), 0u) << "bare names are ignored in the config file";
  EXPECT_EQ(f.sso_sessions["corp"]["sso_region"], "eu-west-1");
  EXPECT_EQ(f.services["local"]["ecr.endpoint_url"], "http://services-ecr:2");
  EXPECT_EQ(f.profiles["dev"].count("endpoint_url"), 1u);
}

}  // namespace
}  // namespace ecrs::aws
