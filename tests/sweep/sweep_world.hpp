#pragma once
// What the sweep tests share, in process (sweep_mode_test.cpp) and through the real bootstrap
// (sweep_binary_test.cpp): the task event, and a member account whose registry holds three opted-in
// repositories of twenty images (image i pushed i days ago), one opted-out repository, and an App Runner
// service running one of the old images.
//
// localaws's ECR serves one account with one key, so the member's registry is a second LocalAws
// (AWS_ENDPOINT_URL_ECR) whose key is the first credentials the main one's STS issues (ASIALOCALAWS100001,
// localaws-secret-1, localaws-session-token-1: Principals::issue is deterministic).
#include <json/value.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ecrs/common/secret.hpp"
#include "ecrs/localaws/localaws.hpp"

namespace ecrs::handler::sweep_testing {

inline constexpr const char* kMainAccount = "123456789012";  // localaws's own account: the function's
inline constexpr const char* kMember = "210987654321";
inline constexpr const char* kMemberRole = "arn:aws:iam::210987654321:role/ecr-sweeper-member";
// What the main LocalAws's STS issues first (the member registry's only key): never in the function's log.
inline constexpr const char* kMemberKeyId = "ASIALOCALAWS100001";
inline constexpr const char* kMemberSecret = "localaws-secret-1";
inline constexpr const char* kMemberToken = "localaws-session-token-1";
inline constexpr int kImagesPerRepo = 20;  // image i pushed i days ago
inline constexpr int kKeepCount = 5;
inline constexpr int kKeepDays = 10;
inline const std::vector<std::string> kRepos{"alpha", "beta", "gamma"};

inline localaws::Options member_registry() {
  localaws::Options o;
  o.account_id = kMember;
  o.access_key_id = kMemberKeyId;
  o.secret_access_key = Secret(kMemberSecret);
  o.session_token = Secret(kMemberToken);
  return o;
}

// {"ecrSweeper": {"task": "clean", ...}} as the state machine sends it; no role and no options when empty.
inline Json::Value task_event(const std::string& role, std::optional<bool> dry_run = std::nullopt,
                              const std::string& cursor = "", const std::string& run_id = "test-run/1") {
  Json::Value e;
  auto& t = e["ecrSweeper"];
  t["task"] = "clean";
  if (!role.empty()) {
    t["accountId"] = role.substr(std::string("arn:aws:iam::").size(), 12);
    t["roleArn"] = role;
  }
  t["region"] = "us-east-1";
  t["runId"] = run_id;
  auto& o = t["options"];
  if (dry_run) o["dryRun"] = *dry_run;
  o["keepCount"] = kKeepCount;
  o["keepDays"] = kKeepDays;
  o["keepTags"] = Json::Value(Json::arrayValue);
  if (!cursor.empty()) o["cursor"] = cursor;
  return e;
}

// The member account's images, and what a sweep with kKeepCount/kKeepDays must and must not delete.
class MemberWorld {
 public:
  // `server` holds every account's ECS/Lambda/App Runner; `registry` is the member's ECR.
  void seed(localaws::LocalAws& server, localaws::LocalAws& registry) {
    registry_ = &registry;
    auto& ecr = registry.ecr();
    const auto now = std::chrono::system_clock::now();
    for (const auto& repo : kRepos) {
      ecr.create_repository(repo);
      for (int i = 0; i < kImagesPerRepo; ++i) {
        digests_[repo].push_back(ecr.put_image(repo, repo + "-v" + std::to_string(i),
                                               now - std::chrono::hours(24) * i - std::chrono::minutes(1)));
      }
      std::lock_guard lock(ecr.mutex());
      ecr.repositories_unlocked().at(repo).tags["ecr-sweeper:enabled"] = "true";
    }
    ecr.create_repository("not-opted-in");
    ecr.put_image("not-opted-in", "old", now - std::chrono::hours(24 * 400));
    // The member account runs alpha's 15-day-old image: the sweep must keep it.
    in_use_ = digests_["alpha"][15];
    auto& worlds = server.worlds();
    std::lock_guard lock(worlds.mutex());
    worlds.world(kMember).apprunner_services.push_back(
        {"partner", std::string(kMember) + ".dkr.ecr.us-east-1.amazonaws.com/alpha@" + in_use_});
  }

  const std::string& in_use() const { return in_use_; }
  const std::vector<std::string>& digests(const std::string& repo) { return digests_[repo]; }

  // Images older than keepDays beyond the newest keepCount, minus the one in use.
  std::set<std::string> expected() {
    std::set<std::string> out;
    for (const auto& repo : kRepos)
      for (int i = kKeepDays; i < kImagesPerRepo; ++i)
        if (digests_[repo][i] != in_use_) out.insert(digests_[repo][i]);
    return out;
  }
  std::set<std::string> present() {
    std::set<std::string> out;
    for (const auto& repo : kRepos)
      for (const auto& d : digests_[repo])
        if (registry_->ecr().repository(repo)->images.count(d)) out.insert(d);
    return out;
  }
  std::set<std::string> everything_but_expected() {
    std::set<std::string> all, out;
    for (const auto& repo : kRepos) all.insert(digests_[repo].begin(), digests_[repo].end());
    const auto gone = expected();
    std::set_difference(all.begin(), all.end(), gone.begin(), gone.end(), std::inserter(out, out.end()));
    return out;
  }
  std::size_t total_images() {
    std::size_t n = registry_->ecr().image_count("not-opted-in");
    for (const auto& repo : kRepos) n += registry_->ecr().image_count(repo);
    return n;
  }
  std::uint64_t registry_calls(const char* op) {
    return registry_->metrics()["operations"][op]["calls"].asUInt64();
  }

 private:
  localaws::LocalAws* registry_ = nullptr;
  std::map<std::string, std::vector<std::string>> digests_;
  std::string in_use_;
};

}  // namespace ecrs::handler::sweep_testing
