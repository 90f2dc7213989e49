#include "ecrs/aws/http.hpp"

#include <gtest/gtest.h>

namespace ecrs::aws {
namespace {

TEST(HttpUrl, SplitsSchemeHostPortPathAndQuery) {
  auto u = parse_url("https://Api.Ecr.us-east-1.amazonaws.com:8443/a/b?x=1&y=2#frag");
  ASSERT_TRUE(u) << u.error().describe();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "api.ecr.us-east-1.amazonaws.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->path, "/a/b");
  EXPECT_EQ(u->query, "x=1&y=2");
  EXPECT_EQ(u->host_header(), "api.ecr.us-east-1.amazonaws.com:8443");
}

TEST(HttpUrl, OmitsDefaultPortFromHostHeaderAndDefaultsPathToSlash) {
  auto u = parse_url("https://sts.amazonaws.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(u->host_header(), "sts.amazonaws.com");
  auto v6 = parse_url("http://[::1]:9000/x");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->host_header(), "[::1]:9000");
}

TEST(HttpUrl, RejectsWhatCannotBeAnEndpoint) {
  for (const char* bad : {"ftp://x/", "no-scheme", "https://", "https://a b/", "https://u:p@host/", "http://h:99999/",
                          "http://h:0/", "https://[::1/"}) {
    EXPECT_FALSE(parse_url(bad)) << bad;
  }
}

TEST(HttpUrl, RecognisesLoopbackHostsOnly) {
  for (const char* h : {"127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]"}) EXPECT_TRUE(is_loopback_host(h)) << h;
  for (const char* h : {"127.0.0.1.evil.com", "128.0.0.1", "169.254.170.2", "localhost.com", "127.0.0", "example.com"})
    EXPECT_FALSE(is_loopback_host(h)) << h;
}

TEST(HttpResponse, FindsHeadersCaseInsensitively) {
  HttpResponse r;
  r.headers = {{"X-Amzn-RequestId", "abc"}, {"Content-Type", ""}};
  EXPECT_EQ(r.header("x-amzn-requestid"), "abc");
  EXPECT_TRUE(r.has_header("content-type"));
  EXPECT_EQ(r.header("missing"), "");
  EXPECT_FALSE(r.has_header("missing"));
}

TEST(HttpForm, EncodesReservedCharactersAsQueryProtocolExpects) {
  EXPECT_EQ(form_encode("arn:aws:iam::123:role/x y+z~"), "arn%3Aaws%3Aiam%3A%3A123%3Arole%2Fx%20y%2Bz~");
}

}  // namespace
}  // namespace ecrs::aws
