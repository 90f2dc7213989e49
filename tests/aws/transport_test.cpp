#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ecrs/aws/curl_transport.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::aws {
namespace {
using test::ScriptedHttpServer;
using test::ScriptedResponse;

TEST(CurlTransport, SendsExactlyTheGivenHeadersWithoutCurlDefaults) {
  ScriptedHttpServer server;
  server.enqueue(test::reply(200, "ok"));
  MapEnvironment env;
  CurlTransport transport(env);
  HttpRequest req{"PUT", server.url("/bucket/key?X-Amz-Signature=secret"), {{"X-Custom", "v"}}, "{\"a\":1}"};
  auto r = transport.send(req);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  auto got = server.requests().at(0);
  EXPECT_EQ(got.method, "PUT");
  EXPECT_EQ(got.target, "/bucket/key?X-Amz-Signature=secret");
  EXPECT_EQ(got.body, "{\"a\":1}");
  EXPECT_FALSE(got.header("Content-Type")) << "libcurl's form-urlencoded default leaked";
  EXPECT_FALSE(got.header("Expect"));
  EXPECT_FALSE(got.header("Accept"));
  EXPECT_FALSE(got.header("User-Agent"));
  EXPECT_EQ(got.header("X-Custom").value_or(""), "v");
  EXPECT_EQ(got.header("Content-Length").value_or(""), "7");
  EXPECT_EQ(got.header("Host").value_or(""), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(got.headers.size(), 3u) << "only Host, Content-Length and X-Custom";
}

TEST(CurlTransport, SendsAnEmptyHeaderWhenAskedForOne) {
  ScriptedHttpServer server;
  server.enqueue(test::reply(200, ""));
  MapEnvironment env;
  CurlTransport transport(env);
  // The CloudFormation ResponseURL is SigV2-signed over an empty Content-Type (cfn-custom-resource.md §4).
  HttpRequest req{"PUT", server.url("/cfn"), {{"Content-Type", ""}}, "{}"};
  ASSERT_TRUE(transport.send(req));
  auto got = server.requests().at(0);
  ASSERT_TRUE(got.header("Content-Type")) << "the empty header was dropped";
  EXPECT_EQ(*got.header("Content-Type"), "");
  EXPECT_EQ(got.count_header("Content-Type"), 1u);
}

TEST(CurlTransport, EmptyPutCarriesContentLengthZero) {
  ScriptedHttpServer server;
  server.enqueue(test::reply(200, ""));
  MapEnvironment env;
  CurlTransport transport(env);
  ASSERT_TRUE(transport.send({"PUT", server.url("/x"), {}, ""}));
  EXPECT_EQ(server.requests().at(0).header("Content-Length").value_or("absent"), "0");
}

TEST(CurlTransport, ReturnsStatusHeadersAndBodyOfErrors) {
  ScriptedHttpServer server;
  server.enqueue(test::reply(503, "busy", {{"X-Amzn-RequestId", "rid-1"}}));
  MapEnvironment env;
  CurlTransport transport(env);
  auto r = transport.send({"GET", server.url("/"), {}, ""});
  ASSERT_TRUE(r) << "an HTTP error status is a response, not a transport failure";
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("x-amzn-requestid"), "rid-1");
  EXPECT_EQ(r->body, "busy");
}

TEST(CurlTransport, ReusesConnectionsAcrossRequests) {
  ScriptedHttpServer server;
  server.set_handler([](const test::RecordedRequest&) { return test::reply(200, "x"); });
  MapEnvironment env;
  CurlTransport transport(env);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(transport.send({"POST", server.url("/"), {}, "b"}));
  EXPECT_EQ(server.request_count(), 5u);
  EXPECT_EQ(server.connections_accepted(), 1u) << "keep-alive: one connection for sequential requests";
}

TEST(CurlTransport, ConnectionRefusedIsARetryableConnectionError) {
  MapEnvironment env;
  CurlTransport transport(env);
  auto port = test::unused_local_port();
  auto r = transport.send({"GET", "http://127.0.0.1:" + std::to_string(port) + "/p?token=secret", {}, ""},
                          {std::chrono::milliseconds(2000), std::chrono::milliseconds(2000)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ConnectionError");
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("127.0.0.1"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("secret"), std::string::npos) << "query string leaked: " << r.error().message;
}

TEST(CurlTransport, TruncatedResponseIsATransportError) {
  ScriptedHttpServer server;
  ScriptedResponse truncated;
  truncated.raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"imageIds\":[";
  server.enqueue(truncated);
  MapEnvironment env;
  CurlTransport transport(env);
  auto r = transport.send({"POST", server.url("/"), {}, "{}"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "TransportError");
  EXPECT_TRUE(r.error().retryable);
  EXPECT_FALSE(r.error().message.empty());
}

TEST(CurlTransport, TimesOutWhenTheServerNeverAnswers) {
  ScriptedHttpServer server;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  server.set_handler([&](const test::RecordedRequest&) {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return release; });
    return test::reply(200, "");
  });
  MapEnvironment env;
  CurlTransport transport(env);
  auto r = transport.send({"GET", server.url("/slow"), {}, ""}, {std::chrono::milliseconds(1000), std::chrono::milliseconds(200)});
  {
    std::lock_guard l(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "Timeout");
  EXPECT_TRUE(r.error().retryable);
}

TEST(CurlTransport, RefusesPlainHttpToNonLoopbackHosts) {
  MapEnvironment env;
  CurlTransport transport(env);
  auto r = transport.send({"GET", "http://api.ecr.us-east-1.amazonaws.com/", {}, ""});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "InsecureEndpoint");
  EXPECT_FALSE(r.error().retryable);
}

TEST(CurlTransport, VerifiesTlsCertificates) {
  ScriptedHttpServer server(test::ServerOptions{.tls = true});
  server.set_handler([](const test::RecordedRequest&) { return test::reply(200, "secure"); });
  MapEnvironment env;
  CurlTransport system_trust(env);
  EXPECT_FALSE(system_trust.ca_bundle().empty()) << "no CA bundle found among the known locations";
  auto untrusted = system_trust.send({"GET", server.url("/"), {}, ""});
  ASSERT_FALSE(untrusted) << "a self-signed certificate was accepted";
  EXPECT_EQ(untrusted.error().code, "TlsError") << untrusted.error().describe();

  // Trusting exactly that certificate (as AWS_CA_BUNDLE would) makes the same request succeed, so the failure
  // above was verification and not a broken TLS server.
  auto pem = std::filesystem::temp_directory_path() / ("ecrs-test-ca-" + std::to_string(server.port()) + ".pem");
  std::ofstream(pem) << server.cert_pem();
  CurlTransport pinned(MapEnvironment(std::map<std::string, std::string>{{"AWS_CA_BUNDLE", pem.string()}}));
  auto trusted = pinned.send({"GET", server.url("/"), {}, ""});
  std::filesystem::remove(pem);
  ASSERT_TRUE(trusted) << trusted.error().describe();
  EXPECT_EQ(trusted->body, "secure");
}

TEST(CurlTransport, SendAllRunsRequestsConcurrentlyAndKeepsOrder) {
  ScriptedHttpServer server;
  server.set_handler([](const test::RecordedRequest& r) { return test::reply(200, r.target); });
  MapEnvironment env;
  CurlTransport transport(env);
  std::vector<HttpRequest> reqs;
  for (int i = 0; i < 20; ++i) reqs.push_back({"GET", server.url("/" + std::to_string(i)), {}, ""});
  auto results = send_all(transport, reqs, 4);
  ASSERT_EQ(results.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().describe();
    EXPECT_EQ(results[i]->body, "/" + std::to_string(i));
  }
  EXPECT_LE(server.connections_accepted(), 4u) << "at most max_in_flight connections, each reused";
}

}  // namespace
}  // namespace ecrs::aws
