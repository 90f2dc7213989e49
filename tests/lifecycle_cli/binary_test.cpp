// The real binary as a child process on LocalAws: `ecr-sweeper lifecycle preview` with the in-use scan over the
// emulated account (ECS, Lambda, App Runner), and Custom::EcrLifecyclePolicy through the Runtime API and the real
// `bootstrap`.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "ecrs/common/json.hpp"
#include "lifecycle_cli_support.hpp"
#include "support/lambda_env.hpp"
#include "support/process.hpp"

namespace ecrs::lifecycle_cli_test {
namespace {

using namespace std::chrono_literals;
using test_support::cli_path;
using test_support::run_process;

constexpr const char* kAccount = "123456789012";  // LocalAws's main account
constexpr const char* kRegion = "us-east-1";
constexpr auto kProcessTimeout = 30s;
constexpr std::chrono::hours kDay{24};

// Rule 1 keeps the newest untagged image, rule 2 the newest v* image.
const std::string kTwoRulePolicy =
    R"({"rules":[{"rulePriority":1,"description":"newest untagged",)"
    R"("selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},)"
    R"({"rulePriority":2,"description":"newest release","selection":{"tagStatus":"tagged","tagPrefixList":["v"],)"
    R"("countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]})";

std::string image_uri(const std::string& account, const std::string& repo) {
  return account + ".dkr.ecr." + kRegion + ".amazonaws.com/" + repo;
}

std::map<std::string, std::string> cli_env(const localaws::LocalAws& aws) {
  return test_support::local_cli_env(aws.endpoint());
}

// "web": untagged u0..u3 (10..7 days old) and v1, v2 (6, 5 days). The policy expires u0, u1, u2 and v1.
// In use: u0 by a running ECS task (pinned by digest), u1 by a Lambda image function, v1 (by tag) by App Runner,
// u3 (kept anyway) by an ECS service. u2 only by an image of the same name in ANOTHER account's registry, which
// is not this image. "other": the same shape, nothing in use.
struct Seeded {
  std::map<std::string, std::vector<std::string>> untagged;  // by repository, oldest first
  std::map<std::string, std::string> v1;
  std::set<std::string> in_use;  // expected inUse:true, all in "web"
};

Seeded seed(localaws::LocalAws& aws) {
  Seeded s;
  const auto now = std::chrono::system_clock::now();
  for (const std::string repo : {"web", "other"}) {
    aws.ecr().create_repository(repo);
    for (int age : {10, 9, 8, 7}) s.untagged[repo].push_back(aws.ecr().put_image(repo, "", now - age * kDay));
    s.v1[repo] = aws.ecr().put_image(repo, "v1", now - 6 * kDay);
    aws.ecr().put_image(repo, "v2", now - 5 * kDay);
  }
  const auto& u = s.untagged["web"];
  const std::string web = image_uri(kAccount, "web");
  auto& worlds = aws.worlds();
  std::lock_guard lock(worlds.mutex());
  auto& world = worlds.world(kAccount);
  world.task_definitions["batch:1"] = {"batch", 1, {{"job", web + "@" + u[0]}}};
  world.task_definitions["site:1"] = {"site", 1, {{"app", web + "@" + u[3]}}};
  world.clusters["jobs"].tasks.push_back({"t1", "batch:1", "RUNNING", "RUNNING", {{"job", web + "@" + u[0], u[0]}}});
  world.clusters["prod"].services.push_back({"site", 1, {{"ecs-svc/1", "PRIMARY", "site:1"}}});
  world.functions["resize"].versions = {{"$LATEST", web + "@" + u[1], web + "@" + u[1]}};
  world.apprunner_services.push_back({"portal", web + ":v1"});
  world.task_definitions["foreign:1"] = {"foreign", 1, {{"x", image_uri("999999999999", "web") + "@" + u[2]}}};
  world.clusters["prod"].tasks.push_back(
      {"t2", "foreign:1", "RUNNING", "RUNNING", {{"x", image_uri("999999999999", "web") + "@" + u[2], u[2]}}});
  s.in_use = {u[0], u[1], s.v1["web"]};
  return s;
}

class LifecycleBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(cli_path())) << cli_path() << " is not built";
    aws_.start();
  }
  localaws::LocalAws aws_{localaws::Options{}};
};

TEST_F(LifecycleBinary, PreviewJsonMarksInUseExactlyTheExpiringImagesSomethingRuns) {
  const Seeded s = seed(aws_);
  TempFile policy("policy.json", kTwoRulePolicy);
  const auto r = run_process({cli_path(), "lifecycle", "preview", policy.path(), "--repos", "web", "other", "--output",
                              "json"},
                             cli_env(aws_), kProcessTimeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = parse_json(r.out);
  ASSERT_TRUE(doc) << r.out;
  const Json::Value& repos = (*doc)["repositories"];
  ASSERT_EQ(repos.size(), 2u) << r.out;
  std::map<std::string, std::set<std::string>> expired, flagged;
  for (const auto& repo : repos) {
    for (const auto& e : repo["expire"]) {
      expired[repo["repositoryName"].asString()].insert(e["imageDigest"].asString());
      if (e["inUse"].asBool()) flagged[repo["repositoryName"].asString()].insert(e["imageDigest"].asString());
    }
  }
  for (const std::string repo : {"web", "other"}) {
    const auto& u = s.untagged.at(repo);
    EXPECT_EQ(expired[repo], (std::set<std::string>{u[0], u[1], u[2], s.v1.at(repo)})) << repo;
  }
  EXPECT_EQ(flagged["web"], s.in_use) << r.out;
  EXPECT_TRUE(flagged["other"].empty()) << r.out;
}

TEST_F(LifecycleBinary, PreviewTextFlagsInUseImagesAndSaysWhatWasScanned) {
  const Seeded s = seed(aws_);
  TempFile policy("policy.json", kTwoRulePolicy);
  const auto r = run_process({cli_path(), "lifecycle", "preview", policy.path(), "--repos", "web"}, cli_env(aws_),
                             kProcessTimeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto& u = s.untagged.at("web");
  // stdout is not a terminal: one plain line per expiry.
  std::map<std::string, std::string> line_of;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    for (const auto& d : {u[0], u[1], u[2], s.v1.at("web")}) {
      if (line.find("expire " + d) != std::string::npos) line_of[d] = line;
    }
  }
  ASSERT_EQ(line_of.size(), 4u) << r.out;
  for (const auto& [digest, line] : line_of) {
    const bool marked = line.size() >= 6 && line.compare(line.size() - 6, 6, "IN USE") == 0;
    EXPECT_EQ(marked, s.in_use.count(digest) > 0) << line;
  }
  EXPECT_NE(line_of[s.v1.at("web")].find("v1 by rule 2 (newest release)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 repositories, 4 images would expire, 3 of them IN USE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(std::string("in use: scanned ") + kAccount + "/" + kRegion +
                       ": ECS 2 clusters, 1 services, 2 running tasks; Lambda 1 image functions; App Runner 1 services."),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Not covered: EKS"), std::string::npos) << r.out;
}

TEST_F(LifecycleBinary, AFailedScanExitsOneNamingTheCallAndNoInUseSkipsIt) {
  seed(aws_);
  {
    std::lock_guard lock(aws_.worlds().mutex());
    // A service naming a task definition that does not exist: DescribeTaskDefinition fails, and the scan with it.
    aws_.worlds().world(kAccount).clusters["prod"].services.push_back({"ghost", 1, {{"d", "PRIMARY", "gone:9"}}});
  }
  TempFile policy("policy.json", kTwoRulePolicy);
  auto env = cli_env(aws_);
  env["AWS_MAX_ATTEMPTS"] = "1";
  const auto failed = run_process({cli_path(), "lifecycle", "preview", policy.path(), "--repos", "web", "--output",
                                   "json"},
                                  env, kProcessTimeout);
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_TRUE(failed.out.empty()) << "no unflagged document after a failed scan:\n" << failed.out;
  EXPECT_NE(failed.err.find("the in-use scan failed"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("DescribeTaskDefinition"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("--no-in-use"), std::string::npos) << failed.err;

  const auto skipped = run_process({cli_path(), "lifecycle", "preview", policy.path(), "--repos", "web", "--output",
                                    "json", "--no-in-use"},
                                   env, kProcessTimeout);
  ASSERT_EQ(skipped.exit_code, 0) << skipped.err;
  auto doc = parse_json(skipped.out);
  ASSERT_TRUE(doc) << skipped.out;
  const Json::Value& expire = (*doc)["repositories"][0]["expire"];
  EXPECT_EQ(expire.size(), 4u) << skipped.out;
  for (const auto& e : expire) EXPECT_FALSE(e["inUse"].asBool()) << skipped.out;
  EXPECT_NE(skipped.err.find("not scanned (--no-in-use)"), std::string::npos) << skipped.err;
}

TEST(LifecycleBinaryHelp, PreviewHelpNamesTheScanWhatItCoversAndHowToSkipIt) {
  const auto r = run_process({cli_path(), "lifecycle", "preview", "--help"}, {}, kProcessTimeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* word : {"--no-in-use", "ECS running tasks", "ECS services", "Lambda functions of package type Image",
                           "App Runner image services", "NOT covered: EKS", "\"inUse\": true", "exit 1"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << word << " missing from:\n" << r.out;
  }
}

// ---- Custom::EcrLifecyclePolicy through the real bootstrap ----------------------------------------------------

constexpr const char* kStackId = "arn:aws:cloudformation:us-east-1:123456789012:stack/policies/0a1b2c3d-0000-11ef";
constexpr const char* kServiceToken = "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper";

Json::Value resource_event(localaws::LocalAws& aws, const std::string& request_type, const std::string& key,
                           const std::string& physical_id) {
  Json::Value e(Json::objectValue);
  e["RequestType"] = request_type;
  e["ServiceToken"] = kServiceToken;
  e["ResponseURL"] = aws.s3().make_response_url(key);
  e["StackId"] = kStackId;
  e["RequestId"] = key;
  e["LogicalResourceId"] = "Govern";
  e["ResourceType"] = handler::kLifecycleResourceType;
  if (!physical_id.empty()) e["PhysicalResourceId"] = physical_id;
  Json::Value props(Json::objectValue);
  props["ServiceToken"] = kServiceToken;
  props["Policy"] = *parse_json(kUntaggedPolicy);  // an object, as a template's mapping arrives
  props["RepositoryPattern"] = "svc-*";
  e["ResourceProperties"] = props;
  return e;
}

TEST(LifecycleResourceBinary, CreateGovernsTheMatchingRepositoriesAndDeleteRemovesThePolicy) {
  ASSERT_TRUE(std::filesystem::exists(test_support::bootstrap_path())) << test_support::bootstrap_path();
  localaws::LocalAws aws{localaws::Options{}};
  aws.start();
  const std::vector<std::string> governed{"svc-a", "svc-b", "svc-c"};
  for (const auto& name : governed) aws.ecr().create_repository(name);
  aws.ecr().create_repository("unrelated");
  test_support::ChildProcess child({test_support::bootstrap_path()},
                                   test_support::lambda_env({aws.runtime_api(), aws.endpoint()}));

  const auto created = test_support::invoke_and_read_put(aws, resource_event(aws, "Create", "policies-create", ""),
                                                        "policies-create", child);
  ASSERT_EQ(created["Status"].asString(), "SUCCESS") << created["Reason"].asString() << child.out();
  EXPECT_EQ(created["RequestId"].asString(), "policies-create");
  EXPECT_EQ(created["LogicalResourceId"].asString(), "Govern");
  const std::string physical_id = created["PhysicalResourceId"].asString();
  EXPECT_EQ(physical_id.rfind(handler::kLifecyclePhysicalIdPrefix, 0), 0u) << physical_id;
  for (const auto& name : governed) {
    const auto text = aws.ecr().repository(name)->lifecycle_policy;
    ASSERT_TRUE(text) << name;
    EXPECT_EQ(handler::normalize_policy_text(*text), handler::normalize_policy_text(kUntaggedPolicy)) << *text;
  }
  EXPECT_FALSE(aws.ecr().repository("unrelated")->lifecycle_policy);

  const auto deleted = test_support::invoke_and_read_put(
      aws, resource_event(aws, "Delete", "policies-delete", physical_id), "policies-delete", child);
  EXPECT_EQ(deleted["Status"].asString(), "SUCCESS") << deleted["Reason"].asString() << child.out();
  EXPECT_EQ(deleted["PhysicalResourceId"].asString(), physical_id);
  for (const auto& name : governed) EXPECT_FALSE(aws.ecr().repository(name)->lifecycle_policy) << name;

  // stdout is the function's log: JSON lines, never the presigned URL's signature.
  ASSERT_TRUE(aws.runtime().wait_idle(kProcessTimeout));
  std::istringstream log(child.out());
  std::size_t lines = 0;
  for (std::string line; std::getline(log, line);) {
    ++lines;
    EXPECT_TRUE(parse_json(line).has_value()) << line;
    EXPECT_EQ(line.find("Signature="), std::string::npos) << line;
  }
  EXPECT_GT(lines, 0u);
}

}  // namespace
}  // namespace ecrs::lifecycle_cli_test
