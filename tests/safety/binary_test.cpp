// Issue #21 through the real binary on LocalAws: what is visible from outside the process.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ecrs/common/json.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "support/lambda_env.hpp"
#include "support/process.hpp"

namespace ecrs::safety_test {
namespace {

using namespace std::chrono_literals;
using test_support::run_process;

constexpr const char* kAccount = "123456789012";  // LocalAws's main account
constexpr const char* kRegion = "us-east-1";
constexpr auto kProcessTimeout = 60s;
constexpr std::chrono::hours kDay{24};

std::map<std::string, std::string> cli_env(const localaws::LocalAws& aws) {
  return {{"AWS_ENDPOINT_URL", aws.endpoint()},
          {"AWS_REGION", kRegion},
          {"AWS_ACCESS_KEY_ID", "test"},
          {"AWS_SECRET_ACCESS_KEY", "test"},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_CONFIG_FILE", "/nonexistent/ecrs-config"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ecrs-credentials"}};
}

std::set<std::string> digests_of(localaws::LocalAws& aws, const std::string& repo) {
  std::set<std::string> out;
  if (auto r = aws.ecr().repository(repo)) {
    for (const auto& [digest, image] : r->images) out.insert(digest);
  }
  return out;
}

// ---- 1. In-use images behind FIPS and dual-stack registry hosts ---------------------------------------------

TEST(SafetyClean, KeepsImagesAnEcsServiceRunsThroughFipsAndDualStackHosts) {
  ASSERT_TRUE(std::filesystem::exists(test_support::cli_path())) << test_support::cli_path();
  localaws::LocalAws aws{localaws::Options{}};
  aws.start();
  const auto now = std::chrono::system_clock::now();
  aws.ecr().create_repository("web");
  aws.ecr().create_repository("api");
  const std::string fips_tagged = aws.ecr().put_image("web", "prod", now - 40 * kDay);
  const std::string dual_stack = aws.ecr().put_image("web", "", now - 39 * kDay);
  const std::string unused = aws.ecr().put_image("web", "", now - 38 * kDay);
  std::vector<std::string> api;  // held as a whole by a reference whose host cannot be read
  for (int i = 0; i < 3; ++i) api.push_back(aws.ecr().put_image("api", "", now - (30 + i) * kDay));
  {
    auto& worlds = aws.worlds();
    std::lock_guard lock(worlds.mutex());
    worlds.enabled_regions = {kRegion};
    auto& world = worlds.world(kAccount);
    const std::string account = kAccount;
    world.task_definitions["web:1"] = {
        "web", 1, {{"app", account + ".dkr.ecr-fips." + kRegion + ".amazonaws.com/web:prod"}}};
    world.task_definitions["side:1"] = {"side", 1, {{"app", account + ".dkr-ecr." + kRegion + ".on.aws/web@" + dual_stack}}};
    world.task_definitions["api:1"] = {
        "api", 1, {{"app", account + ".dkr.ecr." + kRegion + ".amazonaws.example/api:v1"}}};
    world.clusters["prod"].services.push_back({"web", 1, {{"ecs-svc/1", "PRIMARY", "web:1"}}});
    world.clusters["prod"].services.push_back({"side", 1, {{"ecs-svc/2", "PRIMARY", "side:1"}}});
    world.clusters["prod"].services.push_back({"api", 1, {{"ecs-svc/3", "PRIMARY", "api:1"}}});
  }
  const auto r = run_process({test_support::cli_path(), "clean", "--repos", "web", "api", "--keep", "0", "--keep-days",
                              "0", "--keep-tag", "no-such-tag", "--apply", "--output", "json"},
                             cli_env(aws), kProcessTimeout);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(digests_of(aws, "web"), (std::set<std::string>{fips_tagged, dual_stack})) << r.out;
  EXPECT_EQ(digests_of(aws, "api"), (std::set<std::string>(api.begin(), api.end()))) << r.out;
  EXPECT_FALSE(digests_of(aws, "web").count(unused)) << "the rules still apply to what nothing uses";
  auto doc = parse_json(r.out);
  ASSERT_TRUE(doc) << r.out;
  bool said_so = false;
  for (const auto& repo : (*doc)["repositories"]) {
    if (repo["repository"].asString() != "api") continue;
    for (const auto& k : repo["keep"]) {
      for (const auto& why : k["reasons"]) said_so |= why.asString().find("whole repository kept") != std::string::npos;
    }
  }
  EXPECT_TRUE(said_so) << "the plan names why api was kept whole:\n" << r.out;
}

}  // namespace
}  // namespace ecrs::safety_test
