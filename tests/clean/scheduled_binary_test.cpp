// The scheduled-cleanup mode through the real `bootstrap` (a child process with a clean Lambda environment against
// LocalAws's Runtime API, EventBridge's scheduled event as the invocation): on a slow account each invocation
// answers before the function's deadline with complete=false and where it stopped (issue 21, "Deadlines in every
// mode"), having deleted something, until one completes (issue 16, "any invocation makes progress"); on an
// account that throttles a fifth of the ECR calls at random it finishes and deletes exactly the unthrottled run's
// set (issue 16). localaws's latency and throttling apply to ECR calls only (ECS, Lambda and App Runner answer at
// once), which is where the time goes: listing and deleting.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "clean_support.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "support/lambda_env.hpp"
#include "support/process.hpp"

namespace ecrs::clean_test {
namespace {

using namespace std::chrono_literals;

constexpr auto kOutcomeWait = 120s;  // far beyond any run here; only a hung child reaches it
// "bulk": opted in by tag, kBulkImages images all older than any rule keeps but the newest kKeepCount: twenty
// BatchDeleteImage batches, so throttling and latency have calls to bite on.
constexpr int kBulkImages = 2000;
constexpr int kKeepCount = 40;

const char* kScheduledEvent =
    R"({"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
    "source":"aws.events","account":"123456789012","time":"2015-10-08T16:53:06Z","region":"us-east-1",
    "resources":["arn:aws:events:us-east-1:123456789012:rule/nightly"],"detail":{}})";

std::set<std::string> seed_bulk(localaws::LocalAws& server) {
  auto& ecr = server.ecr();
  ecr.create_repository("bulk");
  const auto old = std::chrono::system_clock::now() - std::chrono::hours(24 * 400);
  std::set<std::string> gone;
  for (int i = 0; i < kBulkImages; ++i) {
    auto digest = ecr.put_image("bulk", "", old - std::chrono::minutes(i));
    if (i >= kKeepCount) gone.insert(std::move(digest));
  }
  std::lock_guard lock(ecr.mutex());
  ecr.repositories_unlocked().at("bulk").tags["ecr-sweeper:enabled"] = "true";
  return gone;
}

struct Outcome {
  Json::Value reply;
  std::chrono::steady_clock::duration took{};
  std::string kind;
};

// One scheduled run through the binary on `server`; `timeout` is the function's (Lambda-Runtime-Deadline-Ms).
class ScheduledBinary {
 public:
  explicit ScheduledBinary(localaws::LocalAws& server) : server_(&server) {}
  ~ScheduledBinary() { child_.reset(); }  // SIGKILL and reap before the server goes

  Outcome run(std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    auto env = test_support::lambda_env({server_->runtime_api(), server_->endpoint()});
    env["DRY_RUN"] = "false";
    env["KEEP_COUNT"] = std::to_string(kKeepCount);
    env["KEEP_DAYS"] = "30";
    env["ECRS_LOG_LEVEL"] = "info";
    // A later run is the next invocation of the same (warm) process, as Lambda reuses an execution environment:
    // a second child would race the first's pending long poll for it.
    if (!child_) {
      child_ = std::make_unique<test_support::ChildProcess>(
          std::vector<std::string>{test_support::bootstrap_path()}, env);
    }
    Outcome o;
    const auto start = std::chrono::steady_clock::now();
    const std::string id = server_->runtime().invoke(kScheduledEvent, timeout);
    auto outcome = server_->runtime().wait_outcome(id, kOutcomeWait);
    o.took = std::chrono::steady_clock::now() - start;
    if (!outcome) {
      ADD_FAILURE() << "no outcome\n" << child_->err() << child_->out().substr(0, 4000);
      return o;
    }
    o.kind = outcome->kind;
    auto doc = parse_json(outcome->body);
    EXPECT_TRUE(doc) << outcome->body.substr(0, 500);
    if (doc) o.reply = *doc;
    return o;
  }
  std::string log() const { return child_ ? child_->out() : std::string(); }

 private:
  localaws::LocalAws* server_;
  std::unique_ptr<test_support::ChildProcess> child_;
};

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

TEST(ScheduledBinary, OnASlowAccountEachInvocationAnswersBeforeTheDeadlineAndDeletesSomething) {
  ASSERT_TRUE(std::filesystem::exists(test_support::bootstrap_path())) << test_support::bootstrap_path();
  localaws::LocalAws server;
  server.start();
  const Seeded seeded = seed(server);
  const auto bulk = seed_bulk(server);
  // Every ECR call takes 400 ms: the whole run needs well over 10 s (listings, twenty deletion batches) and the
  // function has 6 s. Without a deadline the run would answer after the function's timeout (Lambda would kill it).
  server.set_latency("*", 400ms);
  constexpr auto kTimeout = 6000ms;
  ScheduledBinary fn(server);
  std::size_t gone_before = 0;
  // Invocation after invocation, as scheduled runs: each re-plans from the first repository, so each must delete
  // something or the account is never cleaned. Before the re-check right after a plan reused the plan's listing,
  // the second listing of "bulk" (two 400 ms pages) left no time for a delete: 0 deleted, every invocation.
  // How many it takes is the machine's speed: 2 at 400 ms a call, 4 under ASan, 5 or more under ASan in CI (2 cores,
  // two tests at a time), where the plan took 3.4 s of the 4.5 s before the stop time and the run's first delete,
  // which goes alone to measure the latency, left no room for a wave: 100, 100, 100, 100, 660. The property is that
  // each invocation deletes, so the bound is what that alone guarantees: a batch of 100 an invocation.
  constexpr int kBatch = static_cast<int>(ecr::kMaxImageIdsPerCall);
  constexpr int kInvocations = (kBulkImages + kBatch - 1) / kBatch + 1;  // bulk's batches, then web
  bool complete = false;
  for (int invocation = 1; invocation <= kInvocations && !complete; ++invocation) {
    const Outcome o = fn.run(kTimeout);
    EXPECT_EQ(o.kind, "response") << to_compact_json(o.reply);
    EXPECT_LT(o.took, kTimeout) << "answered after the deadline: " << seconds(o.took) << " s";
    complete = !o.reply.isMember("complete");
    std::string next;
    if (!complete) {
      ASSERT_TRUE(o.reply.isMember("next_repository")) << to_compact_json(o.reply);
      next = o.reply["next_repository"]["repository"].asString();
      EXPECT_TRUE(next == "bulk" || next == "web") << next;
    }
    // What it did delete is from the plan, and nothing in use.
    const auto left_web = digests_of(server, "web");
    for (const auto& d : seeded.in_use) EXPECT_TRUE(left_web.count(d)) << "in-use image deleted: " << d;
    const auto left_bulk = digests_of(server, "bulk");
    std::size_t kept_left = 0;
    for (const auto& d : left_bulk) kept_left += bulk.count(d) == 0;
    EXPECT_EQ(kept_left, static_cast<std::size_t>(kKeepCount)) << "an image of bulk the rules keep was deleted";
    // A batch is started only when 1.5x its expected time fits, so the reply's count is what went, or (a batch
    // slower than that, cut by the deadline, which ECR may still carry out unseen) at most one batch short of it.
    const std::size_t gone = (kBulkImages - left_bulk.size()) + (seeded.web.size() - left_web.size()) - gone_before;
    const std::size_t counted = o.reply["summary"]["deleted"].asUInt64();
    EXPECT_LE(counted, gone);
    EXPECT_LE(gone - counted, 100u);
    EXPECT_GT(counted, 0u) << "invocation " << invocation << " deleted nothing\n" << fn.log();
    std::cout << "slow account, invocation " << invocation << ": answered in " << seconds(o.took) << " s of "
              << kTimeout.count() / 1000.0 << " s, deleted " << counted << (complete ? ", complete" : ", next " + next)
              << "\n";
    gone_before += gone;
  }
  EXPECT_TRUE(complete) << "not done in " << kInvocations << " invocations";
  const auto web_gone = expected_web_deletions(seeded, kKeepCount, 30);
  EXPECT_EQ(gone_before, web_gone.size() + bulk.size()) << "deleted other than the plan";
  server.stop();
}

// The same scheduled run on an account that throttles 20% of ECR calls at random, and on one that throttles
// none: both finish, both delete exactly the planned set. The times are printed (bench notes), never asserted.
TEST(ScheduledBinary, WithAFifthOfCallsThrottledItFinishesAndDeletesTheSameSet) {
  ASSERT_TRUE(std::filesystem::exists(test_support::bootstrap_path())) << test_support::bootstrap_path();
  const auto run_on = [](double throttle_rate) {
    localaws::Options options;
    options.throttle_rate = throttle_rate;
    options.seed = 21;
    localaws::LocalAws server(options);
    server.start();
    const Seeded seeded = seed(server);
    const auto bulk = seed_bulk(server);
    ScheduledBinary fn(server);
    const Outcome o = fn.run();
    EXPECT_EQ(o.kind, "response") << to_compact_json(o.reply);
    EXPECT_TRUE(o.reply["applied"].asBool());
    EXPECT_FALSE(o.reply.isMember("complete")) << "a complete run: " << to_compact_json(o.reply);
    const auto web_gone = expected_web_deletions(seeded, kKeepCount, 30);
    EXPECT_EQ(o.reply["summary"]["deleted"].asUInt64(), web_gone.size() + bulk.size());
    std::set<std::string> web_left;
    for (const auto& d : seeded.web) {
      if (!web_gone.count(d)) web_left.insert(d);
    }
    EXPECT_EQ(digests_of(server, "web"), web_left);
    EXPECT_EQ(server.ecr().image_count("bulk"), static_cast<std::size_t>(kKeepCount));
    for (const auto& d : seeded.in_use) EXPECT_TRUE(web_left.count(d)) << d;
    std::uint64_t throttled = 0;
    const Json::Value metrics = server.metrics();
    for (const auto& op : metrics["operations"]) throttled += op["throttled"].asUInt64();
    const std::uint64_t calls = metrics["total_calls"].asUInt64();
    server.stop();
    return std::tuple{o.took, throttled, calls};
  };
  const auto [plain, plain_throttled, plain_calls] = run_on(0.0);
  const auto [throttled, throttles, calls] = run_on(0.2);
  EXPECT_EQ(plain_throttled, 0u);
  EXPECT_GT(throttles, 0u) << "the account did not throttle: the test proves nothing";
  std::cout << "scheduled cleanup, " << kBulkImages + kImages << " images: unthrottled " << seconds(plain) << " s ("
            << plain_calls << " calls), 20% throttled " << seconds(throttled) << " s (" << calls << " calls, "
            << throttles << " throttled), ratio " << seconds(throttled) / seconds(plain) << "\n";
}

}  // namespace
}  // namespace ecrs::clean_test
