// The organisation sweep task through the event mode in process, against LocalAws over HTTP with STS AssumeRole
// into a second account (210987654321) whose App Runner service runs one of the registry's old images.
// The member's registry is a second LocalAws (sweep_world.hpp). The mode reuses assumed credentials until they
// near expiry, so every test assumes the member role once per mode.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <iterator>
#include <set>

#include "ecrs/cleanup/sts_client.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/handler/sweep_mode.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "sweep_world.hpp"

namespace ecrs::handler {
namespace {

using namespace sweep_testing;

// Wall time plus an offset a test moves from localaws's serving thread (a slow repository, without sleeping).
class ShiftedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now() + shift(); }
  std::chrono::steady_clock::time_point monotonic() const override { return std::chrono::steady_clock::now() + shift(); }
  void advance(std::chrono::seconds s) { offset_s_ += s.count(); }

 private:
  std::chrono::seconds shift() const { return std::chrono::seconds(offset_s_.load()); }
  std::atomic<long> offset_s_{0};
};

class Session {
 public:
  explicit Session(const std::string& endpoint, const std::string& ecr_endpoint = "")
      : env_({{"AWS_ENDPOINT_URL", endpoint},
              {"AWS_ENDPOINT_URL_ECR", ecr_endpoint.empty() ? endpoint : ecr_endpoint},
              {"AWS_ACCESS_KEY_ID", "test"},
              {"AWS_SECRET_ACCESS_KEY", "test"},
              {"AWS_REGION", "us-east-1"},
              {"AWS_CONFIG_FILE", "/dev/null"},
              {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
              {"AWS_EC2_METADATA_DISABLED", "true"}}),
        logger_(sink_, clock_),
        session_(env_, clock_, sleeper_, random_, logger_) {}
  AwsSession& get() { return session_; }
  ShiftedClock& clock() { return clock_; }
  CaptureSink& sink() { return sink_; }

 private:
  MapEnvironment env_;
  ShiftedClock clock_;
  RealSleeper sleeper_;
  FixedRandom random_{0.5};
  CaptureSink sink_;
  Logger logger_;
  AwsSession session_;
};

InvocationInfo far_deadline() {
  return {"req-1", std::chrono::system_clock::now() + std::chrono::minutes(15), "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper"};
}

class SweepModeTest : public ::testing::Test {
 protected:
  SweepModeTest() : registry_(member_registry()) {}
  void SetUp() override {
    server_.start();
    registry_.start();
    session_ = std::make_unique<Session>(server_.endpoint(), registry_.endpoint());
    world_.seed(server_, registry_);
  }
  void TearDown() override {
    registry_.stop();
    server_.stop();
  }
  Session& session() { return *session_; }
  EventMode& mode(SweepSettings settings = {}) {
    if (!mode_) mode_ = make_sweep_mode(session_->get(), settings);
    return *mode_;
  }

  std::set<std::string> expected() { return world_.expected(); }
  std::set<std::string> present() { return world_.present(); }
  std::size_t total_images() { return world_.total_images(); }
  std::uint64_t ecr_calls(const char* op) { return world_.registry_calls(op); }

  Json::Value run(const Json::Value& event, const InvocationInfo& info, SweepSettings settings = {}) {
    return run_with(mode(settings), event, info);
  }
  static Json::Value run_with(EventMode& mode, const Json::Value& event, const InvocationInfo& info) {
    EXPECT_TRUE(mode.accepts(event));
    auto reply = mode.handle(event, info);
    EXPECT_TRUE(reply) << reply.error().describe();
    if (!reply) return {};
    EXPECT_LT(reply->size(), kStepFunctionsPayloadLimit);
    auto doc = parse_json(*reply);
    EXPECT_TRUE(doc) << *reply;
    return doc ? *doc : Json::Value();
  }

  localaws::LocalAws server_;    // the function's account: STS, and ECS/Lambda/App Runner of every account
  localaws::LocalAws registry_;  // the member account's ECR
  std::unique_ptr<Session> session_;
  std::unique_ptr<EventMode> mode_;
  sweep_testing::MemberWorld world_;
};

TEST(SweepTaskShape, AcceptsOnlyTheSweeperKeyAndParsesOptions) {
  Session s("http://127.0.0.1:1");
  auto mode = make_sweep_mode(s.get());
  EXPECT_TRUE(mode->accepts(*parse_json(R"({"ecrSweeper":{"task":"clean"}})")));
  EXPECT_FALSE(mode->accepts(*parse_json(R"({"ecrSweeper":"clean"})")));
  EXPECT_FALSE(mode->accepts(*parse_json(R"({"source":"aws.events","detail-type":"Scheduled Event"})")));
  EXPECT_FALSE(mode->accepts(*parse_json(R"({"RequestType":"Delete","ResourceType":"Custom::EmptyEcrRepository"})")));

  auto t = parse_sweep_task(*parse_json(R"({"ecrSweeper":{"task":"clean","roleArn":"r"}})"));
  ASSERT_TRUE(t) << t.error().describe();
  EXPECT_TRUE(t->dry_run) << "dry run is the default when the event doesn't say";
  t = parse_sweep_task(*parse_json(
      R"({"ecrSweeper":{"task":"clean","options":{"dryRun":false,"keepCount":3,"keepDays":7,"keepTags":["prod-*"],
          "repositories":["team-*"],"cursor":"beta"}}})"));
  ASSERT_TRUE(t) << t.error().describe();
  EXPECT_FALSE(t->dry_run);
  EXPECT_EQ(t->rules.keep_count, 3);
  EXPECT_EQ(t->rules.keep_days, 7);
  EXPECT_EQ(t->rules.keep_tag_patterns, std::vector<std::string>{"prod-*"});
  EXPECT_EQ(t->repositories, std::vector<std::string>{"team-*"});
  EXPECT_EQ(t->cursor, "beta");
  for (const char* bad : {R"({"ecrSweeper":{"task":"purge"}})", R"({"ecrSweeper":{"task":"clean","options":{"dryRun":"no"}}})",
                          R"({"ecrSweeper":{"task":"clean","options":{"keepCount":-1}}})",
                          R"({"ecrSweeper":{"task":"clean","options":{"keepTags":"latest"}}})"}) {
    auto r = parse_sweep_task(*parse_json(bad));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "InvalidEvent");
  }
  // An invalid event is a report, not an /error (a retry cannot help).
  auto reply = mode->handle(*parse_json(R"({"ecrSweeper":{"task":"purge"}})"), far_deadline());
  ASSERT_TRUE(reply);
  auto doc = *parse_json(*reply);
  EXPECT_FALSE(doc["complete"].asBool());
  EXPECT_EQ(doc["error"]["code"].asString(), "InvalidEvent");
}

TEST(SweepTaskShape, RoleSessionNameFitsStsAlphabetAndLength) {
  EXPECT_EQ(sweep_role_session_name("run/1 x"), "ecr-sweeper-run-1-x");
  EXPECT_EQ(sweep_role_session_name(std::string(200, 'a')).size(), kMaxRoleSessionNameLength);
  EXPECT_EQ(sweep_role_session_name(""), "ecr-sweeper-run");
}

TEST_F(SweepModeTest, DryRunByDefaultPlansAndDeletesNothing) {
  const auto before = total_images();
  auto doc = run(task_event(kMemberRole), far_deadline());
  EXPECT_TRUE(doc["complete"].asBool()) << to_compact_json(doc);
  EXPECT_TRUE(doc["dryRun"].asBool());
  EXPECT_EQ(doc["accountId"].asString(), kMember);
  EXPECT_EQ(doc["repositoriesSeen"].asUInt64(), kRepos.size());
  EXPECT_EQ(doc["imagesPlanned"].asUInt64(), expected().size());
  EXPECT_EQ(doc["imagesDeleted"].asUInt64(), 0u);
  EXPECT_EQ(doc["inUseKept"].asUInt64(), 1u);
  EXPECT_GT(doc["bytes"].asInt64(), 0);
  EXPECT_FALSE(doc.isMember("error")) << to_compact_json(doc);
  EXPECT_EQ(total_images(), before);
  EXPECT_EQ(ecr_calls("BatchDeleteImage"), 0u);
}

TEST_F(SweepModeTest, ApplyDeletesThePlannedSetAndARetryDeletesNothingTwice) {
  auto doc = run(task_event(kMemberRole, false), far_deadline());
  EXPECT_TRUE(doc["complete"].asBool()) << to_compact_json(doc);
  EXPECT_EQ(doc["imagesDeleted"].asUInt64(), expected().size());
  EXPECT_EQ(present(), world_.everything_but_expected());
  EXPECT_TRUE(present().count(world_.in_use())) << "the member account's running image was deleted";
  EXPECT_EQ(registry_.ecr().image_count("not-opted-in"), 1u);

  // Step Functions retries the same item (a timeout after the work was done): nothing more goes.
  const auto deletes_before = ecr_calls("BatchDeleteImage");
  auto again = run(task_event(kMemberRole, false), far_deadline());
  EXPECT_TRUE(again["complete"].asBool()) << to_compact_json(again);
  EXPECT_EQ(again["imagesPlanned"].asUInt64(), 0u);
  EXPECT_EQ(again["imagesDeleted"].asUInt64(), 0u);
  EXPECT_EQ(ecr_calls("BatchDeleteImage"), deletes_before);
  EXPECT_EQ(present(), world_.everything_but_expected());
}

TEST_F(SweepModeTest, ARoleThatCannotBeAssumedIsReportedAndNothingIsTouched) {
  const auto before = total_images();
  auto event = task_event("arn:aws:iam::2109876:role/typo", false);  // STS: ValidationError
  auto doc = run(event, far_deadline());
  EXPECT_FALSE(doc["complete"].asBool());
  EXPECT_FALSE(doc["error"]["code"].asString().empty()) << to_compact_json(doc);
  EXPECT_EQ(doc["imagesDeleted"].asUInt64(), 0u);
  EXPECT_EQ(total_images(), before);
  EXPECT_EQ(ecr_calls("DescribeRepositories"), 0u);
  EXPECT_EQ(ecr_calls("BatchDeleteImage"), 0u);
}

TEST_F(SweepModeTest, TheFunctionsOwnAccountIsRefusedWithoutOptIn) {
  const auto before = total_images();
  const std::string own_role = std::string("arn:aws:iam::") + kMainAccount + ":role/ecr-sweeper-member";
  auto doc = run(task_event(own_role, false), far_deadline());
  EXPECT_FALSE(doc["complete"].asBool());
  EXPECT_EQ(doc["error"]["code"].asString(), "OwnAccountRefused");
  auto missing = run(task_event("", false), far_deadline());
  EXPECT_FALSE(missing["complete"].asBool());
  EXPECT_EQ(missing["error"]["code"].asString(), "RoleArnRequired");
  auto mismatch = task_event(kMemberRole, false);
  mismatch["ecrSweeper"]["accountId"] = "111122223333";
  EXPECT_EQ(run(mismatch, far_deadline())["error"]["code"].asString(), "AccountMismatch");
  EXPECT_EQ(total_images(), before);
  EXPECT_EQ(ecr_calls("DescribeRepositories"), 0u);

  // Opted in explicitly and without a role: the function's own credentials on its own registry (the main
  // LocalAws), where an old image goes in a dry run.
  server_.ecr().create_repository("own");
  server_.ecr().put_image("own", "old", std::chrono::system_clock::now() - std::chrono::hours(24 * 100));
  Session own(server_.endpoint());
  auto own_mode = make_sweep_mode(own.get());
  auto opted = task_event("");
  opted["ecrSweeper"]["allowOwnAccount"] = true;
  opted["ecrSweeper"]["options"]["repositories"].append("own");
  opted["ecrSweeper"]["options"]["keepCount"] = 0;
  auto ok = run_with(*own_mode, opted, far_deadline());
  EXPECT_TRUE(ok["complete"].asBool()) << to_compact_json(ok);
  EXPECT_EQ(ok["accountId"].asString(), kMainAccount);
  EXPECT_EQ(ok["imagesPlanned"].asUInt64(), 1u);
  EXPECT_EQ(server_.ecr().image_count("own"), 1u);
}

TEST_F(SweepModeTest, NearTheDeadlineItRepliesPartialWithACursorAndResumes) {
  SweepSettings tight;
  tight.deadline_margin = std::chrono::seconds(30);
  // A deadline already inside the margin: no call is made after it (not even the scan), so the item answers at
  // once with why, and the cursor it was given (none here: the state machine does not loop without one).
  InvocationInfo late = far_deadline();
  late.deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
  mode(tight);
  auto none = run(task_event(kMemberRole, false), late, tight);
  EXPECT_FALSE(none["complete"].asBool());
  EXPECT_EQ(none["error"]["code"].asString(), cleanup::kDeadlineReached) << to_compact_json(none);
  EXPECT_FALSE(none.isMember("cursor")) << to_compact_json(none);
  EXPECT_EQ(none["repositoriesProcessed"].asUInt64(), 0u);
  EXPECT_EQ(ecr_calls("BatchDeleteImage"), 0u);
  EXPECT_EQ(ecr_calls("DescribeRepositories"), 0u);
  auto resumed_late = run(task_event(kMemberRole, false, "beta"), late, tight);
  EXPECT_EQ(resumed_late["cursor"].asString(), "beta") << "the cursor it was given, unchanged";

  // Each repository's deletion (one batch) "takes" a minute, and a delete starts only while 1.5x the deletes'
  // latency so far (ecr::DeletePacing) still fits before the stop time (the deadline less the 30 s margin, 180 s
  // away): alpha (at 0 s) and beta (at 60 s, 90 s needed) go, gamma (at 120 s, 60 s left) does not.
  registry_.on_call("BatchDeleteImage", [&](localaws::EcrState&) { session().clock().advance(std::chrono::seconds(60)); });
  InvocationInfo info = far_deadline();
  info.deadline = std::chrono::system_clock::now() + std::chrono::seconds(210);
  auto first = run(task_event(kMemberRole, false), info, tight);
  EXPECT_FALSE(first["complete"].asBool()) << to_compact_json(first);
  ASSERT_TRUE(first.isMember("cursor"));
  const std::string cursor = first["cursor"].asString();
  EXPECT_EQ(cursor, "gamma");
  EXPECT_EQ(first["repositoriesProcessed"].asUInt64(), 2u);
  EXPECT_TRUE(registry_.ecr().repository("gamma")->images.count(world_.digests("gamma")[kImagesPerRepo - 1]));

  InvocationInfo resumed = far_deadline();
  resumed.deadline = session().clock().now() + std::chrono::minutes(15);
  auto second = run(task_event(kMemberRole, false, cursor), resumed, tight);
  EXPECT_TRUE(second["complete"].asBool()) << to_compact_json(second);
  EXPECT_EQ(second["repositoriesProcessed"].asUInt64(), 1u);
  EXPECT_EQ(first["imagesDeleted"].asUInt64() + second["imagesDeleted"].asUInt64(), expected().size());
  for (const auto& d : expected()) EXPECT_FALSE(present().count(d)) << d;
}

TEST_F(SweepModeTest, ARepositoryThatFailsIsAnErrorInTheReportAndTheOthersAreStillSwept) {
  // alpha's listing is refused (AccessDenied is not retried); beta and gamma go on.
  registry_.add_fault({"DescribeImages", 1, 400, "AccessDeniedException", "not allowed"});
  auto doc = run(task_event(kMemberRole, false), far_deadline());
  EXPECT_FALSE(doc["complete"].asBool()) << to_compact_json(doc);
  EXPECT_FALSE(doc.isMember("cursor")) << "not a deadline: the state machine should not loop on it";
  EXPECT_FALSE(doc.isMember("error")) << "the item ran; one repository failed";
  ASSERT_EQ(doc["errors"].size(), 1u) << to_compact_json(doc);
  EXPECT_EQ(doc["errors"][0].asString().rfind("alpha: ", 0), 0u) << doc["errors"][0].asString();
  EXPECT_NE(doc["errors"][0].asString().find("AccessDeniedException"), std::string::npos);
  EXPECT_EQ(doc["errorsTotal"].asUInt64(), 1u);
  EXPECT_EQ(doc["repositoriesProcessed"].asUInt64(), kRepos.size());
  EXPECT_EQ(registry_.ecr().image_count("alpha"), static_cast<std::size_t>(kImagesPerRepo));
  // beta and gamma keep their newest kKeepDays images (one a day); nothing in use there.
  EXPECT_EQ(doc["imagesDeleted"].asUInt64(), 2u * (kImagesPerRepo - kKeepDays));
  EXPECT_EQ(registry_.ecr().image_count("beta"), static_cast<std::size_t>(kKeepDays));
  EXPECT_EQ(registry_.ecr().image_count("gamma"), static_cast<std::size_t>(kKeepDays));
}

}  // namespace
}  // namespace ecrs::handler
