#include "ecrs/handler/runtime_http_transport.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>

#include "ecrs/handler/app.hpp"
#include "ecrs/handler/runtime_client.hpp"
#include "support/scripted_http_server.hpp"

namespace ecrs::handler {
namespace {

using ecrs::test::ScriptedHttpServer;
using ecrs::test::ScriptedResponse;

aws::RequestOptions quick() {
  aws::RequestOptions o;
  o.connect_timeout = std::chrono::milliseconds(1000);
  o.total_timeout = std::chrono::milliseconds(5000);
  return o;
}

ScriptedResponse raw(std::string bytes) {
  ScriptedResponse r;
  r.raw = std::move(bytes);
  return r;
}

TEST(RuntimeHttpTransport, RuntimeClientReadsAnInvocationAndPostsItsResponse) {
  ScriptedHttpServer server;
  server.enqueue(ecrs::test::reply(200, R"({"RequestType":"Delete"})",
                                   {{"Lambda-Runtime-Aws-Request-Id", "req-1"},
                                    {"Lambda-Runtime-Deadline-Ms", "1700000000000"}}));
  server.enqueue(ecrs::test::reply(202, "{}"));
  RuntimeHttpTransport transport;
  RuntimeClient client(transport, "127.0.0.1:" + std::to_string(server.port()));
  auto inv = client.next();
  ASSERT_TRUE(inv) << inv.error().describe();
  EXPECT_EQ(inv->request_id, "req-1");
  EXPECT_EQ(inv->body, R"({"RequestType":"Delete"})");
  ASSERT_TRUE(inv->deadline.has_value());
  auto posted = client.post_response("req-1", R"({"ok":true})");
  ASSERT_TRUE(posted) << posted.error().describe();
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/2018-06-01/runtime/invocation/next");
  EXPECT_EQ(reqs[1].target, "/2018-06-01/runtime/invocation/req-1/response");
  EXPECT_EQ(reqs[1].body, R"({"ok":true})");
  EXPECT_EQ(reqs[1].header("Content-Length"), std::optional<std::string>("11"));
  // Keep-alive: both requests on one connection, as the Runtime API serves them.
  EXPECT_EQ(server.connections_accepted(), 1u);
  EXPECT_EQ(transport.connections_opened(), 1u);
}

TEST(RuntimeHttpTransport, ReadsAChunkedBody) {
  ScriptedHttpServer server;
  server.enqueue(raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
                     "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"));
  RuntimeHttpTransport transport;
  auto resp = transport.send({"GET", server.url("/x"), {}, {}}, quick());
  ASSERT_TRUE(resp) << resp.error().describe();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "hello, world");
  EXPECT_EQ(resp->header("x-a"), "b");
}

TEST(RuntimeHttpTransport, RetriesOnceWhenAKeptConnectionWasClosedByTheServer) {
  ScriptedHttpServer server;
  // Answers as if keeping the connection, then closes it: the next request finds it dead before any byte.
  server.enqueue(raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  server.enqueue(ecrs::test::reply(200, "second"));
  RuntimeHttpTransport transport;
  ASSERT_TRUE(transport.send({"GET", server.url("/a"), {}, {}}, quick()));
  auto second = transport.send({"POST", server.url("/b"), {}, "x"}, quick());
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_EQ(second->body, "second");
  EXPECT_EQ(transport.connections_opened(), 2u);
  EXPECT_EQ(server.request_count(), 2u);  // the POST went out once
}

TEST(RuntimeHttpTransport, RefusesHttps) {
  RuntimeHttpTransport transport;
  auto resp = transport.send({"GET", "https://127.0.0.1:1/x", {}, {}}, quick());
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code, "InvalidUrl");
}

TEST(RuntimeHttpTransport, ReportsARefusedConnection) {
  RuntimeHttpTransport transport;
  auto resp = transport.send({"GET", "http://127.0.0.1:" + std::to_string(ecrs::test::unused_local_port()) + "/",
                              {}, {}}, quick());
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code, "ConnectionError");
  EXPECT_NE(resp.error().message.find("127.0.0.1"), std::string::npos) << resp.error().message;
}

// A listening socket that never accepts: a connect completes (backlog) and a request is written, but no byte ever
// comes back. Closed when destroyed.
class SilentListener {
 public:
  SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd_, 4) == 0 &&
          ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  bool ok() const { return ok_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  int fd_;
  bool ok_ = false;
  int port_ = 0;
};

TEST(RuntimeHttpTransport, TimesOutWhenNoAnswerComes) {
  SilentListener listener;
  ASSERT_TRUE(listener.ok());
  RuntimeHttpTransport transport;
  aws::RequestOptions o = quick();
  o.total_timeout = std::chrono::milliseconds(150);
  auto resp = transport.send({"GET", listener.url(), {}, {}}, o);
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code, "Timeout");
}

// The runtime starts its warm-up while its first GET /next waits for an event: the hook runs once the request is
// written, though no reply ever comes, and for that request only.
TEST(RuntimeHttpTransport, RunsTheAfterWriteHookOnceWhileTheReplyIsAwaited) {
  SilentListener listener;
  ASSERT_TRUE(listener.ok());
  RuntimeHttpTransport transport;
  int runs = 0;
  transport.after_next_write([&runs] { ++runs; });
  aws::RequestOptions o = quick();
  o.total_timeout = std::chrono::milliseconds(150);
  auto waited = transport.send({"GET", listener.url(), {}, {}}, o);
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error().code, "Timeout");
  EXPECT_EQ(runs, 1);
  ScriptedHttpServer server;
  server.enqueue(ecrs::test::reply(200, "a"));
  server.enqueue(ecrs::test::reply(200, "b"));
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  ASSERT_TRUE(transport.send({"GET", url, {}, {}}, quick()));
  ASSERT_TRUE(transport.send({"GET", url, {}, {}}, quick()));
  EXPECT_EQ(runs, 1);
}

TEST(RuntimeHttpTransport, RefusesABodyAboveItsLimit) {
  ScriptedHttpServer server;
  server.enqueue(ecrs::test::reply(200, std::string(100, 'x')));
  server.enqueue(raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + std::string(64, 'y') +
                     "\r\n40\r\n" + std::string(64, 'y') + "\r\n0\r\n\r\n"));
  RuntimeHttpTransport transport(/*max_response_bytes=*/99);
  auto resp = transport.send({"GET", server.url("/big"), {}, {}}, quick());
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code, "TransportError");
  EXPECT_NE(resp.error().message.find("above"), std::string::npos) << resp.error().message;
  auto chunked = transport.send({"GET", server.url("/big"), {}, {}}, quick());
  ASSERT_FALSE(chunked);
  EXPECT_NE(chunked.error().message.find("above"), std::string::npos) << chunked.error().message;
}

TEST(RuntimeHttpTransport, ReportsAMalformedStatusLine) {
  ScriptedHttpServer server;
  server.enqueue(raw("SPDY/3 200 OK\r\n\r\n"));
  RuntimeHttpTransport transport;
  auto resp = transport.send({"GET", server.url("/"), {}, {}}, quick());
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code, "TransportError");
}

TEST(LambdaLogLevel, ApplicationLogLevelWinsAndMapsTraceAndFatal) {
  using Vars = std::map<std::string, std::string>;
  struct Row {
    Vars vars;
    LogLevel want;
  };
  const Row rows[] = {
      {{}, LogLevel::info},
      {{{"ECRS_LOG_LEVEL", "warn"}}, LogLevel::warn},
      {{{"AWS_LAMBDA_LOG_LEVEL", "ERROR"}, {"ECRS_LOG_LEVEL", "debug"}}, LogLevel::error},
      {{{"AWS_LAMBDA_LOG_LEVEL", "TRACE"}}, LogLevel::debug},
      {{{"AWS_LAMBDA_LOG_LEVEL", "FATAL"}}, LogLevel::error},
      {{{"AWS_LAMBDA_LOG_LEVEL", "DEBUG"}}, LogLevel::debug},
      {{{"AWS_LAMBDA_LOG_LEVEL", "bogus"}, {"ECRS_LOG_LEVEL", "warn"}}, LogLevel::warn},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(lambda_log_level(MapEnvironment(row.vars)), row.want);
  }
}

}  // namespace
}  // namespace ecrs::handler
