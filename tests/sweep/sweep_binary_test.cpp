// The organisation sweep task end to end through the real `bootstrap` (issue 12's required proof): the binary runs
// as a child process with a clean Lambda environment against the main LocalAws's Runtime API, which delivers
// {"ecrSweeper": {"task": "clean", ...}} events; the report comes back as the invocation's response body.
// The main LocalAws is the function's account (123456789012): STS, and the ECS/Lambda/App Runner worlds of every
// account. The member's registry (210987654321) is a second LocalAws reached through AWS_ENDPOINT_URL_ECR, keyed
// with the first credentials the main STS issues (Principals::issue is deterministic), as in sweep_mode_test.cpp.
// One child per test: a warm function reuses its assumed credentials, so it assumes the member role once.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>
#include <set>

#include "ecrs/common/json.hpp"
#include "ecrs/handler/sweep_mode.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "support/lambda_env.hpp"
#include "support/process.hpp"
#include "support/scripted_http_server.hpp"
#include "sweep_world.hpp"

namespace ecrs::handler {
namespace {

using namespace std::chrono_literals;
using namespace sweep_testing;

// Invocations answer in well under a second; generous for a loaded sanitizer build.
constexpr auto kOutcomeWait = 60s;
constexpr auto kChildWait = 10s;

Json::Value task_event(const std::string& role, std::optional<bool> dry_run = std::nullopt,
                       const std::string& cursor = "") {
  return sweep_testing::task_event(role, dry_run, cursor, "binary-run/1");
}

class SweepBinaryTest : public ::testing::Test {
 protected:
  SweepBinaryTest() : registry_(member_registry()) {}

  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(test_support::bootstrap_path())) << test_support::bootstrap_path();
    server_.start();
    registry_.start();
    world_.seed(server_, registry_);
  }

  void TearDown() override {
    if (child_) {
      const std::string log = child_->out() + child_->err();
      EXPECT_EQ(log.find(kMemberSecret), std::string::npos) << "the assumed secret key reached the log";
      EXPECT_EQ(log.find(kMemberToken), std::string::npos) << "the assumed session token reached the log";
      child_.reset();  // SIGKILL and reap before the servers go
    }
    registry_.stop();
    server_.stop();
  }

  std::map<std::string, std::string> env() {
    auto e = test_support::lambda_env({server_.runtime_api(), server_.endpoint()});
    e["AWS_ENDPOINT_URL_ECR"] = registry_.endpoint();
    return e;
  }
  void start(std::map<std::string, std::string> e) {
    child_ = std::make_unique<test_support::ChildProcess>(std::vector<std::string>{test_support::bootstrap_path()},
                                                          std::move(e));
  }
  void start() { start(env()); }

  // One invocation through the Runtime API; the reply must be a response (not /error), valid JSON, and below
  // Step Functions' payload limit.
  Json::Value invoke(const Json::Value& event, std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    const std::string id = server_.runtime().invoke(to_compact_json(event), timeout);
    auto outcome = server_.runtime().wait_outcome(id, kOutcomeWait);
    if (!outcome) {
      ADD_FAILURE() << "no outcome for " << id << "\n" << child_->err() << child_->out();
      return {};
    }
    EXPECT_EQ(outcome->kind, "response") << outcome->body;
    last_reply_bytes_ = outcome->body.size();
    EXPECT_LT(outcome->body.size(), kStepFunctionsPayloadLimit);
    auto doc = parse_json(outcome->body);
    EXPECT_TRUE(doc) << outcome->body.substr(0, 500);
    return doc ? *doc : Json::Value();
  }

  std::set<std::string> expected() { return world_.expected(); }
  std::set<std::string> present() { return world_.present(); }
  std::set<std::string> everything_but_expected() { return world_.everything_but_expected(); }
  std::size_t total_images() { return world_.total_images(); }
  std::uint64_t registry_calls(const char* op) { return world_.registry_calls(op); }

  localaws::LocalAws server_;
  localaws::LocalAws registry_;
  std::unique_ptr<test_support::ChildProcess> child_;
  sweep_testing::MemberWorld world_;
  std::size_t last_reply_bytes_ = 0;
};

TEST_F(SweepBinaryTest, DryRunByDefaultPlansAndDeletesNothing) {
  start();
  const auto before = total_images();
  auto doc = invoke(task_event(kMemberRole));
  EXPECT_TRUE(doc["complete"].asBool()) << to_compact_json(doc);
  EXPECT_TRUE(doc["dryRun"].asBool());
  EXPECT_EQ(doc["accountId"].asString(), kMember);
  EXPECT_EQ(doc["region"].asString(), "us-east-1");
  EXPECT_EQ(doc["repositoriesSeen"].asUInt64(), kRepos.size());
  EXPECT_EQ(doc["repositoriesProcessed"].asUInt64(), kRepos.size());
  EXPECT_EQ(doc["imagesPlanned"].asUInt64(), expected().size());
  EXPECT_EQ(doc["imagesDeleted"].asUInt64(), 0u);
  EXPECT_EQ(doc["inUseKept"].asUInt64(), 1u);
  EXPECT_GT(doc["bytes"].asInt64(), 0);
  EXPECT_FALSE(doc.isMember("error")) << to_compact_json(doc);
  EXPECT_FALSE(doc.isMember("cursor"));
  EXPECT_EQ(total_images(), before);
  EXPECT_EQ(registry_calls("BatchDeleteImage"), 0u);
}

TEST_F(SweepBinaryTest, ApplyDeletesThePlannedSetAndTheSameItemAgainDeletesNothingTwice) {
  start();
  auto doc = invoke(task_event(kMemberRole, false));
  EXPECT_TRUE(doc["complete"].asBool()) << to_compact_json(doc);
  EXPECT_FALSE(doc["dryRun"].asBool());
  EXPECT_EQ(doc["imagesPlanned"].asUInt64(), expected().size());
  EXPECT_EQ(doc["imagesDeleted"].asUInt64(), expected().size());
  EXPECT_EQ(present(), everything_but_expected());
  EXPECT_TRUE(present().count(world_.in_use())) << "the member account's running image was deleted";
  EXPECT_EQ(registry_.ecr().image_count("not-opted-in"), 1u);

  // Step Functions retries the same item (say the reply was lost): nothing more is planned or deleted.
  const auto deletes_before = registry_calls("BatchDeleteImage");
  auto again = invoke(task_event(kMemberRole, false));
  EXPECT_TRUE(again["complete"].asBool()) << to_compact_json(again);
  EXPECT_EQ(again["imagesPlanned"].asUInt64(), 0u);
  EXPECT_EQ(again["imagesDeleted"].asUInt64(), 0u);
  EXPECT_EQ(registry_calls("BatchDeleteImage"), deletes_before);
  EXPECT_EQ(present(), everything_but_expected());
}

// STS refuses the role the way it does when the member never deployed it or its trust policy names another
// principal: 403 AccessDenied (STS AssumeRole API reference, Errors). localaws's STS assumes any well-formed
// role, so a scripted STS (AWS_ENDPOINT_URL_STS) answers here; GetCallerIdentity still names the main account.
TEST_F(SweepBinaryTest, ARoleStsRefusesIsReportedWithCompleteFalseAndNothingIsTouched) {
  test::ScriptedHttpServer sts;
  sts.set_handler([](const test::RecordedRequest& req) {
    const test::HeaderList xml{{"Content-Type", "text/xml"}};
    if (req.body.find("Action=GetCallerIdentity") != std::string::npos) {
      return test::reply(200,
                         "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                         "<GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/ecr-sweeper/fn</Arn>"
                         "<UserId>AROAEXAMPLE:fn</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
                         "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
                         "</GetCallerIdentityResponse>",
                         xml);
    }
    return test::reply(403,
                       "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
                       "<Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/ecr-sweeper/fn"
                       " is not authorized to perform: sts:AssumeRole on resource: " +
                           std::string(kMemberRole) +
                           "</Message></Error><RequestId>req-2</RequestId></ErrorResponse>",
                       xml);
  });
  auto e = env();
  e["AWS_ENDPOINT_URL_STS"] = sts.url();
  start(e);
  const auto before = total_images();
  auto doc = invoke(task_event(kMemberRole, false));
  EXPECT_FALSE(doc["complete"].asBool()) << to_compact_json(doc);
  EXPECT_EQ(doc["error"]["code"].asString(), "AccessDenied") << to_compact_json(doc);
  EXPECT_NE(doc["error"]["message"].asString().find("sts:AssumeRole"), std::string::npos);
  EXPECT_EQ(doc["accountId"].asString(), kMember);
  EXPECT_EQ(doc["imagesDeleted"].asUInt64(), 0u);
  EXPECT_EQ(doc["repositoriesSeen"].asUInt64(), 0u);
  EXPECT_EQ(total_images(), before);
  EXPECT_EQ(registry_calls("DescribeRepositories"), 0u);
  EXPECT_EQ(registry_calls("BatchDeleteImage"), 0u);
  std::size_t assume_calls = 0;
  for (const auto& r : sts.requests()) {
    if (r.body.find("Action=AssumeRole") != std::string::npos) ++assume_calls;
  }
  EXPECT_GE(assume_calls, 1u);
}

TEST_F(SweepBinaryTest, AMalformedRoleArnIsReportedAndNothingIsTouched) {
  start();
  const auto before = total_images();
  // 7 digits: not an account, and not the function's own; localaws's STS answers ValidationError.
  auto event = task_event(kMemberRole, false);
  event["ecrSweeper"]["roleArn"] = "arn:aws:iam::2109876:role/typo";
  event["ecrSweeper"]["accountId"] = "2109876";
  auto doc = invoke(event);
  EXPECT_FALSE(doc["complete"].asBool());
  EXPECT_FALSE(doc["error"]["code"].asString().empty()) << to_compact_json(doc);
  EXPECT_EQ(doc["imagesDeleted"].asUInt64(), 0u);
  EXPECT_EQ(total_images(), before);
  EXPECT_EQ(registry_calls("DescribeRepositories"), 0u);
}

TEST_F(SweepBinaryTest, TheFunctionsOwnAccountIsRefused) {
  start();
  server_.ecr().create_repository("own");
  server_.ecr().put_image("own", "old", std::chrono::system_clock::now() - std::chrono::hours(24 * 100));
  const auto before = total_images();
  auto own = task_event(std::string("arn:aws:iam::") + kMainAccount + ":role/ecr-sweeper-member", false);
  own["ecrSweeper"]["options"]["repositories"].append("own");
  auto doc = invoke(own);
  EXPECT_FALSE(doc["complete"].asBool());
  EXPECT_EQ(doc["error"]["code"].asString(), "OwnAccountRefused") << to_compact_json(doc);
  // An item with its roleArn missing (a copy-paste slip in the Map's items) is not the function's own account
  // by default either.
  auto missing = task_event("", false);
  missing["ecrSweeper"]["options"]["repositories"].append("own");
  auto doc2 = invoke(missing);
  EXPECT_FALSE(doc2["complete"].asBool());
  EXPECT_EQ(doc2["error"]["code"].asString(), "RoleArnRequired") << to_compact_json(doc2);
  EXPECT_EQ(server_.ecr().image_count("own"), 1u);
  EXPECT_EQ(total_images(), before);
  EXPECT_EQ(server_.metrics()["operations"]["DescribeRepositories"]["calls"].asUInt64(), 0u);
  EXPECT_EQ(registry_calls("DescribeRepositories"), 0u);
}

// The mode stops cleanup::stop_time's reserve (at most 2 s, a quarter of the time left) before the deadline, and
// no call runs past that. Each invocation gets a Lambda timeout of kTimeout, and the member's DescribeImages answers
// after kListingLatency, so a repository (its listing and the re-listing before its one batch) takes about
// 2 x kListingLatency: alpha and, on an unloaded machine, beta fit; gamma never does in the first invocation. The
// state machine's loop is the test's: re-invoke from the cursor until complete. About 4 s of injected latency.
TEST_F(SweepBinaryTest, NearTheDeadlineItRepliesPartialWithACursorAndARerunFromItCompletes) {
  constexpr auto kListingLatency = 600ms;
  constexpr auto kWindow = 3s;
  constexpr int kMaxRuns = 6;
  registry_.set_latency("DescribeImages", kListingLatency);
  start();
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kWindow);

  auto first = invoke(task_event(kMemberRole, false), timeout);
  EXPECT_FALSE(first["complete"].asBool()) << to_compact_json(first);
  ASSERT_TRUE(first.isMember("cursor")) << to_compact_json(first);
  EXPECT_FALSE(first.isMember("error")) << to_compact_json(first);
  EXPECT_EQ(first["repositoriesSeen"].asUInt64(), kRepos.size());
  const std::uint64_t processed_first = first["repositoriesProcessed"].asUInt64();
  EXPECT_LT(processed_first, kRepos.size());
  // The cursor is the first repository the invocation did not finish, by name; the ones after it are untouched.
  ASSERT_LT(processed_first, kRepos.size());
  EXPECT_EQ(first["cursor"].asString(), kRepos[processed_first]);
  for (std::uint64_t i = processed_first + 1; i < kRepos.size(); ++i) {
    EXPECT_EQ(registry_.ecr().image_count(kRepos[i]), static_cast<std::size_t>(kImagesPerRepo)) << kRepos[i];
  }

  std::uint64_t processed = processed_first, deleted = first["imagesDeleted"].asUInt64();
  std::string cursor = first["cursor"].asString();
  int runs = 1;
  Json::Value last = first;
  while (!last["complete"].asBool() && runs < kMaxRuns) {
    ASSERT_TRUE(last.isMember("cursor")) << to_compact_json(last);
    last = invoke(task_event(kMemberRole, false, last["cursor"].asString()), timeout);
    ++runs;
    EXPECT_FALSE(last.isMember("error")) << to_compact_json(last);
    processed += last["repositoriesProcessed"].asUInt64();
    deleted += last["imagesDeleted"].asUInt64();
  }
  EXPECT_TRUE(last["complete"].asBool()) << runs << " runs\n" << to_compact_json(last);
  EXPECT_EQ(processed, kRepos.size()) << "a repository was swept twice or not at all";
  EXPECT_EQ(deleted, expected().size());
  EXPECT_EQ(present(), everything_but_expected());
  std::cout << "deadline sweep: " << runs << " invocations, first processed " << processed_first << "\n";
}

// A repository too large for one invocation: "delta" holds kDeltaImages old images, ten BatchDeleteImage batches of
// kDeleteLatency each. The run's first delete goes alone (it measures the latency), then up to eight at once, and
// none starts unless 1.5x the latency so far fits before the stop time (1.875 s after the invocation starts): the first
// batch alone and one wave of eight is all that fits, so an invocation that reaches delta stops inside it and the
// next resumes there. Between two invocations an image the first planned (and had not reached) starts running in
// the member account. Across the runs: the deletions counted are exactly those made (none cut by the deadline and
// carried out unseen, none counted twice), nothing in use deleted, the image that started running kept.
TEST_F(SweepBinaryTest, ARepositoryTooLargeForOneInvocationResumesInsideItAndDeletesNothingTwice) {
  constexpr int kDeltaImages = 1000;
  constexpr auto kDeleteLatency = 600ms;
  constexpr auto kTimeout = 2500ms;
  constexpr int kMaxRuns = 10;
  auto& ecr = registry_.ecr();
  ecr.create_repository("delta");
  const auto old = std::chrono::system_clock::now() - std::chrono::hours(24 * 400);
  std::vector<std::string> delta;  // newest first
  for (int i = 0; i < kDeltaImages; ++i) delta.push_back(ecr.put_image("delta", "", old - std::chrono::minutes(i)));
  {
    std::lock_guard lock(ecr.mutex());
    ecr.repositories_unlocked().at("delta").tags["ecr-sweeper:enabled"] = "true";
  }
  // keepCount keeps delta's newest kKeepCount; untagged images go oldest first, so this one goes last.
  const std::string late = delta[kKeepCount];
  registry_.set_latency("BatchDeleteImage", kDeleteLatency);
  start();

  std::uint64_t deleted = 0, errors = 0, inside = 0, processed = 0;
  int runs = 0;
  Json::Value last;
  std::string cursor;
  do {
    last = invoke(task_event(kMemberRole, false, cursor), kTimeout);
    ++runs;
    EXPECT_FALSE(last.isMember("error")) << to_compact_json(last);
    deleted += last["imagesDeleted"].asUInt64();
    errors += last["errorsTotal"].asUInt64();
    processed += last["repositoriesProcessed"].asUInt64();
    // An invocation that finishes delta may go on and stop inside the next repository (a slow, sanitized build).
    if (last["cursorInsideRepository"].asBool() && last["cursor"].asString() == "delta") {
      ++inside;
      if (inside == 1) {
        ASSERT_TRUE(registry_.ecr().repository("delta")->images.count(late)) << "reached before the deployment";
        auto& worlds = server_.worlds();
        std::lock_guard lock(worlds.mutex());
        worlds.world(kMember).apprunner_services.push_back(
            {"late", std::string(kMember) + ".dkr.ecr.us-east-1.amazonaws.com/delta@" + late});
      }
    }
    cursor = last["cursor"].asString();
  } while (!last["complete"].asBool() && runs < kMaxRuns);
  EXPECT_TRUE(last["complete"].asBool()) << runs << " runs\n" << to_compact_json(last);
  EXPECT_GE(inside, 1u) << "no invocation stopped inside delta: the test proves nothing";
  EXPECT_EQ(errors, 0u) << "a failure entry: a digest deleted twice, or a call that failed";
  EXPECT_EQ(processed, kRepos.size() + 1) << "a repository was counted twice or not at all";
  EXPECT_EQ(deleted, expected().size() + (kDeltaImages - kKeepCount - 1)) << "a delete cut by the deadline, or counted twice";
  EXPECT_EQ(present(), everything_but_expected());
  const auto left = registry_.ecr().repository("delta");
  EXPECT_TRUE(left->images.count(late)) << "the image that started running between invocations was deleted";
  EXPECT_EQ(left->images.size(), static_cast<std::size_t>(kKeepCount + 1));
  std::cout << "delta swept in " << runs << " invocations, " << inside << " stopped inside it; " << deleted
            << " deletions counted of " << expected().size() + (kDeltaImages - kKeepCount - 1) << "\n";
}

TEST_F(SweepBinaryTest, TheReportIsValidJsonWellUnderStepFunctionsPayloadLimitForALargeRegistry) {
  // 400 more opted-in repositories with 200-character names and one old image each: exact totals, at most
  // kSweepReportMaxRepositories rows. (Only here, not in process too: the bound is the reply's, so the binary's.)
  constexpr int kRepositories = 400;
  auto& ecr = registry_.ecr();
  const auto old = std::chrono::system_clock::now() - std::chrono::hours(24 * 100);
  for (int i = 0; i < kRepositories; ++i) {
    const std::string name = "team-" + std::string(200, 'x') + "-" + std::to_string(1000 + i);
    ecr.create_repository(name);
    ecr.put_image(name, "", old);
  }
  start();
  auto event = task_event(kMemberRole);
  event["ecrSweeper"]["options"]["repositories"].append("team-*");
  event["ecrSweeper"]["options"]["keepCount"] = 0;  // keepDays (10) alone decides; alpha..gamma plan the same
  auto doc = invoke(event);
  std::cout << "report bytes for " << kRepositories + kRepos.size() << " repositories: " << last_reply_bytes_
            << "\n";
  EXPECT_LT(last_reply_bytes_, kStepFunctionsPayloadLimit / 4);
  EXPECT_TRUE(doc["complete"].asBool());
  EXPECT_EQ(doc["repositoriesSeen"].asUInt64(), kRepositories + kRepos.size());
  EXPECT_EQ(doc["imagesPlanned"].asUInt64(), kRepositories + expected().size());
  EXPECT_EQ(doc["repositories"].size(), kSweepReportMaxRepositories);
  EXPECT_EQ(doc["repositoriesOmitted"].asUInt64(), kRepositories + kRepos.size() - kSweepReportMaxRepositories);
}

}  // namespace
}  // namespace ecrs::handler
