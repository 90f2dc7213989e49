// `ecr-sweeper clean` in process on LocalAws: the dry run plans and deletes nothing, --apply deletes exactly what
// the dry run planned (and nothing in use), JSON output parses, bad flags exit 2, a failed call exits 1.
#include <gtest/gtest.h>

#include "clean_support.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/handler/progress_bar.hpp"

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
  const auto summary = session.clean({"--keep", "40"});
  ASSERT_EQ(summary.rc, 0) << summary.err;
  EXPECT_NE(summary.out.find("repository us-east-1/web"), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find("in_use=8"), std::string::npos) << summary.out;
  EXPECT_EQ(count_lines_starting(summary.out, "  remove "), 0u) << "every image only with --verbose";
  const auto r = session.clean({"--keep", "40", "--verbose"});
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
                           "ecr-sweeper:enabled=true", "Exit codes", "--detailed-exitcode",
                           "3 images planned", "--max-duration", "--verbose"}) {
    EXPECT_NE(help.find(word), std::string::npos) << word << " missing from:\n" << help;
  }
}

TEST_F(CleanVerb, ATerminalGetsASummaryTableAndEveryImageOnlyWithVerbose) {
  Session session(server_.endpoint());
  const auto r = session.clean({"--keep", "40"}, /*table=*/true);
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto expected = expected_web_deletions(seeded_, 40, 30);
  for (const char* column : {"REPOSITORY", "REMOVE", "KEEP", "IN USE", "RECLAIM", "TOTAL"}) {
    EXPECT_NE(r.out.find(column), std::string::npos) << column << " missing:\n" << r.out;
  }
  // web's row: its counts, the eight in-use images, a human-readable size.
  std::istringstream in(r.out);
  std::string web_row;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("us-east-1/web ", 0) == 0) web_row = line;
  }
  ASSERT_FALSE(web_row.empty()) << r.out;
  std::istringstream cols(web_row);
  std::string name, remove, keep, in_use, size, unit;
  cols >> name >> remove >> keep >> in_use >> size >> unit;
  EXPECT_EQ(remove, std::to_string(expected.size())) << web_row;
  EXPECT_EQ(keep, std::to_string(kImages - expected.size())) << web_row;
  EXPECT_EQ(in_use, std::to_string(seeded_.in_use.size())) << web_row;
  EXPECT_TRUE(unit == "B" || unit == "KiB" || unit == "MiB" || unit == "GiB") << web_row;
  EXPECT_EQ(count_lines_starting(r.out, "  REMOVE "), 0u) << r.out;

  const auto verbose = session.clean({"--keep", "40", "--verbose"}, /*table=*/true);
  ASSERT_EQ(verbose.rc, 0) << verbose.err;
  EXPECT_EQ(count_lines_starting(verbose.out, "  REMOVE "), expected.size());
  EXPECT_EQ(count_lines_starting(verbose.out, "  keep "), kImages - expected.size());
}

TEST_F(CleanVerb, JsonListsEveryPlannedImagePastAHundred) {
  Session session(server_.endpoint());
  const auto r = session.clean({"--keep", "0", "--keep-days", "0", "--output", "json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto plan = parse_json(r.out);
  ASSERT_TRUE(plan) << r.out.substr(0, 300);
  const auto planned = removed_in(*plan, "web");
  const auto expected = expected_web_deletions(seeded_, 0, 0);
  ASSERT_GT(expected.size(), 100u);
  EXPECT_EQ(planned, expected);
  EXPECT_EQ((*plan)["repositories"][0]["remove_count"].asUInt64(), expected.size());
  EXPECT_EQ((*plan)["repositories"][0]["in_use_count"].asUInt64(), seeded_.in_use.size());
}

TEST_F(CleanVerb, AReposPatternThatMatchesNothingWarnsOnStderr) {
  Session session(server_.endpoint());
  const auto r = session.clean({"--repos", "nomatch-*", "--repos", "team-*"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("warning: --repos 'nomatch-*' matches no repository"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("'team-*'"), std::string::npos) << "team-* matched team-api: " << r.err;
  const auto json = session.clean({"--repos", "nomatch-*", "--output", "json"});
  auto doc = parse_json(json.out);
  ASSERT_TRUE(doc) << json.out;
  EXPECT_EQ((*doc)["unmatched_patterns"][0].asString(), "nomatch-*");
}

TEST_F(CleanVerb, DetailedExitcodeSaysWhetherAnythingIsToBeDeleted) {
  const auto before = snapshot();
  Session session(server_.endpoint());
  EXPECT_EQ(session.clean({"--keep", "40", "--detailed-exitcode"}).rc, 3);
  EXPECT_EQ(session.clean({"--keep", "1000", "--detailed-exitcode"}).rc, 0) << "keeps everything";
  EXPECT_EQ(session.clean({"--keep", "40"}).rc, 0) << "without the flag a plan is still 0";
  EXPECT_EQ(session.clean({"--detailed-exitcode", "--keep", "x"}).rc, 2);
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(session.clean({"--keep", "40", "--apply", "--detailed-exitcode"}).rc, 3) << "deleted something";
  EXPECT_EQ(session.clean({"--keep", "40", "--apply", "--detailed-exitcode"}).rc, 0) << "nothing left to do";
}

TEST_F(CleanVerb, MaxDurationStopsInTimeSaysWhereAndExitsOne) {
  // Every BatchDeleteImage takes longer than the whole --max-duration: the first one is cut at the deadline.
  server_.set_latency("BatchDeleteImage", std::chrono::milliseconds(3000));
  Session session(server_.endpoint());
  const auto r = session.clean({"--keep", "0", "--keep-days", "0", "--apply", "--max-duration", "1", "--output",
                                "json"});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("--max-duration reached"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("us-east-1/web"), std::string::npos) << r.err;
  auto doc = parse_json(r.out);
  ASSERT_TRUE(doc) << r.out;
  EXPECT_FALSE((*doc)["complete"].asBool());
  EXPECT_EQ((*doc)["next_repository"]["repository"].asString(), "web");
  EXPECT_EQ(session.clean({"--max-duration", "0"}).rc, 2);
}

TEST(CleanProgress, TheLineHasTotalPercentageRateAndEtaAndIsRedrawnAtMostEveryRedrawInterval) {
  using namespace std::chrono_literals;
  EXPECT_EQ(handler::render_progress(300, 1200, "images", 2s),
            "[######..................]  25%  300/1200 images  150/s  ETA 6s");
  EXPECT_EQ(handler::render_progress(0, 1200, "images", 0s), "[........................]   0%  0/1200 images");
  EXPECT_EQ(handler::render_progress(1200, 1200, "images", 4s),
            "[########################] 100%  1200/1200 images  300/s");
  FakeClock clock;
  std::ostringstream err;
  handler::ProgressLine line(err, clock, "images");
  EXPECT_TRUE(line.update(100, 1000));
  EXPECT_FALSE(line.update(200, 1000)) << "redrawn at most every " << handler::kProgressRedraw.count() << " ms";
  EXPECT_TRUE(line.update(1000, 1000)) << "the last one always";
  clock.advance(handler::kProgressRedraw);
  EXPECT_TRUE(line.update(999, 1000)) << "a late report from a slower worker";
  EXPECT_NE(err.str().rfind("1000/1000 images"), err.str().find("1000/1000 images")) << "drawn at 1000 again, not 999";
  EXPECT_EQ(err.str().find("999/1000"), std::string::npos) << err.str();
  line.finish();
  EXPECT_EQ(err.str().substr(err.str().size() - 4), "\r\x1b[K") << "erased at the end";
}

// A terminal (CliContext::progress, stderr is a TTY) gets the progress line on stderr during --apply; the harness
// (piped) gets none.
TEST_F(CleanVerb, ApplyOnATerminalShowsProgressOnStderrAndPipedShowsNone) {
  Session session(server_.endpoint());
  auto verb = handler::make_clean_verb(handler::clean::CleanVerbOptions{false});
  CLI::App app("ecr-sweeper");
  verb->add_to(app);
  const std::vector<std::string> args{"clean", "--keep-days", "0", "--keep", "0", "--apply"};
  app.parse(std::vector<std::string>(args.rbegin(), args.rend()));  // CLI11's vector form is reversed
  std::ostringstream out, err;
  handler::CliContext io{out, err, /*progress=*/true, nullptr};
  ASSERT_EQ(verb->run(session.get(), io), 0) << err.str();
  const auto total = std::to_string(expected_web_deletions(seeded_, 0, 0).size());
  EXPECT_NE(err.str().find("100%  " + total + "/" + total + " images"), std::string::npos) << err.str();
  EXPECT_EQ(out.str().find(total + "/" + total + " images"), std::string::npos) << "progress only on stderr";

  const auto piped = session.clean({"--keep-days", "0", "--keep", "0", "--apply", "--repos", "team-*"});
  EXPECT_EQ(piped.rc, 0) << piped.err;
  EXPECT_EQ(piped.err.find("\r["), std::string::npos) << piped.err;
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
