#pragma once
// An in-process ecr-sweeper over LocalAws for the clean verb and the scheduled mode (the shared CliVerbHarness),
// and a seeded world with images in use in every way the scan knows.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ecrs/handler/clean_mode.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "support/cli_verb_harness.hpp"

namespace ecrs::clean_test {

inline constexpr const char* kAccount = "123456789012";
inline constexpr const char* kRegion = "us-east-1";

using test_support::VerbRun;

// The clean verb and the scheduled mode in process over `endpoint` (tests/support/cli_verb_harness.hpp); `extra`
// adds the mode's environment (KEEP_COUNT, DRY_RUN, ...). Logs captured at info, as the function logs.
class Session : public test_support::CliVerbHarness {
 public:
  explicit Session(const std::string& endpoint, const std::map<std::string, std::string>& extra = {})
      : CliVerbHarness(test_support::local_cli_env(endpoint, extra), LogLevel::info) {}
  handler::AwsSession& get() { return session(); }

  // `ecr-sweeper clean ARGS...`; a parse error is exit 2.
  VerbRun clean(std::vector<std::string> args, std::optional<bool> table = false) {
    auto verb = handler::make_clean_verb(handler::clean::CleanVerbOptions{table});
    args.insert(args.begin(), "clean");
    return run(*verb, std::move(args));
  }
};

inline std::string uri(const std::string& repo) {
  return std::string(kAccount) + ".dkr.ecr." + kRegion + ".amazonaws.com/" + repo;
}

// Repository "web" (opted in by tag): kImages images, image i pushed i*kSpanDays/kImages days ago (0 newest),
// even ones tagged b<i>, image kReleaseIndex tagged release-1. "team-api" (no tag; selected by --repos team-*)
// and "other" (never selected) hold old images too. Old images of "web" are used by an ECS service's rollback
// deployment, a service scaled to 0, a task pinned by digest, a Lambda alias on an old version and App Runner.
inline constexpr int kImages = 160;
inline constexpr int kSpanDays = 90;
inline constexpr int kReleaseIndex = 120;

struct Seeded {
  std::vector<std::string> web;  // digests by index
  std::vector<std::string> team_api;
  std::set<std::string> in_use;
};

inline double age_days(int i, int count) { return static_cast<double>(kSpanDays) * i / count; }

inline Seeded seed(localaws::LocalAws& server) {
  Seeded s;
  auto& ecr = server.ecr();
  const auto now = std::chrono::system_clock::now();
  auto pushed = [&](int i, int count) {
    return now - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                     std::chrono::duration<double>(86400.0 * age_days(i, count)));
  };
  ecr.create_repository("web");
  for (int i = 0; i < kImages; ++i) {
    const std::string tag = i == kReleaseIndex ? "release-1" : (i % 2 ? "" : "b" + std::to_string(i));
    s.web.push_back(ecr.put_image("web", tag, pushed(i, kImages)));
  }
  ecr.create_repository("team-api");
  for (int i = 0; i < 10; ++i) s.team_api.push_back(ecr.put_image("team-api", "", pushed(i * 10, kImages)));
  ecr.create_repository("other");
  for (int i = 0; i < 10; ++i) ecr.put_image("other", "", pushed(kImages - 1 - i, kImages));
  {
    std::lock_guard lock(ecr.mutex());
    ecr.repositories_unlocked().at("web").tags["ecr-sweeper:enabled"] = "true";
  }
  auto& worlds = server.worlds();
  std::lock_guard lock(worlds.mutex());
  worlds.enabled_regions = {kRegion};  // localaws serves one region
  auto& world = worlds.world(kAccount);
  const auto web = uri("web");
  world.task_definitions["web:1"] = {"web", 1, {{"app", web + ":b100"}}};
  world.task_definitions["web:2"] = {"web", 2, {{"app", web + ":b110"}}};
  world.task_definitions["idle:1"] = {"idle", 1, {{"app", web + ":b130"}}};
  world.clusters["prod"].services.push_back(
      {"web", 2, {{"ecs-svc/2", "PRIMARY", "web:2"}, {"ecs-svc/1", "ACTIVE", "web:1"}}});
  world.clusters["staging"].services.push_back({"idle", 0, {{"ecs-svc/3", "PRIMARY", "idle:1"}}});
  world.clusters["batch"].tasks.push_back(
      {"t1", "web:1", "RUNNING", "RUNNING", {{"app", web + "@" + s.web[141], s.web[141]}}});
  world.functions["api"].versions = {{"$LATEST", web + ":b150", ""}, {"3", web + ":b154", web + "@" + s.web[155]}};
  world.functions["api"].aliases["live"] = "3";
  world.apprunner_services.push_back({"site", web + ":b158"});
  for (int i : {100, 110, 130, 141, 150, 154, 155, 158}) s.in_use.insert(s.web[i]);
  return s;
}

// What the rules delete from "web": not among the newest keep_count, not younger than keep_days, not in use,
// not tagged release-*.
inline std::set<std::string> expected_web_deletions(const Seeded& s, int keep_count, int keep_days) {
  std::set<std::string> out;
  for (int i = 0; i < kImages; ++i) {
    if (i < keep_count || age_days(i, kImages) < keep_days || i == kReleaseIndex) continue;
    if (s.in_use.count(s.web[i])) continue;
    out.insert(s.web[i]);
  }
  return out;
}

inline std::set<std::string> digests_of(localaws::LocalAws& server, const std::string& repo) {
  std::set<std::string> out;
  if (auto r = server.ecr().repository(repo)) {
    for (const auto& [digest, image] : r->images) out.insert(digest);
  }
  return out;
}

}  // namespace ecrs::clean_test
