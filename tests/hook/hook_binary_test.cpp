// The stack-deletion hook end to end: Hooks requests written from the documented input shape, queued on
// localaws's Lambda Runtime API, answered by the real `bootstrap` running as a child process against localaws's
// ECR and CloudFormation. Every answer must be the documented Lambda result with clientRequestToken echoed.
//
// Budget: the hook works until the earlier of the Hooks wait and Lambda-Runtime-Deadline-Ms less
// kHookReplyReserve (handler/hook_flow.hpp). A per-invocation timeout of kShortTimeout leaves about a second of
// work; with BatchDeleteImage slowed to kSlowBatch and one call at a time, at most a handful of the 50 batches of
// 5,000 images fit in it however fast or slow the machine is, so the outcome (IN_PROGRESS / FAILED) is fixed and
// only the number deleted varies, which the assertions read from localaws rather than predict.
#include <gtest/gtest.h>
#include <json/writer.h>  // operator<< for Json::Value in failure messages

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "ecrs/cfn/hook.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/ecr/deletion_planner.hpp"
#include "ecrs/handler/hook_flow.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "hook_test_support.hpp"
#include "support/lambda_env.hpp"
#include "support/log_records.hpp"
#include "support/process.hpp"

namespace ecrs::handler {
namespace {

using namespace hook_testing;
using namespace std::chrono_literals;

// Distinctive, so a leak into the log is found by a plain search.
constexpr const char* kSecretKey = "hookbin-secret-9f4c2e7a1b";
// Lambda-Runtime-Deadline-Ms = hand-out + this: kHookReplyReserve (2 s) leaves ~1 s of work.
constexpr std::chrono::milliseconds kShortTimeout = 3000ms;
constexpr std::chrono::milliseconds kSlowBatch = 200ms;
// How long a test waits for one answer: generous for a loaded sanitizer build; answers come far sooner.
constexpr std::chrono::milliseconds kAnswerWait = 60s;
constexpr std::size_t kBigRepository = 5000;

localaws::StackResourceSpec repository_resource(const std::string& physical_id, const std::string& status) {
  localaws::StackResourceSpec r;
  r.logical_resource_id = kLogicalId;
  r.physical_resource_id = physical_id;
  r.resource_type = kEcrRepository;
  r.resource_status = status;
  return r;
}

class HookBinaryTest : public ::testing::Test {
 protected:
  HookBinaryTest() {
    localaws::Options o;
    o.secret_access_key = Secret(kSecretKey);
    server_ = std::make_unique<localaws::LocalAws>(o);
    server_->start();
  }

  ~HookBinaryTest() override {
    child_.reset();
    server_->stop();
  }

  // The bootstrap, started once per test, sequential deletion (unless told) so a slowed batch bounds what one
  // budget can do.
  void start_bootstrap(int concurrency = 1) {
    test_support::LambdaEnvSpec spec{server_->runtime_api(), server_->endpoint()};
    spec.secret_access_key = kSecretKey;
    auto env = test_support::lambda_env(spec);
    env["ECRS_CONCURRENCY"] = std::to_string(concurrency);
    ASSERT_TRUE(std::filesystem::exists(test_support::bootstrap_path())) << test_support::bootstrap_path();
    child_ = std::make_unique<test_support::ChildProcess>(std::vector<std::string>{test_support::bootstrap_path()}, env);
    // The first deadline is counted from the hand-out, but a slow start must not eat a short budget either.
    ASSERT_TRUE(server_->runtime().wait_polling(kAnswerWait)) << child_->err();
  }

  // One invocation through the Runtime API; the answer checked against the documented shape.
  Json::Value ask(const Json::Value& event, std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    const std::string id = server_->runtime().invoke(to_compact_json(event), timeout);
    auto outcome = server_->runtime().wait_outcome(id, kAnswerWait);
    EXPECT_TRUE(outcome.has_value()) << "no answer for " << id << "\n" << child_->out() << child_->err();
    if (!outcome) return Json::Value();
    EXPECT_EQ(outcome->kind, "response") << outcome->body;
    return checked_answer(outcome->body, event["clientRequestToken"].asString());
  }

  void seed(const std::string& repo, std::size_t images) {
    ASSERT_TRUE(server_->ecr().create_repository(repo));
    for (std::size_t i = 0; i < images; ++i) server_->ecr().put_image(repo, i % 2 == 0 ? "" : "v" + std::to_string(i));
    ASSERT_EQ(server_->ecr().image_count(repo), images);
  }

  std::uint64_t calls(const std::string& op) const { return ecr_calls(server_->metrics(), op); }
  std::uint64_t all_ecr_calls() const { return hook_testing::all_ecr_calls(server_->metrics()); }

  // stdout is the log: JSON objects one per line, never a key, a signature or an Authorization header.
  std::size_t expect_clean_log() const {
    const std::string log = child_->out();
    std::istringstream in(log);
    std::size_t lines = 0;
    for (std::string line; std::getline(in, line);) {
      ++lines;
      auto parsed = parse_json(line, "log line");
      EXPECT_TRUE(parsed.has_value() && parsed->isObject()) << line;
      EXPECT_EQ(line.find(kSecretKey), std::string::npos) << line;
      EXPECT_EQ(line.find("Signature="), std::string::npos) << line;
      EXPECT_EQ(line.find("AWS4-HMAC-SHA256 Credential"), std::string::npos) << line;
    }
    EXPECT_EQ(child_->err().find(kSecretKey), std::string::npos);
    return lines;
  }

  std::unique_ptr<localaws::LocalAws> server_;
  std::unique_ptr<test_support::ChildProcess> child_;
};

TEST_F(HookBinaryTest, EmptyRepositoryAnswersSuccess) {
  seed("web", 0);
  start_bootstrap();
  const Json::Value a = ask(hook_event("t-empty", kEcrRepository, kDeletePreProvision, delete_model("web")));
  EXPECT_EQ(a["hookStatus"].asString(), "SUCCESS") << a;
  EXPECT_NE(a["message"].asString().find("0 images deleted"), std::string::npos) << a;
  EXPECT_EQ(calls("BatchDeleteImage"), 0u);
  EXPECT_TRUE(server_->ecr().has_repository("web"));  // the hook empties; CloudFormation deletes
  expect_clean_log();
}

TEST_F(HookBinaryTest, FiveThousandImagesContinueAcrossInvocationsWithTheContextRoundTripped) {
  seed("big", kBigRepository);
  server_->set_latency("BatchDeleteImage", kSlowBatch);
  start_bootstrap();
  const Json::Value first =
      ask(hook_event("t-big", kEcrRepository, kDeletePreProvision, delete_model("big")), kShortTimeout);
  ASSERT_EQ(first["hookStatus"].asString(), "IN_PROGRESS") << first;
  EXPECT_EQ(first["callbackDelaySeconds"].asInt(), kHookCallbackDelaySeconds);
  auto progress = cfn::read_hook_progress(first["callbackContext"]);
  ASSERT_TRUE(progress.has_value() && progress->has_value()) << first;
  EXPECT_EQ((*progress)->repository, "big");
  EXPECT_EQ((*progress)->invocations, 1);
  const std::uint64_t deleted_first = (*progress)->deleted;
  EXPECT_LT(deleted_first, kBigRepository);
  EXPECT_EQ(server_->ecr().image_count("big"), kBigRepository - deleted_first);

  // Hooks wait callbackDelaySeconds, then invoke again with invocation + 1 and the context we returned. ECR is
  // fast again and the default 15-minute function timeout leaves the full Hooks wait: the rest goes.
  server_->set_latency("BatchDeleteImage", 0ms);
  const Json::Value second = ask(hook_event("t-big", kEcrRepository, kDeletePreProvision, delete_model("big"), 2,
                                            first["callbackContext"]));
  EXPECT_EQ(second["hookStatus"].asString(), "SUCCESS") << second;
  EXPECT_NE(second["message"].asString().find("5000 images deleted in 2 invocations"), std::string::npos) << second;
  EXPECT_EQ(server_->ecr().image_count("big"), 0u);
  // Each digest deleted once: no more batches than ceil(5000 / 100) plus the batch cut at the first deadline.
  EXPECT_LE(calls("BatchDeleteImage"), kBigRepository / ecr::kMaxBatchDeleteIds + 1);
  expect_clean_log();

  // One EMF record per invocation, each with its own share: Continuations 1 where the hook answered IN_PROGRESS
  // (the rest handed to Hooks' next invocation), 0 where it answered SUCCESS; the shares add up to what went.
  const auto records = test_support::emf_records(child_->out());
  ASSERT_EQ(records.size(), 2u) << child_->out();
  for (const auto& r : records) {
    EXPECT_EQ(r["Mode"].asString(), "hook") << r;
    EXPECT_EQ(r["Repository"].asString(), "big") << r;
    EXPECT_EQ(r["Failures"].asUInt64(), 0u) << r;
  }
  EXPECT_EQ(records[0]["Continuations"].asUInt64(), 1u) << records[0];
  EXPECT_EQ(records[1]["Continuations"].asUInt64(), 0u) << records[1];
  EXPECT_EQ(records[0]["ImagesDeleted"].asUInt64(), deleted_first) << records[0];
  EXPECT_EQ(test_support::sum_field(records, "ImagesDeleted"), kBigRepository) << records[1];
}

// BytesReclaimed is the engine's EmptyReport::bytes_deleted: imageSizeInBytes of what each invocation deleted
// (plain images only: an index's imageSizeInBytes repeats its largest child's). The first invocation runs out of
// time (IN_PROGRESS), the second finishes; the records' sum is the repository's size before the run, short only
// by images of a call cut at the first deadline, which no invocation counted.
TEST_F(HookBinaryTest, BytesReclaimedOverInvocationsSumToTheSizesOfTheImagesDeleted) {
  constexpr std::size_t kImages = 1500;
  seed("sized", kImages);
  std::uint64_t bytes = 0;
  const auto before = server_->ecr().repository("sized");
  ASSERT_TRUE(before.has_value());
  for (const auto& [digest, image] : before->images) bytes += static_cast<std::uint64_t>(image.size_bytes);
  server_->set_latency("BatchDeleteImage", kSlowBatch);
  start_bootstrap();
  const Json::Value first =
      ask(hook_event("t-sized", kEcrRepository, kDeletePreProvision, delete_model("sized")), kShortTimeout);
  ASSERT_EQ(first["hookStatus"].asString(), "IN_PROGRESS") << first;
  server_->set_latency("BatchDeleteImage", 0ms);
  const Json::Value second = ask(hook_event("t-sized", kEcrRepository, kDeletePreProvision, delete_model("sized"), 2,
                                            first["callbackContext"]));
  ASSERT_EQ(second["hookStatus"].asString(), "SUCCESS") << second;
  ASSERT_EQ(server_->ecr().image_count("sized"), 0u);
  const std::string log = child_->out();
  const auto records = test_support::emf_records(log);
  ASSERT_EQ(records.size(), 2u) << log;
  for (const auto& r : records) {
    EXPECT_EQ(r["BytesReclaimed"].asInt64() > 0, r["ImagesDeleted"].asUInt64() > 0) << r;
  }
  const std::uint64_t summed = test_support::sum_field(records, "BytesReclaimed");
  if (test_support::sum_field(test_support::log_records(log, "emptying finished"), "possibly_deleted") == 0) {
    EXPECT_EQ(summed, bytes);
  } else {
    EXPECT_LT(summed, bytes);
    EXPECT_GT(summed, 0u);
  }
}

TEST_F(HookBinaryTest, MoreThanTheAllowedInvocationsCanFinishFailsWithTheCountLeft) {
  seed("huge", kBigRepository);
  server_->set_latency("BatchDeleteImage", kSlowBatch);
  start_bootstrap();
  Json::Value context;
  Json::Value last;
  int answers = 0;
  for (int invocation = 1; invocation <= cfn::kMaxHookInvocations + 1; ++invocation) {
    last = ask(hook_event("t-huge", kEcrRepository, kDeletePreProvision, delete_model("huge"), invocation, context),
               kShortTimeout);
    ++answers;
    if (last["hookStatus"].asString() != "IN_PROGRESS") break;
    context = last["callbackContext"];
    auto progress = cfn::read_hook_progress(context);
    ASSERT_TRUE(progress.has_value() && progress->has_value()) << last;
    EXPECT_EQ((*progress)->invocations, invocation);
  }
  EXPECT_EQ(answers, cfn::kMaxHookInvocations);
  ASSERT_EQ(last["hookStatus"].asString(), "FAILED") << last;
  EXPECT_EQ(last["errorCode"].asString(), "InternalFailure");
  const std::size_t left = server_->ecr().image_count("huge");
  ASSERT_GT(left, 0u);
  const std::string msg = last["message"].asString();
  EXPECT_NE(msg.find(std::to_string(kBigRepository - left) + " images deleted"), std::string::npos) << msg;
  // "At least": the count is what the last listing saw, and a pass cut by the deadline lists only part of what
  // is left (under ASan, 2,000 of 2,200). It must never claim more than is there.
  const auto at = msg.find("at least ");
  ASSERT_NE(at, std::string::npos) << msg;
  const std::size_t claimed = std::stoul(msg.substr(at + 9));
  EXPECT_GT(claimed, 0u) << msg;
  EXPECT_LE(claimed, left) << msg;
  EXPECT_NE(msg.find(std::to_string(claimed) + " images left"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 invocations"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ecr-sweeper empty huge"), std::string::npos) << msg;
  expect_clean_log();
}

TEST_F(HookBinaryTest, MissingRepositoryAnswersSuccess) {
  start_bootstrap();
  const Json::Value a = ask(hook_event("t-gone", kEcrRepository, kDeletePreProvision, delete_model("never-was")));
  EXPECT_EQ(a["hookStatus"].asString(), "SUCCESS") << a;
  EXPECT_NE(a["message"].asString().find("does not exist"), std::string::npos) << a;
  EXPECT_EQ(calls("ListImages"), 0u);
  EXPECT_EQ(calls("BatchDeleteImage"), 0u);
  expect_clean_log();
}

TEST_F(HookBinaryTest, NonEcrTargetsAnswerSuccessWithoutAnyEcrCall) {
  seed("web", 3);
  start_bootstrap();
  const Json::Value bucket = ask(hook_event("t-s3", "AWS::S3::Bucket", kDeletePreProvision, delete_model("web")));
  EXPECT_EQ(bucket["hookStatus"].asString(), "SUCCESS") << bucket;
  const Json::Value create =
      ask(hook_event("t-create", kEcrRepository, "CREATE_PRE_PROVISION", delete_model("web")));
  EXPECT_EQ(create["hookStatus"].asString(), "SUCCESS") << create;
  EXPECT_EQ(all_ecr_calls(), 0u) << server_->metrics();
  EXPECT_EQ(server_->cloudformation().calls("DescribeStackResource"), 0u);
  EXPECT_EQ(server_->ecr().image_count("web"), 3u);
  expect_clean_log();
}

TEST_F(HookBinaryTest, KeepOnDeleteTagFailsNonCompliantAndDeletesNothing) {
  seed("precious", 5);
  {
    std::lock_guard lock(server_->ecr().mutex());
    server_->ecr().repositories_unlocked().at("precious").tags[std::string(kKeepOnDeleteTagKey)] = "true";
  }
  start_bootstrap();
  const Json::Value a = ask(hook_event("t-keep", kEcrRepository, kDeletePreProvision, delete_model("precious")));
  EXPECT_EQ(a["hookStatus"].asString(), "FAILED") << a;
  EXPECT_EQ(a["errorCode"].asString(), "NonCompliant") << a;
  EXPECT_NE(a["message"].asString().find("ecr-sweeper:keep-on-delete=true"), std::string::npos) << a;
  EXPECT_EQ(server_->ecr().image_count("precious"), 5u);
  EXPECT_EQ(calls("ListImages"), 0u);
  EXPECT_EQ(calls("BatchDeleteImage"), 0u);
  expect_clean_log();
}

TEST_F(HookBinaryTest, AutoNamedRepositoryIsResolvedThroughLocalawsCloudFormationAndEmptied) {
  const std::string physical = "web-images-images-a1b2c3d4e5f6";
  seed(physical, 250);
  seed("decoy", 4);  // a repository the hook must not touch
  ASSERT_EQ(server_->cloudformation().put_stack(kStackName, kStackId), kStackId);
  ASSERT_TRUE(server_->cloudformation().put_resource(kStackId, repository_resource(physical, "DELETE_IN_PROGRESS")));
  ASSERT_TRUE(server_->cloudformation().set_stack_status(kStackId, "DELETE_IN_PROGRESS"));
  start_bootstrap();
  const Json::Value a = ask(hook_event("t-auto", kEcrRepository, kDeletePreProvision, auto_named_delete_model()));
  EXPECT_EQ(a["hookStatus"].asString(), "SUCCESS") << a;
  EXPECT_NE(a["message"].asString().find(physical), std::string::npos) << a;
  EXPECT_NE(a["message"].asString().find("250 images deleted"), std::string::npos) << a;
  EXPECT_EQ(server_->cloudformation().calls("DescribeStackResource"), 1u);
  EXPECT_EQ(server_->ecr().image_count(physical), 0u);
  EXPECT_EQ(server_->ecr().image_count("decoy"), 4u);
  expect_clean_log();
}

TEST_F(HookBinaryTest, AutoNamedRepositoryThatWasNeverCreatedAnswersSuccess) {
  server_->cloudformation().put_stack(kStackName, kStackId);
  // A repository whose creation failed has no physical id: DescribeStackResource omits PhysicalResourceId.
  ASSERT_TRUE(server_->cloudformation().put_resource(kStackName, repository_resource("", "CREATE_FAILED")));
  start_bootstrap();
  const Json::Value a = ask(hook_event("t-never", kEcrRepository, kDeletePreProvision, auto_named_delete_model()));
  EXPECT_EQ(a["hookStatus"].asString(), "SUCCESS") << a;
  EXPECT_NE(a["message"].asString().find("never created"), std::string::npos) << a;
  EXPECT_EQ(all_ecr_calls(), 0u) << server_->metrics();
}

TEST_F(HookBinaryTest, AStackThatDoesNotKnowTheResourceFailsWithCloudFormationsMessage) {
  server_->cloudformation().put_stack(kStackName, kStackId);
  start_bootstrap();
  const Json::Value a = ask(hook_event("t-unknown", kEcrRepository, kDeletePreProvision, auto_named_delete_model()));
  EXPECT_EQ(a["hookStatus"].asString(), "FAILED") << a;
  EXPECT_EQ(a["errorCode"].asString(), "InternalFailure") << a;
  EXPECT_NE(a["message"].asString().find("Resource Images does not exist for stack web-images"), std::string::npos)
      << a;
  EXPECT_EQ(all_ecr_calls(), 0u);
  expect_clean_log();
}

TEST_F(HookBinaryTest, MalformedRequestsGetAnAnswerAndTheRuntimeServesTheNextOne) {
  seed("web", 7);
  start_bootstrap();
  Json::Value bad_model = hook_event("t-bad", kEcrRepository, kDeletePreProvision, delete_model("web"));
  bad_model["requestData"]["targetModel"] = "not an object";
  const Json::Value a = ask(bad_model);
  EXPECT_EQ(a["hookStatus"].asString(), "FAILED") << a;
  EXPECT_EQ(a["errorCode"].asString(), "InternalFailure") << a;
  EXPECT_NE(a["message"].asString().find("targetModel"), std::string::npos) << a;

  Json::Value forged = hook_event("t-ctx", kEcrRepository, kDeletePreProvision, delete_model("web"), 2);
  forged["requestContext"]["callbackContext"]["ecrSweeper"] = "garbage";
  const Json::Value b = ask(forged);
  EXPECT_EQ(b["hookStatus"].asString(), "FAILED") << b;
  EXPECT_EQ(all_ecr_calls(), 0u);
  EXPECT_EQ(server_->ecr().image_count("web"), 7u);

  const Json::Value c = ask(hook_event("t-next", kEcrRepository, kDeletePreProvision, delete_model("web")));
  EXPECT_EQ(c["hookStatus"].asString(), "SUCCESS") << c;
  EXPECT_EQ(server_->ecr().image_count("web"), 0u);
  EXPECT_EQ(server_->runtime().outcomes().size(), 3u);
  expect_clean_log();
}

TEST_F(HookBinaryTest, LogIsJsonLinesNamingEachAnswerAndNoSecret) {
  seed("web", 120);
  start_bootstrap();
  ask(hook_event("t-log-1", kEcrRepository, kDeletePreProvision, delete_model("web")));
  ask(hook_event("t-log-2", "AWS::SQS::Queue", kDeletePreProvision, Json::Value(Json::objectValue)));
  ASSERT_TRUE(server_->runtime().wait_idle(kAnswerWait));
  EXPECT_GT(expect_clean_log(), 2u);
  const std::string log = child_->out();
  for (const char* token : {"t-log-1", "t-log-2"}) {
    bool answered = false;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
      if (line.find("hook answered") != std::string::npos &&
          line.find(std::string("\"client_request_token\":\"") + token + "\"") != std::string::npos) {
        answered = true;
        EXPECT_NE(line.find("\"hook_status\":\"SUCCESS\""), std::string::npos) << line;
      }
    }
    EXPECT_TRUE(answered) << token << "\n" << log;
  }
}

// Lambda's default 3 s timeout (about 2.2 s of work after kHookReplyReserve), every ECR call 40 ms, two deletes
// in flight: at most 110 batches fit in one invocation however fast the machine, so 12,000 images need a second
// one, and the three invocations Hooks allows have room to spare. Each IN_PROGRESS says how many are deleted and
// how many are at least left, both checked against localaws; then SUCCESS with the repository empty.
TEST_F(HookBinaryTest, AThreeSecondBudgetWithSlowCallsReportsDeletedAndLeftThenSucceeds) {
  constexpr std::size_t kImages = 12000;
  seed("slow", kImages);
  server_->set_latency("*", 40ms);
  start_bootstrap(2);
  Json::Value context;
  Json::Value last;
  int in_progress = 0;
  for (int invocation = 1; invocation <= cfn::kMaxHookInvocations; ++invocation) {
    last = ask(hook_event("t-slow", kEcrRepository, kDeletePreProvision, delete_model("slow"), invocation, context),
               kShortTimeout);
    if (last["hookStatus"].asString() != "IN_PROGRESS") break;
    ++in_progress;
    context = last["callbackContext"];
    auto progress = cfn::read_hook_progress(context);
    ASSERT_TRUE(progress.has_value() && progress->has_value()) << last;
    const std::uint64_t deleted = (*progress)->deleted;
    const std::size_t left = server_->ecr().image_count("slow");
    EXPECT_GT(deleted, 0u) << last;
    // A batch cut at the deadline may be deleted without being counted, never the other way round.
    EXPECT_LE(deleted, kImages - left) << last;
    const std::string msg = last["message"].asString();
    EXPECT_NE(msg.find(std::to_string(deleted) + " images deleted so far"), std::string::npos) << msg;
    const std::string at_least = "at least ";
    const auto pos = msg.find(at_least);
    ASSERT_NE(pos, std::string::npos) << msg;
    const std::uint64_t said_left = std::stoull(msg.substr(pos + at_least.size()));
    EXPECT_GT(said_left, 0u) << msg;
    EXPECT_LE(said_left, left) << msg;
  }
  EXPECT_GE(in_progress, 1);
  ASSERT_EQ(last["hookStatus"].asString(), "SUCCESS") << last << child_->out();
  EXPECT_EQ(server_->ecr().image_count("slow"), 0u);
  EXPECT_NE(last["message"].asString().find("in " + std::to_string(in_progress + 1) + " invocations"),
            std::string::npos)
      << last;
  expect_clean_log();
}

}  // namespace
}  // namespace ecrs::handler
