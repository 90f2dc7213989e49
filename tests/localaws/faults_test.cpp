// Fault and latency injection: scripted faults, the per-operation token bucket, seeded random faults, hooks.
#include <gtest/gtest.h>

#include <atomic>

#include "../support/run_command.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "test_client.hpp"

namespace ecrs::localaws {
namespace {

using testing::Client;
using testing::obj;

TEST(TokenBucket, AllowsABurstOfNThenNPerSecond) {
  FakeClock clock;
  FaultInjector faults(FaultOptions{0, 0, {{"ListImages", 10}}, 1}, clock);
  int ok = 0;
  for (int i = 0; i < 15; ++i) ok += faults.decide("ListImages") ? 0 : 1;
  EXPECT_EQ(ok, 10);
  // Then one call every 10 ms for 5 s: the bucket refills at 10/s, so 50 more get through.
  for (int i = 0; i < 500; ++i) {
    clock.advance(std::chrono::milliseconds(10));
    ok += faults.decide("ListImages") ? 0 : 1;
  }
  EXPECT_NEAR(ok, 60, 1);
  EXPECT_FALSE(faults.decide("DescribeImages").has_value());  // other operations are unlimited
}

TEST(TokenBucket, ABurstSettingCapsTheBucketBelowOneSecondsWorth) {
  FakeClock clock;
  FaultInjector faults(FaultOptions{0, 0, {}, 1}, clock);
  faults.set_tps("BatchDeleteImage", 20, 2);
  int ok = 0;
  for (int i = 0; i < 10; ++i) ok += faults.decide("BatchDeleteImage") ? 0 : 1;
  EXPECT_EQ(ok, 2);  // not 20
  // One call every 10 ms for 2 s: 20 per second get through, never more than the burst at once.
  for (int i = 0; i < 200; ++i) {
    clock.advance(std::chrono::milliseconds(10));
    ok += faults.decide("BatchDeleteImage") ? 0 : 1;
  }
  EXPECT_NEAR(ok, 42, 1);
}

// The bench reads how much of a cap a client used from the calls the bucket admitted, whatever the random draws
// then failed: the bucket's refusals are counted apart.
TEST(TokenBucket, CountsItsOwnRefusalsApartFromRandomThrottles) {
  Options o;
  o.tps["DescribeRepositories"] = 1;  // a bucket of one token, refilled once a second
  o.throttle_rate = 0.5;
  o.seed = 3;
  LocalAws aws(o);
  aws.start();
  Client c(aws.port());
  int ok = 0;
  for (int i = 0; i < 40; ++i) ok += c.ecr("DescribeRepositories", Json::Value(Json::objectValue)).status == 200;
  const auto m = aws.metrics()["operations"];
  const auto ops = m["DescribeRepositories"];
  EXPECT_EQ(ops["calls"].asUInt(), 40u);
  // Within the run's second or two the bucket admits one or two calls, and refuses the rest.
  const auto admitted = ops["calls"].asUInt() - ops["rate_limited"].asUInt();
  EXPECT_GE(admitted, 1u);
  EXPECT_LE(admitted, 3u);
  EXPECT_LE(static_cast<unsigned>(ok), admitted);
  EXPECT_EQ(ops["throttled"].asUInt(), 40u - static_cast<unsigned>(ok));
  // An operation with no bucket: random throttles only.
  for (int i = 0; i < 20; ++i) c.ecr("ListImages", obj({{"repositoryName", "missing"}}));
  const auto li = aws.metrics()["operations"]["ListImages"];
  EXPECT_GT(li["throttled"].asUInt(), 0u);
  EXPECT_EQ(li["rate_limited"].asUInt(), 0u);
}

TEST(Deny, AnswersAccessDeniedAsEcrDoesForTheDeniedOperationOnly) {
  Options o;
  o.deny = {"DescribeImages", "BatchGetImage"};
  LocalAws aws(o);
  aws.start();
  aws.ecr().create_repository("web");
  Client c(aws.port());
  auto denied = c.ecr("DescribeImages", obj({{"repositoryName", "web"}}));
  EXPECT_EQ(denied.status, 400);
  EXPECT_EQ(denied.code(), "AccessDeniedException");
  EXPECT_EQ(denied.message(),
            "User: arn:aws:sts::123456789012:assumed-role/ecr-sweeper/localaws is not authorized to perform: "
            "ecr:DescribeImages on resource: arn:aws:ecr:us-east-1:123456789012:repository/web because no "
            "identity-based policy allows the ecr:DescribeImages action");
  EXPECT_EQ(c.ecr("ListImages", obj({{"repositoryName", "web"}})).status, 200);
  aws.deny("ListImages");
  EXPECT_EQ(c.ecr("ListImages", obj({{"repositoryName", "web"}})).code(), "AccessDeniedException");
  EXPECT_EQ(aws.metrics()["operations"]["DescribeImages"]["errors"].asUInt(), 1u);
}

TEST(Executable, HelpShowsDefaultsAndAdminRoutesAndTakesDenyAndBurst) {
  const auto help = test_support::run_command(std::string(LOCALAWS_EXE) + " --help");
  EXPECT_EQ(help.status, 0) << help.output;
  for (const char* want : {"test:test", "us-east-1", "123456789012", "--deny", "OP=N[:B]", "/_localaws/metrics",
                           "/_localaws/fault", "/_localaws/ecr/seed"}) {
    EXPECT_NE(help.output.find(want), std::string::npos) << want << " missing from:\n" << help.output;
  }
  const auto bad = test_support::run_command(std::string(LOCALAWS_EXE) + " --tps BatchDeleteImage=20:0 2>&1");
  EXPECT_EQ(bad.status, 2) << bad.output;
}

TEST(RandomFaults, AreDeterministicForASeedAndHoldTheirRate) {
  FakeClock clock;
  auto run = [&](std::uint64_t seed) {
    FaultInjector faults(FaultOptions{0.2, 0.1, {}, seed}, clock);
    std::string pattern;
    for (int i = 0; i < 2000; ++i) {
      auto d = faults.decide("ListImages");
      pattern += !d ? '.' : d->http_status == 500 ? 'E' : 'T';
    }
    return pattern;
  };
  const auto a = run(7);
  EXPECT_EQ(a, run(7));
  EXPECT_NE(a, run(8));
  const auto throttled = std::count(a.begin(), a.end(), 'T');
  const auto errors = std::count(a.begin(), a.end(), 'E');
  EXPECT_NEAR(throttled, 400, 60);      // 20% of 2000
  EXPECT_NEAR(errors, 2000 * 0.8 * 0.1, 40);  // 10% of those not throttled
}

TEST(ScriptedFaults, FailTheNextCallsThenServiceResumes) {
  LocalAws aws{Options{}};
  aws.start();
  aws.ecr().create_repository("web");
  aws.add_fault(FaultRule{"BatchDeleteImage", 2, 400, "ThrottlingException", "Rate exceeded"});
  aws.add_fault(FaultRule{"ListImages", 1, 500, "ServerException", "boom"});
  Client c(aws.port());
  Json::Value ids(Json::arrayValue);
  ids.append(obj({{"imageTag", "x"}}));
  const auto in = obj({{"repositoryName", "web"}, {"imageIds", ids}});
  EXPECT_EQ(c.ecr("BatchDeleteImage", in).code(), "ThrottlingException");
  EXPECT_EQ(c.ecr("BatchDeleteImage", in).code(), "ThrottlingException");
  EXPECT_EQ(c.ecr("BatchDeleteImage", in).status, 200);
  auto server_error = c.ecr("ListImages", obj({{"repositoryName", "web"}}));
  EXPECT_EQ(server_error.status, 500);
  EXPECT_EQ(server_error.code(), "ServerException");
  const auto m = aws.metrics();
  EXPECT_EQ(m["operations"]["BatchDeleteImage"]["calls"].asUInt(), 3u);
  EXPECT_EQ(m["operations"]["BatchDeleteImage"]["throttled"].asUInt(), 2u);
  EXPECT_EQ(m["operations"]["ListImages"]["errors"].asUInt(), 1u);
}

TEST(TpsLimit, HoldsTheRateOverHttp) {
  Options o;
  o.tps["DescribeRepositories"] = 20;
  LocalAws aws(o);
  aws.start();
  Client c(aws.port());
  int ok = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1000)) {
    ok += c.ecr("DescribeRepositories", Json::Value(Json::objectValue)).status == 200 ? 1 : 0;
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LE(ok, 20 + static_cast<int>(20 * elapsed) + 1);
  EXPECT_GE(ok, 20);
  const auto m = aws.metrics()["operations"]["DescribeRepositories"];
  EXPECT_EQ(m["calls"].asUInt() - m["throttled"].asUInt(), static_cast<unsigned>(ok));
}

TEST(Latency, DelaysTheReplyWithoutHoldingAServingThread) {
  Options o;
  o.threads = 1;
  LocalAws aws(o);
  aws.start();
  aws.ecr().create_repository("web");
  aws.set_latency("ListImages", std::chrono::milliseconds(300));
  // Four slow calls at once on one serving thread finish in about one delay, not four.
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      Client c(aws.port());
      ok += c.ecr("ListImages", obj({{"repositoryName", "web"}})).status == 200 ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(ok.load(), 4);
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
  EXPECT_LT(elapsed, std::chrono::milliseconds(1100));
  EXPECT_EQ(aws.metrics()["max_concurrency"].asInt(), 4);
}

TEST(Latency, CountsFromTheRequestsArrivalSoServingTimeIsInsideIt) {
  LocalAws aws{Options{}};
  aws.start();
  aws.ecr().create_repository("web");
  aws.set_latency("ListImages", std::chrono::milliseconds(500));
  // Serving takes 400 ms of the 500: the reply leaves 500 ms after the request came, not 900.
  aws.on_call("ListImages", [](EcrState&) { std::this_thread::sleep_for(std::chrono::milliseconds(400)); });
  Client c(aws.port());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c.ecr("ListImages", obj({{"repositoryName", "web"}})).status, 200);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, std::chrono::milliseconds(500));
  EXPECT_LT(elapsed, std::chrono::milliseconds(850));
}

TEST(OnCallHook, PushesImagesWhileADeletionRuns) {
  LocalAws aws{Options{}};
  aws.start();
  const auto first = aws.ecr().put_image("web", "a");
  std::atomic<int> pushed{0};
  aws.on_call("BatchDeleteImage", [&](EcrState& state) {
    state.put_image("web", "racing-" + std::to_string(pushed++));
  });
  Client c(aws.port());
  Json::Value ids(Json::arrayValue);
  ids.append(obj({{"imageDigest", first}}));
  ASSERT_EQ(c.ecr("BatchDeleteImage", obj({{"repositoryName", "web"}, {"imageIds", ids}})).status, 200);
  EXPECT_EQ(pushed.load(), 1);
  auto listed = c.ecr("ListImages", obj({{"repositoryName", "web"}}));
  ASSERT_EQ(listed.body["imageIds"].size(), 1u);
  EXPECT_EQ(listed.body["imageIds"][0]["imageTag"].asString(), "racing-0");
}

}  // namespace
}  // namespace ecrs::localaws
