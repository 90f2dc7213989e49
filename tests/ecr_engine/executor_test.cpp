// The executor against localaws: each test asserts the repository's final state, the report and the call counts
// localaws saw (BatchDeleteImage calls <= ceil(digests/100) + retries).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <cstdio>

#include "ecrs/ecr/executor.hpp"
#include "harness.hpp"

namespace ecrs::ecr {
namespace {

using testing::ceil_div;
using testing::Harness;

Result<EmptyReport> run(Harness& h, EmptyOptions o) {
  return empty_repository(h.client(), o, h.clock(), h.sleeper(), h.random(), h.logger());
}

EmptyOptions options_for(const std::string& repo) {
  EmptyOptions o;
  o.repository = repo;
  return o;
}

// What every successful emptying must show.
void expect_emptied(Harness& h, const std::string& repo, const EmptyReport& r, std::uint64_t digests) {
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(r.stalled);
  EXPECT_FALSE(r.deadline_reached);
  EXPECT_EQ(r.remaining, 0u);
  EXPECT_EQ(r.deleted, digests);
  EXPECT_TRUE(r.failures.empty()) << r.failures.front();
  EXPECT_TRUE(h.state().has_repository(repo));
  EXPECT_EQ(h.state().image_count(repo), 0u);
  EXPECT_EQ(h.state().tag_count(repo), 0u);
  const std::uint64_t delete_calls = h.calls("BatchDeleteImage");
  EXPECT_EQ(delete_calls, r.delete_calls);
  EXPECT_LE(delete_calls, ceil_div(digests, 100) + r.retries);
  EXPECT_EQ(h.calls("ListImages"), r.list_calls);
}

TEST(EmptyRepository, EmptyRepositoryNeedsOneListingAndNoDelete) {
  Harness h;
  h.state().create_repository("web");
  auto r = run(h, options_for("web"));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  expect_emptied(h, "web", *r, 0);
  EXPECT_EQ(h.calls("ListImages"), 1u);
  EXPECT_EQ(h.calls("BatchDeleteImage"), 0u);
}

class EmptyRepositoryOfSize : public ::testing::TestWithParam<std::size_t> {};

TEST_P(EmptyRepositoryOfSize, DeletesEveryDigestInMinimalBatches) {
  const std::size_t n = GetParam();
  Harness h;
  h.state().create_repository("web");
  h.seed_mixed("web", n);
  EmptyOptions o = options_for("web");
  o.registry_id = h.server().options().account_id;
  auto r = run(h, o);
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  expect_emptied(h, "web", *r, n);
  EXPECT_EQ(r->retries, 0u);
  EXPECT_EQ(h.calls("BatchDeleteImage"), ceil_div(n, 100));
  // Pages of 1000 entries (one per tag, so more than n / 1000 pages), then one listing that finds nothing.
  EXPECT_GE(h.calls("ListImages"), ceil_div(n, 1000) + 1);
  EXPECT_LE(h.calls("ListImages"), ceil_div(n * 2, 1000) + 1);
}

INSTANTIATE_TEST_SUITE_P(Sizes, EmptyRepositoryOfSize, ::testing::Values(1, 100, 101, 1000, 1001, 2345));

TEST(EmptyRepository, DeletesIndexesBeforeTheirChildren) {
  Harness h;
  h.state().create_repository("multi");
  for (int i = 0; i < 30; ++i) {
    std::vector<std::string> children;
    for (int c = 0; c < 3; ++c) children.push_back(h.state().put_image("multi", ""));
    h.state().put_index("multi", children, "release-" + std::to_string(i));
  }
  ASSERT_EQ(h.state().image_count("multi"), 120u);
  auto r = run(h, options_for("multi"));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  expect_emptied(h, "multi", *r, 120);
  // Indexes in one wave, children in the next: no ImageReferencedByManifestList round trip.
  EXPECT_EQ(r->retries, 0u);
  EXPECT_EQ(h.calls("BatchDeleteImage"), 2u);
  EXPECT_EQ(h.calls("DescribeImages"), 1u);  // the 30 tagged digests only
  EXPECT_EQ(h.calls("BatchGetImage"), 1u);
}

TEST(EmptyRepository, UntaggedIndexesAreDeletedByRetryingTheirChildren) {
  Harness h;
  h.state().create_repository("multi");
  for (int i = 0; i < 10; ++i) {
    std::vector<std::string> children;
    for (int c = 0; c < 3; ++c) children.push_back(h.state().put_image("multi", ""));
    h.state().put_index("multi", children, "");  // a tag moved away from an old multi-arch release
  }
  auto r = run(h, options_for("multi"));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  expect_emptied(h, "multi", *r, 40);
  EXPECT_EQ(h.calls("DescribeImages"), 0u);
}

TEST(EmptyRepository, SurvivesThirtyPercentThrottling) {
  localaws::Options lo;
  lo.throttle_rate = 0.3;
  lo.seed = 7;
  Harness h(lo);
  h.state().create_repository("web");
  h.seed_mixed("web", 1500);
  auto r = run(h, options_for("web"));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  expect_emptied(h, "web", *r, 1500);
  EXPECT_GT(r->throttled, 0u);
  EXPECT_EQ(h.throttled("BatchDeleteImage") + h.throttled("ListImages") + h.throttled("DescribeImages") +
                h.throttled("BatchGetImage"),
            r->throttled);
}

TEST(EmptyRepository, SurvivesTenPercentServerErrors) {
  localaws::Options lo;
  lo.error_rate = 0.1;
  lo.seed = 11;
  Harness h(lo);
  h.state().create_repository("web");
  h.seed_mixed("web", 1500);
  auto r = run(h, options_for("web"));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  expect_emptied(h, "web", *r, 1500);
  EXPECT_GT(r->retries, 0u);
}

TEST(EmptyRepository, DeletesImagesPushedDuringTheDeletion) {
  Harness h;
  h.state().create_repository("web");
  h.seed_mixed("web", 300);
  std::mutex mu;
  int pushed = 0;
  // Three bursts of 50 pushes, each answered while a BatchDeleteImage is in flight, as a CI job racing the
  // stack deletion would.
  h.server().on_call("BatchDeleteImage", [&](localaws::EcrState& s) {
    std::lock_guard l(mu);
    if (pushed >= 150) return;
    for (int i = 0; i < 50; ++i) s.put_image("web", i % 2 ? "" : "late-" + std::to_string(pushed + i));
    pushed += 50;
  });
  auto r = run(h, options_for("web"));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(pushed, 150);
  expect_emptied(h, "web", *r, 450);
  EXPECT_GE(h.calls("ListImages"), 3u);  // the first pass, a pass for the late pushes, the empty listing
}

TEST(EmptyRepository, MissingRepositoryIsReportedNotAnError) {
  Harness h;
  auto r = run(h, options_for("gone"));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_TRUE(r->repository_missing);
  EXPECT_EQ(r->deleted, 0u);
  EXPECT_EQ(h.calls("BatchDeleteImage"), 0u);
}

TEST(EmptyRepository, DryRunDeletesNothingAndReportsThePlan) {
  Harness h;
  h.state().create_repository("web");
  h.seed_mixed("web", 250);
  EmptyOptions o = options_for("web");
  o.dry_run = true;
  auto r = run(h, o);
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->deleted, 250u);
  EXPECT_EQ(r->remaining, 250u);
  EXPECT_FALSE(r->complete);
  EXPECT_EQ(r->planned.size(), kMaxPlannedSamples);
  EXPECT_EQ(h.state().image_count("web"), 250u);
  EXPECT_EQ(h.calls("BatchDeleteImage"), 0u);
}

TEST(EmptyRepository, StopsAtTheDeadlineAndASecondRunFinishes) {
  Harness h;
  h.state().create_repository("web");
  h.seed_mixed("web", 1000);
  EmptyOptions o = options_for("web");
  o.max_concurrency = 1;
  o.deadline = h.fake_clock().now() + std::chrono::minutes(1);
  std::atomic<int> deletes{0};
  // Time runs out during the third batch: the executor must finish it and start no other.
  h.server().on_call("BatchDeleteImage", [&](localaws::EcrState&) {
    if (++deletes == 3) h.fake_clock().advance(std::chrono::minutes(2));
  });
  auto first = run(h, o);
  ASSERT_TRUE(first.has_value()) << first.error().describe();
  EXPECT_TRUE(first->deadline_reached);
  EXPECT_FALSE(first->complete);
  EXPECT_EQ(first->deleted, 300u);
  EXPECT_EQ(first->remaining, 700u);
  EXPECT_EQ(h.state().image_count("web"), 700u);
  EXPECT_EQ(h.calls("BatchDeleteImage"), 3u);

  o.deadline.reset();
  auto second = run(h, o);
  ASSERT_TRUE(second.has_value()) << second.error().describe();
  EXPECT_TRUE(second->complete);
  EXPECT_EQ(second->deleted, 700u);
  EXPECT_EQ(h.state().image_count("web"), 0u);
  EXPECT_EQ(h.calls("BatchDeleteImage"), 10u);
}

TEST(EmptyRepository, WrongCredentialsAreAFatalErrorNamingTheRepository) {
  localaws::Options lo;
  lo.secret_access_key = Secret("other-secret");
  Harness h(lo);
  h.state().create_repository("web");
  h.seed_mixed("web", 5);
  auto r = run(h, options_for("web"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().context.find("repository=web"), std::string::npos) << r.error().describe();
  EXPECT_NE(r.error().context.find("ListImages"), std::string::npos) << r.error().describe();
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_EQ(h.state().image_count("web"), 5u);
  for (const auto& line : h.sink().lines()) EXPECT_EQ(line.find("Signature="), std::string::npos) << line;
}

TEST(EmptyRepository, ReportsProgressWhileWorking) {
  Harness h;
  h.state().create_repository("web");
  h.seed_mixed("web", 500);
  EmptyOptions o = options_for("web");
  o.progress_interval = std::chrono::milliseconds(0);
  std::vector<EmptyProgress> seen;
  o.on_progress = [&](const EmptyProgress& p) { seen.push_back(p); };
  auto r = run(h, o);
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().deleted, 500u);
  EXPECT_GE(seen.back().batches_done, 5u);
}

// A --tps-style cap on BatchDeleteImage with the real clock: nothing is lost, throttles stay bounded, and the
// achieved rate is reported (not asserted: CI machines are shared).
TEST(EmptyRepository, HoldsATpsCapWithNothingLost) {
  constexpr double kCap = 10.0;          // calls/s
  constexpr std::size_t kImages = 3000;  // 30 calls: a burst of 10, then ~2 s at the cap
  localaws::Options lo;
  lo.tps["BatchDeleteImage"] = kCap;
  Harness h(lo, /*fake_time=*/false);
  h.state().create_repository("web");
  for (std::size_t i = 0; i < kImages; ++i) h.state().put_image("web", "");
  EmptyOptions o = options_for("web");
  o.dry_run = true;
  auto listing = run(h, o);  // the listing's share of the time, to report the deletion's rate alone
  ASSERT_TRUE(listing.has_value()) << listing.error().describe();
  const std::uint64_t list_calls = listing->list_calls;
  auto r = run(h, options_for("web"));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  r->list_calls += list_calls;
  expect_emptied(h, "web", *r, kImages);
  const std::uint64_t ok_calls = h.calls("BatchDeleteImage") - h.throttled("BatchDeleteImage");
  EXPECT_EQ(ok_calls, ceil_div(kImages, 100));
  // Throttles are what finding the rate costs: bounded by half the successful calls.
  EXPECT_LE(r->throttled, ok_calls / 2);
  const double seconds = static_cast<double>((r->elapsed - listing->elapsed).count()) / 1000.0;
  // The bucket starts with one second's worth of tokens; the rest must come at the cap.
  const double sustained = (static_cast<double>(ok_calls) - kCap) / std::max(seconds - 0.0, 0.001);
  std::printf("[ tps cap ] cap=%.0f/s calls=%llu throttled=%llu elapsed=%.2fs achieved=%.1f calls/s (%.0f%% of cap, "
              "burst excluded: %.1f calls/s)\n",
              kCap, static_cast<unsigned long long>(ok_calls), static_cast<unsigned long long>(r->throttled), seconds,
              static_cast<double>(ok_calls) / seconds, 100.0 * static_cast<double>(ok_calls) / seconds / kCap,
              sustained);
  ::testing::Test::RecordProperty("achieved_calls_per_second", std::to_string(static_cast<double>(ok_calls) / seconds));
}

TEST(AdaptiveRateController, HalvesTheWindowAndPacesBelowTheMeasuredRateOnThrottle) {
  FakeClock clock;
  AdaptiveRateController c(8, clock, clock);
  EXPECT_EQ(c.limit(), AdaptiveRateController::kInitialConcurrency);
  EXPECT_EQ(c.rate(), 0.0);
  // 40 successes within a second, then a throttle: the rate lands just under 40/s.
  for (int i = 0; i < 40; ++i) {
    auto t = c.acquire();
    clock.advance(std::chrono::milliseconds(20));
    c.on_success(t);
  }
  EXPECT_EQ(c.limit(), 8);
  auto early = c.acquire();
  clock.advance(std::chrono::milliseconds(1));
  auto t = c.acquire();
  c.on_throttle(t);
  EXPECT_EQ(c.limit(), 4);
  EXPECT_GT(c.rate(), 0.0);
  EXPECT_LE(c.rate(), 40.0 * AdaptiveRateController::kRateBackoff + 1e-9);
  EXPECT_GE(c.rate(), 30.0);
  // A throttle of a call sent before the cut does not cut again: it was paced by the old rate.
  const double after_cut = c.rate();
  c.on_throttle(early);
  EXPECT_EQ(c.rate(), after_cut);
  EXPECT_EQ(c.limit(), 4);
  // Successes grow the rate back, additively in time.
  for (int i = 0; i < 50; ++i) {
    auto s = c.acquire();
    c.on_success(s);
  }
  EXPECT_GT(c.rate(), after_cut);
}

}  // namespace
}  // namespace ecrs::ecr
