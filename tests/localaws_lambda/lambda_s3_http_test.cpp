// End to end over HTTP with independent clients: the curl binary PUTs presigned URLs (ours and botocore's),
// a bash+curl bootstrap drives the Runtime API, and botocore's Lambda client calls Invoke.
#include <gtest/gtest.h>
#include <json/value.h>

#include <chrono>
#include <future>
#include <regex>

#include "ecrs/common/json.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "test_support.hpp"

namespace ecrs::localaws {
namespace {

using namespace std::chrono_literals;
using testing::run_command;
using testing::test_dir;

constexpr const char* kAccessKey = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kCfnKey =
    "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/demo/0f1e2d3c%7CSweep%7Creq-1";
// Each child process is bounded so a hung poll fails the test instead of the suite.
constexpr const char* kChildTimeout = "timeout 30 ";

class LambdaS3Http : public ::testing::Test {
 protected:
  static Options options() {
    Options o;
    o.access_key_id = kAccessKey;
    o.secret_access_key = Secret(kSecret);
    o.function_timeout = 60s;
    o.threads = 2;
    return o;
  }
  void SetUp() override { aws_.start(); }
  void TearDown() override { aws_.stop(); }

  struct CurlResult {
    int http_code = 0;
    std::string body;
  };
  // PUT with curl; `header` is passed as -H (e.g. "Content-Type:" removes curl's form default).
  static CurlResult curl_put(const std::string& url, const std::string& body, const std::string& header) {
    const auto r = run_command(std::string(kChildTimeout) + "curl -sS --noproxy '*' -X PUT " +
                               (header.empty() ? "" : "-H '" + header + "' ") + "--data-binary '" + body +
                               "' -w '\\n%{http_code}' '" + url + "'");
    CurlResult out;
    const auto nl = r.output.rfind('\n');
    if (r.exit_code != 0 || nl == std::string::npos) return out;
    out.body = r.output.substr(0, nl);
    out.http_code = std::atoi(r.output.c_str() + nl + 1);
    return out;
  }

  LocalAws aws_{options()};
};

TEST_F(LambdaS3Http, CurlPutWithoutContentTypeIsAcceptedAndJsonIsRejected) {
  const std::string url = aws_.s3().make_response_url(kCfnKey);
  ASSERT_EQ(url.rfind(aws_.endpoint() + "/cfn-response/", 0), 0u) << "the URL must point at the running server";

  const auto json = curl_put(url, R"({"Status":"SUCCESS"})", "Content-Type: application/json");
  EXPECT_EQ(json.http_code, 403) << "curl failed or answered: " << json.body;
  EXPECT_NE(json.body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos) << json.body;

  // curl's default for --data-binary is application/x-www-form-urlencoded: rejected as well, as on S3.
  EXPECT_EQ(curl_put(url, "{}", "").http_code, 403);

  const auto ok = curl_put(url, R"({"Status":"SUCCESS"})", "Content-Type:");
  EXPECT_EQ(ok.http_code, 200) << ok.body;
  const auto got = aws_.s3().wait_accepted(kCfnKey, 5s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->body, R"({"Status":"SUCCESS"})");
  EXPECT_EQ(got->content_type, "<absent>");
  // "Content-Type;" sends the header empty, which signs as empty too.
  EXPECT_EQ(curl_put(url, "{}", "Content-Type;").http_code, 200);
  EXPECT_EQ(aws_.s3().received().size(), 4u);
}

TEST_F(LambdaS3Http, CurlGets403ForExpiredAndTamperedUrls) {
  const auto expired = curl_put(aws_.s3().make_response_url(kCfnKey, -1s), "{}", "Content-Type:");
  EXPECT_EQ(expired.http_code, 403);
  EXPECT_NE(expired.body.find("<Code>AccessDenied</Code>"), std::string::npos) << expired.body;
  EXPECT_NE(expired.body.find("Request has expired"), std::string::npos);

  std::string tampered = aws_.s3().make_response_url(kCfnKey);
  tampered.replace(tampered.find("req-1"), 5, "req-9");
  const auto r = curl_put(tampered, "{}", "Content-Type:");
  EXPECT_EQ(r.http_code, 403);
  EXPECT_NE(r.body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos) << r.body;
  EXPECT_TRUE(aws_.s3().accepted(kCfnKey).empty());
}

TEST_F(LambdaS3Http, BotocorePresignedUrlAcceptsCurlsPut) {
  const auto presigned =
      run_command(std::string(kChildTimeout) + "env NO_PROXY=127.0.0.1,localhost python3 '" + test_dir() +
                  "/presign_s3v2.py' " + aws_.endpoint() +
                  " cfn-response 'arn:aws:cloudformation:us-east-1:123456789012:stack/demo/0f1e2d3c|Sweep|req-2' " +
                  kAccessKey + " '" + kSecret + "' 300");
  ASSERT_EQ(presigned.exit_code, 0) << "python3 with boto3 is required (pyenv python3): " << presigned.output;
  const std::string url = testing::trim_newline(presigned.output);
  EXPECT_EQ(curl_put(url, "{}", "Content-Type: application/json").http_code, 403);
  EXPECT_EQ(curl_put(url, R"({"Status":"FAILED"})", "Content-Type:").http_code, 200);
  const std::string key = "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/demo/0f1e2d3c%7CSweep%7Creq-2";
  ASSERT_EQ(aws_.s3().accepted(key).size(), 1u);
  EXPECT_EQ(aws_.s3().accepted(key)[0].body, R"({"Status":"FAILED"})");
}

TEST_F(LambdaS3Http, ShellBootstrapServesEventsThroughTheRuntimeApi) {
  auto runtime = std::async(std::launch::async, [&] {
    return run_command(std::string(kChildTimeout) + "env AWS_LAMBDA_RUNTIME_API=" + aws_.runtime_api() +
                       " BOOTSTRAP_MAX_EVENTS=3 bash '" + test_dir() + "/bootstrap.sh'");
  });
  const auto before_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::string first = aws_.runtime().invoke(R"({"n":1})");
  const std::string second = aws_.runtime().invoke(R"({"n":2})", 2500ms);
  const std::string third = aws_.runtime().invoke(R"({"fail":true})");

  const auto o1 = aws_.runtime().wait_outcome(first, 20s);
  const auto o2 = aws_.runtime().wait_outcome(second, 20s);
  const auto o3 = aws_.runtime().wait_outcome(third, 20s);
  const auto script = runtime.get();
  EXPECT_EQ(script.exit_code, 0);
  const auto after_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();

  ASSERT_TRUE(o1 && o2 && o3) << "the bootstrap did not answer every event";
  EXPECT_EQ(o1->kind, "response");
  EXPECT_EQ(o2->kind, "response");
  EXPECT_EQ(o3->kind, "error");
  EXPECT_EQ(o3->error_type, "Handler.AskedToFail");
  EXPECT_NE(o3->body.find("the event asked to fail"), std::string::npos);

  const auto r1 = parse_json(o1->body);
  const auto r2 = parse_json(o2->body);
  ASSERT_TRUE(r1 && r2) << o1->body << " / " << o2->body;
  EXPECT_EQ((*r1)["request_id"].asString(), first);
  EXPECT_EQ((*r1)["event"]["n"].asInt(), 1);
  EXPECT_EQ((*r2)["event"]["n"].asInt(), 2);
  EXPECT_EQ((*r1)["function_arn"].asString(), "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper");
  EXPECT_TRUE(std::regex_match((*r1)["trace_id"].asString(), std::regex("Root=1-[0-9a-f]{8}-[0-9a-f]{24};.*")));
  // Deadline = hand-out time + timeout: between the clock before invoking and after the outcome.
  const auto d1 = (*r1)["deadline_ms"].asInt64();
  const auto d2 = (*r2)["deadline_ms"].asInt64();
  EXPECT_GE(d1, before_ms + 60'000);
  EXPECT_LE(d1, after_ms + 60'000);
  EXPECT_GE(d2, before_ms + 2'500);
  EXPECT_LE(d2, after_ms + 2'500);
  EXPECT_TRUE(aws_.runtime().wait_idle(1s));
}

TEST_F(LambdaS3Http, ShutdownReleasesALongPollingBootstrap) {
  auto runtime = std::async(std::launch::async, [&] {
    return run_command(std::string(kChildTimeout) + "env AWS_LAMBDA_RUNTIME_API=" + aws_.runtime_api() + " bash '" +
                       test_dir() + "/bootstrap.sh'");
  });
  const std::string id = aws_.runtime().invoke("{}");
  ASSERT_TRUE(aws_.runtime().wait_outcome(id, 20s).has_value());
  ASSERT_TRUE(aws_.runtime().wait_polling(20s));
  aws_.stop();  // the bootstrap is back in /next; stopping answers it 500 and the script exits 0
  EXPECT_EQ(runtime.get().exit_code, 0);
}

TEST_F(LambdaS3Http, BotocoreInvokeEventQueuesAndAWrongSecretIs403) {
  const std::string arn = "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper";
  const auto r = run_command(std::string(kChildTimeout) + "env NO_PROXY=127.0.0.1,localhost python3 '" + test_dir() +
                             "/invoke_lambda.py' " + aws_.endpoint() + " " + kAccessKey +
                             " Event '{\"RequestType\":\"Delete\"}'" + " ecr-sweeper '" + kSecret + "' '" + arn +
                             "' '" + kSecret + "'" + " ecr-sweeper not-the-secret no-such-function '" + kSecret + "'");
  ASSERT_EQ(r.exit_code, 0) << "python3 with boto3 is required (pyenv python3): " << r.output;
  std::vector<Json::Value> calls;
  std::size_t start = 0;
  for (auto nl = r.output.find('\n'); nl != std::string::npos; start = nl + 1, nl = r.output.find('\n', start)) {
    auto doc = parse_json(std::string_view(r.output).substr(start, nl - start));
    ASSERT_TRUE(doc.has_value()) << r.output;
    calls.push_back(*doc);
  }
  ASSERT_EQ(calls.size(), 4u) << r.output;

  EXPECT_EQ(calls[0]["status"].asInt(), 202);
  EXPECT_EQ(calls[1]["status"].asInt(), 202) << "by full ARN";
  const auto ids = aws_.runtime().invoked_by_api();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(calls[0]["request_id"].asString(), ids[0]);
  EXPECT_EQ(calls[1]["request_id"].asString(), ids[1]);
  EXPECT_EQ(aws_.runtime().pending(), 2u);

  EXPECT_EQ(calls[2]["status"].asInt(), 403);
  EXPECT_EQ(calls[2]["error_code"].asString(), "InvalidSignatureException");
  EXPECT_EQ(calls[3]["status"].asInt(), 404);
  EXPECT_EQ(calls[3]["error_code"].asString(), "ResourceNotFoundException");
}

}  // namespace
}  // namespace ecrs::localaws
