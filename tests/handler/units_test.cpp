// The handler's small pure pieces and its two HTTP edges (response PUT, Runtime API) against a scripted server.
#include <gtest/gtest.h>

#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/handler/app.hpp"
#include "ecrs/handler/aws_backend.hpp"
#include "ecrs/handler/custom_resource.hpp"
#include "ecrs/handler/request_ledger.hpp"
#include "ecrs/handler/response_sender.hpp"
#include "ecrs/handler/runtime_client.hpp"
#include "ecrs/handler/runtime_loop.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::handler {
namespace {

using namespace std::chrono_literals;
using Vars = std::map<std::string, std::string>;

TEST(RequestLedger, AnswersOnceAndLetsContinuationsThrough) {
  RequestLedger l;
  EXPECT_TRUE(l.claim("k", 0));
  EXPECT_FALSE(l.claim("k", 0));  // duplicate of the original
  EXPECT_TRUE(l.claim("k", 1));   // the continuation
  EXPECT_FALSE(l.claim("k", 1));
  l.mark_answered("k");
  EXPECT_TRUE(l.answered("k"));
  EXPECT_FALSE(l.claim("k", 2));
}

TEST(RequestLedger, ReleasedWorkMayBeRetriedByARedelivery) {
  RequestLedger l;
  EXPECT_TRUE(l.claim("k", 0));
  l.release("k", 0);
  EXPECT_TRUE(l.claim("k", 0));
}

TEST(RequestLedger, ForgetsTheOldestBeyondItsCapacity) {
  RequestLedger l(2);
  l.mark_answered("a");
  l.mark_answered("b");
  l.mark_answered("c");
  EXPECT_FALSE(l.answered("a"));
  EXPECT_TRUE(l.answered("c"));
}

TEST(Budget, KeepsTenPercentWithAFloorSizedForOneCallAndThePut) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'000'000));
  FlowConfig c;
  Budget small = compute_budget(now + 30s, now, c);
  ASSERT_TRUE(small.work_until);
  EXPECT_EQ(*small.work_until, now + 27s);
  EXPECT_EQ(*small.calls_until, now + 28500ms);  // calls started before the work stops may finish
  EXPECT_GT(*small.abandon_at, *small.calls_until);  // the watchdog only behind the calls' own timeouts
  EXPECT_LT(*small.abandon_at, now + 30s);
  // Lambda's default 3 s timeout (2.5 s left) and even 1 s left still leave time to delete.
  EXPECT_EQ(*compute_budget(now + 2500ms, now, c).work_until, now + 1700ms);
  // A small reserve still leaves the PUT its shortest attempt after the watchdog, and the calls some time to end.
  const Budget three = compute_budget(now + 2500ms, now, c);
  EXPECT_GE(now + 2500ms - *three.abandon_at, kMinPutAttempt + kRuntimeReplyMargin);
  EXPECT_GT(*three.calls_until, *three.work_until);
  EXPECT_GT(*three.abandon_at, *three.calls_until);
  EXPECT_EQ(*compute_budget(now + 1s, now, c).work_until, now + 200ms);
  // Fifteen minutes: the proportional reserve stops at what the response PUT can use.
  Budget big = compute_budget(now + 900s, now, c);
  const auto cap = std::min<std::chrono::milliseconds>(90s, worst_case_duration(c.put_policy) + kRuntimeReplyMargin);
  EXPECT_EQ(*big.work_until, now + 900s - std::max<std::chrono::milliseconds>(kMinDeadlineReserve, cap));
  Budget none = compute_budget(std::nullopt, now, c);
  EXPECT_FALSE(none.work_until);
}

TEST(LambdaInvokePath, PercentEncodesTheArnAsAUriLabel) {
  EXPECT_EQ(lambda_invoke_path("arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper"),
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aecr-sweeper/invocations");
  EXPECT_EQ(lambda_invoke_path("my_fn"), "/2015-03-31/functions/my_fn/invocations");
}

TEST(Dispatch, RunsTheRuntimeOnlyInsideLambda) {
  MapEnvironment lambda(Vars{{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"}});
  MapEnvironment shell;
  EXPECT_TRUE(should_run_lambda({"/var/task/bootstrap"}, lambda));
  EXPECT_TRUE(should_run_lambda({"/var/task/bootstrap", "x"}, lambda));
  EXPECT_TRUE(should_run_lambda({"ecr-sweeper"}, lambda));
  EXPECT_FALSE(should_run_lambda({"ecr-sweeper", "empty", "web"}, lambda));
  EXPECT_FALSE(should_run_lambda({"bootstrap"}, shell));
}

TEST(LogLevel, ReadsEcrsLogLevel) {
  EXPECT_EQ(log_level_from_env(MapEnvironment(Vars{{"ECRS_LOG_LEVEL", "DEBUG"}}), LogLevel::info), LogLevel::debug);
  EXPECT_EQ(log_level_from_env(MapEnvironment(Vars{{"ECRS_LOG_LEVEL", "bogus"}}), LogLevel::warn), LogLevel::warn);
  EXPECT_EQ(log_level_from_env(MapEnvironment(), LogLevel::info), LogLevel::info);
}

TEST(FlowConfig, ReadsItsVariablesAndRejectsNonsense) {
  auto c = flow_config_from_env(MapEnvironment(
      {{"ECRS_MAX_INVOCATIONS", "6"}, {"ECRS_CONCURRENCY", "3"}, {"ECR_REPOSITORY_NAME", "fallback"}}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->max_invocations, 6);
  EXPECT_EQ(c->concurrency, 3);
  EXPECT_EQ(c->default_repository_name, "fallback");
  auto d = flow_config_from_env(MapEnvironment());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->max_invocations, 4);
  auto bad = flow_config_from_env(MapEnvironment(Vars{{"ECRS_MAX_INVOCATIONS", "many"}}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("ECRS_MAX_INVOCATIONS"), std::string::npos);
}

class PutFixture : public ::testing::Test {
 protected:
  PutFixture() : logger_(sink_, clock_) {}
  Result<PutOutcome> put(const std::string& url, const std::string& body) {
    return put_response(transport_, url, body, policy_, clock_, clock_, random_, logger_);
  }
  test::ScriptedHttpServer server_;
  MapEnvironment env_;
  aws::CurlTransport transport_{env_};
  FakeClock clock_{std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000))};
  FixedRandom random_{0.5};
  CaptureSink sink_;
  Logger logger_;
  PutPolicy policy_;
};

TEST_F(PutFixture, SendsThePresignedUrlVerbatimWithAnEmptyContentType) {
  server_.enqueue({200, {}, ""});
  const std::string url = server_.url("/cfn-response/arn%3Aaws%3Acf%7CRes%7Cid?AWSAccessKeyId=AK&Expires=1&Signature=s%2Fg%3D");
  auto r = put(url, R"({"Status":"SUCCESS"})");
  ASSERT_TRUE(r) << r.error().describe();
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].target, "/cfn-response/arn%3Aaws%3Acf%7CRes%7Cid?AWSAccessKeyId=AK&Expires=1&Signature=s%2Fg%3D");
  ASSERT_TRUE(reqs[0].header("Content-Type").has_value());
  EXPECT_EQ(*reqs[0].header("Content-Type"), "");
  EXPECT_FALSE(reqs[0].header("Expect").has_value());
  EXPECT_EQ(reqs[0].header("Content-Length"), "20");
  for (const auto& line : sink_.lines()) EXPECT_EQ(line.find("Signature="), std::string::npos) << line;
}

TEST_F(PutFixture, RetriesServerErrorsWithJitteredBackoff) {
  server_.enqueue({500, {}, "oops"});
  server_.enqueue({503, {}, "slow down"});
  server_.enqueue({200, {}, ""});
  auto r = put(server_.url("/r?Signature=x"), "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(server_.request_count(), 3u);
  EXPECT_EQ(clock_.total_slept(), 125ms + 250ms);  // 0.5 * 250 ms, then 0.5 * 500 ms
}

TEST_F(PutFixture, DoesNotRetryAForbiddenAndSaysWhy) {
  server_.enqueue({403, {}, "<Error><Code>SignatureDoesNotMatch</Code></Error>"});
  auto r = put(server_.url("/r?Signature=secret-sig"), "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(r.error().describe().find("secret-sig"), std::string::npos);
}

TEST_F(PutFixture, GivesUpAfterAtLeastFiveAttempts) {
  server_.set_handler([](const test::RecordedRequest&) { return test::ScriptedResponse{500, {}, "down"}; });
  auto r = put(server_.url("/r?Signature=x"), "{}");
  ASSERT_FALSE(r);
  EXPECT_GE(server_.request_count(), 5u);
}

TEST_F(PutFixture, RetriesAConnectionRefused) {
  policy_.max_attempts = 5;
  auto r = put("http://127.0.0.1:" + std::to_string(test::unused_local_port()) + "/r?Signature=x", "{}");
  ASSERT_FALSE(r);
  EXPECT_GT(clock_.total_slept(), 0ms);
}

TEST(RuntimeClient, ReadsTheNextEventsHeadersAndPostsResponsesAndErrors) {
  test::ScriptedHttpServer server;
  server.enqueue({200,
                  {{"Lambda-Runtime-Aws-Request-Id", "abc-123"},
                   {"Lambda-Runtime-Deadline-Ms", "1700000000123"},
                   {"Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:1:function:f"},
                   {"Lambda-Runtime-Trace-Id", "Root=1-2-3"}},
                  R"({"hello":"world"})"});
  server.enqueue({202, {}, ""});
  server.enqueue({202, {}, ""});
  MapEnvironment env;
  aws::CurlTransport transport(env);
  const std::string api = server.url().substr(std::string("http://").size());
  RuntimeClient client(transport, api);
  auto inv = client.next();
  ASSERT_TRUE(inv) << inv.error().describe();
  EXPECT_EQ(inv->request_id, "abc-123");
  ASSERT_TRUE(inv->deadline);
  EXPECT_EQ(inv->deadline->time_since_epoch(), std::chrono::milliseconds(1700000000123));
  EXPECT_EQ(inv->function_arn, "arn:aws:lambda:us-east-1:1:function:f");
  EXPECT_EQ(inv->body, R"({"hello":"world"})");
  ASSERT_TRUE(client.post_response("abc-123", R"({"ok":true})"));
  ASSERT_TRUE(client.post_error("abc-123", "InvalidEvent", "bad"));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target, "/2018-06-01/runtime/invocation/next");
  EXPECT_EQ(reqs[1].target, "/2018-06-01/runtime/invocation/abc-123/response");
  EXPECT_EQ(reqs[2].target, "/2018-06-01/runtime/invocation/abc-123/error");
  EXPECT_EQ(reqs[2].header("Lambda-Runtime-Function-Error-Type"), "Runtime.InvalidEvent");
  auto err = parse_json(reqs[2].body);
  ASSERT_TRUE(err);
  EXPECT_EQ((*err)["errorType"].asString(), "InvalidEvent");
  EXPECT_EQ((*err)["errorMessage"].asString(), "bad");
  EXPECT_TRUE((*err)["stackTrace"].isArray());
}

TEST(RuntimeClient, ANextWithoutARequestIdIsAnError) {
  test::ScriptedHttpServer server;
  server.enqueue({200, {}, "{}"});
  server.enqueue({500, {}, ""});
  MapEnvironment env;
  aws::CurlTransport transport(env);
  RuntimeClient client(transport, server.url().substr(std::string("http://").size()));
  EXPECT_FALSE(client.next());
  auto r = client.next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 500);
}

class NoBackend final : public SweeperBackend {
 public:
  Result<bool> repository_exists(const std::string&, const std::optional<std::string>&) override {
    return make_error("Unexpected", "no ECR in this test");
  }
  Result<ecr::EmptyReport> empty_repository(const ecr::EmptyOptions&) override {
    return make_error("Unexpected", "no ECR in this test");
  }
  Result<void> invoke_async(const std::string&, const std::string&) override {
    return make_error("Unexpected", "no Lambda in this test");
  }
};

TEST(RuntimeLoop, GivesUpWhenTheRuntimeApiKeepsFailingAndReportsBadEventsAsErrors) {
  test::ScriptedHttpServer server;
  server.enqueue({200, {{"Lambda-Runtime-Aws-Request-Id", "r1"}}, "not json"});
  server.enqueue({202, {}, ""});
  for (int i = 0; i < kMaxConsecutiveNextFailures; ++i) server.enqueue({500, {}, ""});
  MapEnvironment env;
  aws::CurlTransport transport(env);
  RuntimeClient client(transport, server.url().substr(std::string("http://").size()));
  FakeClock clock;
  FixedRandom random(0.5);
  CaptureSink sink;
  Logger logger(sink, clock);
  NoBackend backend;
  CustomResourceFlow flow(backend, transport, FlowConfig{}, clock, clock, random, logger);
  RuntimeLoop loop(client, flow, logger, clock);
  EXPECT_EQ(loop.run(), 1);
  EXPECT_EQ(loop.served(), 1u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u + kMaxConsecutiveNextFailures);
  EXPECT_EQ(reqs[1].target, "/2018-06-01/runtime/invocation/r1/error");
  EXPECT_NE(reqs[1].body.find("InvalidEvent"), std::string::npos);
  EXPECT_EQ(reqs[1].body.find("not json"), std::string::npos);
}

}  // namespace
}  // namespace ecrs::handler
