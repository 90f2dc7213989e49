// Running out of time: the handler re-invokes itself (Lambda Invoke, InvocationType=Event) and only the last
// invocation answers; with no permission to re-invoke, or past ECRS_MAX_INVOCATIONS, it answers FAILED in time.
#include <gtest/gtest.h>

#include "harness.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::handler::testing {
namespace {

using namespace std::chrono_literals;

TEST(Continuation, FailsWithTheCountDeletedWhenTheInvocationLimitIsReached) {
  localaws::Options o;
  o.function_timeout = 1600ms;  // ~0.8 s of work each: 4 of the 15 batches of 200 ms
  LambdaHarness h(o);
  ASSERT_TRUE(h.ecr().create_repository("huge"));
  for (int i = 0; i < 1500; ++i) h.ecr().put_image("huge", "t" + std::to_string(i));
  h.server().set_latency("BatchDeleteImage", 200ms);
  h.start_loop({{"ECRS_CONCURRENCY", "1"}, {"ECRS_MAX_INVOCATIONS", "2"}});
  auto ev = h.make_event({.repository = "huge", .physical_id = "ecr-sweeper:default:huge"});
  h.invoke(ev);
  Json::Value resp = h.wait_response(ev);
  ASSERT_TRUE(h.server().runtime().wait_idle(kWait));
  EXPECT_EQ(resp["Status"].asString(), "FAILED");
  expect_envelope(resp, ev);
  EXPECT_EQ(resp["PhysicalResourceId"].asString(), "ecr-sweeper:default:huge");
  const std::size_t left = h.ecr().image_count("huge");
  EXPECT_GT(left, 0u);
  const std::string reason = resp["Reason"].asString();
  EXPECT_NE(reason.find(std::to_string(1500 - left) + " images deleted"), std::string::npos) << reason;
  EXPECT_EQ(h.server().runtime().invoked_by_api().size(), 1u);
  std::size_t puts = 0;
  for (const auto& r : h.server().s3().received()) puts += (r.key == ev.key) ? 1 : 0;
  EXPECT_EQ(puts, 1u);
}

TEST(Continuation, WithoutPermissionToReinvokeFailsClearlyBeforeTheDeadline) {
  test::ScriptedHttpServer lambda;
  lambda.set_handler([](const test::RecordedRequest&) {
    return test::ScriptedResponse{
        403,
        {{"x-amzn-ErrorType", "AccessDeniedException"}, {"Content-Type", "application/json"}},
        R"({"Message":"User: arn:aws:sts::123456789012:assumed-role/sweeper is not authorized to perform: lambda:InvokeFunction"})"};
  });
  localaws::Options o;
  o.function_timeout = 1600ms;  // ~0.8 s of work: 4 of the 8 batches of 200 ms
  LambdaHarness h(o);
  ASSERT_TRUE(h.ecr().create_repository("huge"));
  for (int i = 0; i < 800; ++i) h.ecr().put_image("huge", "t" + std::to_string(i));
  h.server().set_latency("BatchDeleteImage", 200ms);
  h.start_loop({{"ECRS_CONCURRENCY", "1"}, {"AWS_ENDPOINT_URL_LAMBDA", lambda.url()}});
  auto ev = h.make_event({.repository = "huge", .physical_id = "ecr-sweeper:default:huge"});
  const auto sent = std::chrono::steady_clock::now();
  const std::string id = h.invoke(ev);
  Json::Value resp = h.wait_response(ev);
  const auto answered = std::chrono::steady_clock::now();
  EXPECT_LT(answered - sent, o.function_timeout);
  EXPECT_EQ(resp["Status"].asString(), "FAILED");
  expect_envelope(resp, ev);
  const std::string reason = resp["Reason"].asString();
  EXPECT_NE(reason.find("AccessDenied"), std::string::npos) << reason;
  EXPECT_NE(reason.find("lambda:InvokeFunction"), std::string::npos) << reason;
  EXPECT_GE(lambda.request_count(), 1u);
  auto reqs = lambda.requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs[0].header("X-Amz-Invocation-Type"), "Event");
  EXPECT_NE(reqs[0].target.find("/2015-03-31/functions/arn%3Aaws%3Alambda"), std::string::npos) << reqs[0].target;
  auto out = h.wait_outcome(id);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, "response");
}

// A call that would hang past the budget (every ECR call answering after 4.5 s, the re-list ending past the
// work's end): its timeout, cut to the budget, stops it, and the answer goes out while there is still time for
// the PUT; with one invocation allowed, FAILED naming the repository. Heavier than most (~5 s, bounded).
TEST(Watchdog, AnswersFailedBeforeTheDeadlineWhenACallHangs) {
  localaws::Options o;
  o.function_timeout = 5600ms;
  LambdaHarness h(o);
  ASSERT_TRUE(h.ecr().create_repository("stuck"));
  for (int i = 0; i < 10; ++i) h.ecr().put_image("stuck", "t" + std::to_string(i));
  h.server().set_latency("*", 4500ms);
  h.start_loop({{"ECRS_MAX_INVOCATIONS", "1"}});
  auto ev = h.make_event({.repository = "stuck", .physical_id = "ecr-sweeper:default:stuck"});
  const auto sent = std::chrono::steady_clock::now();
  const std::string id = h.invoke(ev);
  Json::Value resp = h.wait_response(ev);
  EXPECT_LT(std::chrono::steady_clock::now() - sent, o.function_timeout);
  EXPECT_EQ(resp["Status"].asString(), "FAILED") << [&] {
    std::string all;
    for (const auto& line : h.log_lines()) all += line + "\n";
    return all;
  }();
  expect_envelope(resp, ev);
  EXPECT_NE(resp["Reason"].asString().find("stuck"), std::string::npos) << resp["Reason"].asString();
  auto out = h.wait_outcome(id);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, "response");
  EXPECT_EQ(h.server().runtime().invoked_by_api().size(), 0u);
  // The abandoned worker gets its late ListImages answer, sees the deadline and stops: let it, so teardown does
  // not have to cut the call off.
  EXPECT_TRUE(h.wait_for_log("emptying finished", 15s));
}

}  // namespace
}  // namespace ecrs::handler::testing
