// The CloudWatch embedded-metric records of a custom resource emptied over a continued chain, read from the real
// bootstrap's stdout: one record per invocation, each with that invocation's share, so CloudWatch's Sum over the
// chain is what CloudFormation was told and what ECR lost. Continuations is 1 on a record whose invocation handed
// the rest to a fresh one, 0 on the one that answered (README "Metrics").
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

struct Chain {
  std::uint64_t images = 0;
  std::uint64_t bytes = 0;  // imageSizeInBytes summed over the repository before the run, as DescribeImages tells it
  Json::Value response;     // what CloudFormation received
  std::size_t invocations = 0;
  std::vector<Json::Value> records;  // EMF records in the order written
  std::uint64_t possibly_deleted = 0;  // images of calls cut at a deadline, from the engine's "emptying finished"
  std::string log;
};

// 600 plain images (no index, whose imageSizeInBytes would repeat a child's), BatchDeleteImage slowed to 200 ms
// and one call in flight: a 1.6 s function timeout leaves about 0.8 s of work, at most 4 of the 6 batches, so the
// first invocation always hands on; a loaded machine may need more invocations, and the limit leaves room.
Chain run_continued_chain() {
  Chain c;
  c.images = 600;
  localaws::Options o;
  o.function_timeout = 1600ms;
  LambdaHarness h(o);
  EXPECT_TRUE(h.ecr().create_repository("chain"));
  for (std::uint64_t i = 0; i < c.images; ++i) h.ecr().put_image("chain", i % 2 == 0 ? "" : "v" + std::to_string(i));
  const auto before = h.ecr().repository("chain");
  EXPECT_TRUE(before.has_value());
  for (const auto& [digest, image] : before->images) c.bytes += static_cast<std::uint64_t>(image.size_bytes);
  h.server().set_latency("BatchDeleteImage", 200ms);
  auto env = h.lambda_env();
  env["ECRS_CONCURRENCY"] = "1";
  env["ECRS_MAX_INVOCATIONS"] = "12";
  EXPECT_TRUE(std::filesystem::exists(test_support::bootstrap_path())) << test_support::bootstrap_path();
  ChildProcess child({test_support::bootstrap_path()}, env);
  auto ev = h.make_event({.repository = "chain", .physical_id = "ecr-sweeper:default:chain"});
  h.invoke(ev);
  c.response = h.wait_response(ev, 120s);
  EXPECT_TRUE(h.server().runtime().wait_idle(kWait));
  c.invocations = h.server().runtime().outcomes().size();
  c.log = child.out();
  c.records = test_support::emf_records(c.log);
  c.possibly_deleted = test_support::sum_field(test_support::log_records(c.log, "emptying finished"), "possibly_deleted");
  EXPECT_EQ(c.response["Status"].asString(), "SUCCESS") << c.response << "\n" << c.log;
  EXPECT_EQ(h.ecr().image_count("chain"), 0u);
  return c;
}

TEST(InvocationMetrics, EachInvocationOfAContinuedChainWritesItsShareAndContinuationsWhereItHandedOn) {
  const Chain c = run_continued_chain();
  ASSERT_GE(c.invocations, 2u) << c.log;
  ASSERT_EQ(c.records.size(), c.invocations) << c.log;
  for (std::size_t i = 0; i < c.records.size(); ++i) {
    const Json::Value& r = c.records[i];
    EXPECT_EQ(r["Mode"].asString(), "custom-resource") << r;
    EXPECT_EQ(r["Repository"].asString(), "chain") << r;
    EXPECT_EQ(r["Failures"].asUInt64(), 0u) << r;
    // Every invocation but the last handed the rest on; the last answered CloudFormation.
    EXPECT_EQ(r["Continuations"].asUInt64(), i + 1 < c.records.size() ? 1u : 0u) << "record " << i << ": " << r;
  }
  // The records add up to the total CloudFormation was told, which is what ECR lost, short only by images of a
  // call cut at a deadline that a later listing no longer showed.
  const std::uint64_t summed = test_support::sum_field(c.records, "ImagesDeleted");
  EXPECT_EQ(std::to_string(summed), c.response["Data"]["ImagesDeleted"].asString()) << c.response;
  EXPECT_LE(summed, c.images);
  EXPECT_GE(summed + c.possibly_deleted, c.images) << c.log;
  EXPECT_EQ(test_support::sum_field(c.records, "Continuations"), c.invocations - 1);
}

// BytesReclaimed is the engine's EmptyReport::bytes_deleted: imageSizeInBytes of what each invocation deleted.
TEST(InvocationMetrics, BytesReclaimedOverAContinuedChainSumToTheSizesOfTheImagesDeleted) {
  const Chain c = run_continued_chain();
  ASSERT_GE(c.invocations, 2u) << c.log;
  ASSERT_EQ(c.records.size(), c.invocations) << c.log;
  for (const auto& r : c.records) {
    EXPECT_EQ(r["BytesReclaimed"].asInt64() > 0, r["ImagesDeleted"].asUInt64() > 0) << r;
  }
  const std::uint64_t summed = test_support::sum_field(c.records, "BytesReclaimed");
  if (c.possibly_deleted == 0) {
    EXPECT_EQ(summed, c.bytes);
  } else {
    // A call cut at a deadline deleted images no invocation counted: their sizes are missing, never extra.
    EXPECT_LT(summed, c.bytes);
    EXPECT_GT(summed, 0u);
  }
}

}  // namespace
}  // namespace ecrs::handler::testing
