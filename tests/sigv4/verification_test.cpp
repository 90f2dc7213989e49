// The verifier side (used by localaws): what sign_headers produces verifies; a tampered body, a wrong
// secret or a wrong date does not; malformed Authorization headers are Errors, never crashes.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "ecrs/sigv4/signer.hpp"

namespace ecrs::sigv4 {
namespace {

constexpr std::string_view kSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kBody = R"({"repositoryName":"web","imageIds":[{"imageTag":"v1"}]})";

Credentials example_creds(bool with_token) {
  Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = Secret(std::string(kSecretKey));
  if (with_token) c.session_token = Secret("FQoGZXIvYXdzEXAMPLETOKEN");
  return c;
}

Request ecr_request(std::string_view body) {
  Request r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"Host", "127.0.0.1:4566"},
               {"Content-Type", "application/x-amz-json-1.1"},
               {"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.BatchDeleteImage"}};
  r.body = body;
  return r;
}

SigningParams ecr_params() {
  SigningParams p;
  p.region = "us-east-1";
  p.service = "ecr";
  p.time = *parse_amz_date("20240101T000000Z");
  return p;
}

// The request as the server receives it: the signer's headers appended.
Request as_sent(Request r, const SigningResult& s) {
  r.headers.insert(r.headers.end(), s.headers_to_add.begin(), s.headers_to_add.end());
  return r;
}

std::string authorization_of(const Request& r) { return std::string(find_header(r, "authorization").value_or("")); }

TEST(Verification, RequestSignedBySignHeadersVerifies) {
  for (bool with_token : {false, true}) {
    Signer signer;
    auto s = signer.sign_headers(ecr_request(kBody), example_creds(with_token), ecr_params());
    ASSERT_TRUE(s) << s.error().describe();
    Request received = as_sent(ecr_request(kBody), *s);
    auto auth = parse_authorization(authorization_of(received));
    ASSERT_TRUE(auth) << auth.error().describe();
    EXPECT_EQ(auth->date, "20240101");
    EXPECT_EQ(auth->region, "us-east-1");
    EXPECT_EQ(auth->service, "ecr");
    EXPECT_EQ(auth->signature, s->signature);
    auto expected = compute_for_verification(received, *auth, Secret(std::string(kSecretKey)),
                                             *parse_amz_date("20240101T000000Z"));
    ASSERT_TRUE(expected) << expected.error().describe();
    EXPECT_EQ(expected->canonical_request, s->canonical_request);
    EXPECT_EQ(expected->signature, s->signature);
    auto verified = verify_request(received, *auth, Secret(std::string(kSecretKey)));
    EXPECT_TRUE(verified) << verified.error().describe();
  }
}

TEST(Verification, SignedBodyHashIsCheckedAgainstTheBody) {
  Signer signer;
  SigningParams p = ecr_params();
  p.sign_body = true;
  auto s = signer.sign_headers(ecr_request(kBody), example_creds(false), p);
  ASSERT_TRUE(s);
  Request received = as_sent(ecr_request(kBody), *s);
  auto auth = parse_authorization(authorization_of(received));
  ASSERT_TRUE(auth);
  EXPECT_TRUE(verify_request(received, *auth, Secret(std::string(kSecretKey))));
  received.body = R"({"repositoryName":"web","imageIds":[]})";
  auto tampered = verify_request(received, *auth, Secret(std::string(kSecretKey)));
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error().code, "XAmzContentSHA256Mismatch");
}

TEST(Verification, TamperedBodyFails) {
  Signer signer;
  auto s = signer.sign_headers(ecr_request(kBody), example_creds(true), ecr_params());
  ASSERT_TRUE(s);
  const std::string other = R"({"repositoryName":"prod","imageIds":[{"imageTag":"v1"}]})";
  Request received = as_sent(ecr_request(other), *s);
  auto auth = parse_authorization(authorization_of(received));
  ASSERT_TRUE(auth);
  auto verified = verify_request(received, *auth, Secret(std::string(kSecretKey)));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, "InvalidSignatureException");
}

TEST(Verification, TamperedSignedHeaderFails) {
  Signer signer;
  auto s = signer.sign_headers(ecr_request(kBody), example_creds(false), ecr_params());
  ASSERT_TRUE(s);
  Request received = as_sent(ecr_request(kBody), *s);
  for (auto& [n, v] : received.headers) {
    if (n == "X-Amz-Target") v = "AmazonEC2ContainerRegistry_V20150921.DeleteRepository";
  }
  auto auth = parse_authorization(authorization_of(received));
  ASSERT_TRUE(auth);
  EXPECT_FALSE(verify_request(received, *auth, Secret(std::string(kSecretKey))));
}

TEST(Verification, WrongSecretFails) {
  Signer signer;
  auto s = signer.sign_headers(ecr_request(kBody), example_creds(false), ecr_params());
  ASSERT_TRUE(s);
  Request received = as_sent(ecr_request(kBody), *s);
  auto auth = parse_authorization(authorization_of(received));
  ASSERT_TRUE(auth);
  auto verified = verify_request(received, *auth, Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ"));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, "InvalidSignatureException");
  EXPECT_EQ(verified.error().message.find(kSecretKey), std::string::npos);
}

TEST(Verification, WrongDateFails) {
  Signer signer;
  auto s = signer.sign_headers(ecr_request(kBody), example_creds(false), ecr_params());
  ASSERT_TRUE(s);
  Request received = as_sent(ecr_request(kBody), *s);
  auto auth = parse_authorization(authorization_of(received));
  ASSERT_TRUE(auth);
  // Same day, another second: the string to sign differs.
  auto same_day = compute_for_verification(received, *auth, Secret(std::string(kSecretKey)),
                                           *parse_amz_date("20240101T000001Z"));
  ASSERT_TRUE(same_day);
  EXPECT_NE(same_day->signature, s->signature);
  // Another day: outside the credential scope.
  auto next_day = compute_for_verification(received, *auth, Secret(std::string(kSecretKey)),
                                           *parse_amz_date("20240102T000000Z"));
  ASSERT_FALSE(next_day);
  EXPECT_EQ(next_day.error().code, "InvalidSignatureException");
  // A rewritten X-Amz-Date header (signed) fails the full check.
  for (auto& [n, v] : received.headers) {
    if (n == "X-Amz-Date") v = "20240101T000500Z";
  }
  EXPECT_FALSE(verify_request(received, *auth, Secret(std::string(kSecretKey))));
}

TEST(Verification, MissingSignedHeaderIsAnError) {
  Signer signer;
  auto s = signer.sign_headers(ecr_request(kBody), example_creds(false), ecr_params());
  ASSERT_TRUE(s);
  Request received = as_sent(ecr_request(kBody), *s);
  std::erase_if(received.headers, [](const Header& h) { return h.first == "X-Amz-Target"; });
  auto auth = parse_authorization(authorization_of(received));
  ASSERT_TRUE(auth);
  auto r = compute_for_verification(received, *auth, Secret(std::string(kSecretKey)), ecr_params().time);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "IncompleteSignatureException");
}

TEST(Verification, ParsesAuthorizationWithFlexibleSpacing) {
  auto a = parse_authorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;"
      "x-amz-date,  Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_EQ(a->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(a->date, "20150830");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->service, "service");
  EXPECT_EQ(a->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_EQ(a->signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(Verification, MalformedAuthorizationHeadersAreErrorsNotCrashes) {
  const std::string sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
  const std::string cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
  const std::vector<std::string> bad = {
      "",
      " ",
      "AWS4-HMAC-SHA256",
      "AWS4-HMAC-SHA256 ",
      "AWS4-HMAC-SHA1 " + cred + ", SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256" + cred + ", SignedHeaders=host, Signature=" + sig,
      "Bearer abc",
      "AWS4-HMAC-SHA256 Credential",
      "AWS4-HMAC-SHA256 =,=,=",
      "AWS4-HMAC-SHA256 ,,,,",
      "AWS4-HMAC-SHA256 " + cred,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host",
      "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, Signature=" + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, Signature=" + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host, Signature=" + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig.substr(1),
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig + "0",
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + std::string(64, 'G'),
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig + ", Signature=" + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig + ", Extra=1",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/service/aws4_request, SignedHeaders=host, "
      "Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015O830/us-east-1/service/aws4_request, SignedHeaders=host, "
      "Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=A/20150830//service/aws4_request, SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request/x, SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws5_request, SignedHeaders=host, Signature=" + sig,
      std::string("AWS4-HMAC-SHA256 \0\0\0", 20),
      std::string(100000, ','),
  };
  for (const auto& header : bad) {
    auto r = parse_authorization(header);
    ASSERT_FALSE(r) << "accepted: " << header.substr(0, 120);
    EXPECT_EQ(r.error().code, "IncompleteSignatureException");
    // The header value (which holds the signature) never reaches the message.
    EXPECT_EQ(r.error().message.find(sig), std::string::npos);
  }
}

TEST(Verification, VerifyWithoutXAmzDateIsAnError) {
  Request r = ecr_request(kBody);
  auto auth = parse_authorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/ecr/aws4_request, SignedHeaders=host;"
      "x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  ASSERT_TRUE(auth);
  auto v = verify_request(r, *auth, Secret(std::string(kSecretKey)));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, "IncompleteSignatureException");
  r.headers.emplace_back("X-Amz-Date", "not-a-date");
  EXPECT_FALSE(verify_request(r, *auth, Secret(std::string(kSecretKey))));
}

}  // namespace
}  // namespace ecrs::sigv4
