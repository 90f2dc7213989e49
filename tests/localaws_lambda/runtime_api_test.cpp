// The Lambda Runtime API and Invoke API called directly (no socket): the long poll, the documented /next
// headers, outcomes, and SigV4 on Invoke.
#include "ecrs/localaws/runtime_api.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>

#include "ecrs/common/json.hpp"
#include "ecrs/sigv4/signer.hpp"
#include "test_support.hpp"

namespace ecrs::localaws {
namespace {

using namespace std::chrono_literals;
using testing::capture;
using testing::Captured;
using testing::header_of;

const auto kStart = std::chrono::system_clock::time_point{} + std::chrono::seconds(1'800'000'000);

HttpRequest make_request(std::string method, std::string path, std::string body = {}) {
  HttpRequest req;
  req.method = std::move(method);
  req.path = req.target = std::move(path);
  req.body = std::move(body);
  return req;
}

class RuntimeApiTest : public ::testing::Test {
 protected:
  RuntimeApiTest() {
    RuntimeOptions o;
    o.function_timeout = 30s;
    o.access_key_id = "AKIDEXAMPLE";
    o.secret_access_key = Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    o.clock = &clock_;
    api_ = std::make_unique<RuntimeApi>(o);
  }

  std::shared_ptr<Captured> call(HttpRequest req) {
    auto c = std::make_shared<Captured>();
    EXPECT_TRUE(api_->handle(req, capture(c)));
    return c;
  }
  std::shared_ptr<Captured> next() { return call(make_request("GET", "/2018-06-01/runtime/invocation/next")); }
  HttpResponse post(const std::string& id, const std::string& kind, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto req = make_request("POST", "/2018-06-01/runtime/invocation/" + id + "/" + kind, std::move(body));
    req.headers = std::move(headers);
    return call(std::move(req))->only();
  }

  // An Invoke request signed by our own signer at the fake clock's time.
  HttpRequest signed_invoke(const std::string& function, const std::string& invocation_type, std::string body,
                            const std::string& secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                            std::chrono::system_clock::time_point when = kStart) {
    HttpRequest req = make_request(
        "POST", "/2015-03-31/functions/" + sigv4::uri_encode(function, false) + "/invocations", std::move(body));
    req.headers = {{"Host", "127.0.0.1:4566"}, {"X-Amz-Invocation-Type", invocation_type}};
    sigv4::Signer signer;
    sigv4::Request sreq{req.method, req.path, req.query, req.headers, req.body};
    sigv4::Credentials creds{"AKIDEXAMPLE", Secret(secret), Secret(), std::nullopt};
    sigv4::SigningParams params;
    params.region = "us-east-1";
    params.service = "lambda";
    params.time = when;
    auto signed_result = signer.sign_headers(sreq, creds, params);
    EXPECT_TRUE(signed_result.has_value());
    if (signed_result) {
      for (auto& h : signed_result->headers_to_add) req.headers.push_back(h);
    }
    return req;
  }

  FakeClock clock_{kStart};
  std::unique_ptr<RuntimeApi> api_;
};

TEST_F(RuntimeApiTest, NextWaitsUntilAnEventIsQueued) {
  auto poll = next();
  EXPECT_EQ(poll->count(), 0u);
  const std::string id = api_->invoke(R"({"RequestType":"Delete"})");
  const auto r = poll->only();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"RequestType":"Delete"})");
  EXPECT_EQ(header_of(r, "Lambda-Runtime-Aws-Request-Id"), id);
  EXPECT_EQ(api_->pending(), 0u);
}

TEST_F(RuntimeApiTest, NextCarriesTheDocumentedHeaders) {
  const std::string id = api_->invoke("{}");
  EXPECT_EQ(api_->pending(), 1u);
  const auto r = next()->only();
  EXPECT_EQ(header_of(r, "Lambda-Runtime-Aws-Request-Id"), id);
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << id;
  const auto start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(kStart.time_since_epoch()).count();
  EXPECT_EQ(header_of(r, "Lambda-Runtime-Deadline-Ms"), std::to_string(start_ms + 30'000));
  EXPECT_EQ(header_of(r, "Lambda-Runtime-Invoked-Function-Arn"),
            "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper");
  EXPECT_TRUE(std::regex_match(header_of(r, "Lambda-Runtime-Trace-Id"),
                               std::regex("Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0")))
      << header_of(r, "Lambda-Runtime-Trace-Id");
  EXPECT_EQ(header_of(r, "Lambda-Runtime-Client-Context"), "<absent>");
  EXPECT_EQ(header_of(r, "Lambda-Runtime-Cognito-Identity"), "<absent>");
}

TEST_F(RuntimeApiTest, DeadlineCountsFromHandOutWithThePerInvocationTimeout) {
  api_->invoke("{}", 1500ms);
  clock_.advance(10s);  // queued time does not count: Lambda starts the clock when the runtime gets the event
  const auto r = next()->only();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(kStart.time_since_epoch()).count();
  EXPECT_EQ(header_of(r, "Lambda-Runtime-Deadline-Ms"), std::to_string(ms + 10'000 + 1'500));
}

TEST_F(RuntimeApiTest, ClientContextAndCognitoIdentityOnlyWhenSet) {
  InvokeOptions o;
  o.client_context = R"({"custom":{"a":"b"}})";
  o.cognito_identity = R"({"cognitoIdentityId":"x"})";
  api_->invoke("{}", o);
  const auto r = next()->only();
  EXPECT_EQ(header_of(r, "Lambda-Runtime-Client-Context"), o.client_context);
  EXPECT_EQ(header_of(r, "Lambda-Runtime-Cognito-Identity"), o.cognito_identity);
}

TEST_F(RuntimeApiTest, EventsAreHandedOutInOrder) {
  const auto a = api_->invoke(R"("a")");
  const auto b = api_->invoke(R"("b")");
  EXPECT_EQ(header_of(next()->only(), "Lambda-Runtime-Aws-Request-Id"), a);
  EXPECT_EQ(header_of(next()->only(), "Lambda-Runtime-Aws-Request-Id"), b);
  EXPECT_NE(a, b);
}

TEST_F(RuntimeApiTest, ResponseIsRecordedOnceAndUnknownIdsAre400) {
  const auto id = api_->invoke("{}");
  next();
  EXPECT_EQ(post(id, "response", R"({"ok":true})").status, 202);
  const auto again = post(id, "response", "{}");
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("errorType"), std::string::npos);
  EXPECT_EQ(post("no-such-id", "response", "{}").status, 400);
  const auto outcome = api_->wait_outcome(id, 0ms);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->kind, "response");
  EXPECT_EQ(outcome->body, R"({"ok":true})");
  EXPECT_EQ(api_->outcomes().size(), 1u);
}

TEST_F(RuntimeApiTest, AnIdNotYetHandedOutIs400) {
  const auto id = api_->invoke("{}");
  EXPECT_EQ(post(id, "response", "{}").status, 400);
}

TEST_F(RuntimeApiTest, ErrorRecordsBodyAndErrorTypeHeader) {
  const auto id = api_->invoke("{}");
  next();
  const std::string body = R"({"errorMessage":"boom","errorType":"Runtime.Crash","stackTrace":[]})";
  EXPECT_EQ(post(id, "error", body, {{"Lambda-Runtime-Function-Error-Type", "Runtime.Crash"}}).status, 202);
  const auto outcome = api_->wait_outcome(id, 0ms);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->kind, "error");
  EXPECT_EQ(outcome->body, body);
  EXPECT_EQ(outcome->error_type, "Runtime.Crash");
}

TEST_F(RuntimeApiTest, ResponsesAbove6MBGet413AndTheInvocationStaysOpen) {
  const auto id = api_->invoke("{}");
  next();
  EXPECT_EQ(post(id, "response", std::string(kMaxSyncPayloadBytes + 1, 'x')).status, 413);
  EXPECT_FALSE(api_->wait_outcome(id, 0ms).has_value());
  EXPECT_EQ(post(id, "error", "{}").status, 202);
}

TEST_F(RuntimeApiTest, InitErrorIsRecorded) {
  EXPECT_FALSE(api_->init_error().has_value());
  auto r = call(make_request("POST", "/2018-06-01/runtime/init/error", R"({"errorMessage":"no config"})"))->only();
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(api_->init_error().value_or(""), R"({"errorMessage":"no config"})");
}

TEST_F(RuntimeApiTest, ShutdownReleasesWaitingPollsWith500) {
  EXPECT_FALSE(api_->wait_polling(0ms));
  auto poll = next();
  EXPECT_TRUE(api_->wait_polling(0ms));
  EXPECT_EQ(poll->count(), 0u);
  api_->shutdown();
  EXPECT_EQ(poll->only().status, 500);
  EXPECT_EQ(next()->only().status, 500);
}

TEST_F(RuntimeApiTest, WaitIdleSeesTheLastOutcome) {
  EXPECT_TRUE(api_->wait_idle(0ms));
  const auto id = api_->invoke("{}");
  EXPECT_FALSE(api_->wait_idle(1ms));
  std::thread runtime([&] {
    next();
    post(id, "response", "{}");
  });
  EXPECT_TRUE(api_->wait_idle(5s));
  runtime.join();
  EXPECT_TRUE(api_->wait_outcome(id, 5s).has_value());
}

TEST_F(RuntimeApiTest, UnknownRuntimePathsAre404AndOthersAreNotOurs) {
  EXPECT_EQ(call(make_request("GET", "/2018-06-01/runtime/nope"))->only().status, 404);
  auto c = std::make_shared<Captured>();
  EXPECT_FALSE(api_->handle(make_request("POST", "/"), capture(c)));
  EXPECT_FALSE(api_->handle(make_request("PUT", "/cfn-response/x"), capture(c)));
}

TEST_F(RuntimeApiTest, InvokeEventQueuesTheEventAndAnswers202) {
  const auto r = call(signed_invoke("ecr-sweeper", "Event", R"({"again":1})"))->only();
  EXPECT_EQ(r.status, 202) << r.body;
  const auto ids = api_->invoked_by_api();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(header_of(r, "x-amzn-RequestId"), ids[0]);
  const auto event = next()->only();
  EXPECT_EQ(event.body, R"({"again":1})");
  EXPECT_EQ(header_of(event, "Lambda-Runtime-Aws-Request-Id"), ids[0]);
}

TEST_F(RuntimeApiTest, InvokeAcceptsFullAndPartialArns) {
  for (const std::string name : {"arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper",
                                 "123456789012:function:ecr-sweeper", "ecr-sweeper:$LATEST"}) {
    EXPECT_EQ(call(signed_invoke(name, "Event", "{}"))->only().status, 202) << name;
  }
  EXPECT_EQ(api_->pending(), 3u);
}

TEST_F(RuntimeApiTest, InvokeOfAnUnknownFunctionIs404ResourceNotFound) {
  const auto r = call(signed_invoke("other-function", "Event", "{}"))->only();
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(header_of(r, "x-amzn-ErrorType"), "ResourceNotFoundException");
  const auto doc = parse_json(r.body);
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ((*doc)["Type"].asString(), "User");
  EXPECT_EQ((*doc)["message"].asString(),
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:other-function");
  EXPECT_EQ(api_->pending(), 0u);
}

TEST_F(RuntimeApiTest, InvokeWithAWrongSecretIs403) {
  const auto r = call(signed_invoke("ecr-sweeper", "Event", "{}", "wrong-secret"))->only();
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(header_of(r, "x-amzn-ErrorType"), "InvalidSignatureException");
  EXPECT_EQ(api_->pending(), 0u);
}

TEST_F(RuntimeApiTest, InvokeRejectsATamperedBodyStaleDateAndNoSignature) {
  auto tampered = signed_invoke("ecr-sweeper", "Event", R"({"a":1})");
  tampered.body = R"({"a":2})";
  EXPECT_EQ(call(tampered)->only().status, 403);

  const auto stale =
      call(signed_invoke("ecr-sweeper", "Event", "{}", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", kStart - 16min))
          ->only();
  EXPECT_EQ(stale.status, 403);
  EXPECT_NE(stale.body.find("Signature expired"), std::string::npos);

  const auto unsigned_req = call(make_request("POST", "/2015-03-31/functions/ecr-sweeper/invocations", "{}"))->only();
  EXPECT_EQ(unsigned_req.status, 403);
  EXPECT_EQ(header_of(unsigned_req, "x-amzn-ErrorType"), "MissingAuthenticationTokenException");
  EXPECT_EQ(api_->pending(), 0u);
}

TEST_F(RuntimeApiTest, InvokeRequestResponseAnswersWithTheRuntimesOutcome) {
  auto invoke = call(signed_invoke("ecr-sweeper", "RequestResponse", R"({"q":1})"));
  EXPECT_EQ(invoke->count(), 0u);
  const auto event = next()->only();
  const auto id = header_of(event, "Lambda-Runtime-Aws-Request-Id");
  EXPECT_EQ(post(id, "response", R"({"a":1})").status, 202);
  const auto r = invoke->only();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"a":1})");
  EXPECT_EQ(header_of(r, "X-Amz-Function-Error"), "<absent>");

  auto failing = call(signed_invoke("ecr-sweeper", "RequestResponse", "{}"));
  const auto id2 = header_of(next()->only(), "Lambda-Runtime-Aws-Request-Id");
  post(id2, "error", R"({"errorMessage":"x","errorType":"E"})");
  EXPECT_EQ(header_of(failing->only(), "X-Amz-Function-Error"), "Unhandled");
}

TEST_F(RuntimeApiTest, ShutdownAnswersPendingRequestResponseInvokes) {
  auto invoke = call(signed_invoke("ecr-sweeper", "RequestResponse", "{}"));
  api_->shutdown();
  EXPECT_EQ(invoke->only().status, 500);
}

TEST_F(RuntimeApiTest, InvokeDryRunChecksWithoutQueueing) {
  EXPECT_EQ(call(signed_invoke("ecr-sweeper", "DryRun", "{}"))->only().status, 204);
  EXPECT_EQ(api_->pending(), 0u);
}

TEST_F(RuntimeApiTest, InvokeEventAbove1MBIs413) {
  const auto r = call(signed_invoke("ecr-sweeper", "Event", std::string(kMaxAsyncPayloadBytes + 1, 'x')))->only();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(header_of(r, "x-amzn-ErrorType"), "RequestTooLargeException");
}

TEST_F(RuntimeApiTest, ConcurrentPollersEachGetOneEvent) {
  std::vector<std::shared_ptr<Captured>> polls;
  for (int i = 0; i < 8; ++i) polls.push_back(next());
  std::vector<std::thread> invokers;
  for (int i = 0; i < 8; ++i) invokers.emplace_back([&, i] { api_->invoke(std::to_string(i)); });
  for (auto& t : invokers) t.join();
  std::set<std::string> bodies;
  for (auto& p : polls) bodies.insert(p->only().body);
  EXPECT_EQ(bodies.size(), 8u);
}

}  // namespace
}  // namespace ecrs::localaws
