#include "ecrs/aws/client.hpp"

#include <gtest/gtest.h>

#include "ecrs/aws/curl_transport.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::aws {
namespace {
using namespace std::chrono_literals;
using test::ScriptedHttpServer;

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* kToken = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN";
constexpr const char* kEcrPrefix = "AmazonEC2ContainerRegistry_V20150921";

sigv4::Credentials test_credentials() {
  sigv4::Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = Secret(kSecret);
  c.session_token = Secret(kToken);
  return c;
}

// 2030-01-01T00:00:00Z
std::chrono::system_clock::time_point t0() {
  return std::chrono::system_clock::time_point{} + std::chrono::seconds(1893456000);
}

// A client against the scripted server with fake time, fixed jitter and a log capture.
struct Harness {
  explicit Harness(const ScriptedHttpServer& server, double jitter = 0.5, int max_attempts = 3)
      : transport(env), credentials(test_credentials()), clock(t0()), random(jitter), retry(max_attempts),
        logger(sink, clock, LogLevel::debug),
        client(AwsContext{transport, credentials, clock, clock, random, retry, &logger},
               Endpoint{server.url(), "us-east-1", "ecr"}) {}

  void expect_no_secret_in_logs() const {
    for (const auto& line : sink.lines()) {
      EXPECT_EQ(line.find(kSecret), std::string::npos) << line;
      EXPECT_EQ(line.find(kToken), std::string::npos) << line;
      EXPECT_EQ(line.find("Signature="), std::string::npos) << line;
    }
  }

  MapEnvironment env;
  CurlTransport transport;
  StaticCredentialsProvider credentials;
  FakeClock clock;
  FixedRandom random;
  RetryStrategy retry;
  CaptureSink sink;
  Logger logger;
  AwsClient client;
};

Json::Value list_images_input() {
  Json::Value in;
  in["repositoryName"] = "web";
  in["maxResults"] = 1000;
  return in;
}

std::string throttle_body() { return R"({"__type":"ThrottlingException","message":"Rate exceeded"})"; }

TEST(AwsJson, SendsTargetContentTypeAndAValidSignature) {
  ScriptedHttpServer server;
  server.enqueue_json(200, R"({"imageIds":[{"imageDigest":"sha256:abc"}]})", {{"x-amzn-RequestId", "rid-ok"}});
  Harness h(server);
  auto out = h.client.json_call(kEcrPrefix, "ListImages", list_images_input());
  ASSERT_TRUE(out) << out.error().describe();
  EXPECT_EQ((*out)["imageIds"][0]["imageDigest"].asString(), "sha256:abc");

  auto got = server.requests().at(0);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/");
  EXPECT_EQ(got.header("X-Amz-Target").value_or(""), "AmazonEC2ContainerRegistry_V20150921.ListImages");
  EXPECT_EQ(got.header("Content-Type").value_or(""), "application/x-amz-json-1.1");
  EXPECT_EQ(got.header("X-Amz-Date").value_or(""), "20300101T000000Z");
  EXPECT_EQ(got.header("X-Amz-Security-Token").value_or(""), kToken);
  EXPECT_FALSE(got.header("Expect"));
  EXPECT_FALSE(got.header("Accept"));
  EXPECT_EQ(got.body, R"({"maxResults":1000,"repositoryName":"web"})");
  auto auth = got.header("Authorization").value_or("");
  ASSERT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20300101/us-east-1/ecr/aws4_request", 0), 0u) << auth;

  // The server can verify what arrived with the same secret: the signature covers the bytes sent.
  auto parsed = sigv4::parse_authorization(auth);
  ASSERT_TRUE(parsed) << parsed.error().describe();
  sigv4::Request received{got.method, "/", "", got.headers, got.body};
  auto expected = sigv4::compute_for_verification(received, *parsed, Secret(kSecret), t0());
  ASSERT_TRUE(expected) << expected.error().describe();
  EXPECT_EQ(expected->signature, parsed->signature);
}

TEST(AwsJson, RetriesThrottlingWithBoundedBackoffThenSucceeds) {
  ScriptedHttpServer server;
  server.enqueue_json(400, throttle_body());
  server.enqueue_json(400, throttle_body());
  server.enqueue_json(200, "{}");
  Harness h(server, 0.5);
  CallStats stats;
  CallOptions opts;
  opts.stats = &stats;
  auto out = h.client.json_call(kEcrPrefix, "ListImages", list_images_input(), opts);
  ASSERT_TRUE(out) << out.error().describe();
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_EQ(stats.attempts, 3);
  EXPECT_EQ(stats.throttled, 2);
  EXPECT_EQ(stats.retried, 2);
  // Full jitter at 0.5: 0.5 * 1 s, then 0.5 * 2 s.
  EXPECT_EQ(h.clock.total_slept(), 1500ms);
  EXPECT_EQ(stats.backoff, 1500ms);
  // Each attempt is signed afresh at its own time.
  auto reqs = server.requests();
  EXPECT_EQ(reqs[0].header("X-Amz-Date").value_or(""), "20300101T000000Z");
  EXPECT_EQ(reqs[2].header("X-Amz-Date").value_or(""), "20300101T000001Z");
  EXPECT_EQ(h.retry.available_tokens(), kInitialRetryTokens - kRetryCost) << "success refunds the last retry's cost";
  h.expect_no_secret_in_logs();
}

TEST(AwsJson, GivesUpAfterMaxAttemptsOnServerErrorsWithinBackoffBounds) {
  ScriptedHttpServer server;
  for (int i = 0; i < 3; ++i)
    server.enqueue_json(503, R"({"__type":"com.amazonaws.ecr#ServerException","message":"down"})",
                        {{"x-amzn-RequestId", "rid-" + std::to_string(i)}});
  Harness h(server, 0.999);
  CallOptions opts;
  opts.context = "repository=web";
  auto out = h.client.json_call(kEcrPrefix, "BatchDeleteImage", Json::Value(Json::objectValue), opts);
  ASSERT_FALSE(out);
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_EQ(out.error().code, "ServerException");
  EXPECT_EQ(out.error().http_status, 503);
  EXPECT_EQ(out.error().request_id, "rid-2");
  EXPECT_TRUE(out.error().retryable);
  EXPECT_EQ(out.error().context, "BatchDeleteImage repository=web");
  EXPECT_LE(h.clock.total_slept(), 3000ms) << "backoff bounded by 1 s + 2 s";
  EXPECT_GE(h.clock.total_slept(), 2900ms);
}

TEST(AwsJson, MaxAttemptsOneLeavesThrottlingToTheCaller) {
  ScriptedHttpServer server;
  server.enqueue_json(400, throttle_body());
  Harness h(server);
  CallStats stats;
  CallOptions opts;
  opts.max_attempts = 1;
  opts.stats = &stats;
  auto out = h.client.json_call(kEcrPrefix, "BatchDeleteImage", Json::Value(Json::objectValue), opts);
  ASSERT_FALSE(out);
  EXPECT_TRUE(is_throttling(out.error()));
  EXPECT_EQ(stats.attempts, 1);
  EXPECT_EQ(stats.throttled, 1);
  EXPECT_EQ(stats.retried, 0);
  EXPECT_EQ(h.clock.total_slept(), 0ms);
}

TEST(AwsJson, NeverRetriesQuotaOrValidationErrors) {
  ScriptedHttpServer server;
  server.enqueue_json(400, R"({"__type":"LimitExceededException","message":"repository quota"})");
  server.enqueue_json(400, R"({"__type":"RepositoryNotFoundException","message":"no repo"})");
  Harness h(server);
  auto a = h.client.json_call(kEcrPrefix, "CreateRepository", Json::Value(Json::objectValue));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, "LimitExceededException");
  EXPECT_FALSE(a.error().retryable);
  auto b = h.client.json_call(kEcrPrefix, "ListImages", list_images_input());
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, "RepositoryNotFoundException");
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(AwsJson, ConnectionRefusedIsRetriedThenReportedClearly) {
  auto port = test::unused_local_port();
  MapEnvironment env;
  CurlTransport transport(env);
  StaticCredentialsProvider creds(test_credentials());
  FakeClock clock(t0());
  FixedRandom random(0.0);
  RetryStrategy retry;
  AwsClient client(AwsContext{transport, creds, clock, clock, random, retry},
                   Endpoint{"http://127.0.0.1:" + std::to_string(port), "us-east-1", "ecr"});
  CallStats stats;
  CallOptions opts;
  opts.stats = &stats;
  auto out = client.json_call(kEcrPrefix, "ListImages", list_images_input(), opts);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, "ConnectionError");
  EXPECT_EQ(out.error().context, "ListImages");
  EXPECT_NE(out.error().describe().find("127.0.0.1"), std::string::npos) << out.error().describe();
  EXPECT_EQ(stats.attempts, 3);
}

TEST(AwsJson, TruncatedJsonBodyIsAClearError) {
  ScriptedHttpServer server;
  server.enqueue_json(200, R"({"imageIds":[{"imageDigest":"sha256:a)", {{"x-amzn-RequestId", "rid-trunc"}});
  Harness h(server);
  CallOptions opts;
  opts.context = "repository=web";
  auto out = h.client.json_call(kEcrPrefix, "ListImages", list_images_input(), opts);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, "InvalidJson");
  EXPECT_EQ(out.error().request_id, "rid-trunc");
  EXPECT_NE(out.error().context.find("ListImages repository=web"), std::string::npos) << out.error().describe();
  EXPECT_FALSE(out.error().retryable);
}

TEST(AwsJson, CorrectsClockSkewFromDateHeaderAndRetries) {
  ScriptedHttpServer server;
  // The server's clock is one hour ahead of ours.
  server.enqueue_json(403, R"({"__type":"InvalidSignatureException","message":"Signature expired: 20300101T000000Z is now earlier than 20300101T005500Z"})",
                      {{"Date", "Tue, 01 Jan 2030 01:00:00 GMT"}});
  server.enqueue_json(200, "{}");
  server.enqueue_json(200, "{}");
  Harness h(server);
  CallStats stats;
  CallOptions opts;
  opts.stats = &stats;
  ASSERT_TRUE(h.client.json_call(kEcrPrefix, "ListImages", list_images_input(), opts));
  EXPECT_EQ(stats.attempts, 2);
  EXPECT_EQ(h.client.clock_offset(), 1h);
  EXPECT_EQ(h.clock.total_slept(), 0ms) << "a skew retry needs no backoff";
  ASSERT_TRUE(h.client.json_call(kEcrPrefix, "ListImages", list_images_input()));
  auto reqs = server.requests();
  EXPECT_EQ(reqs[1].header("X-Amz-Date").value_or(""), "20300101T010000Z");
  EXPECT_EQ(reqs[2].header("X-Amz-Date").value_or(""), "20300101T010000Z") << "the offset sticks for later calls";
}

struct ErrorRow {
  const char* name;
  HeaderList headers;
  const char* body;
  const char* code;
  const char* message;
};

TEST(AwsJsonErrors, ParsesCodeFromHeaderThenBodyAndNormalisesIt) {
  const ErrorRow rows[] = {
      {"plain __type", {}, R"({"__type":"RepositoryNotFoundException","message":"m1"})", "RepositoryNotFoundException", "m1"},
      {"namespace stripped", {}, R"({"__type":"com.amazonaws.ecr#ImageNotFoundException","Message":"m2"})",
       "ImageNotFoundException", "m2"},
      {"colon suffix stripped", {},
       R"({"__type":"aws.protocoltests.restjson#FooError:http://internal.amazon.com/coral/com.amazon.coral.validate/","message":"m3"})",
       "FooError", "m3"},
      {"header wins over body", {{"X-Amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/"}},
       R"({"__type":"ServerException","message":"m4"})", "ThrottlingException", "m4"},
      {"body code before __type", {}, R"({"code":"ValidationException","__type":"Other","message":"m5"})",
       "ValidationException", "m5"},
      {"no body", {}, "", "HttpStatus400", ""},
  };
  for (const auto& row : rows) {
    HttpResponse r;
    r.status = 400;
    r.headers = row.headers;
    r.headers.emplace_back("x-amzn-RequestId", "rid-table");
    r.body = row.body;
    Error e = parse_json_error(r);
    EXPECT_EQ(e.code, row.code) << row.name;
    EXPECT_EQ(e.message, row.message) << row.name;
    EXPECT_EQ(e.request_id, "rid-table") << row.name;
    EXPECT_EQ(e.http_status, 400) << row.name;
  }
  HttpResponse throttled{400, {{"X-Amzn-ErrorType", "ThrottlingException"}}, "{}"};
  EXPECT_TRUE(parse_json_error(throttled).retryable) << "retryable set by the classification table";
}

TEST(QueryProtocol, SendsFormBodyAndParsesXmlErrors) {
  ScriptedHttpServer server;
  server.enqueue(test::reply(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account>"
                                  "</GetCallerIdentityResult></GetCallerIdentityResponse>"));
  server.enqueue(test::reply(403, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message>"
                                  "</Error><RequestId>rid-sts</RequestId></ErrorResponse>"));
  Harness h(server);
  auto ok = h.client.query_call("GetCallerIdentity", {{"Extra", "a b"}}, "2011-06-15");
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_NE(ok->find("123456789012"), std::string::npos);
  auto got = server.requests().at(0);
  EXPECT_EQ(got.body, "Action=GetCallerIdentity&Version=2011-06-15&Extra=a%20b");
  EXPECT_EQ(got.header("Content-Type").value_or(""), "application/x-www-form-urlencoded; charset=utf-8");
  auto denied = h.client.query_call("GetCallerIdentity", {}, "2011-06-15");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, "AccessDenied");
  EXPECT_EQ(denied.error().message, "no");
  EXPECT_EQ(denied.error().request_id, "rid-sts");
  EXPECT_EQ(denied.error().context, "GetCallerIdentity");
}

TEST(RestJson, SendsPathHeadersAndBodySigned) {
  ScriptedHttpServer server;
  server.enqueue(test::reply(202, ""));
  Harness h(server);
  auto r = h.client.rest_call("POST", "/2015-03-31/functions/sweeper/invocations", R"({"k":1})",
                              {{"X-Amz-Invocation-Type", "Event"}}, {}, "Invoke");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->status, 202);
  auto got = server.requests().at(0);
  EXPECT_EQ(got.target, "/2015-03-31/functions/sweeper/invocations");
  EXPECT_EQ(got.header("X-Amz-Invocation-Type").value_or(""), "Event");
  EXPECT_NE(got.header("Authorization").value_or("").find("x-amz-invocation-type"), std::string::npos)
      << "extra headers are signed";
}

}  // namespace
}  // namespace ecrs::aws
