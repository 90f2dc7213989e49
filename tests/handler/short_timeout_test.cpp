// The real bootstrap (a child process) against localaws under the conditions a user meets first: Lambda's
// default 3 s timeout with slow ECR calls and a repository too large for one invocation, and an account that
// throttles at random on top of a per-API rate cap. Outcomes only: what CloudFormation was told, what is left
// in the repository, how often each digest went to ECR; never how long anything took.
#include <gtest/gtest.h>
#include <json/writer.h>  // operator<< for Json::Value in failure messages

#include <filesystem>

#include "harness.hpp"
#include "support/lambda_env.hpp"
#include "support/log_records.hpp"
#include "support/process.hpp"

namespace ecrs::handler::testing {
namespace {

using namespace std::chrono_literals;

using test_support::log_records;
using test_support::sum_field;

// Lambda's default timeout (3 s: about 2.2 s of work after the answer's reserve), every ECR call 40 ms and two
// deletes in flight: at most 2.2 s / 40 ms * 2 = 110 batches fit in one invocation however fast the machine, so
// 12,000 images (120 batches) always need a second one, and three invocations' worth is ample under load.
TEST(ShortTimeout, ThreeSecondLambdaWithSlowCallsLogsProgressContinuesAndSucceeds) {
  constexpr std::size_t kImages = 12000;
  localaws::Options o;
  o.function_timeout = 3000ms;
  o.latency_ms = 40;
  LambdaHarness h(o);
  ASSERT_TRUE(h.ecr().create_repository("big"));
  for (std::size_t i = 0; i < kImages; ++i) h.ecr().put_image("big", i % 4 == 0 ? "t" + std::to_string(i) : "");
  auto env = h.lambda_env();
  env["ECRS_CONCURRENCY"] = "2";
  env["ECRS_MAX_INVOCATIONS"] = "20";  // a loaded sanitizer build may need more than two
  ASSERT_TRUE(std::filesystem::exists(test_support::bootstrap_path())) << test_support::bootstrap_path();
  ChildProcess child({test_support::bootstrap_path()}, env);
  auto ev = h.make_event({.repository = "big", .physical_id = "ecr-sweeper:default:big"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev, 120s);
  ASSERT_TRUE(h.server().runtime().wait_idle(kWait));
  const std::string log = child.out();
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString() << "\n" << log;
  expect_envelope(resp, ev);
  EXPECT_EQ(h.ecr().image_count("big"), 0u);
  // Continued: at least one re-invocation, every invocation answered the Runtime API, one PUT to CloudFormation.
  const auto reinvoked = h.server().runtime().invoked_by_api();
  EXPECT_GE(reinvoked.size(), 1u) << log;
  EXPECT_EQ(h.server().runtime().outcomes().size(), reinvoked.size() + 1);
  std::size_t puts = 0;
  for (const auto& r : h.server().s3().received()) puts += (r.key == ev.key) ? 1 : 0;
  EXPECT_EQ(puts, 1u);
  // Progress lines while working, the first invocation's among them, each with a count.
  const auto progress = log_records(log, "progress");
  ASSERT_FALSE(progress.empty()) << log;
  EXPECT_TRUE(progress.front()["deleted"].isUInt64()) << progress.front();
  EXPECT_TRUE(progress.front()["known_total"].isUInt64()) << progress.front();
  // The count is honest: never more than the repository held, and short of it only by batches whose call was cut
  // at a deadline (possibly_deleted), which the next listing no longer shows.
  const std::uint64_t reported = std::stoull(resp["Data"]["ImagesDeleted"].asString());
  const std::uint64_t uncertain = sum_field(log_records(log, "emptying finished"), "possibly_deleted");
  EXPECT_LE(reported, kImages);
  EXPECT_GE(reported + uncertain, kImages) << log;
  // Each digest in one successful BatchDeleteImage at most: throttles and errors aside, calls are the batches.
  EXPECT_LE(h.batch_delete_calls() - h.batch_delete_retries(), ceil_div(kImages, 100) + reinvoked.size());
}

// Random throttling of every ECR call on top of a 20 calls/s cap (burst 2) on BatchDeleteImage, one invocation
// with time to spare: SUCCESS, nothing left, every image counted exactly once and sent in exactly one
// successful BatchDeleteImage (a throttled call deletes nothing, so calls that succeeded are the batches).
TEST(ShortTimeout, RandomThrottlingOnTopOfARateCapStillEmptiesEveryImageOnce) {
  constexpr std::size_t kImages = 1500;
  localaws::Options o;
  o.function_timeout = 120s;
  o.throttle_rate = 0.2;
  o.seed = 5;
  o.tps["BatchDeleteImage"] = 20;
  o.tps_burst["BatchDeleteImage"] = 2;
  LambdaHarness h(o);
  ASSERT_TRUE(h.ecr().create_repository("capped"));
  seed_mixed(h.ecr(), "capped", kImages);
  ChildProcess child({test_support::bootstrap_path()}, h.lambda_env());
  auto ev = h.make_event({.repository = "capped", .physical_id = "ecr-sweeper:default:capped"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev, 120s);
  ASSERT_TRUE(h.server().runtime().wait_idle(kWait));
  const std::string log = child.out();
  EXPECT_EQ(resp["Status"].asString(), "SUCCESS") << resp["Reason"].asString() << "\n" << log;
  EXPECT_EQ(resp["Data"]["ImagesDeleted"].asString(), std::to_string(kImages));
  EXPECT_EQ(h.ecr().image_count("capped"), 0u);
  EXPECT_EQ(h.ecr().tag_count("capped"), 0u);
  EXPECT_TRUE(h.server().runtime().invoked_by_api().empty());
  EXPECT_GT(h.op_metric("BatchDeleteImage", "throttled"), 0u);
  EXPECT_EQ(h.batch_delete_calls() - h.batch_delete_retries(), ceil_div(kImages, 100));
  const auto finished = log_records(log, "emptying finished");
  ASSERT_EQ(finished.size(), 1u) << log;
  EXPECT_EQ(finished.front()["possibly_deleted"].asUInt64(), 0u);
  EXPECT_GT(finished.front()["throttled"].asUInt64(), 0u);
}

}  // namespace
}  // namespace ecrs::handler::testing
