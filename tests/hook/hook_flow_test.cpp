// HookFlow against localaws's ECR on 127.0.0.1:0 (real CurlTransport, SigV4, executor) and a scripted
// CloudFormation endpoint. Requests follow the documented Lambda Hooks resource input (Hooks User Guide,
// lambda-hooks-create-lambda-function.html); every answer is checked against the documented response shape.
//
// Time is a FakeClock that localaws advances on each BatchDeleteImage ("each batch takes a second"), so an
// invocation's budget cuts the deletion at a deterministic point without wall time.
#include <gtest/gtest.h>
#include <json/writer.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ecrs/aws/client.hpp"
#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/cfn/hook.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "ecrs/handler/hook_flow.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "hook_test_support.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::handler {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using namespace hook_testing;

constexpr seconds kBatchCost{1};  // fake time each BatchDeleteImage call takes

class HookFlowTest : public ::testing::Test {
 protected:
  HookFlowTest() : clock_(std::chrono::system_clock::now()), random_(0.5), logger_(sink_, clock_, LogLevel::debug) {
    server_ = std::make_unique<localaws::LocalAws>(localaws::Options{});
    server_->start();
    transport_ = std::make_unique<aws::CurlTransport>(env_);
    sigv4::Credentials creds;
    creds.access_key_id = "test";
    creds.secret_access_key = Secret("test");
    credentials_ = std::make_unique<aws::StaticCredentialsProvider>(creds);
    ecr_aws_ = std::make_unique<aws::AwsClient>(context(), aws::Endpoint{server_->endpoint(), "us-east-1", "ecr"});
    ecr_ = std::make_unique<ecr::EcrClient>(*ecr_aws_);
    server_->on_call("BatchDeleteImage", [this](localaws::EcrState&) { clock_.advance(kBatchCost); });
  }
  ~HookFlowTest() override { server_->stop(); }

  aws::AwsContext context() { return aws::AwsContext{*transport_, *credentials_, clock_, clock_, random_, retry_, &logger_}; }

  // Sequential deletion, so a budget of N seconds deletes about N batches.
  HookFlowConfig config(seconds window) {
    HookFlowConfig c;
    c.concurrency = 1;
    c.invocation_wait = window + c.wait_margin;
    return c;
  }

  std::unique_ptr<HookFlow> flow(HookFlowConfig c, StackResourceResolver* stacks = nullptr) {
    return std::make_unique<HookFlow>(*ecr_, stacks, c, clock_, clock_, random_, logger_);
  }

  std::string handle(HookFlow& f, const Json::Value& event) {
    return f.handle(event, clock_.now() + std::chrono::minutes(15));
  }

  void seed(const std::string& repo, std::size_t images) {
    ASSERT_TRUE(server_->ecr().create_repository(repo));
    for (std::size_t i = 0; i < images; ++i) server_->ecr().put_image(repo, i % 2 == 0 ? "" : "v" + std::to_string(i));
    ASSERT_EQ(server_->ecr().image_count(repo), images);
  }

  void tag(const std::string& repo, const std::string& key, const std::string& value) {
    std::lock_guard lock(server_->ecr().mutex());
    server_->ecr().repositories_unlocked().at(repo).tags[key] = value;
  }

  std::uint64_t calls(const std::string& op) const { return ecr_calls(server_->metrics(), op); }
  std::uint64_t all_calls() const { return all_ecr_calls(server_->metrics()); }

  FakeClock clock_;
  FixedRandom random_;
  CaptureSink sink_;
  Logger logger_;
  MapEnvironment env_;
  aws::RetryStrategy retry_;
  std::unique_ptr<localaws::LocalAws> server_;
  std::unique_ptr<aws::CurlTransport> transport_;
  std::unique_ptr<aws::StaticCredentialsProvider> credentials_;
  std::unique_ptr<aws::AwsClient> ecr_aws_;
  std::unique_ptr<ecr::EcrClient> ecr_;
};

TEST_F(HookFlowTest, EmptyRepositoryAnswersSuccess) {
  seed("web", 0);
  auto f = flow(config(seconds(20)));
  const Json::Value a = checked_answer(handle(*f, hook_event("t-empty", "AWS::ECR::Repository", "DELETE_PRE_PROVISION",
                                                             delete_model("web"))), "t-empty");
  EXPECT_EQ(a["hookStatus"].asString(), "SUCCESS");
  EXPECT_NE(a["message"].asString().find("0 images deleted"), std::string::npos) << a["message"];
  EXPECT_EQ(calls("BatchDeleteImage"), 0u);
}

TEST_F(HookFlowTest, SmallRepositoryIsEmptiedInOneInvocation) {
  seed("web", 250);
  auto f = flow(config(seconds(20)));
  const Json::Value a = checked_answer(handle(*f, hook_event("t1", "AWS::ECR::Repository", "DELETE_PRE_PROVISION",
                                                             delete_model("web"))), "t1");
  EXPECT_EQ(a["hookStatus"].asString(), "SUCCESS") << a;
  EXPECT_NE(a["message"].asString().find("250 images deleted"), std::string::npos) << a["message"];
  EXPECT_EQ(server_->ecr().image_count("web"), 0u);
  EXPECT_TRUE(server_->ecr().has_repository("web"));  // the hook empties; CloudFormation deletes
}

TEST_F(HookFlowTest, FiveThousandImagesContinueAcrossInvocationsWithTheContextRoundTripped) {
  seed("big", 5000);
  // 35 s of batches per invocation: about 3,500 images in the first, the rest in the second.
  auto f = flow(config(seconds(35)));
  const Json::Value first = checked_answer(
      handle(*f, hook_event("t-big", "AWS::ECR::Repository", "DELETE_PRE_PROVISION", delete_model("big"))), "t-big");
  ASSERT_EQ(first["hookStatus"].asString(), "IN_PROGRESS") << first;
  EXPECT_EQ(first["callbackDelaySeconds"].asInt(), kHookCallbackDelaySeconds);
  auto progress = cfn::read_hook_progress(first["callbackContext"]);
  ASSERT_TRUE(progress.has_value() && progress->has_value()) << first;
  const std::uint64_t deleted_first = (*progress)->deleted;
  EXPECT_EQ((*progress)->repository, "big");
  EXPECT_EQ((*progress)->invocations, 1);
  EXPECT_GT(deleted_first, 0u);
  EXPECT_LT(deleted_first, 5000u);
  EXPECT_EQ(server_->ecr().image_count("big"), 5000u - deleted_first);

  // Hooks re-invoke with the context we returned; the model stays the same.
  const Json::Value second = checked_answer(
      handle(*f, hook_event("t-big", "AWS::ECR::Repository", "DELETE_PRE_PROVISION", delete_model("big"), 2,
                            first["callbackContext"])), "t-big");
  EXPECT_EQ(second["hookStatus"].asString(), "SUCCESS") << second;
  EXPECT_NE(second["message"].asString().find("5000 images deleted in 2 invocations"), std::string::npos)
      << second["message"];
  EXPECT_EQ(server_->ecr().image_count("big"), 0u);
  // Each digest deleted once: no more batches than ceil(5000 / 100), plus the cut batch boundary.
  EXPECT_LE(calls("BatchDeleteImage"), 5000u / ecr::kMaxImageIdsPerCall + 1);
}

TEST_F(HookFlowTest, MoreThanTheAllowedInvocationsCanFinishFailsWithTheCountLeft) {
  seed("huge", 5000);
  // 10 s per invocation, about 1,000 images each: three invocations cannot finish 5,000.
  auto f = flow(config(seconds(10)));
  Json::Value context;
  Json::Value last;
  int answers = 0;
  for (int invocation = 1; invocation <= cfn::kMaxHookInvocations; ++invocation) {
    last = checked_answer(handle(*f, hook_event("t-huge", "AWS::ECR::Repository", "DELETE_PRE_PROVISION",
                                                delete_model("huge"), invocation, context)), "t-huge");
    ++answers;
    if (last["hookStatus"].asString() != "IN_PROGRESS") break;
    context = last["callbackContext"];
  }
  EXPECT_EQ(answers, cfn::kMaxHookInvocations);
  ASSERT_EQ(last["hookStatus"].asString(), "FAILED") << last;
  EXPECT_EQ(last["errorCode"].asString(), "InternalFailure");
  const std::size_t left = server_->ecr().image_count("huge");
  EXPECT_GT(left, 0u);
  const std::string msg = last["message"].asString();
  EXPECT_NE(msg.find(std::to_string(5000 - left) + " images deleted"), std::string::npos) << msg;
  // The listing stops with the work, so what is left is known as a lower bound only.
  const auto at_least = msg.find("at least ");
  ASSERT_NE(at_least, std::string::npos) << msg;
  const std::size_t reported_left = std::stoul(msg.substr(at_least + 9));
  EXPECT_GT(reported_left, 0u) << msg;
  EXPECT_LE(reported_left, left) << msg;
  EXPECT_NE(msg.find("3 invocations"), std::string::npos) << msg;
}

TEST_F(HookFlowTest, MissingRepositoryAnswersSuccess) {
  auto f = flow(config(seconds(20)));
  const Json::Value a = checked_answer(handle(*f, hook_event("t-gone", "AWS::ECR::Repository", "DELETE_PRE_PROVISION",
                                                             delete_model("never-was"))), "t-gone");
  EXPECT_EQ(a["hookStatus"].asString(), "SUCCESS") << a;
  EXPECT_NE(a["message"].asString().find("does not exist"), std::string::npos);
  EXPECT_EQ(calls("BatchDeleteImage"), 0u);
}

TEST_F(HookFlowTest, OtherTargetsAndActionsSucceedWithoutAnyAwsCall) {
  seed("web", 3);
  auto f = flow(config(seconds(20)));
  struct Row {
    const char* target;
    const char* point;
  };
  for (const Row& row : {Row{"AWS::S3::Bucket", "DELETE_PRE_PROVISION"}, Row{"AWS::ECR::Repository", "CREATE_PRE_PROVISION"},
                         Row{"AWS::ECR::Repository", "UPDATE_PRE_PROVISION"}, Row{"AWS::ECR::PublicRepository", "DELETE_PRE_PROVISION"},
                         Row{"AWS::ECR::Repository", "DELETE_POST_PROVISION"}}) {
    const Json::Value a = checked_answer(handle(*f, hook_event("t-other", row.target, row.point, delete_model("web"))),
                                         "t-other");
    EXPECT_EQ(a["hookStatus"].asString(), "SUCCESS") << row.target << " " << row.point;
  }
  EXPECT_EQ(all_calls(), 0u) << server_->metrics();
  EXPECT_EQ(server_->ecr().image_count("web"), 3u);
}

TEST_F(HookFlowTest, KeepOnDeleteTagBlocksTheDeletionAsNonCompliant) {
  seed("precious", 5);
  tag("precious", "ecr-sweeper:keep-on-delete", "true");
  auto f = flow(config(seconds(20)));
  const Json::Value a = checked_answer(handle(*f, hook_event("t-keep", "AWS::ECR::Repository", "DELETE_PRE_PROVISION",
                                                             delete_model("precious"))), "t-keep");
  EXPECT_EQ(a["hookStatus"].asString(), "FAILED");
  EXPECT_EQ(a["errorCode"].asString(), "NonCompliant");
  EXPECT_NE(a["message"].asString().find("ecr-sweeper:keep-on-delete=true"), std::string::npos) << a["message"];
  EXPECT_NE(a["message"].asString().find("precious"), std::string::npos);
  EXPECT_EQ(server_->ecr().image_count("precious"), 5u);
  EXPECT_EQ(calls("ListImages"), 0u);
  EXPECT_EQ(calls("BatchDeleteImage"), 0u);
}

TEST_F(HookFlowTest, KeepOnDeleteOtherValuesDoNotBlock) {
  seed("ordinary", 5);
  tag("ordinary", "ecr-sweeper:keep-on-delete", "false");
  tag("ordinary", "team", "true");
  auto f = flow(config(seconds(20)));
  const Json::Value a = checked_answer(handle(*f, hook_event("t-k2", "AWS::ECR::Repository", "DELETE_PRE_PROVISION",
                                                             delete_model("ordinary"))), "t-k2");
  EXPECT_EQ(a["hookStatus"].asString(), "SUCCESS") << a;
  EXPECT_EQ(server_->ecr().image_count("ordinary"), 0u);
}

TEST_F(HookFlowTest, AutoNamedRepositoryIsResolvedThroughTheStack) {
  seed("web-images-images-a1b2c3d4e5f6", 1500);
  test::ScriptedHttpServer cloudformation;
  cloudformation.set_handler([](const test::RecordedRequest&) {
    return test::reply(200, describe_stack_resource_reply("web-images-images-a1b2c3d4e5f6"), {{"Content-Type", "text/xml"}});
  });
  aws::AwsClient cfn_aws(context(), aws::Endpoint{cloudformation.url(), "us-east-1", "cloudformation"});
  CloudFormationStackResolver stacks(cfn_aws);
  auto f = flow(config(seconds(10)), &stacks);
  Json::Value model(Json::objectValue);  // no RepositoryName: CloudFormation named it
  model["resourceProperties"] = Json::Value(Json::objectValue);
  model["previousResourceProperties"]["ImageTagMutability"] = "MUTABLE";

  const Json::Value first =
      checked_answer(handle(*f, hook_event("t-auto", "AWS::ECR::Repository", "DELETE_PRE_PROVISION", model)), "t-auto");
  ASSERT_EQ(first["hookStatus"].asString(), "IN_PROGRESS") << first;
  ASSERT_EQ(cloudformation.request_count(), 1u);
  const test::RecordedRequest req = cloudformation.requests().front();
  EXPECT_EQ(req.method, "POST");
  EXPECT_NE(req.body.find("Action=DescribeStackResource"), std::string::npos) << req.body;
  EXPECT_NE(req.body.find("Version=2010-05-15"), std::string::npos) << req.body;
  EXPECT_NE(req.body.find("LogicalResourceId=Images"), std::string::npos) << req.body;
  EXPECT_NE(req.body.find("StackName=arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack%2Fweb-images%2F"),
            std::string::npos) << req.body;
  ASSERT_TRUE(req.header("Authorization").has_value());
  EXPECT_NE(req.header("Authorization")->find("/cloudformation/aws4_request"), std::string::npos);

  // The name travels in the callback context: the second invocation asks the stack nothing.
  const Json::Value second = checked_answer(
      handle(*f, hook_event("t-auto", "AWS::ECR::Repository", "DELETE_PRE_PROVISION", model, 2, first["callbackContext"])),
      "t-auto");
  EXPECT_EQ(second["hookStatus"].asString(), "SUCCESS") << second;
  EXPECT_EQ(cloudformation.request_count(), 1u);
  EXPECT_EQ(server_->ecr().image_count("web-images-images-a1b2c3d4e5f6"), 0u);
}

TEST_F(HookFlowTest, AStackLookupFailureIsReportedAsInternalFailure) {
  test::ScriptedHttpServer cloudformation;
  cloudformation.set_handler([](const test::RecordedRequest&) {
    return test::reply(400, R"(<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error>
      <Type>Sender</Type><Code>ValidationError</Code><Message>Resource Images does not exist for stack web-images</Message>
      </Error><RequestId>r-1</RequestId></ErrorResponse>)", {{"Content-Type", "text/xml"}});
  });
  aws::AwsClient cfn_aws(context(), aws::Endpoint{cloudformation.url(), "us-east-1", "cloudformation"});
  CloudFormationStackResolver stacks(cfn_aws);
  auto f = flow(config(seconds(10)), &stacks);
  Json::Value model(Json::objectValue);
  model["previousResourceProperties"] = Json::Value(Json::objectValue);
  const Json::Value a =
      checked_answer(handle(*f, hook_event("t-err", "AWS::ECR::Repository", "DELETE_PRE_PROVISION", model)), "t-err");
  EXPECT_EQ(a["hookStatus"].asString(), "FAILED");
  EXPECT_EQ(a["errorCode"].asString(), "InternalFailure");
  EXPECT_NE(a["message"].asString().find("ValidationError"), std::string::npos) << a["message"];
  EXPECT_EQ(all_calls(), 0u);
}

TEST_F(HookFlowTest, AutoNamedRepositoryWithoutAStackClientFailsClearly) {
  auto f = flow(config(seconds(10)));
  Json::Value model(Json::objectValue);
  model["previousResourceProperties"] = Json::Value(Json::objectValue);
  const Json::Value a =
      checked_answer(handle(*f, hook_event("t-nostack", "AWS::ECR::Repository", "DELETE_PRE_PROVISION", model)), "t-nostack");
  EXPECT_EQ(a["hookStatus"].asString(), "FAILED");
  EXPECT_NE(a["message"].asString().find("RepositoryName"), std::string::npos) << a["message"];
}

TEST_F(HookFlowTest, MalformedRequestsStillGetAnAnswerWithTheTokenEchoed) {
  auto f = flow(config(seconds(10)));
  Json::Value bad = hook_event("t-bad", "AWS::ECR::Repository", "DELETE_PRE_PROVISION", delete_model("web"));
  bad["requestData"]["targetModel"] = "not an object";
  const Json::Value a = checked_answer(handle(*f, bad), "t-bad");
  EXPECT_EQ(a["hookStatus"].asString(), "FAILED");
  EXPECT_EQ(a["errorCode"].asString(), "InternalFailure");
  EXPECT_NE(a["message"].asString().find("targetModel"), std::string::npos);

  Json::Value forged = hook_event("t-ctx", "AWS::ECR::Repository", "DELETE_PRE_PROVISION", delete_model("web"), 2);
  forged["requestContext"]["callbackContext"]["ecrSweeper"] = "garbage";
  const Json::Value b = checked_answer(handle(*f, forged), "t-ctx");
  EXPECT_EQ(b["hookStatus"].asString(), "FAILED");
  EXPECT_EQ(all_calls(), 0u);
}

TEST_F(HookFlowTest, NoTimeLeftStillAnswersInsteadOfWorking) {
  seed("web", 300);
  auto f = flow(config(seconds(20)));
  // Lambda's deadline is closer than the reply reserve: nothing may start.
  const std::string body = f->handle(hook_event("t-late", "AWS::ECR::Repository", "DELETE_PRE_PROVISION", delete_model("web")),
                                     clock_.now() + milliseconds(500));
  const Json::Value a = checked_answer(body, "t-late");
  EXPECT_EQ(a["hookStatus"].asString(), "IN_PROGRESS") << a;
  EXPECT_EQ(calls("BatchDeleteImage"), 0u);
}

TEST_F(HookFlowTest, BudgetIsTheEarlierOfTheHooksWaitAndTheLambdaDeadline) {
  HookFlowConfig c;  // defaults: 30 s wait, 5 s margin, 2 s reply reserve
  auto f = flow(c);
  const auto t0 = clock_.now();
  EXPECT_EQ(f->work_until(t0, std::nullopt), t0 + seconds(25));
  EXPECT_EQ(f->work_until(t0, t0 + std::chrono::minutes(15)), t0 + seconds(25));
  EXPECT_EQ(f->work_until(t0, t0 + seconds(10)), t0 + seconds(10) - kHookReplyReserve);
}

TEST_F(HookFlowTest, LogsNeverCarryTheSecretKey) {
  seed("web", 10);
  auto f = flow(config(seconds(10)));
  checked_answer(handle(*f, hook_event("t-log", "AWS::ECR::Repository", "DELETE_PRE_PROVISION", delete_model("web"))), "t-log");
  const auto lines = sink_.lines();
  ASSERT_FALSE(lines.empty());
  bool answered = false;
  for (const auto& line : lines) {
    EXPECT_EQ(line.find("Signature="), std::string::npos) << line;
    EXPECT_EQ(line.find("AWS4-HMAC-SHA256 Credential"), std::string::npos) << line;
    if (line.find("hook answered") != std::string::npos) {
      answered = true;
      EXPECT_NE(line.find("\"client_request_token\":\"t-log\""), std::string::npos) << line;
      EXPECT_NE(line.find("\"hook_status\":\"SUCCESS\""), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(answered);
}

}  // namespace
}  // namespace ecrs::handler
