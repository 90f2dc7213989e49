// The S3 presigned receiver called directly (no socket): SigV2 query auth as S3 checks it, against URLs we mint
// and URLs botocore's own SigV2 presigner mints.
#include "ecrs/localaws/s3_receiver.hpp"

#include <gtest/gtest.h>
#include <json/value.h>

#include "ecrs/common/json.hpp"
#include "test_support.hpp"

namespace ecrs::localaws {
namespace {

using namespace std::chrono_literals;
using testing::capture;
using testing::Captured;
using testing::header_of;
using testing::request_for_url;

constexpr const char* kBase = "http://127.0.0.1:4566";
// A CloudFormation-style key: CloudFormation percent-encodes ':' and '|' in the path it presigns.
constexpr const char* kCfnKey =
    "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/demo/0f1e2d3c%7CSweep%7Creq-1";

class S3ReceiverTest : public ::testing::Test {
 protected:
  FakeClock clock_{std::chrono::system_clock::time_point{} + std::chrono::seconds(1'800'000'000)};
  S3Receiver receiver_{kBase, "AKIDEXAMPLE", Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), clock_};

  HttpResponse send(HttpRequest req) {
    auto c = std::make_shared<Captured>();
    EXPECT_TRUE(receiver_.handle(req, capture(c)));
    return c->only();
  }
  HttpResponse put(const std::string& url, std::string body, std::optional<std::string> content_type = std::nullopt) {
    auto req = request_for_url("PUT", url, std::move(body));
    if (content_type) req.headers.emplace_back("Content-Type", *content_type);
    return send(std::move(req));
  }
};

std::string error_code(const HttpResponse& r) {
  const auto b = r.body.find("<Code>");
  const auto e = r.body.find("</Code>");
  return b == std::string::npos || e == std::string::npos ? "<none>" : r.body.substr(b + 6, e - b - 6);
}

TEST_F(S3ReceiverTest, MintsACloudFormationStyleUrl) {
  const std::string url = receiver_.make_response_url(kCfnKey, 2h);
  const std::string expected_prefix = std::string(kBase) + "/cfn-response/" + kCfnKey +
                                      "?AWSAccessKeyId=AKIDEXAMPLE&Expires=" + std::to_string(1'800'000'000 + 7200) +
                                      "&Signature=";
  ASSERT_EQ(url.substr(0, expected_prefix.size()), expected_prefix);
  // Base64 of a 20-byte HMAC-SHA1 is 28 characters; '+', '/' and '=' must arrive percent-encoded.
  const std::string sig = url.substr(expected_prefix.size());
  EXPECT_EQ(sig.find_first_of("+/="), std::string::npos) << sig;
  EXPECT_GE(sig.size(), 28u);
}

TEST_F(S3ReceiverTest, AcceptsAPutWithoutContentType) {
  const auto r = put(receiver_.make_response_url(kCfnKey), R"({"Status":"SUCCESS"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(header_of(r, "ETag"), "<absent>");
  const auto got = receiver_.accepted(kCfnKey);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, R"({"Status":"SUCCESS"})");
  EXPECT_EQ(got[0].content_type, "<absent>");
  EXPECT_FALSE(got[0].too_large);
}

TEST_F(S3ReceiverTest, AcceptsAnEmptyContentTypeHeader) {
  EXPECT_EQ(put(receiver_.make_response_url(kCfnKey), "{}", "").status, 200);
}

TEST_F(S3ReceiverTest, RejectsJsonContentTypeWithSignatureDoesNotMatch) {
  const std::string url = receiver_.make_response_url(kCfnKey);
  const auto r = put(url, "{}", "application/json");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_code(r), "SignatureDoesNotMatch");
  EXPECT_EQ(header_of(r, "Content-Type"), "application/xml");
  // No part of the presigned query string may leak into the message.
  const std::string signature = url.substr(url.find("Signature=") + 10);
  EXPECT_EQ(r.body.find(signature), std::string::npos);
  EXPECT_EQ(r.body.find("AKIDEXAMPLE"), std::string::npos);
  ASSERT_EQ(receiver_.received().size(), 1u);
  EXPECT_EQ(receiver_.received()[0].status, 403);
  EXPECT_EQ(receiver_.received()[0].content_type, "application/json");
  EXPECT_TRUE(receiver_.accepted(kCfnKey).empty());
}

TEST_F(S3ReceiverTest, RejectsAnExpiredUrlWithAccessDenied) {
  const std::string url = receiver_.make_response_url(kCfnKey, 60s);
  clock_.advance(61s);
  const auto r = put(url, "{}");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_code(r), "AccessDenied");
  EXPECT_NE(r.body.find("Request has expired"), std::string::npos);
}

TEST_F(S3ReceiverTest, AcceptsAtTheExpirySecond) {
  const std::string url = receiver_.make_response_url(kCfnKey, 60s);
  clock_.advance(60s);
  EXPECT_EQ(put(url, "{}").status, 200);
}

TEST_F(S3ReceiverTest, RejectsTamperedUrls) {
  const std::string url = receiver_.make_response_url(kCfnKey);
  std::string other_key = url;
  other_key.replace(other_key.find("req-1"), 5, "req-2");
  EXPECT_EQ(error_code(put(other_key, "{}")), "SignatureDoesNotMatch");

  std::string later = url;
  const auto e = later.find("Expires=") + 8;
  later[e + 3] = later[e + 3] == '9' ? '8' : '9';
  EXPECT_EQ(put(later, "{}").status, 403);

  std::string bad_sig = url;
  const auto s = bad_sig.find("Signature=") + 10;
  bad_sig[s] = bad_sig[s] == 'A' ? 'B' : 'A';
  EXPECT_EQ(error_code(put(bad_sig, "{}")), "SignatureDoesNotMatch");
  EXPECT_TRUE(receiver_.accepted(kCfnKey).empty());
}

TEST_F(S3ReceiverTest, VerifiesThePathExactlyAsSent) {
  // A client that decodes %3A/%7C before sending changes the signed resource, as on S3.
  std::string url = receiver_.make_response_url(kCfnKey);
  std::string decoded = url;
  for (const auto& [from, to] : {std::pair{"%3A", ":"}, std::pair{"%7C", "|"}}) {
    for (auto p = decoded.find(from); p != std::string::npos && p < decoded.find('?'); p = decoded.find(from)) {
      decoded.replace(p, 3, to);
    }
  }
  ASSERT_NE(decoded, url);
  EXPECT_EQ(error_code(put(decoded, "{}")), "SignatureDoesNotMatch");
  EXPECT_EQ(put(url, "{}").status, 200);
}

TEST_F(S3ReceiverTest, RejectsMissingQueryParametersAndUnknownKeys) {
  const auto r = put(std::string(kBase) + "/cfn-response/" + kCfnKey, "{}");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_code(r), "AccessDenied");

  FakeClock clock(std::chrono::system_clock::time_point{} + std::chrono::seconds(1'800'000'000));
  S3Receiver other(kBase, "AKIDOTHER", Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), clock);
  const auto r2 = put(other.make_response_url(kCfnKey), "{}");
  EXPECT_EQ(r2.status, 403);
  EXPECT_EQ(error_code(r2), "InvalidAccessKeyId");
}

TEST_F(S3ReceiverTest, RejectsAUrlSignedWithAnotherSecret) {
  S3Receiver other(kBase, "AKIDEXAMPLE", Secret("another-secret"), clock_);
  EXPECT_EQ(error_code(put(other.make_response_url(kCfnKey), "{}")), "SignatureDoesNotMatch");
}

TEST_F(S3ReceiverTest, RejectsAPostToAPutUrl) {
  auto req = request_for_url("POST", receiver_.make_response_url(kCfnKey), "{}");
  EXPECT_EQ(error_code(send(req)), "SignatureDoesNotMatch");
}

TEST_F(S3ReceiverTest, ChecksContentMd5WhenSent) {
  // Content-MD5 is part of the string to sign, so a URL signed without it cannot carry one either.
  auto req = request_for_url("PUT", receiver_.make_response_url(kCfnKey), "{}");
  req.headers.emplace_back("Content-MD5", "mZFLkyvTelC5g8XnyQrpOw==");
  EXPECT_EQ(error_code(send(req)), "SignatureDoesNotMatch");
}

TEST_F(S3ReceiverTest, FlagsBodiesOverCloudFormationsLimit) {
  const std::string url = receiver_.make_response_url(kCfnKey);
  EXPECT_EQ(put(url, std::string(kMaxCfnResponseBytes, 'x')).status, 200);
  EXPECT_EQ(put(url, std::string(kMaxCfnResponseBytes + 1, 'x')).status, 200);
  const auto got = receiver_.accepted(kCfnKey);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[0].too_large);
  EXPECT_TRUE(got[1].too_large);
}

TEST_F(S3ReceiverTest, FailNextAnswersScriptedStatusesThenRecovers) {
  const std::string url = receiver_.make_response_url(kCfnKey);
  receiver_.fail_next(2, 503);
  EXPECT_EQ(put(url, "{}").status, 503);
  EXPECT_EQ(put(url, "{}").status, 503);
  EXPECT_EQ(put(url, "{}").status, 200);
  const auto all = receiver_.received();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].error_code, "SlowDown");
  EXPECT_EQ(receiver_.accepted(kCfnKey).size(), 1u);
}

TEST_F(S3ReceiverTest, WaitAcceptedReturnsThePutFromAnotherThread) {
  const std::string url = receiver_.make_response_url(kCfnKey);
  std::thread t([&] { put(url, R"({"Status":"FAILED"})"); });
  const auto got = receiver_.wait_accepted(kCfnKey, 5s);
  t.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->body, R"({"Status":"FAILED"})");
  EXPECT_FALSE(receiver_.wait_accepted("never-sent", 10ms).has_value());
}

TEST_F(S3ReceiverTest, LeavesOtherPathsToOtherServices) {
  auto c = std::make_shared<Captured>();
  EXPECT_FALSE(receiver_.handle(request_for_url("POST", "http://127.0.0.1/"), capture(c)));
  EXPECT_FALSE(receiver_.handle(request_for_url("PUT", "http://127.0.0.1/cfn-responses/x"), capture(c)));
  EXPECT_EQ(c->count(), 0u);
}

// botocore's HmacV1QueryAuth is the independent reference: its URL for bucket "cfn-response" (path style)
// and a CloudFormation-shaped key must verify here, byte for byte.
TEST(S3ReceiverBotocore, VerifiesAUrlPresignedByBotocore) {
  SystemClock clock;  // botocore stamps Expires from the wall clock
  S3Receiver receiver(kBase, "AKIDEXAMPLE", Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), clock);
  const std::string key = "arn:aws:cloudformation:us-east-1:123456789012:stack/demo/0f1e2d3c|Sweep|req-1";
  const auto presigned = testing::run_command("env NO_PROXY=127.0.0.1,localhost python3 '" + testing::test_dir() +
                                              "/presign_s3v2.py' " + kBase + " cfn-response '" + key +
                                              "' AKIDEXAMPLE 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' 300");
  ASSERT_EQ(presigned.exit_code, 0) << "python3 with boto3 is required (pyenv python3): " << presigned.output;
  const std::string url = testing::trim_newline(presigned.output);
  ASSERT_NE(url.find("/cfn-response/arn%3Aaws%3Acloudformation"), std::string::npos) << url;

  auto respond = [&](HttpRequest req) {
    auto c = std::make_shared<Captured>();
    EXPECT_TRUE(receiver.handle(req, capture(c)));
    return c->only();
  };
  const auto ok = respond(request_for_url("PUT", url, R"({"Status":"SUCCESS"})"));
  EXPECT_EQ(ok.status, 200) << ok.body;
  const std::string encoded_key =
      url.substr(url.find("/cfn-response/") + 14, url.find('?') - url.find("/cfn-response/") - 14);
  EXPECT_EQ(receiver.accepted(encoded_key).size(), 1u);

  auto json = request_for_url("PUT", url, "{}");
  json.headers.emplace_back("Content-Type", "application/json");
  const auto denied = respond(json);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(error_code(denied), "SignatureDoesNotMatch");

  S3Receiver wrong_secret(kBase, "AKIDEXAMPLE", Secret("not-the-secret"), clock);
  auto c = std::make_shared<Captured>();
  wrong_secret.handle(request_for_url("PUT", url, "{}"), capture(c));
  EXPECT_EQ(error_code(c->only()), "SignatureDoesNotMatch");
}

}  // namespace
}  // namespace ecrs::localaws
