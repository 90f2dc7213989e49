// boto3 in the pyenv python3 (botocore's own models and parsers) as an independent client of localaws's ECS,
// Lambda, App Runner, STS and EC2 replies: every operation scheduled cleanup uses, compared with the seeded world.
#include <gtest/gtest.h>
#include "../support/run_command.hpp"
#include <sys/wait.h>

#include <array>
#include <cstdio>

#include "clean_support.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::clean_test {
namespace {

using Run = ecrs::test_support::CommandRun;
const auto& run = ecrs::test_support::run_command;

std::string arn(const std::string& type, const std::string& rest) {
  return std::string("arn:aws:ecs:") + kRegion + ":" + kAccount + ":" + type + "/" + rest;
}

TEST(CleanPeers, Boto3ParsesEveryNewOperationAsTheWorldWasSeeded) {
  const auto probe = run("python3 -c 'import boto3'");
  ASSERT_EQ(probe.status, 0) << "python3 with boto3 is required (pyenv python3 in PATH): " << probe.output;
  localaws::LocalAws server;
  server.start();
  const Seeded s = seed(server);
  {
    std::lock_guard lock(server.worlds().mutex());
    server.worlds().enabled_regions = {"us-east-1", "us-west-2", "eu-west-1"};
  }
  const std::string role = "arn:aws:iam::210987654321:role/sweeper-read";
  const auto r = run("env -u AWS_SESSION_TOKEN -u AWS_PROFILE AWS_ENDPOINT_URL=" + server.endpoint() +
                     " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1"
                     " AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true"
                     " python3 " CLEAN_TEST_DIR "/boto3_clean_peer.py prod api " + role);
  server.stop();
  ASSERT_EQ(r.status, 0) << r.output;
  auto seen = parse_json(r.output);
  ASSERT_TRUE(seen) << r.output;
  const Json::Value& v = *seen;

  std::set<std::string> clusters;
  for (const auto& c : v["clusterArns"]) clusters.insert(c.asString());
  EXPECT_EQ(clusters, (std::set<std::string>{arn("cluster", "batch"), arn("cluster", "prod"), arn("cluster", "staging")}));
  ASSERT_EQ(v["serviceArns"].size(), 1u);
  EXPECT_EQ(v["serviceArns"][0].asString(), arn("service", "prod/web"));
  ASSERT_EQ(v["services"].size(), 1u);
  EXPECT_EQ(v["services"][0]["serviceName"].asString(), "web");
  EXPECT_EQ(v["services"][0]["desiredCount"].asInt(), 2);
  ASSERT_EQ(v["services"][0]["deployments"].size(), 2u);
  EXPECT_EQ(v["services"][0]["deployments"][0][0].asString(), "PRIMARY");
  EXPECT_EQ(v["services"][0]["deployments"][0][1].asString(), arn("task-definition", "web:2"));
  EXPECT_EQ(v["services"][0]["deployments"][1][1].asString(), arn("task-definition", "web:1"));
  EXPECT_EQ(v["taskArns"].size(), 0u) << "prod runs no standalone task";
  EXPECT_EQ(v["taskDefinition"]["family"].asString(), "web");
  EXPECT_EQ(v["taskDefinition"]["revision"].asInt(), 2);
  EXPECT_EQ(v["taskDefinition"]["images"][0].asString(), uri("web") + ":b110");

  ASSERT_EQ(v["functions"].size(), 1u);
  EXPECT_EQ(v["functions"][0][0].asString(), "api");
  EXPECT_EQ(v["functions"][0][1].asString(), "Image");
  ASSERT_EQ(v["versions"].size(), 2u);
  EXPECT_EQ(v["aliases"]["live"].asString(), "3");
  EXPECT_EQ(v["code"]["$LATEST"][0].asString(), uri("web") + ":b150");
  EXPECT_EQ(v["code"]["3"][0].asString(), uri("web") + ":b154");
  EXPECT_EQ(v["code"]["3"][1].asString(), uri("web") + "@" + s.web[155]);

  EXPECT_EQ(v["apprunner"]["site"].asString(), uri("web") + ":b158");
  EXPECT_EQ(v["callerAccount"].asString(), kAccount);
  EXPECT_EQ(v["assumedAccount"].asString(), "210987654321") << "AssumeRole's keys reach the role's account";
  EXPECT_TRUE(v["assumedExpirationIsTime"].asBool());
  Json::Value regions(Json::arrayValue);
  for (const char* name : {"eu-west-1", "us-east-1", "us-west-2"}) regions.append(name);
  EXPECT_EQ(v["regions"], regions);
}

TEST(CleanPeers, Boto3SeesTheTaskPinnedByDigest) {
  localaws::LocalAws server;
  server.start();
  const Seeded s = seed(server);
  const auto r = run("env -u AWS_SESSION_TOKEN -u AWS_PROFILE AWS_ENDPOINT_URL=" + server.endpoint() +
                     " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1"
                     " AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true"
                     " python3 " CLEAN_TEST_DIR "/boto3_clean_peer.py batch api arn:aws:iam::210987654321:role/r");
  server.stop();
  ASSERT_EQ(r.status, 0) << r.output;
  auto seen = parse_json(r.output);
  ASSERT_TRUE(seen) << r.output;
  const Json::Value& tasks = (*seen)["tasks"];
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["taskDefinitionArn"].asString(), arn("task-definition", "web:1"));
  EXPECT_EQ(tasks[0]["containers"][0][1].asString(), uri("web") + "@" + s.web[141]);
  EXPECT_EQ(tasks[0]["containers"][0][2].asString(), s.web[141]);
}

}  // namespace
}  // namespace ecrs::clean_test
