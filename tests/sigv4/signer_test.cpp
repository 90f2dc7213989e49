// Building blocks and signer behaviour the vector suite does not pin down: encoders, dates, the key cache,
// never-signed headers, session-token placement, input errors.
#include "ecrs/sigv4/signer.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace ecrs::sigv4 {
namespace {

Credentials example_creds() {
  Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  return c;
}

Request get_vanilla() {
  Request r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"Host", "example.amazonaws.com"}};
  return r;
}

SigningParams vanilla_params() {
  SigningParams p;
  p.region = "us-east-1";
  p.service = "service";
  p.time = *parse_amz_date("20150830T123600Z");
  return p;
}

const std::string* find_added(const SigningResult& r, std::string_view name) {
  for (const auto& h : r.headers_to_add) {
    if (h.first == name) return &h.second;
  }
  return nullptr;
}

TEST(Sha256, HashesTheEmptyStringToTheWellKnownValue) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HmacSha256, MatchesRfc4231TestCase2) {
  EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(UriEncode, KeepsUnreservedAndEncodesEverythingElseWithUppercaseHex) {
  EXPECT_EQ(uri_encode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(uri_encode("a b+c/d=e&f%", false), "a%20b%2Bc%2Fd%3De%26f%25");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(uri_encode("\xe1\x88\xb4", false), "%E1%88%B4");
}

TEST(UriDecode, DecodesPercentEscapesOnlyAndLeavesPlusAndBrokenEscapes) {
  EXPECT_EQ(uri_decode("a%20b+c%2f"), "a b+c/");
  EXPECT_EQ(uri_decode("100%"), "100%");
  EXPECT_EQ(uri_decode("%zz%4"), "%zz%4");
}

TEST(AmzDate, FormatsAndParsesRoundTrip) {
  auto t = parse_amz_date("20150830T123600Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_amz_date(*t), "20150830T123600Z");
  EXPECT_EQ(format_amz_date(*t + std::chrono::milliseconds(999)), "20150830T123600Z");
  EXPECT_EQ(format_amz_date(std::chrono::system_clock::time_point{}), "19700101T000000Z");
  EXPECT_EQ(format_amz_date(*parse_amz_date("20241231T235959Z")), "20241231T235959Z");
}

TEST(AmzDate, RejectsMalformedDates) {
  for (const char* bad : {"", "20150830T123600", "20150830 123600Z", "2015-08-30T12:36:00Z", "20150230T123600Z",
                          "20151330T123600Z", "20150830T243600Z", "20150830T126000Z", "2015083OT123600Z"}) {
    EXPECT_FALSE(parse_amz_date(bad)) << bad;
  }
}

TEST(Signer, NeverSignsHopByHopUserAgentOrTraceHeaders) {
  Signer signer;
  Request r = get_vanilla();
  r.headers.insert(r.headers.end(), {{"Connection", "keep-alive"},
                                     {"Expect", "100-continue"},
                                     {"Keep-Alive", "timeout=5"},
                                     {"TE", "trailers"},
                                     {"Transfer-Encoding", "chunked"},
                                     {"Upgrade", "h2c"},
                                     {"Proxy-Authorization", "Basic eA=="},
                                     {"Proxy-Connection", "keep-alive"},
                                     {"User-Agent", "ecr-sweeper/0.1"},
                                     {"X-Amzn-Trace-Id", "Root=1-abc"},
                                     {"Authorization", "stale"},
                                     {"X-Amz-Date", "19990101T000000Z"}});
  auto s = signer.sign_headers(r, example_creds(), vanilla_params());
  ASSERT_TRUE(s) << s.error().describe();
  // Exactly get-vanilla's signature: none of the above took part, and the stale date was replaced.
  EXPECT_EQ(s->signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(Signer, OmitSessionTokenSignsWithoutItButStillSendsIt) {
  Signer signer;
  Credentials c = example_creds();
  c.session_token = Secret("TOKEN/with+chars=");
  SigningParams p = vanilla_params();
  p.omit_session_token = true;
  auto s = signer.sign_headers(get_vanilla(), c, p);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->canonical_request.find("x-amz-security-token"), std::string::npos);
  ASSERT_NE(find_added(*s, "X-Amz-Security-Token"), nullptr);
  EXPECT_EQ(*find_added(*s, "X-Amz-Security-Token"), "TOKEN/with+chars=");
  p.omit_session_token = false;
  auto signed_token = signer.sign_headers(get_vanilla(), c, p);
  ASSERT_TRUE(signed_token);
  EXPECT_NE(signed_token->canonical_request.find("x-amz-security-token:TOKEN/with+chars=\n"), std::string::npos);
}

TEST(Signer, SignBodyAddsContentSha256AndUnsignedPayloadUsesTheLiteral) {
  Signer signer;
  SigningParams p = vanilla_params();
  p.sign_body = true;
  Request r = get_vanilla();
  r.body = "hello";
  auto s = signer.sign_headers(r, example_creds(), p);
  ASSERT_TRUE(s);
  ASSERT_NE(find_added(*s, "X-Amz-Content-Sha256"), nullptr);
  EXPECT_EQ(*find_added(*s, "X-Amz-Content-Sha256"), sha256_hex("hello"));
  p.unsigned_payload = true;
  auto u = signer.sign_headers(r, example_creds(), p);
  ASSERT_TRUE(u);
  EXPECT_EQ(*find_added(*u, "X-Amz-Content-Sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_TRUE(u->canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
}

TEST(Signer, NonS3PathsAreNormalisedAndEncodedTwiceS3PathsOnce) {
  Signer signer;
  Request r = get_vanilla();
  r.path = "/a/./b/../c//d%20e";
  auto normalised = signer.sign_headers(r, example_creds(), vanilla_params());
  ASSERT_TRUE(normalised);
  EXPECT_TRUE(normalised->canonical_request.starts_with("GET\n/a/c/d%2520e\n"));
  SigningParams s3 = vanilla_params();
  s3.normalize_path = false;
  auto as_is = signer.sign_headers(r, example_creds(), s3);
  ASSERT_TRUE(as_is);
  EXPECT_TRUE(as_is->canonical_request.starts_with("GET\n/a/./b/../c//d%20e\n"));
  r.path = "/bucket/key%2Fwith%3aescapes%7E";
  auto key = signer.sign_headers(r, example_creds(), s3);
  ASSERT_TRUE(key);
  EXPECT_TRUE(key->canonical_request.starts_with("GET\n/bucket/key%2Fwith%3Aescapes~\n"));
}

TEST(Signer, QueryIsDecodedReencodedAndSortedByNameThenValue) {
  Signer signer;
  Request r = get_vanilla();
  r.query = "b=2&a=z&a=y&c&%41=x+y&d=%2f";
  auto s = signer.sign_headers(r, example_creds(), vanilla_params());
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->canonical_request.starts_with("GET\n/\nA=x%2By&a=y&a=z&b=2&c=&d=%2F\n"));
}

TEST(Signer, MissingInputsAreErrorsThatNameNoSecret) {
  Signer signer;
  Request no_host = get_vanilla();
  no_host.headers.clear();
  auto r = signer.sign_headers(no_host, example_creds(), vanilla_params());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "SigningError");
  Credentials no_secret = example_creds();
  no_secret.secret_access_key = Secret();
  EXPECT_FALSE(signer.sign_headers(get_vanilla(), no_secret, vanilla_params()));
  SigningParams no_region = vanilla_params();
  no_region.region.clear();
  EXPECT_FALSE(signer.sign_headers(get_vanilla(), example_creds(), no_region));
  SigningParams too_long = vanilla_params();
  too_long.expires = std::chrono::seconds(604801);
  auto q = signer.presign_query(get_vanilla(), example_creds(), too_long);
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().message.find("wJalr"), std::string::npos);
}

TEST(Signer, RotatedSecretUnderTheSameAccessKeyIsNotServedFromTheCache) {
  Signer signer;
  auto first = signer.sign_headers(get_vanilla(), example_creds(), vanilla_params());
  Credentials rotated = example_creds();
  rotated.secret_access_key = Secret("another-secret");
  auto second = signer.sign_headers(get_vanilla(), rotated, vanilla_params());
  auto third = signer.sign_headers(get_vanilla(), example_creds(), vanilla_params());
  ASSERT_TRUE(first && second && third);
  EXPECT_NE(first->signature, second->signature);
  EXPECT_EQ(first->signature, third->signature);
}

TEST(Signer, IsSafeToShareAcrossThreads) {
  Signer signer;
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::thread> threads;
  std::vector<int> mismatches(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        SigningParams p = vanilla_params();
        // Alternate days so the cache is written while others read it.
        p.time += std::chrono::hours(24 * (i % 3));
        auto s = signer.sign_headers(get_vanilla(), example_creds(), p);
        if (!s || (i % 3 == 0 && s->signature != "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")) {
          ++mismatches[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace ecrs::sigv4
