// Issue #21: every response body read is capped. A scripted server answers more than the cap, with a
// Content-Length and chunked; the transport stops reading and says ResponseTooLarge.
#include <gtest/gtest.h>

#include <string>

#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/handler/runtime_client.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::safety_test {
namespace {

constexpr std::size_t kSmallCap = 1024;

TEST(BodyCap, TheDefaultCapIs32MiBAndTheRuntimeApiOnesIsTheEventQuota) {
  EXPECT_EQ(aws::RequestOptions{}.max_response_bytes, std::size_t{32} * 1024 * 1024);
  EXPECT_EQ(handler::kMaxRuntimeResponseBytes, std::size_t{6} * 1024 * 1024);
}

TEST(BodyCap, ABodyOverTheCapWithAContentLengthIsResponseTooLarge) {
  test::ScriptedHttpServer server;
  server.enqueue(test::reply(200, std::string(kSmallCap + 1, 'x')));
  server.enqueue(test::reply(200, std::string(kSmallCap, 'y')));
  MapEnvironment env;
  aws::CurlTransport transport(env);
  aws::RequestOptions options;
  options.max_response_bytes = kSmallCap;
  auto over = transport.send({"GET", server.url("/big"), {}, {}}, options);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, "ResponseTooLarge") << over.error().describe();
  EXPECT_NE(over.error().message.find("/big"), std::string::npos) << over.error().describe();
  auto at = transport.send({"GET", server.url("/exact"), {}, {}}, options);
  ASSERT_TRUE(at) << at.error().describe();
  EXPECT_EQ(at->body.size(), kSmallCap);
}

TEST(BodyCap, AChunkedBodyOverTheCapIsCutOff) {
  test::ScriptedHttpServer server;
  test::ScriptedResponse chunked;
  std::string raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  for (int i = 0; i < 8; ++i) raw += "200\r\n" + std::string(0x200, 'z') + "\r\n";  // 8 x 512 bytes
  raw += "0\r\n\r\n";
  chunked.raw = raw;
  server.enqueue(chunked);
  MapEnvironment env;
  aws::CurlTransport transport(env);
  aws::RequestOptions options;
  options.max_response_bytes = kSmallCap;
  auto r = transport.send({"GET", server.url("/chunked"), {}, {}}, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ResponseTooLarge") << r.error().describe();
}

}  // namespace
}  // namespace ecrs::safety_test
