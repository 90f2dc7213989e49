// The scheduled-cleanup event mode in process on LocalAws: EventBridge's scheduled event runs the cleanup with
// options from the environment, a dry run unless DRY_RUN=false, logging the plan; bad settings are Errors that
// name the variable.
#include <gtest/gtest.h>

#include "clean_support.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::clean_test {
namespace {

Json::Value scheduled_event() {
  // EventBridge's documented example of a scheduled event ("Events from AWS services": Scheduled Event).
  auto v = parse_json(R"({"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
    "source":"aws.events","account":"123456789012","time":"2015-10-08T16:53:06Z","region":"us-east-1",
    "resources":["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"],"detail":{}})");
  return *v;
}

std::size_t count_logged(CaptureSink& sink, const std::string& msg) {
  std::size_t n = 0;
  for (const auto& line : sink.lines()) {
    auto v = parse_json(line);
    if (v && (*v)["msg"].asString() == msg) ++n;
  }
  return n;
}

class ScheduledMode : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    seeded_ = seed(server_);
  }
  void TearDown() override { server_.stop(); }
  localaws::LocalAws server_;
  Seeded seeded_;
};

TEST(ScheduledModeShape, AcceptsOnlyEventBridgeScheduledEvents) {
  Session session("http://127.0.0.1:1");
  auto mode = handler::make_clean_event_mode(session.get());
  EXPECT_TRUE(mode->accepts(scheduled_event()));
  Json::Value other = scheduled_event();
  other["detail-type"] = "AWS API Call via CloudTrail";
  EXPECT_FALSE(mode->accepts(other));
  other = scheduled_event();
  other["source"] = "aws.ecr";
  EXPECT_FALSE(mode->accepts(other));
  EXPECT_FALSE(mode->accepts(*parse_json(R"({"RequestType":"Delete","ResourceType":"Custom::EmptyEcrRepository"})")));
  EXPECT_FALSE(mode->accepts(Json::Value("Scheduled Event")));
  EXPECT_FALSE(mode->accepts(*parse_json(R"({"source":["aws.events"],"detail-type":"Scheduled Event"})")));
}

TEST_F(ScheduledMode, DryRunUnsetDeletesNothingAndRepliesWithTheReport) {
  const auto before = digests_of(server_, "web");
  Session session(server_.endpoint(), {{"KEEP_COUNT", "40"}});
  auto mode = handler::make_clean_event_mode(session.get());
  auto reply = mode->handle(scheduled_event(), {"req-1", {}, ""});
  ASSERT_TRUE(reply) << reply.error().describe();
  EXPECT_LT(reply->size(), handler::clean::kMaxReplyBytes);
  auto doc = parse_json(*reply);
  ASSERT_TRUE(doc) << *reply;
  const auto expected = expected_web_deletions(seeded_, 40, 30);
  EXPECT_FALSE((*doc)["applied"].asBool());
  EXPECT_EQ((*doc)["summary"]["planned_deletions"].asUInt64(), expected.size());
  ASSERT_EQ((*doc)["repositories"].size(), 1u);
  for (const auto& d : (*doc)["repositories"][0]["remove"]) EXPECT_TRUE(expected.count(d.asString()));
  EXPECT_EQ(digests_of(server_, "web"), before);
  // The plan as JSON lines (one per digest) and a summary.
  EXPECT_EQ(count_logged(session.sink(), "plan"), expected.size());
  EXPECT_EQ(count_logged(session.sink(), "cleanup summary"), 1u);
  EXPECT_EQ(count_logged(session.sink(), "scheduled cleanup: done"), 1u);
  for (const auto& line : session.sink().lines()) {
    EXPECT_TRUE(parse_json(line)) << line;
    EXPECT_EQ(line.find("\"test\""), std::string::npos) << "a credential reached the log: " << line;
  }
}

TEST_F(ScheduledMode, DryRunFalseDeletesThePlannedSet) {
  const auto before = digests_of(server_, "web");
  const auto other = digests_of(server_, "other");
  Session session(server_.endpoint(), {{"KEEP_COUNT", "40"}, {"KEEP_DAYS", "30"}, {"DRY_RUN", "False"},
                                       {"REGIONS", "us-east-1"}, {"KEEP_TAGS", "latest, release-*"}});
  auto mode = handler::make_clean_event_mode(session.get());
  auto reply = mode->handle(scheduled_event(), {"req-2", {}, ""});
  ASSERT_TRUE(reply) << reply.error().describe();
  auto doc = parse_json(*reply);
  ASSERT_TRUE(doc);
  const auto expected = expected_web_deletions(seeded_, 40, 30);
  EXPECT_TRUE((*doc)["applied"].asBool());
  EXPECT_EQ((*doc)["summary"]["deleted"].asUInt64(), expected.size());
  std::set<std::string> remaining;
  for (const auto& d : before) {
    if (!expected.count(d)) remaining.insert(d);
  }
  EXPECT_EQ(digests_of(server_, "web"), remaining);
  EXPECT_EQ(digests_of(server_, "other"), other);
}

TEST_F(ScheduledMode, ABadSettingIsAnErrorNamingTheVariableAndDeletesNothing) {
  const auto before = digests_of(server_, "web");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"DRY_RUN", "yes"},       {"DRY_RUN", "0"},       {"DRY_RUN", "flase"}, {"KEEP_COUNT", "-1"},
      {"KEEP_COUNT", "1e3"},    {"KEEP_COUNT", " 5"},   {"KEEP_DAYS", "ten"}, {"KEEP_DAYS", "99999999999"},
      {"REGIONS", "us east 1"}, {"REGIONS", "US-EAST-1"},
  };
  for (const auto& [var, value] : bad) {
    std::map<std::string, std::string> env{{"DRY_RUN", "false"}};
    env[var] = value;  // replaces the DRY_RUN=false baseline when the bad value is DRY_RUN's
    Session session(server_.endpoint(), env);
    auto mode = handler::make_clean_event_mode(session.get());
    auto reply = mode->handle(scheduled_event(), {"req-bad", {}, ""});
    ASSERT_FALSE(reply) << var << "=" << value;
    EXPECT_EQ(reply.error().code, handler::clean::kInvalidSetting);
    EXPECT_NE(reply.error().message.find(var), std::string::npos) << reply.error().describe();
  }
  EXPECT_EQ(digests_of(server_, "web"), before);
}

TEST_F(ScheduledMode, AFailedScanIsAnErrorAndDeletesNothing) {
  const auto before = digests_of(server_, "web");
  Session session(server_.endpoint(), {{"DRY_RUN", "false"}, {"AWS_MAX_ATTEMPTS", "1"}});
  {
    std::lock_guard lock(server_.worlds().mutex());
    // A service naming a task definition that does not exist: DescribeTaskDefinition fails, the scan with it.
    server_.worlds().world(kAccount).clusters["prod"].services.push_back({"ghost", 1, {{"d", "PRIMARY", "gone:9"}}});
  }
  auto mode = handler::make_clean_event_mode(session.get());
  auto reply = mode->handle(scheduled_event(), {"req-3", {}, ""});
  ASSERT_FALSE(reply);
  EXPECT_EQ(digests_of(server_, "web"), before);
}

}  // namespace
}  // namespace ecrs::clean_test
