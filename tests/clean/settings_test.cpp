// The pure parts of the clean mode: strict settings, the event's shape, the size-bounded reply, the text plan.
#include <gtest/gtest.h>

#include <map>

#include "ecrs/common/json.hpp"
#include "ecrs/handler/clean_mode.hpp"

namespace ecrs::handler::clean {
namespace {

using Vars = std::map<std::string, std::string>;

TEST(CleanSettings, BooleansAreTrueOrFalseOnly) {
  EXPECT_EQ(parse_strict_bool("true"), true);
  EXPECT_EQ(parse_strict_bool("FALSE"), false);
  EXPECT_EQ(parse_strict_bool("False"), false);
  for (const char* bad : {"", "yes", "no", "0", "1", "on", "false ", "t"}) {
    EXPECT_EQ(parse_strict_bool(bad), std::nullopt) << bad;
  }
}

TEST(CleanSettings, KeepValuesAreWholeNonNegativeNumbers) {
  EXPECT_EQ(parse_keep("0"), 0);
  EXPECT_EQ(parse_keep("100"), 100);
  EXPECT_EQ(parse_keep(std::to_string(kMaxKeep)), kMaxKeep);
  const std::vector<std::string> bad_values = {"", "-1", "+1", "1.5", "1e3", " 1", "ten",
                                              std::to_string(kMaxKeep + 1), "99999999999999999999"};
  for (const auto& bad : bad_values) {
    EXPECT_EQ(parse_keep(bad), std::nullopt) << bad;
  }
}

TEST(CleanSettings, ListsSplitOnCommasAndDropBlanks) {
  EXPECT_EQ(split_list(" a, b ,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_list("").empty());
  EXPECT_TRUE(split_list(" , ").empty());
}

TEST(CleanSettings, RegionsAndRoleArnsAreRecognised) {
  EXPECT_TRUE(is_region_name("us-east-1"));
  EXPECT_TRUE(is_region_name("us-gov-west-1"));
  EXPECT_FALSE(is_region_name("US-EAST-1"));
  EXPECT_FALSE(is_region_name("useast1"));
  EXPECT_FALSE(is_region_name("us east-1"));
  EXPECT_TRUE(is_role_arn("arn:aws:iam::210987654321:role/sweeper-read"));
  EXPECT_TRUE(is_role_arn("arn:aws-cn:iam::210987654321:role/path/name"));
  EXPECT_FALSE(is_role_arn("arn:aws:iam::21098765432:role/short-account"));
  EXPECT_FALSE(is_role_arn("arn:aws:iam::210987654321:user/u"));
  EXPECT_FALSE(is_role_arn("arn:aws:iam::210987654321:role/"));
  EXPECT_FALSE(is_role_arn("sweeper-read"));
}

TEST(CleanSettings, UnsetEnvironmentIsADryRunWithTheDefaultRules) {
  auto o = options_from_env(MapEnvironment{}, "eu-west-1");
  ASSERT_TRUE(o) << o.error().describe();
  EXPECT_FALSE(o->apply);
  EXPECT_EQ(o->rules.keep_count, cleanup::kDefaultKeepCount);
  EXPECT_EQ(o->rules.keep_days, cleanup::kDefaultKeepDays);
  EXPECT_EQ(o->rules.keep_tag_patterns, (std::vector<std::string>{"latest", "release-*"}));
  EXPECT_TRUE(o->regions.empty());
  EXPECT_FALSE(o->all_regions);
  EXPECT_EQ(o->home_region, "eu-west-1");
  // Empty values (a CloudFormation parameter left blank) keep the defaults too.
  auto blank = options_from_env(MapEnvironment(Vars{{"DRY_RUN", ""}, {"KEEP_TAGS", " "}, {"REGIONS", ""}}), "eu-west-1");
  ASSERT_TRUE(blank);
  EXPECT_FALSE(blank->apply);
  EXPECT_EQ(blank->rules.keep_tag_patterns, (std::vector<std::string>{"latest", "release-*"}));
}

TEST(CleanSettings, EveryVariableIsRead) {
  auto o = options_from_env(MapEnvironment(Vars{{"DRY_RUN", "false"},
                                            {"KEEP_COUNT", "7"},
                                            {"KEEP_DAYS", "0"},
                                            {"KEEP_TAGS", "prod-*,stable"},
                                            {"REPOSITORIES", "team-*, infra/*"},
                                            {"REGIONS", "us-east-1,eu-west-1"}}),
                            "us-east-1");
  ASSERT_TRUE(o) << o.error().describe();
  EXPECT_TRUE(o->apply);
  EXPECT_EQ(o->rules.keep_count, 7);
  EXPECT_EQ(o->rules.keep_days, 0);
  EXPECT_EQ(o->rules.keep_tag_patterns, (std::vector<std::string>{"prod-*", "stable"}));
  EXPECT_EQ(o->repository_patterns, (std::vector<std::string>{"team-*", "infra/*"}));
  EXPECT_EQ(o->regions, (std::vector<std::string>{"us-east-1", "eu-west-1"}));
  auto all = options_from_env(MapEnvironment(Vars{{"REGIONS", "ALL"}}), "us-east-1");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->all_regions);
}

TEST(CleanSettings, NoHomeRegionIsAnError) {
  auto o = options_from_env(MapEnvironment{}, "");
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, kInvalidSetting);
}

TEST(CleanEvent, OnlyTheScheduledEventShapeMatches) {
  EXPECT_TRUE(is_scheduled_event(*parse_json(R"({"source":"aws.events","detail-type":"Scheduled Event"})")));
  EXPECT_FALSE(is_scheduled_event(*parse_json(R"({"source":"aws.events","detail-type":"scheduled event"})")));
  EXPECT_FALSE(is_scheduled_event(*parse_json(R"({"source":"aws.events"})")));
  EXPECT_FALSE(is_scheduled_event(*parse_json(R"([1,2])")));
}

cleanup::CleanupReport big_report(std::size_t repositories, std::size_t removes_each) {
  cleanup::CleanupReport report;
  report.regions = {"us-east-1"};
  for (std::size_t i = 0; i < repositories; ++i) {
    cleanup::RepositoryOutcome o;
    o.plan.key = {"123456789012", "us-east-1", "team/service-" + std::to_string(i)};
    o.selected_because = "tag ecr-sweeper:enabled=true";
    for (std::size_t j = 0; j < removes_each; ++j) {
      cleanup::ImageDecision d;
      d.image_digest = "sha256:" + std::string(64, static_cast<char>('a' + j % 6));
      d.image_size_in_bytes = 1000;
      o.plan.remove.push_back(d);
      o.plan.remove_phase.push_back(1);
    }
    o.plan.bytes_reclaimed = static_cast<std::int64_t>(removes_each) * 1000;
    report.planned_deletions += removes_each;
    report.planned_bytes += o.plan.bytes_reclaimed;
    report.repositories.push_back(std::move(o));
  }
  return report;
}

TEST(CleanReply, StaysUnderTheBudgetWithAnExactSummary) {
  const auto small = scheduled_reply(big_report(3, 5));
  auto s = parse_json(small);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->isMember("truncated"));
  EXPECT_EQ((*s)["repositories"].size(), 3u);

  const auto report = big_report(2000, 50);
  const auto reply = scheduled_reply(report);
  EXPECT_LE(reply.size(), kMaxReplyBytes);
  auto doc = parse_json(reply);
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["summary"]["planned_deletions"].asUInt64(), report.planned_deletions);
  EXPECT_EQ((*doc)["summary"]["repositories"].asUInt64(), 2000u);
  ASSERT_TRUE(doc->isMember("truncated"));
  EXPECT_EQ((*doc)["repositories"].size() + (*doc)["truncated"]["repositories_left_out"].asUInt64(), 2000u);
  EXPECT_GT((*doc)["repositories"].size(), 0u);
}

TEST(CleanText, OneLinePerRepositoryAndImage) {
  const auto text = report_to_text(big_report(2, 3));
  EXPECT_NE(text.find("DRY RUN"), std::string::npos);
  EXPECT_NE(text.find("repository us-east-1/team/service-1"), std::string::npos);
  std::size_t removes = 0;
  for (std::size_t p = text.find("\n  remove "); p != std::string::npos; p = text.find("\n  remove ", p + 1)) ++removes;
  EXPECT_EQ(removes, 6u);
  EXPECT_NE(text.find("total: repositories=2 remove=6 bytes_reclaimed=6000"), std::string::npos) << text;
}

}  // namespace
}  // namespace ecrs::handler::clean
