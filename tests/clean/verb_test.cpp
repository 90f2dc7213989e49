// `ecr-sweeper clean` in process on LocalAws: the dry run plans and deletes nothing, --apply deletes exactly what
// the dry run planned (and nothing in use), JSON output parses, bad flags exit 2, a failed call exits 1.
#include <gtest/gtest.h>

#include "clean_support.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::clean_test {
namespace {

std::set<std::string> removed_in(const Json::Value& doc, const std::string& repository) {
  std::set<std::string> out;
  for (const auto& r : doc["repositories"]) {
    if (r["repository"].asString() != repository) continue;
    for (const auto& d : r["remove"]) out.insert(d["imageDigest"].asString());
  }
  return out;
}

std::size_t count_lines_starting(const std::string& text, const std::string& prefix) {
  std::size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.rfind(prefix, 0) == 0;
  return n;
}

class CleanVerb : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    seeded_ = seed(server_);
  }
  void TearDown() override { server_.stop(); }
  std::map<std::string, std::set<std::string>> snapshot() {
    return {{"web", digests_of(server_, "web")},
            {"team-api", digests_of(server_, "team-api")},
            {"other", digests_of(server_, "other")}};
  }
  localaws::LocalAws server_;
  Seeded seeded_;
};

TEST_F(CleanVerb, DryRunPrintsAPlanPerRepositoryAndDeletesNothing) {
  const auto before = snapshot();
  Session session(server_.endpoint());
  const auto r = session.clean({"--keep", "40"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("DRY RUN"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("repository us-east-1/web"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("repository us-east-1/other"), std::string::npos) << "not opted in: " << r.out;
  EXPECT_EQ(count_lines_starting(r.out, "  remove "), expected_web_deletions(seeded_, 40, 30).size());
  EXPECT_EQ(count_lines_starting(r.out, "  keep "), kImages - expected_web_deletions(seeded_, 40, 30).size());
  // Every in-use image is listed as kept with who uses it.
  EXPECT_NE(r.out.find("in use"), std::string::npos);
  EXPECT_NE(r.out.find("EventBridge Scheduler"), std::string::npos) << "names what the scan does not cover";
  EXPECT_EQ(snapshot(), before);
}

TEST_F(CleanVerb, JsonPlanParsesAndApplyDeletesExactlyWhatItPlanned) {
  const auto before = snapshot();
  Session session(server_.endpoint());
  const auto dry = session.clean({"--keep", "40", "--repos", "team-*", "--output", "json"});
  ASSERT_EQ(dry.rc, 0) << dry.err;
  auto plan = parse_json(dry.out);
  ASSERT_TRUE(plan) << dry.out.substr(0, 500);
  EXPECT_FALSE((*plan)["applied"].asBool());
  ASSERT_EQ((*plan)["repositories"].size(), 2u) << "web by tag, team-api by --repos";
  const auto planned = removed_in(*plan, "web");
  EXPECT_EQ(planned, expected_web_deletions(seeded_, 40, 30));
  for (const auto& r : (*plan)["repositories"]) {
    if (r["repository"].asString() == "team-api") {
      EXPECT_NE(r["selected_because"].asString().find("team-*"), std::string::npos);
    }
    std::int64_t bytes = 0;
    for (const auto& d : r["remove"]) bytes += d["imageSizeInBytes"].asInt64();
    EXPECT_EQ(r["bytes_reclaimed"].asInt64(), bytes);
  }
  EXPECT_EQ(snapshot(), before);

  const auto applied = session.clean({"--keep", "40", "--repos", "team-*", "--output", "json", "--apply"});
  ASSERT_EQ(applied.rc, 0) << applied.err;
  auto done = parse_json(applied.out);
  ASSERT_TRUE(done);
  EXPECT_TRUE((*done)["applied"].asBool());
  EXPECT_EQ((*done)["summary"]["deleted"].asUInt64(), planned.size());
  std::set<std::string> expected_web;
  for (const auto& d : before.at("web")) {
    if (!planned.count(d)) expected_web.insert(d);
  }
  EXPECT_EQ(digests_of(server_, "web"), expected_web);
  for (const auto& d : seeded_.in_use) EXPECT_TRUE(expected_web.count(d)) << "in-use image deleted: " << d;
  EXPECT_EQ(digests_of(server_, "team-api"), before.at("team-api")) << "planned nothing there";
  EXPECT_EQ(digests_of(server_, "other"), before.at("other"));
}

TEST_F(CleanVerb, ATerminalGetsATable) {
  Session session(server_.endpoint());
  const auto r = session.clean({"--keep", "40"}, /*table=*/true);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("REMOVE"), std::string::npos) << r.out.substr(0, 400);
  EXPECT_NE(r.out.find("--apply"), std::string::npos);
}

TEST_F(CleanVerb, KeepTagAndAllRegionsAreHonoured) {
  Session session(server_.endpoint());
  const auto r = session.clean({"--keep", "40", "--keep-tag", "b1*", "--all-regions", "--output", "json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto plan = parse_json(r.out);
  ASSERT_TRUE(plan);
  EXPECT_EQ((*plan)["regions"], [] {
    Json::Value v(Json::arrayValue);
    v.append(kRegion);
    return v;
  }());
  // b1* now keeps b100..b158 even ones and release-1 is no longer protected by default patterns.
  const auto planned = removed_in(*plan, "web");
  EXPECT_TRUE(planned.count(seeded_.web[kReleaseIndex]));
  EXPECT_FALSE(planned.count(seeded_.web[102]));
}

TEST_F(CleanVerb, BadFlagsExitTwoAndTouchNothing) {
  const auto before = snapshot();
  Session session(server_.endpoint());
  const std::vector<std::vector<std::string>> bad = {
      {"--keep", "-1"},          {"--keep", "many"},        {"--keep-days", "1.5"},
      {"--output", "yaml"},      {"--bogus"},               {"--all-regions", "--region", "us-east-1"},
      {"--assume-role", "x"},    {"--region", "US_EAST_1"}, {"--keep-tag", ""},
      {"--assume-role", "arn:aws:iam::12345:role/r"},
  };
  for (const auto& args : bad) {
    const auto r = session.clean(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.rc, 2) << joined << " -> " << r.err;
    EXPECT_FALSE(r.err.empty()) << joined;
  }
  EXPECT_EQ(snapshot(), before);
}

TEST_F(CleanVerb, HelpSaysWhatInUseCoversAndWhatItDoesNot) {
  CLI::App app("ecr-sweeper");
  auto verb = handler::make_clean_verb();
  CLI::App* sub = verb->add_to(app);
  const std::string help = sub->help();
  for (const char* word : {"--apply", "--keep-days", "--keep-tag", "--repos", "--all-regions", "--assume-role",
                           "ECS running tasks", "Lambda", "App Runner", "EKS", "EventBridge Scheduler", "Batch",
                           "ecr-sweeper:enabled=true", "Exit codes"}) {
    EXPECT_NE(help.find(word), std::string::npos) << word << " missing from:\n" << help;
  }
}

TEST(CleanVerbFailure, AnUnreachableEndpointExitsOneAndSaysWhy) {
  // Port 1 on loopback refuses connections; one attempt keeps the test short.
  Session session("http://127.0.0.1:1", {{"AWS_MAX_ATTEMPTS", "1"}});
  const auto r = session.clean({});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("nothing was deleted"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ecrs::clean_test
