// Scheduled cleanup end to end against localaws over real HTTP: 3 ECS clusters with rolling deployments and a
// task pinned by digest, a Lambda alias on an old version, App Runner, 520 images over 90 days. Asserts the exact
// set deleted, that the dry-run plan equals what apply deletes, and that nothing in use is deleted.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/cleanup/cleanup.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "ecrs/localaws/localaws.hpp"

namespace ecrs::cleanup {
namespace {

class World {
 public:
  explicit World(localaws::Options options = {}) : server_(std::move(options)), logger_(sink_, clock_) {
    server_.start();
    transport_ = std::make_unique<aws::CurlTransport>(env_);
    sigv4::Credentials creds;
    creds.access_key_id = "test";
    creds.secret_access_key = Secret("test");
    default_creds_ = std::make_shared<aws::StaticCredentialsProvider>(creds);
  }
  ~World() { server_.stop(); }

  ClientFactory factory() {
    return [this](const aws::ServiceInfo& svc, const std::string& region,
                  std::shared_ptr<aws::CredentialsProvider> creds) -> Result<aws::AwsClient*> {
      if (!creds) creds = default_creds_;
      providers_.push_back(creds);
      aws::Endpoint endpoint{server_.endpoint(), region, std::string(svc.signing_name)};
      clients_.push_back(std::make_unique<aws::AwsClient>(
          aws::AwsContext{*transport_, *creds, clock_, sleeper_, random_, retry_, &logger_}, endpoint));
      return clients_.back().get();
    };
  }
  localaws::LocalAws& server() { return server_; }
  const Clock& clock() const { return clock_; }
  Logger& logger() { return logger_; }
  std::string uri(const std::string& repo) const {
    return "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + repo;
  }

 private:
  localaws::LocalAws server_;
  SystemClock clock_;
  RealSleeper sleeper_;
  FixedRandom random_{0.5};
  CaptureSink sink_;
  Logger logger_;
  MapEnvironment env_;
  std::unique_ptr<aws::CurlTransport> transport_;
  std::shared_ptr<aws::CredentialsProvider> default_creds_;
  std::vector<std::shared_ptr<aws::CredentialsProvider>> providers_;
  aws::RetryStrategy retry_;
  std::vector<std::unique_ptr<aws::AwsClient>> clients_;
};

constexpr int kImages = 520;
constexpr int kSpanDays = 90;

struct Seeded {
  std::vector<std::string> digests;  // index i pushed i*90/520 days ago... newest first
  std::set<std::string> in_use;
};

Seeded seed(World& w) {
  Seeded s;
  auto& ecr = w.server().ecr();
  ecr.create_repository("web");
  const auto now = std::chrono::system_clock::now();
  for (int i = 0; i < kImages; ++i) {
    const auto age = std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::duration<double>(86400.0 * kSpanDays * i / kImages));
    s.digests.push_back(ecr.put_image("web", i % 2 ? "" : "b" + std::to_string(i), now - age));
  }
  {
    std::lock_guard lock(ecr.mutex());
    ecr.repositories_unlocked().at("web").tags["ecr-sweeper:enabled"] = "true";
  }
  auto& worlds = w.server().worlds();
  std::lock_guard lock(worlds.mutex());
  auto& world = worlds.world("123456789012");
  const auto uri = w.uri("web");
  // Old images (beyond newest 100 and 30 days) used in every way the scan knows.
  world.task_definitions["web:1"] = {"web", 1, {{"app", uri + ":b400"}}};
  world.task_definitions["web:2"] = {"web", 2, {{"app", uri + ":b410"}}};
  world.task_definitions["idle:1"] = {"idle", 1, {{"app", uri + ":b420"}}};
  world.clusters["prod"].services.push_back(
      {"web", 2, {{"ecs-svc/1", "PRIMARY", "web:2"}, {"ecs-svc/0", "ACTIVE", "web:1"}}});
  world.clusters["staging"].services.push_back({"idle", 0, {{"ecs-svc/2", "PRIMARY", "idle:1"}}});
  world.clusters["batch"].tasks.push_back({"t1", "web:1", "RUNNING", "RUNNING", {{"app", uri + "@" + s.digests[431], s.digests[431]}}});
  world.functions["api"].versions = {{"$LATEST", uri + ":b440", ""}, {"3", uri + ":b450", uri + "@" + s.digests[451]}};
  world.functions["api"].aliases["live"] = "3";
  world.apprunner_services.push_back({"site", uri + ":b460"});
  for (int i : {400, 410, 420, 431, 440, 450, 451, 460}) s.in_use.insert(s.digests[i]);
  return s;
}

std::set<std::string> expected_deletions(const Seeded& s) {
  std::set<std::string> out;
  for (int i = 0; i < kImages; ++i) {
    const double age_days = static_cast<double>(kSpanDays) * i / kImages;
    if (i < kDefaultKeepCount || age_days < kDefaultKeepDays) continue;
    if (s.in_use.count(s.digests[i])) continue;
    out.insert(s.digests[i]);
  }
  return out;
}

TEST(CleanupE2E, DryRunPlanEqualsWhatApplyDeletesAndNothingInUseGoes) {
  World w;
  const Seeded s = seed(w);
  CleanupOptions opts;
  opts.home_region = "us-east-1";
  opts.rules.keep_tag_patterns = {"latest"};
  auto dry = run_cleanup(w.factory(), opts, w.clock(), w.logger());
  ASSERT_TRUE(dry) << dry.error().describe();
  ASSERT_EQ(dry->repositories.size(), 1u);
  std::set<std::string> planned;
  for (const auto& d : dry->repositories[0].plan.remove) planned.insert(d.image_digest);
  EXPECT_EQ(planned, expected_deletions(s));
  EXPECT_EQ(w.server().ecr().image_count("web"), static_cast<std::size_t>(kImages));  // dry run deletes nothing
  EXPECT_EQ(dry->deleted_bytes, 0);

  opts.apply = true;
  auto applied = run_cleanup(w.factory(), opts, w.clock(), w.logger());
  ASSERT_TRUE(applied) << applied.error().describe();
  const auto& out = applied->repositories.at(0);
  EXPECT_EQ(out.deleted, planned.size());
  EXPECT_TRUE(out.failures.empty());
  // Bytes deleted are the plan's sizes of what went: all of it here, so the dry run's planned bytes.
  EXPECT_GT(dry->planned_bytes, 0);
  EXPECT_EQ(out.deleted_bytes, dry->planned_bytes);
  EXPECT_EQ(applied->deleted_bytes, dry->planned_bytes);
  const auto repo = w.server().ecr().repository("web");
  ASSERT_TRUE(repo);
  for (const auto& d : s.in_use) EXPECT_TRUE(repo->images.count(d)) << "in-use image deleted: " << d;
  for (const auto& d : planned) EXPECT_FALSE(repo->images.count(d)) << "planned image left: " << d;
  EXPECT_EQ(repo->images.size(), kImages - planned.size());
}

TEST(CleanupE2E, ADeploymentRacingTheSweepSparesItsImage) {
  World w;
  const Seeded s = seed(w);
  CleanupOptions opts;
  opts.home_region = "us-east-1";
  opts.apply = true;
  const std::string late = s.digests[500];
  // The first BatchDeleteImage... is preceded by a re-check; a deployment lands during the first listing.
  bool deployed = false;
  w.server().on_call("DescribeImages", [&](localaws::EcrState&) {
    if (deployed) return;
    deployed = true;
    auto& worlds = w.server().worlds();
    std::lock_guard lock(worlds.mutex());
    worlds.world("123456789012").clusters["prod"].tasks.push_back(
        {"late", "web:2", "RUNNING", "RUNNING", {{"app", w.uri("web") + "@" + late, late}}});
  });
  auto applied = run_cleanup(w.factory(), opts, w.clock(), w.logger());
  ASSERT_TRUE(applied) << applied.error().describe();
  EXPECT_TRUE(w.server().ecr().repository("web")->images.count(late));
}

TEST(CleanupE2E, AssumedRoleScanProtectsImagesUsedInAnotherAccount) {
  World w;
  const Seeded s = seed(w);
  {
    auto& worlds = w.server().worlds();
    std::lock_guard lock(worlds.mutex());
    worlds.world("210987654321").apprunner_services.push_back({"partner", w.uri("web") + "@" + s.digests[480]});
  }
  CleanupOptions opts;
  opts.home_region = "us-east-1";
  auto without = run_cleanup(w.factory(), opts, w.clock(), w.logger());
  ASSERT_TRUE(without);
  opts.assume_roles = {"arn:aws:iam::210987654321:role/sweeper-read"};
  auto with = run_cleanup(w.factory(), opts, w.clock(), w.logger());
  ASSERT_TRUE(with) << with.error().describe();
  auto has = [&](const CleanupReport& r) {
    for (const auto& d : r.repositories.at(0).plan.remove)
      if (d.image_digest == s.digests[480]) return true;
    return false;
  };
  EXPECT_TRUE(has(*without));
  EXPECT_FALSE(has(*with));
}

TEST(CleanupE2E, AllRegionsComesFromDescribeRegions) {
  World w;
  CleanupOptions opts;
  opts.home_region = "us-east-1";
  opts.all_regions = true;
  {
    auto& worlds = w.server().worlds();
    std::lock_guard lock(worlds.mutex());
    worlds.enabled_regions = {"us-east-1"};
  }
  auto r = run_cleanup(w.factory(), opts, w.clock(), w.logger());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->regions, std::vector<std::string>{"us-east-1"});
}

// Three opted-in repositories (ECR names are at least 2 characters) of kSmallRepoImages images, all older than any keepDays, so with
// keep_count kSmallKeep each plans kSmallRepoImages - kSmallKeep deletions.
constexpr int kSmallRepoImages = 4;
constexpr int kSmallKeep = 1;
const std::vector<std::string> kSmallRepos{"app", "batch", "cron"};

CleanupOptions small_world(World& w) {
  const auto old = std::chrono::system_clock::now() - std::chrono::hours(24 * 400);
  for (const auto& repo : kSmallRepos) {
    w.server().ecr().create_repository(repo);
    for (int i = 0; i < kSmallRepoImages; ++i) w.server().ecr().put_image(repo, "", old - std::chrono::hours(i));
  }
  CleanupOptions opts;
  opts.home_region = "us-east-1";
  opts.repository_patterns = kSmallRepos;
  opts.rules.keep_count = kSmallKeep;
  opts.rules.keep_days = 0;
  opts.apply = true;
  return opts;
}

std::size_t images_left(World& w) {
  std::size_t n = 0;
  for (const auto& repo : kSmallRepos) n += w.server().ecr().image_count(repo);
  return n;
}

TEST(CleanupE2E, WithoutDeadlineOrCursorTheRunIsCompleteAndNamesNoNextRepository) {
  World w;
  CleanupOptions opts = small_world(w);
  opts.apply = false;
  auto r = run_cleanup(w.factory(), opts, w.clock(), w.logger());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_TRUE(r->complete);
  EXPECT_FALSE(r->next_repository);
  EXPECT_EQ(r->repositories_selected, kSmallRepos.size());
  ASSERT_EQ(r->repositories.size(), kSmallRepos.size());
  for (std::size_t i = 0; i < kSmallRepos.size(); ++i) {
    EXPECT_EQ(r->repositories[i].plan.key.repository, kSmallRepos[i]);
  }
  const Json::Value doc = report_to_json(*r);
  EXPECT_FALSE(doc.isMember("complete")) << "a run without a deadline keeps the report it always had";
  EXPECT_FALSE(doc.isMember("next_repository"));
}

TEST(CleanupE2E, ADeadlineStopsTheRunAndTheCursorResumesWhereItStopped) {
  World w;
  CleanupOptions opts = small_world(w);
  // Each DescribeImages "takes" a second on the engine's clock: app's listing ends at 1 s and its one batch follows
  // (the re-check right after a plan is an in-use scan; the plan's own listing is fresh), as a re-check and a
  // delete still fit (the longest call so far, 1 s, plus kMinAttemptTime before the deadline); batch's listing ends
  // at 2 s, when they do not: batch is the cursor, planned and untouched, and cron is never started.
  FakeClock clock(std::chrono::system_clock::now());
  w.server().on_call("DescribeImages", [&](localaws::EcrState&) { clock.advance(std::chrono::seconds(1)); });
  opts.deadline = clock.now() + std::chrono::seconds(3);
  auto first = run_cleanup(w.factory(), opts, clock, w.logger());
  ASSERT_TRUE(first) << first.error().describe();
  EXPECT_FALSE(first->complete);
  ASSERT_TRUE(first->next_repository);
  EXPECT_EQ(*first->next_repository, (RepositoryCursor{"us-east-1", "batch"}));
  EXPECT_EQ(first->repositories_selected, kSmallRepos.size());
  ASSERT_EQ(first->repositories.size(), 2u);
  EXPECT_TRUE(first->repositories[0].finished);
  EXPECT_FALSE(first->repositories[1].finished);
  EXPECT_EQ(first->deleted, kSmallRepoImages - kSmallKeep);
  EXPECT_EQ(w.server().ecr().image_count("batch"), static_cast<std::size_t>(kSmallRepoImages));
  EXPECT_EQ(w.server().ecr().image_count("cron"), static_cast<std::size_t>(kSmallRepoImages));
  EXPECT_LE(clock.now(), *opts.deadline) << "a call ran past the deadline";
  const Json::Value doc = report_to_json(*first, /*compact=*/true);
  EXPECT_FALSE(doc["complete"].asBool());
  EXPECT_EQ(doc["next_repository"]["repository"].asString(), "batch");
  EXPECT_FALSE(doc["repositories"][1]["finished"].asBool());

  opts.deadline.reset();
  opts.start_at = first->next_repository;
  auto second = run_cleanup(w.factory(), opts, clock, w.logger());
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_TRUE(second->complete);
  ASSERT_EQ(second->repositories.size(), 2u);
  EXPECT_EQ(second->repositories[0].plan.key.repository, "batch");
  EXPECT_EQ(first->deleted + second->deleted, kSmallRepos.size() * (kSmallRepoImages - kSmallKeep));
  EXPECT_EQ(images_left(w), kSmallRepos.size() * kSmallKeep);

  // A deadline already passed makes no call at all: the run answers at once, with the cursor it was given.
  const auto calls_before = w.server().metrics()["total_calls"].asUInt64();
  opts.start_at = RepositoryCursor{"us-east-1", "batch"};
  opts.deadline = clock.now();
  auto none = run_cleanup(w.factory(), opts, clock, w.logger());
  ASSERT_TRUE(none) << none.error().describe();
  EXPECT_FALSE(none->complete);
  EXPECT_TRUE(none->repositories.empty());
  ASSERT_TRUE(none->stopped_early);
  EXPECT_EQ(none->stopped_early->code, kDeadlineReached);
  EXPECT_EQ(none->next_repository, opts.start_at);
  EXPECT_EQ(w.server().metrics()["total_calls"].asUInt64(), calls_before);

  opts.deadline.reset();
  opts.start_at = RepositoryCursor{"eu-west-1", "app"};
  auto elsewhere = run_cleanup(w.factory(), opts, clock, w.logger());
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().code, "InvalidCursor");
}

// One repository of kBigImages old images (five BatchDeleteImage batches), the newest kept by count.
constexpr int kBigImages = 450;
std::vector<std::string> big_world(World& w, CleanupOptions& opts) {
  const auto old = std::chrono::system_clock::now() - std::chrono::hours(24 * 400);
  std::vector<std::string> digests;  // newest first
  w.server().ecr().create_repository("big");
  for (int i = 0; i < kBigImages; ++i) digests.push_back(w.server().ecr().put_image("big", "", old - std::chrono::minutes(i)));
  opts.home_region = "us-east-1";
  opts.repository_patterns = {"big"};
  opts.rules.keep_count = 1;
  opts.rules.keep_days = 0;
  opts.apply = true;
  return digests;
}

void runs_in_app_runner(World& w, const std::string& name, const std::string& digest,
                        const std::string& repository = "big") {
  auto& worlds = w.server().worlds();
  std::lock_guard lock(worlds.mutex());
  worlds.world("123456789012").apprunner_services.push_back({name, w.uri(repository) + "@" + digest});
}

TEST(CleanupE2E, ADeadlineInsideARepositoryStopsBetweenBatchesAndTheResumedRunDeletesTheRestOnce) {
  World w;
  CleanupOptions opts;
  const auto digests = big_world(w, opts);
  // Each BatchDeleteImage "takes" a second, and a batch starts only while the longest call so far plus
  // kMinAttemptTime still fits: with 4 s, three batches of 100 go (at 0, 1 and 2 s), the fourth (at 3 s, needing
  // 1.2) does not start. One deleter, so the fake clock's seconds add up in a known order.
  FakeClock clock(std::chrono::system_clock::now());
  w.server().on_call("BatchDeleteImage", [&](localaws::EcrState&) { clock.advance(std::chrono::seconds(1)); });
  opts.deadline = clock.now() + std::chrono::seconds(4);
  opts.max_concurrency = 1;
  auto first = run_cleanup(w.factory(), opts, clock, w.logger());
  ASSERT_TRUE(first) << first.error().describe();
  EXPECT_FALSE(first->complete);
  ASSERT_EQ(first->repositories.size(), 1u);
  const auto& part = first->repositories[0];
  EXPECT_FALSE(part.finished);
  EXPECT_EQ(part.deleted, 3 * ecr::kMaxImageIdsPerCall);
  EXPECT_EQ(w.server().ecr().image_count("big"), kBigImages - part.deleted) << "a delete the report did not count";
  EXPECT_LE(clock.now(), *opts.deadline) << "a delete ran past the deadline";
  EXPECT_TRUE(part.failures.empty());
  EXPECT_EQ(part.in_use_rescans, 1) << "one re-check after the plan; the 15 s interval never passed";
  EXPECT_EQ(first->next_repository, (RepositoryCursor{"us-east-1", "big"}));

  // Between the invocations an old image the first run planned (and had not reached) starts running.
  const std::string late = digests[1];  // deleted last: untagged images go oldest first
  ASSERT_TRUE(w.server().ecr().repository("big")->images.count(late));
  runs_in_app_runner(w, "late", late);

  opts.deadline.reset();
  opts.start_at = first->next_repository;
  auto second = run_cleanup(w.factory(), opts, clock, w.logger());
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_TRUE(second->complete);
  const auto& rest = second->repositories.at(0);
  EXPECT_TRUE(rest.finished);
  EXPECT_TRUE(rest.failures.empty()) << rest.failures[0];
  EXPECT_EQ(rest.spared, std::vector<std::string>{}) << "re-planned: what started running is kept, not spared";
  EXPECT_EQ(part.deleted + rest.deleted, static_cast<std::size_t>(kBigImages - 2)) << "counted twice or not at all";
  const auto repo = w.server().ecr().repository("big");
  EXPECT_TRUE(repo->images.count(late)) << "the image that started running was deleted";
  EXPECT_TRUE(repo->images.count(digests[0])) << "the newest (keep_count 1) was deleted";
  EXPECT_EQ(repo->images.size(), 2u);
}

TEST(CleanupE2E, ALongDeletionReChecksInUseEveryIntervalAndSparesWhatStartedRunning) {
  World w;
  CleanupOptions opts;
  const auto digests = big_world(w, opts);
  // Each BatchDeleteImage "takes" 20 s, longer than the 15 s re-check interval: every batch is re-checked (no
  // window fits a 20 s call, so each re-check sends one batch alone). A deployment lands during the first batch
  // and runs a planned image that batch does not hold.
  //
  // Which image is chosen inside the call, not beforehand: the first window hands all 5 batches to the deleters,
  // and which of them wins the rate controller's first ticket is the threads' race (under ASan on a loaded
  // machine the last batch, with digests[1], went first in 3 runs of 130). An image deleted by the call that was
  // running when the deployment landed was checked by the scan before it, inside the interval: the guarantee
  // is about what comes after.
  FakeClock clock(std::chrono::system_clock::now());
  std::mutex late_mu;
  std::string late;
  w.server().on_call("BatchDeleteImage", [&](const Json::Value& input, localaws::EcrState&) {
    clock.advance(std::chrono::seconds(20));
    std::lock_guard lock(late_mu);
    if (!late.empty()) return;
    std::set<std::string> sent;
    for (const auto& id : input["imageIds"]) sent.insert(id["imageDigest"].asString());
    // digests[0] is kept (keep_count 1); the others are all planned.
    for (std::size_t i = 1; i < digests.size() && late.empty(); ++i) {
      if (!sent.count(digests[i])) late = digests[i];
    }
    runs_in_app_runner(w, "late", late);
  });
  auto run = run_cleanup(w.factory(), opts, clock, w.logger());
  ASSERT_TRUE(run) << run.error().describe();
  std::lock_guard lock(late_mu);
  ASSERT_FALSE(late.empty()) << "no BatchDeleteImage was sent";
  const auto& out = run->repositories.at(0);
  EXPECT_EQ(out.in_use_rescans, 5) << "one re-check per batch once the interval passes between them";
  EXPECT_EQ(out.spared, std::vector<std::string>{late});
  EXPECT_TRUE(w.server().ecr().repository("big")->images.count(late));
  EXPECT_EQ(out.deleted, static_cast<std::size_t>(kBigImages - 2));

  // The same deletion with calls that take no time re-checks once, after the plan, not before every batch.
  World quick;
  CleanupOptions quick_opts;
  big_world(quick, quick_opts);
  auto fast = run_cleanup(quick.factory(), quick_opts, quick.clock(), quick.logger());
  ASSERT_TRUE(fast) << fast.error().describe();
  EXPECT_EQ(fast->repositories.at(0).in_use_rescans, 1);
  EXPECT_EQ(fast->repositories.at(0).deleted, static_cast<std::size_t>(kBigImages - 1));
}

// An account that throttles a fifth of ECR calls at random (listings and deletes alike): apply still completes
// through the shared deleters, deletes exactly the dry run's plan and nothing in use. Then, on the same kind of
// account with a re-check before every batch, a deployment landing during the first delete keeps its image.
TEST(CleanupE2E, WithAFifthOfEcrCallsThrottledApplyDeletesExactlyThePlanAndNothingInUse) {
  localaws::Options throttled;
  throttled.throttle_rate = 0.2;
  throttled.seed = 16;
  World w(throttled);
  const Seeded s = seed(w);
  CleanupOptions opts;
  opts.home_region = "us-east-1";
  opts.apply = true;
  auto run = run_cleanup(w.factory(), opts, w.clock(), w.logger());
  ASSERT_TRUE(run) << run.error().describe();
  EXPECT_TRUE(run->complete);
  const auto& out = run->repositories.at(0);
  const auto expected = expected_deletions(s);
  EXPECT_EQ(out.deleted, expected.size());
  EXPECT_TRUE(out.failures.empty()) << out.failures.at(0);
  const auto repo = w.server().ecr().repository("web");
  for (const auto& d : s.digests) EXPECT_EQ(repo->images.count(d) == 0, expected.count(d) == 1) << d;
  std::uint64_t throttles = 0;
  const Json::Value metrics = w.server().metrics();
  for (const auto& op : metrics["operations"]) throttles += op["throttled"].asUInt64();
  EXPECT_GT(throttles, 0u) << "the account did not throttle: the test proves nothing";

  World racing(throttled);
  const Seeded r = seed(racing);
  opts.apply = false;
  auto plan = run_cleanup(racing.factory(), opts, racing.clock(), racing.logger());
  ASSERT_TRUE(plan) << plan.error().describe();
  const std::string late = plan->repositories.at(0).plan.remove.back().image_digest;  // in the last batch
  ASSERT_TRUE(expected_deletions(r).count(late));
  opts.apply = true;
  std::atomic<bool> deployed{false};  // the hook runs on the server's threads
  racing.server().on_call("BatchDeleteImage", [&](localaws::EcrState&) {
    if (!deployed.exchange(true)) runs_in_app_runner(racing, "late", late, "web");
  });
  opts.recheck_every = std::chrono::milliseconds{0};
  auto raced = run_cleanup(racing.factory(), opts, racing.clock(), racing.logger());
  ASSERT_TRUE(raced) << raced.error().describe();
  EXPECT_TRUE(racing.server().ecr().repository("web")->images.count(late)) << "the image that started running went";
  EXPECT_EQ(raced->repositories.at(0).spared, std::vector<std::string>{late});
  EXPECT_EQ(raced->repositories.at(0).deleted, expected_deletions(r).size() - 1);
}

TEST(CleanupE2E, ARepositoryErrorStopsTheRunUnlessAskedToGoOnWithTheNext) {
  World w;
  CleanupOptions opts = small_world(w);
  // The first listing (repository app) is refused; AccessDenied is not retried.
  const localaws::FaultRule denied{"DescribeImages", 1, 400, "AccessDeniedException", "not allowed"};
  w.server().add_fault(denied);
  auto stopped = run_cleanup(w.factory(), opts, w.clock(), w.logger());
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, "AccessDeniedException");
  EXPECT_EQ(images_left(w), kSmallRepos.size() * kSmallRepoImages) << "nothing after the failure was touched";

  w.server().add_fault(denied);
  opts.continue_on_repository_error = true;
  auto went_on = run_cleanup(w.factory(), opts, w.clock(), w.logger());
  ASSERT_TRUE(went_on) << went_on.error().describe();
  EXPECT_TRUE(went_on->complete);
  ASSERT_EQ(went_on->repositories.size(), kSmallRepos.size());
  ASSERT_TRUE(went_on->repositories[0].error);
  EXPECT_EQ(went_on->repositories[0].error->code, "AccessDeniedException");
  EXPECT_FALSE(went_on->repositories[1].error);
  EXPECT_EQ(w.server().ecr().image_count("app"), static_cast<std::size_t>(kSmallRepoImages));
  EXPECT_EQ(went_on->deleted, 2u * (kSmallRepoImages - kSmallKeep));
  const std::string shown = report_to_json(*went_on)["repositories"][0]["error"].asString();
  EXPECT_NE(shown.find("AccessDeniedException"), std::string::npos) << shown;
}

// A batch starts only while it is expected to answer inside its re-check window, and the window is used to its end:
// each BatchDeleteImage "takes" a second on the engine's clock and a window is 3.5 s, so once the first delete has
// answered a batch starts only while 1.5 s (1.5x its latency, DeletePacing) is left. One deleter, so the order is
// known: window 1 (from the plan's listing at 0 s) sends batches at 0, 1 and 2 s, the last answering at 3 s, inside
// it; window 2 (3 s) the other two.
TEST(CleanupE2E, ABatchStartsOnlyWhileItIsExpectedToAnswerInsideItsReCheckWindow) {
  World w;
  CleanupOptions opts;
  big_world(w, opts);
  FakeClock clock(std::chrono::system_clock::now());
  const auto start = clock.now();
  std::vector<double> delete_ends;  // seconds on the engine's clock
  w.server().on_call("BatchDeleteImage", [&](localaws::EcrState&) {
    clock.advance(std::chrono::seconds(1));
    delete_ends.push_back(std::chrono::duration<double>(clock.now() - start).count());
  });
  opts.max_concurrency = 1;
  opts.recheck_every = std::chrono::milliseconds(3500);
  auto run = run_cleanup(w.factory(), opts, clock, w.logger());
  ASSERT_TRUE(run) << run.error().describe();
  const auto& out = run->repositories.at(0);
  EXPECT_EQ(out.deleted, static_cast<std::size_t>(kBigImages - 1));
  EXPECT_EQ(delete_ends, (std::vector<double>{1, 2, 3, 4, 5}));
  EXPECT_EQ(out.in_use_rescans, 2);
}

}  // namespace
}  // namespace ecrs::cleanup
