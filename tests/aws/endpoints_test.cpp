#include "ecrs/aws/endpoints.hpp"

#include <gtest/gtest.h>

#include "credentials/temp_home.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ecrs/aws/shared_config.hpp"

namespace ecrs::aws {
namespace {

struct EndpointRow {
  const ServiceInfo* service;
  const char* region;
  const char* url;
  const char* signing_region;
  const char* signing_name;
};

TEST(Endpoints, RuleTableGivesEachPartitionItsSuffix) {
  const EndpointRow rows[] = {
      {&kEcr, "us-east-1", "https://api.ecr.us-east-1.amazonaws.com", "us-east-1", "ecr"},
      {&kEcr, "eu-west-3", "https://api.ecr.eu-west-3.amazonaws.com", "eu-west-3", "ecr"},
      {&kEcr, "cn-north-1", "https://api.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", "ecr"},
      {&kEcr, "us-gov-west-1", "https://api.ecr.us-gov-west-1.amazonaws.com", "us-gov-west-1", "ecr"},
      {&kLambda, "cn-northwest-1", "https://lambda.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1", "lambda"},
      {&kSts, "ap-southeast-2", "https://sts.ap-southeast-2.amazonaws.com", "ap-southeast-2", "sts"},
      {&kEcs, "us-gov-east-1", "https://ecs.us-gov-east-1.amazonaws.com", "us-gov-east-1", "ecs"},
      {&kAppRunner, "eu-west-1", "https://apprunner.eu-west-1.amazonaws.com", "eu-west-1", "apprunner"},
      {&kS3, "us-west-2", "https://s3.us-west-2.amazonaws.com", "us-west-2", "s3"},
      {&kEc2, "us-isob-east-1", "https://ec2.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1", "ec2"},
      {&kOrganizations, "eu-central-1", "https://organizations.us-east-1.amazonaws.com", "us-east-1", "organizations"},
      {&kOrganizations, "cn-north-1", "https://organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1",
       "organizations"},
      {&kOrganizations, "us-gov-east-1", "https://organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1",
       "organizations"},
  };
  MapEnvironment env;
  for (const auto& row : rows) {
    auto ep = resolve_endpoint(*row.service, row.region, env);
    ASSERT_TRUE(ep) << ep.error().describe();
    EXPECT_EQ(ep->url, row.url) << row.service->service_id << " " << row.region;
    EXPECT_EQ(ep->signing_region, row.signing_region) << row.service->service_id << " " << row.region;
    EXPECT_EQ(ep->signing_name, row.signing_name);
  }
}

TEST(Endpoints, ExplicitBeatsServiceEnvBeatsGlobalEnv) {
  MapEnvironment env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:1000"}, {"AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:2000/"}});
  auto ep = resolve_endpoint(kEcr, "us-east-1", env, std::string("http://127.0.0.1:3000"));
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->url, "http://127.0.0.1:3000");
  EXPECT_EQ(ep->signing_region, "us-east-1");
  ep = resolve_endpoint(kEcr, "us-east-1", env);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->url, "http://127.0.0.1:2000") << "per-service variable wins, trailing slash dropped";
  ep = resolve_endpoint(kSts, "us-east-1", env);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->url, "http://127.0.0.1:1000") << "other services fall back to AWS_ENDPOINT_URL";
}

TEST(Endpoints, IgnoreConfiguredEndpointUrlsDisablesEnvOverridesButNotExplicit) {
  MapEnvironment env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:1000"},
                      {"AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:2000"},
                      {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"}});
  auto ep = resolve_endpoint(kEcr, "us-east-1", env);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->url, "https://api.ecr.us-east-1.amazonaws.com");
  ep = resolve_endpoint(kEcr, "us-east-1", env, std::string("http://127.0.0.1:3000"));
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->url, "http://127.0.0.1:3000");
}

TEST(Endpoints, ServiceEnvVarNameIsUpperCasedServiceIdWithUnderscores) {
  EXPECT_EQ(endpoint_env_var(kEcr), "AWS_ENDPOINT_URL_ECR");
  EXPECT_EQ(endpoint_env_var(kAppRunner), "AWS_ENDPOINT_URL_APPRUNNER");
  ServiceInfo ecr_public{"ECR PUBLIC", "api.ecr-public", "ecr-public"};
  EXPECT_EQ(endpoint_env_var(ecr_public), "AWS_ENDPOINT_URL_ECR_PUBLIC");
}

TEST(Endpoints, RejectsRegionsThatWouldInjectIntoHostnames) {
  MapEnvironment env;
  for (const char* bad : {"", "US-EAST-1", "us-east-1.evil.com", "us-east-1/", "us east", "-us-east-1", "us--east-1",
                          "us-east-1@x", "us-east-1\n"}) {
    auto ep = resolve_endpoint(kEcr, bad, env);
    ASSERT_FALSE(ep) << bad;
    EXPECT_EQ(ep.error().code, "InvalidRegion");
  }
  MapEnvironment bad_env;
  bad_env.set("AWS_ENDPOINT_URL_ECR", "localhost:4566");
  auto bad_override = resolve_endpoint(kEcr, "us-east-1", bad_env);
  ASSERT_FALSE(bad_override);
  EXPECT_NE(bad_override.error().message.find("AWS_ENDPOINT_URL_ECR"), std::string::npos);
}

using TempDir = test::TempHome;

TEST(Region, ResolvesInSdkOrder) {
  TempDir home;
  home.write(".aws/config", "[default]\nregion = eu-north-1\n[profile dev]\nregion=ap-south-1\n");
  MapEnvironment env({{"HOME", home.path()}});
  EXPECT_EQ(resolve_region(std::nullopt, env).value(), "eu-north-1");
  env.set("AWS_PROFILE", "dev");
  EXPECT_EQ(resolve_region(std::nullopt, env).value(), "ap-south-1");
  env.set("AWS_DEFAULT_REGION", "us-west-1");
  EXPECT_EQ(resolve_region(std::nullopt, env).value(), "us-west-1");
  env.set("AWS_REGION", "us-west-2");
  EXPECT_EQ(resolve_region(std::nullopt, env).value(), "us-west-2");
  EXPECT_EQ(resolve_region(std::string("cn-north-1"), env).value(), "cn-north-1");
}

TEST(Region, MissingRegionNamesWhereItLooked) {
  TempDir home;
  auto r = resolve_region(std::nullopt, MapEnvironment(std::map<std::string, std::string>{{"HOME", home.path()}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "NoRegion");
  EXPECT_NE(r.error().message.find("AWS_REGION"), std::string::npos);
  auto bad = resolve_region(std::string("us-east-1.evil"), MapEnvironment{});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "InvalidRegion");
}

TEST(SharedConfig, ParsesProfilesCommentsAndNestedBlocks) {
  auto config = parse_profiles(
      "# comment\n[default]\nregion = us-east-1 ; inline\ns3 =\n  region = ignored\n"
      "[profile dev]\n  region=eu-west-1\ncredential_process = /bin/echo a#b\n[sso-session x]\nregion=nope\n"
      "[plain]\nregion=ignored-in-config\n",
      true);
  ASSERT_EQ(config.size(), 2u);
  EXPECT_EQ(config["default"]["region"], "us-east-1");
  EXPECT_EQ(config["dev"]["credential_process"], "/bin/echo a#b");
  auto creds = parse_profiles("[dev]\naws_access_key_id=AKID\n[profile odd]\nx=1\n", false);
  EXPECT_EQ(creds["dev"]["aws_access_key_id"], "AKID");
  EXPECT_EQ(creds.count("profile odd"), 1u) << "credentials file section names are taken literally";
}

}  // namespace
}  // namespace ecrs::aws
