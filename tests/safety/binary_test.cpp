// Issue #21 through the real binary on LocalAws: what is visible from outside the process.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ecrs/common/json.hpp"
#include "ecrs/common/secret.hpp"
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

// ---- 3. No credential in outward text -------------------------------------------------------------------------

constexpr const char* kStackId = "arn:aws:cloudformation:us-east-1:123456789012:stack/safety/0a1b2c3d-0000-11ef";
constexpr const char* kServiceToken = "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper";
// A session token as STS hands them out (base64, '/' and '+' included) and a wrong secret key.
const std::string kSessionToken =
    "IQoJb3JpZ2luX2VjEXAMPLEtokenSafety/+abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ/ends==";
const std::string kWrongSecret = "wrongSecretKeyEXAMPLE0123456789abcdefghij";
const std::string kAccessKeyId = "ASIASAFETYEXAMPLE001";

// A CloudFormation custom-resource event whose ResponseURL the local S3 receiver accepts under `key`.
Json::Value cfn_event(localaws::LocalAws& aws, const std::string& request_type, const std::string& key,
                      const std::string& resource_type, const std::string& logical_id, const std::string& physical_id,
                      Json::Value props) {
  Json::Value e(Json::objectValue);
  e["RequestType"] = request_type;
  e["ServiceToken"] = kServiceToken;
  e["ResponseURL"] = aws.s3().make_response_url(key);
  e["StackId"] = kStackId;
  e["RequestId"] = key;
  e["LogicalResourceId"] = logical_id;
  e["ResourceType"] = resource_type;
  if (!physical_id.empty()) e["PhysicalResourceId"] = physical_id;
  props["ServiceToken"] = kServiceToken;
  e["ResourceProperties"] = props;
  return e;
}

Json::Value custom_resource_event(localaws::LocalAws& aws, const std::string& request_type, const std::string& key) {
  Json::Value props(Json::objectValue);
  props["RepositoryName"] = "web";
  return cfn_event(aws, request_type, key, "Custom::EmptyEcrRepository", "Empty", "web-empty", props);
}

// LocalAws that knows kAccessKeyId with its right secret and kSessionToken; a process given the wrong secret is
// refused every call with InvalidSignatureException, whose message quotes the canonical request (and so the token).
localaws::Options token_world() {
  localaws::Options options;
  options.access_key_id = kAccessKeyId;
  options.secret_access_key = Secret("rightSecretKeyEXAMPLE0123456789abcdefghij");
  options.session_token = Secret(kSessionToken);
  return options;
}

void sign_with_the_wrong_secret(std::map<std::string, std::string>& env) {
  env["AWS_ACCESS_KEY_ID"] = kAccessKeyId;
  env["AWS_SECRET_ACCESS_KEY"] = kWrongSecret;
  env["AWS_SESSION_TOKEN"] = kSessionToken;
  env["AWS_MAX_ATTEMPTS"] = "1";
}

TEST(SafetySecrets, AnAwsErrorQuotingTheSessionTokenReachesNeitherTheReasonNorTheErrorPayload) {
  ASSERT_TRUE(std::filesystem::exists(test_support::bootstrap_path())) << test_support::bootstrap_path();
  localaws::LocalAws aws{token_world()};
  aws.start();
  aws.ecr().create_repository("web");
  aws.ecr().put_image("web", "v1", std::chrono::system_clock::now());
  auto env = test_support::lambda_env({aws.runtime_api(), aws.endpoint()});
  sign_with_the_wrong_secret(env);
  test_support::ChildProcess child({test_support::bootstrap_path()}, env);

  // The custom resource: FAILED, with AWS's message in the Reason, and no credential in it.
  const std::string id = aws.runtime().invoke(to_compact_json(custom_resource_event(aws, "Delete", "safety-delete")));
  const auto outcome = aws.runtime().wait_outcome(id, kProcessTimeout);
  ASSERT_TRUE(outcome) << child.out() << child.err();
  const auto put = aws.s3().wait_accepted("safety-delete", kProcessTimeout);
  ASSERT_TRUE(put) << "no PUT to the ResponseURL:\n" << child.out();
  auto doc = parse_json(put->body);
  ASSERT_TRUE(doc) << put->body;
  const std::string reason = (*doc)["Reason"].asString();
  EXPECT_EQ((*doc)["Status"].asString(), "FAILED") << put->body;
  EXPECT_NE(reason.find("InvalidSignatureException"), std::string::npos) << reason;
  EXPECT_NE(reason.find("x-amz-security-token:"), std::string::npos) << "AWS's message got through, scrubbed: " << reason;
  EXPECT_EQ(put->body.find(kSessionToken), std::string::npos) << put->body;
  EXPECT_EQ(put->body.find(kWrongSecret), std::string::npos) << put->body;

  // The scheduled cleanup fails its scan the same way: the Runtime API /error payload carries no credential.
  Json::Value scheduled(Json::objectValue);
  scheduled["source"] = "aws.events";
  scheduled["detail-type"] = "Scheduled Event";
  scheduled["id"] = "safety-scheduled";
  const std::string sid = aws.runtime().invoke(to_compact_json(scheduled));
  const auto failed = aws.runtime().wait_outcome(sid, kProcessTimeout);
  ASSERT_TRUE(failed) << child.out() << child.err();
  EXPECT_EQ(failed->kind, "error") << failed->body;
  EXPECT_NE(failed->body.find("InvalidSignatureException"), std::string::npos) << failed->body;
  EXPECT_EQ(failed->body.find(kSessionToken), std::string::npos) << failed->body;
  EXPECT_EQ(failed->body.find(kWrongSecret), std::string::npos) << failed->body;

  ASSERT_TRUE(aws.runtime().wait_idle(kProcessTimeout));
  EXPECT_EQ(child.out().find(kSessionToken), std::string::npos) << "nor in the log";
  EXPECT_EQ(child.out().find(kWrongSecret), std::string::npos) << "nor in the log";
}

// The CLI prints AWS's error text itself ("ecr-sweeper empty: error: ..."): its stdout and stderr are redacted too.
TEST(SafetySecrets, TheCliPrintsAwsErrorTextWithoutTheSessionToken) {
  ASSERT_TRUE(std::filesystem::exists(test_support::cli_path())) << test_support::cli_path();
  localaws::LocalAws aws{token_world()};
  aws.start();
  aws.ecr().create_repository("web");
  aws.ecr().put_image("web", "v1", std::chrono::system_clock::now());
  auto env = cli_env(aws);
  sign_with_the_wrong_secret(env);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"empty", "web"}, std::vector<std::string>{"empty", "web", "--output", "json"},
        std::vector<std::string>{"clean", "--repos", "web", "--debug"}}) {
    std::vector<std::string> argv{test_support::cli_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_process(argv, env, kProcessTimeout);
    EXPECT_EQ(r.exit_code, 1) << args.front() << ":\n" << r.out << r.err;
    const std::string all = r.out + r.err;
    EXPECT_NE(all.find("InvalidSignatureException"), std::string::npos) << "AWS's error is reported:\n" << all;
    EXPECT_EQ(all.find(kSessionToken), std::string::npos) << args.front() << ":\n" << all;
    EXPECT_EQ(all.find(kWrongSecret), std::string::npos) << args.front() << ":\n" << all;
  }
  EXPECT_EQ(aws.ecr().repository("web")->images.size(), 1u) << "nothing was deleted";
}

// ---- 2. Custom::EcrLifecyclePolicy removes only the policy it applied -----------------------------------------

const std::string kOurPolicy =
    R"({"rules":[{"rulePriority":1,"description":"ours","selection":{"tagStatus":"untagged",)"
    R"("countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]})";
const std::string kTheirPolicy =
    R"({"rules":[{"rulePriority":1,"description":"another stack's","selection":{"tagStatus":"any",)"
    R"("countType":"imageCountMoreThan","countNumber":50},"action":{"type":"expire"}}]})";

Json::Value lifecycle_event(localaws::LocalAws& aws, const std::string& request_type, const std::string& key,
                            const std::string& physical_id) {
  Json::Value props(Json::objectValue);
  props["Policy"] = kOurPolicy;
  props["RepositoryPattern"] = "svc-*";
  return cfn_event(aws, request_type, key, "Custom::EcrLifecyclePolicy", "Govern", physical_id, props);
}

TEST(SafetyLifecycleResource, DeleteLeavesAnotherStacksPolicyOnARepositoryMatchingThePattern) {
  ASSERT_TRUE(std::filesystem::exists(test_support::bootstrap_path())) << test_support::bootstrap_path();
  localaws::LocalAws aws{localaws::Options{}};
  aws.start();
  aws.ecr().create_repository("svc-a");
  aws.ecr().create_repository("svc-b");
  test_support::ChildProcess child({test_support::bootstrap_path()},
                                   test_support::lambda_env({aws.runtime_api(), aws.endpoint()}));
  const auto created =
      test_support::invoke_and_read_put(aws, lifecycle_event(aws, "Create", "lc-create", ""), "lc-create", child);
  ASSERT_EQ(created["Status"].asString(), "SUCCESS") << created["Reason"].asString() << child.out();
  const std::string physical_id = created["PhysicalResourceId"].asString();
  ASSERT_TRUE(aws.ecr().repository("svc-a")->lifecycle_policy);

  // Later: svc-b's policy replaced by another stack, svc-c created with its own. Both match "svc-*".
  aws.ecr().create_repository("svc-c");
  {
    std::lock_guard lock(aws.ecr().mutex());
    aws.ecr().repositories_unlocked().at("svc-b").lifecycle_policy = kTheirPolicy;
    aws.ecr().repositories_unlocked().at("svc-c").lifecycle_policy = kTheirPolicy;
  }
  const auto deleted =
      test_support::invoke_and_read_put(aws, lifecycle_event(aws, "Delete", "lc-delete", physical_id), "lc-delete",
                                        child);
  EXPECT_EQ(deleted["Status"].asString(), "SUCCESS") << deleted["Reason"].asString() << child.out();
  EXPECT_FALSE(aws.ecr().repository("svc-a")->lifecycle_policy) << "ours is removed";
  for (const char* theirs : {"svc-b", "svc-c"}) {
    const auto text = aws.ecr().repository(theirs)->lifecycle_policy;
    ASSERT_TRUE(text) << theirs << " lost another stack's policy";
    EXPECT_EQ(*text, kTheirPolicy) << theirs;
  }
  EXPECT_EQ(deleted["Data"]["PoliciesLeftAlone"].asString(), "svc-b,svc-c") << to_compact_json(deleted);
  EXPECT_EQ(deleted["Data"]["PoliciesRemoved"].asString(), "1") << to_compact_json(deleted);
}

}  // namespace
}  // namespace ecrs::safety_test
