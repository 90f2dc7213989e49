// The lifecycle-policy client: boto3 agrees with localaws, and the remote preview polls and pages as ECR's
// GetLifecyclePolicyPreview documents (scripted server for the states localaws never shows).
#include <sys/wait.h>
#include "../support/run_command.hpp"

#include <array>
#include <cstdio>

#include "ecrs/common/json.hpp"
#include "ecrs/handler/lifecycle_ops.hpp"
#include "lifecycle_cli_support.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::lifecycle_cli_test {
namespace {

using Run = ecrs::test_support::CommandRun;
const auto& run = ecrs::test_support::run_command;

TEST(LifecycleClientPeers, Boto3PutAndGetAgreeWithOurClientOnLocalAws) {
  const auto probe = run("python3 -c 'import boto3'");
  ASSERT_EQ(probe.status, 0) << "python3 with boto3 is required (pyenv python3 in PATH): " << probe.output;
  localaws::LocalAws aws{localaws::Options{}};
  aws.start();
  for (const char* r : {"boto-put", "ours-put", "no-policy"}) aws.ecr().create_repository(r);
  Session session(aws.endpoint());
  auto client = session.get().client(aws::kEcr);
  ASSERT_TRUE(client) << client.error().describe();
  ecr::LifecycleClient lc(**client);
  auto put = lc.put_lifecycle_policy({"ours-put", std::nullopt, kUntaggedPolicy});
  ASSERT_TRUE(put) << put.error().describe();
  EXPECT_EQ(put->lifecycle_policy_text, kUntaggedPolicy);
  EXPECT_EQ(put->repository_name, "ours-put");

  TempFile policy("policy.json", kUntaggedPolicy);
  const auto r = run("env -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_ENDPOINT_URL_ECR AWS_ENDPOINT_URL=" +
                     aws.endpoint() +
                     " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1"
                     " AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null python3 " LIFECYCLE_CLI_TEST_DIR
                     "/boto3_lifecycle.py " + policy.path());
  ASSERT_EQ(r.status, 0) << r.output;
  auto seen = parse_json(r.output);
  ASSERT_TRUE(seen) << r.output;
  EXPECT_EQ((*seen)["putEcho"].asString(), kUntaggedPolicy);
  EXPECT_EQ((*seen)["putRepository"].asString(), "boto-put");
  EXPECT_EQ((*seen)["oursText"].asString(), kUntaggedPolicy);
  EXPECT_EQ((*seen)["oursRepository"].asString(), "ours-put");

  // What boto3 put, we read back; what boto3 saw as missing, we see as the same error code.
  auto got = lc.get_lifecycle_policy({"boto-put", std::nullopt});
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(got->lifecycle_policy_text, kUntaggedPolicy);
  auto missing = lc.get_lifecycle_policy({"no-policy", std::nullopt});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, (*seen)["missingCode"].asString());
  EXPECT_TRUE(ecr::is_lifecycle_policy_not_found(missing.error()));

  auto deleted = lc.delete_lifecycle_policy({"boto-put", std::nullopt});
  ASSERT_TRUE(deleted) << deleted.error().describe();
  EXPECT_EQ(deleted->lifecycle_policy_text, kUntaggedPolicy);
  EXPECT_FALSE(aws.ecr().repository("boto-put")->lifecycle_policy);
}

// GetLifecyclePolicyPreview answers IN_PROGRESS, then COMPLETE over two pages; ECR expires one image our
// evaluator keeps and agrees on another.
TEST(LifecycleRemotePreview, PollsWhileInProgressPagesAndDiffsAgainstLocal) {
  test::ScriptedHttpServer server;
  int gets = 0;
  server.set_handler([&](const test::RecordedRequest& req) {
    const auto target = req.header("X-Amz-Target").value_or("");
    auto in = parse_json(req.body);
    if (target.ends_with(".StartLifecyclePolicyPreview")) {
      EXPECT_TRUE(in && (*in)["lifecyclePolicyText"].asString() == kUntaggedPolicy);
      return test::reply(200, R"({"repositoryName":"web","status":"IN_PROGRESS"})");
    }
    ++gets;
    if (gets == 1) return test::reply(200, R"({"repositoryName":"web","status":"IN_PROGRESS"})");
    if (!in || !(*in).isMember("nextToken")) {
      EXPECT_EQ((*in)["maxResults"].asInt(), 100);
      return test::reply(200, R"({"repositoryName":"web","status":"COMPLETE","nextToken":"p2","previewResults":[)"
                              R"({"imageDigest":"sha256:aa","imageTags":[],"action":{"type":"EXPIRE"},"appliedRulePriority":1}]})");
    }
    return test::reply(200, R"({"repositoryName":"web","status":"COMPLETE","previewResults":[)"
                            R"({"imageDigest":"sha256:cc","imageTags":["x"],"action":{"type":"EXPIRE"},"appliedRulePriority":2},)"
                            R"({"imageDigest":"sha256:dd","action":{"type":"TRANSITION"},"appliedRulePriority":3}]})");
  });
  Session session(server.url());
  auto client = session.get().client(aws::kEcr);
  ASSERT_TRUE(client) << client.error().describe();
  ecr::LifecycleClient lc(**client);
  FakeClock fake;
  handler::RemotePreviewOptions options;
  options.poll_interval = std::chrono::milliseconds(500);
  auto remote = handler::remote_preview(lc, "web", kUntaggedPolicy, fake, options);
  ASSERT_TRUE(remote) << remote.error().describe();
  EXPECT_EQ(gets, 3);
  ASSERT_EQ(remote->size(), 2u);  // the TRANSITION result is not an expiry

  lifecycle::RepositoryPreview local;
  local.repository_name = "web";
  local.expire.push_back({"sha256:aa", {}, 1, false});
  local.expire.push_back({"sha256:bb", {}, 1, false});
  const auto diff = handler::diff_previews(local, *remote);
  ASSERT_EQ(diff.size(), 2u);
  EXPECT_EQ(diff[0].image_digest, "sha256:bb");
  EXPECT_EQ(diff[0].local_rule, 1);
  EXPECT_FALSE(diff[0].remote_rule);
  EXPECT_EQ(diff[1].image_digest, "sha256:cc");
  EXPECT_FALSE(diff[1].local_rule);
  EXPECT_EQ(diff[1].remote_rule, 2);
}

TEST(LifecycleRemotePreview, GivesUpAfterMaxPollsAndReportsAFailedPreview) {
  test::ScriptedHttpServer server;
  server.set_handler([&](const test::RecordedRequest&) {
    return test::reply(200, R"({"repositoryName":"web","status":"IN_PROGRESS"})");
  });
  Session session(server.url());
  auto client = session.get().client(aws::kEcr);
  ASSERT_TRUE(client);
  ecr::LifecycleClient lc(**client);
  FakeClock fake;
  handler::RemotePreviewOptions options;
  options.max_polls = 3;
  auto r = handler::remote_preview(lc, "web", kUntaggedPolicy, fake, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "LifecyclePolicyPreviewTimeout");
  EXPECT_EQ(server.request_count(), 4u);  // one Start, three polls

  test::ScriptedHttpServer failed;
  failed.set_handler([&](const test::RecordedRequest&) {
    return test::reply(200, R"({"repositoryName":"web","status":"FAILED"})");
  });
  Session s2(failed.url());
  auto c2 = s2.get().client(aws::kEcr);
  ASSERT_TRUE(c2);
  ecr::LifecycleClient lc2(**c2);
  auto f = handler::remote_preview(lc2, "web", kUntaggedPolicy, fake, options);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, "LifecyclePolicyPreviewFailed");
}

TEST(LifecycleOps, RepositoryPatternsAndPolicyDiffs) {
  using handler::matches_repository_pattern;
  EXPECT_TRUE(matches_repository_pattern("app-*", "app-001"));
  EXPECT_TRUE(matches_repository_pattern("*", "team/app"));
  EXPECT_TRUE(matches_repository_pattern("team/*", "team/a/b"));
  EXPECT_TRUE(matches_repository_pattern("app-00?", "app-007"));
  EXPECT_FALSE(matches_repository_pattern("app-00?", "app-0070"));
  EXPECT_FALSE(matches_repository_pattern("app-*", "team/app-1"));
  EXPECT_TRUE(matches_repository_pattern("*a*b*c", "xxaxxbxxc"));
  EXPECT_FALSE(matches_repository_pattern("*a*b*c", "xxaxxbxx"));

  EXPECT_EQ(handler::normalize_policy_text(R"({"b":1, "a":[1,2]})"), handler::normalize_policy_text("{\"a\":[1,2],\n\"b\":1}"));
  EXPECT_FALSE(handler::normalize_policy_text("{not json"));
  EXPECT_EQ(handler::diff_lines("a\nb\nc", "a\nx\nc"), "  a\n- b\n+ x\n  c\n");
  EXPECT_EQ(handler::diff_lines("", "a"), "+ a\n");
}

TEST(LifecycleOps, RunBoundedVisitsEveryIndexOnce) {
  std::vector<std::atomic<int>> seen(500);
  handler::run_bounded(seen.size(), 4, [&](std::size_t i) { seen[i]++; });
  for (const auto& s : seen) EXPECT_EQ(s.load(), 1);
}

}  // namespace
}  // namespace ecrs::lifecycle_cli_test
