// Custom::EcrLifecyclePolicy through LocalAws: ECR for the policies, its S3 receiver for the response PUT.
#include <chrono>
#include <mutex>

#include "ecrs/common/json.hpp"
#include "lifecycle_cli_support.hpp"

namespace ecrs::lifecycle_cli_test {
namespace {

constexpr const char* kStackId = "arn:aws:cloudformation:us-east-1:123456789012:stack/policies/0a1b2c3d-0000-11ef";
constexpr const char* kToken = "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper";
constexpr int kServiceRepositories = 5;

// As a Lambda runs the mode: the Runtime API is local, so the local S3 receiver's plain-http ResponseURL is
// accepted (check_response_url).
class ResourceSession : public test_support::CliVerbHarness {
 public:
  explicit ResourceSession(const std::string& endpoint)
      : CliVerbHarness(test_support::local_cli_env(endpoint, {{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"}})) {}
  handler::AwsSession& get() { return session(); }
};

class LifecycleResource : public ::testing::Test {
 protected:
  void SetUp() override {
    aws_.start();
    for (int i = 0; i < kServiceRepositories; ++i) aws_.ecr().create_repository("svc-" + std::to_string(i));
    aws_.ecr().create_repository("unrelated");
    session_ = std::make_unique<ResourceSession>(aws_.endpoint());
    mode_ = handler::make_lifecycle_resource_mode(session_->get());
  }

  // The event CloudFormation would send, with a ResponseURL minted by the receiver; returns the S3 key.
  std::string send(const std::string& request_type, Json::Value props, std::optional<Json::Value> old_props = {},
                   const std::string& physical_id = {}, handler::EventMode* mode = nullptr) {
    const std::string key = "policies%7CGovern%7Creq-" + std::to_string(++counter_);
    Json::Value e(Json::objectValue);
    e["RequestType"] = request_type;
    e["ServiceToken"] = kToken;
    e["ResponseURL"] = aws_.s3().make_response_url(key);
    e["StackId"] = kStackId;
    e["RequestId"] = "req-" + std::to_string(counter_);
    e["LogicalResourceId"] = "Govern";
    e["ResourceType"] = handler::kLifecycleResourceType;
    if (!physical_id.empty()) e["PhysicalResourceId"] = physical_id;
    props["ServiceToken"] = kToken;
    e["ResourceProperties"] = props;
    if (old_props) e["OldResourceProperties"] = *old_props;
    EXPECT_TRUE((mode ? mode : mode_.get())->accepts(e));
    handler::InvocationInfo info{"aws-req-" + std::to_string(counter_), deadline_, kToken};
    auto reply = (mode ? mode : mode_.get())->handle(e, info);
    EXPECT_TRUE(reply) << (reply ? "" : reply.error().describe());
    if (reply) last_reply_ = *reply;
    return key;
  }

  Json::Value response(const std::string& key) {
    const auto got = aws_.s3().accepted(key);
    EXPECT_EQ(got.size(), 1u) << "one PUT per request";
    if (got.empty()) return {};
    EXPECT_FALSE(got.front().too_large);
    auto doc = parse_json(got.front().body);
    EXPECT_TRUE(doc);
    return doc ? *doc : Json::Value();
  }

  bool has_policy(const std::string& repo) { return aws_.ecr().repository(repo)->lifecycle_policy.has_value(); }

  localaws::LocalAws aws_{localaws::Options{}};
  std::unique_ptr<ResourceSession> session_;
  std::unique_ptr<handler::EventMode> mode_;
  std::string last_reply_;
  int counter_ = 0;
  std::chrono::system_clock::time_point deadline_{};  // epoch: no deadline
};

Json::Value pattern_props(const std::string& pattern, bool policy_as_object) {
  Json::Value p(Json::objectValue);
  if (policy_as_object) {
    // As CloudFormation delivers a mapping: every scalar a string.
    Json::Value policy = *parse_json(kUntaggedPolicy);
    policy["rules"][0]["rulePriority"] = "1";
    policy["rules"][0]["selection"]["countNumber"] = "1";
    p["Policy"] = policy;
  } else {
    p["Policy"] = kUntaggedPolicy;
  }
  p["RepositoryPattern"] = pattern;
  return p;
}

TEST_F(LifecycleResource, UpdateLeavesAnotherStacksPolicyOnARepositoryItNoLongerNames) {
  const auto created = response(send("Create", pattern_props("svc-*", false)));
  ASSERT_EQ(created["Status"].asString(), "SUCCESS") << created["Reason"].asString();
  const std::string id = created["PhysicalResourceId"].asString();
  const std::string theirs = R"({"rules":[{"rulePriority":9,"description":"theirs","selection":{"tagStatus":"any",)"
                             R"("countType":"imageCountMoreThan","countNumber":99},"action":{"type":"expire"}}]})";
  {
    std::lock_guard lock(aws_.ecr().mutex());
    aws_.ecr().repositories_unlocked().at("svc-3").lifecycle_policy = theirs;
  }
  Json::Value names(Json::objectValue);
  names["Policy"] = kUntaggedPolicy;
  names["RepositoryNames"].append("svc-0");
  const auto updated = response(send("Update", names, pattern_props("svc-*", false), id));
  EXPECT_EQ(updated["Status"].asString(), "SUCCESS") << updated["Reason"].asString();
  EXPECT_TRUE(has_policy("svc-0"));
  for (const char* dropped : {"svc-1", "svc-2", "svc-4"}) EXPECT_FALSE(has_policy(dropped)) << dropped;
  ASSERT_TRUE(has_policy("svc-3"));
  EXPECT_EQ(*aws_.ecr().repository("svc-3")->lifecycle_policy, theirs);
  EXPECT_EQ(updated["Data"]["PoliciesLeftAlone"].asString(), "svc-3") << to_compact_json(updated);
  EXPECT_EQ(updated["Data"]["PoliciesRemoved"].asString(), "3");
}

TEST_F(LifecycleResource, AnswersFailedNamingTheRepositoriesItHadNoTimeForBeforeTheDeadline) {
  // Three seconds left: enough for the response PUT, not for the PUT's full retry budget plus any work.
  deadline_ = std::chrono::system_clock::now() + std::chrono::seconds(3);
  const auto created = response(send("Create", pattern_props("svc-*", false)));
  EXPECT_EQ(created["Status"].asString(), "FAILED");
  EXPECT_NE(created["Reason"].asString().find("DeadlineExceeded"), std::string::npos) << created["Reason"].asString();
  EXPECT_NE(created["Reason"].asString().find("svc-0"), std::string::npos) << created["Reason"].asString();
  for (int i = 0; i < kServiceRepositories; ++i) EXPECT_FALSE(has_policy("svc-" + std::to_string(i)));
}

TEST_F(LifecycleResource, AcceptsOnlyItsOwnResourceType) {
  Json::Value e(Json::objectValue);
  e["RequestType"] = "Create";
  e["ResponseURL"] = "http://127.0.0.1:9/x";
  e["StackId"] = kStackId;
  e["RequestId"] = "r";
  e["LogicalResourceId"] = "L";
  e["ResourceType"] = "Custom::EmptyEcrRepository";
  EXPECT_FALSE(mode_->accepts(e));
  e["ResourceType"] = "Custom::EcrLifecyclePolicy";
  EXPECT_TRUE(mode_->accepts(e));
  e.removeMember("ResponseURL");
  EXPECT_FALSE(mode_->accepts(e));
  EXPECT_FALSE(mode_->accepts(Json::Value("Custom::EcrLifecyclePolicy")));
}

TEST_F(LifecycleResource, CreateUpdateDeleteGovernTheNamedRepositories) {
  const auto created = response(send("Create", pattern_props("svc-*", true)));
  EXPECT_EQ(created["Status"].asString(), "SUCCESS") << created["Reason"].asString();
  const std::string id = created["PhysicalResourceId"].asString();
  EXPECT_EQ(id, "ecr-sweeper:lifecycle:Govern");
  EXPECT_EQ(created["Data"]["RepositoryCount"].asInt(), kServiceRepositories);
  for (int i = 0; i < kServiceRepositories; ++i) {
    const auto text = aws_.ecr().repository("svc-" + std::to_string(i))->lifecycle_policy;
    ASSERT_TRUE(text);
    EXPECT_EQ(handler::normalize_policy_text(*text), handler::normalize_policy_text(kUntaggedPolicy)) << *text;
  }
  EXPECT_FALSE(has_policy("unrelated"));
  auto reply = parse_json(last_reply_);
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["Status"].asString(), "SUCCESS");
  EXPECT_EQ((*reply)["PhysicalResourceId"].asString(), id);

  // Update to two names: the other three lose the policy, the two keep it; same physical id.
  Json::Value names(Json::objectValue);
  names["Policy"] = kUntaggedPolicy;
  names["RepositoryNames"].append("svc-0");
  names["RepositoryNames"].append("svc-1");
  const auto updated = response(send("Update", names, pattern_props("svc-*", true), id));
  EXPECT_EQ(updated["Status"].asString(), "SUCCESS") << updated["Reason"].asString();
  EXPECT_EQ(updated["PhysicalResourceId"].asString(), id);
  EXPECT_TRUE(has_policy("svc-0"));
  EXPECT_TRUE(has_policy("svc-1"));
  for (int i = 2; i < kServiceRepositories; ++i) EXPECT_FALSE(has_policy("svc-" + std::to_string(i)));

  const auto deleted = response(send("Delete", names, std::nullopt, id));
  EXPECT_EQ(deleted["Status"].asString(), "SUCCESS") << deleted["Reason"].asString();
  EXPECT_FALSE(has_policy("svc-0"));
  EXPECT_FALSE(has_policy("svc-1"));

  // A second Delete (redelivery) finds no policy: still SUCCESS.
  const auto again = response(send("Delete", names, std::nullopt, id));
  EXPECT_EQ(again["Status"].asString(), "SUCCESS") << again["Reason"].asString();

  // The presigned ResponseURL's signature never reaches a log line.
  ASSERT_FALSE(session_->sink().lines().empty());
  for (const auto& line : session_->sink().lines()) EXPECT_EQ(line.find("Signature="), std::string::npos) << line;
}

TEST_F(LifecycleResource, InvalidPolicyFailsWithTheValidatorsFindingsAndTouchesNothing) {
  Json::Value p = pattern_props("svc-*", false);
  std::string bad = kUntaggedPolicy;
  bad.replace(bad.find("\"countNumber\":1"), 15, "\"countNumber\":0");
  p["Policy"] = bad;
  const auto r = response(send("Create", p));
  EXPECT_EQ(r["Status"].asString(), "FAILED");
  EXPECT_NE(r["Reason"].asString().find("rules[0].selection.countNumber"), std::string::npos) << r["Reason"].asString();
  EXPECT_NE(r["PhysicalResourceId"].asString().find("CREATE_FAILED"), std::string::npos) << r["PhysicalResourceId"].asString();
  for (int i = 0; i < kServiceRepositories; ++i) EXPECT_FALSE(has_policy("svc-" + std::to_string(i)));
  EXPECT_EQ(aws_.metrics()["operations"]["PutLifecyclePolicy"]["calls"].asUInt64(), 0u);

  // The Delete CloudFormation sends for the failed Create touches nothing and succeeds.
  const auto del = response(send("Delete", p, std::nullopt, r["PhysicalResourceId"].asString()));
  EXPECT_EQ(del["Status"].asString(), "SUCCESS");
}

TEST_F(LifecycleResource, PropertiesNeedExactlyOneTargetAndNoUnknownNames) {
  Json::Value both = pattern_props("svc-*", true);
  both["RepositoryNames"].append("svc-0");
  auto r = response(send("Create", both));
  EXPECT_EQ(r["Status"].asString(), "FAILED");
  EXPECT_NE(r["Reason"].asString().find("exactly one of RepositoryNames and RepositoryPattern"), std::string::npos);

  Json::Value typo = pattern_props("svc-*", true);
  typo["RepositoryPatern"] = "x";
  r = response(send("Create", typo));
  EXPECT_EQ(r["Status"].asString(), "FAILED");
  EXPECT_NE(r["Reason"].asString().find("RepositoryPatern"), std::string::npos);
}

TEST_F(LifecycleResource, MissingRepositoryFailsCreateWithItsName) {
  Json::Value p(Json::objectValue);
  p["Policy"] = kUntaggedPolicy;
  p["RepositoryNames"].append("svc-0");
  p["RepositoryNames"].append("does-not-exist");
  const auto r = response(send("Create", p));
  EXPECT_EQ(r["Status"].asString(), "FAILED");
  EXPECT_NE(r["Reason"].asString().find("does-not-exist"), std::string::npos) << r["Reason"].asString();
}

TEST_F(LifecycleResource, UndeliverableResponseIsAnErrorForTheRuntime) {
  aws_.s3().fail_next(100, 403);
  Json::Value e(Json::objectValue);
  e["RequestType"] = "Delete";
  e["ResponseURL"] = aws_.s3().make_response_url("policies%7CGovern%7Cforbidden");
  e["StackId"] = kStackId;
  e["RequestId"] = "forbidden";
  e["LogicalResourceId"] = "Govern";
  e["PhysicalResourceId"] = "ecr-sweeper:lifecycle:Govern";
  e["ResourceType"] = handler::kLifecycleResourceType;
  e["ResourceProperties"] = pattern_props("none-*", true);
  auto reply = mode_->handle(e, handler::InvocationInfo{"x", {}, kToken});
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code, "ResponseNotDelivered");
  EXPECT_EQ(reply.error().describe().find("Signature="), std::string::npos) << reply.error().describe();
}

}  // namespace
}  // namespace ecrs::lifecycle_cli_test
