// The HTTP surface: SigV4 verification as AWS answers it, error envelopes, admin routes, limits and stop.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "ecrs/localaws/localaws.hpp"
#include "test_client.hpp"

namespace ecrs::localaws {
namespace {

using testing::Client;
using testing::obj;
using testing::SignOverrides;

class Server : public ::testing::Test {
 protected:
  void SetUp() override {
    aws_.start();
    aws_.ecr().create_repository("web");
  }
  LocalAws aws_{Options{}};
};

TEST_F(Server, AcceptsACorrectlySignedCallAndStampsARequestId) {
  Client c(aws_.port());
  auto r = c.ecr("ListImages", obj({{"repositoryName", "web"}}));
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.request_id.size(), 36u);
  // Python-style spacing, as the AWS CLI sends it, verifies too: the body is hashed as received.
  auto spaced = c.ecr_body("ListImages", R"({"repositoryName": "web",   "maxResults": 5})");
  EXPECT_EQ(spaced.status, 200) << spaced.raw;
}

TEST_F(Server, RejectsAWrongSecretWithInvalidSignatureException) {
  Client c(aws_.port(), "test", "wrong");
  auto r = c.ecr("ListImages", obj({{"repositoryName", "web"}}));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.error_type, "InvalidSignatureException");
  EXPECT_EQ(r.code(), "InvalidSignatureException");
  EXPECT_EQ(r.message().rfind("The request signature we calculated does not match", 0), 0u);
}

TEST_F(Server, RejectsAnUnknownKeyWithUnrecognizedClientException) {
  Client c(aws_.port(), "AKIDUNKNOWN", "test");
  auto r = c.ecr("ListImages", obj({{"repositoryName", "web"}}));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.code(), "UnrecognizedClientException");
}

TEST_F(Server, RejectsASignatureOlderThanFifteenMinutes) {
  Client c(aws_.port());
  auto r = c.ecr("ListImages", obj({{"repositoryName", "web"}}),
                 SignOverrides{std::chrono::system_clock::now() - std::chrono::minutes(16), std::nullopt, std::nullopt});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.code(), "InvalidSignatureException");
  EXPECT_EQ(r.message().rfind("Signature expired", 0), 0u) << r.message();
  auto fine = c.ecr("ListImages", obj({{"repositoryName", "web"}}),
                    SignOverrides{std::chrono::system_clock::now() - std::chrono::minutes(14), std::nullopt, std::nullopt});
  EXPECT_EQ(fine.status, 200);
}

TEST_F(Server, RejectsAWrongScope) {
  Client c(aws_.port());
  EXPECT_EQ(c.ecr("ListImages", obj({{"repositoryName", "web"}}), SignOverrides{std::nullopt, "eu-west-1", std::nullopt}).code(),
            "InvalidSignatureException");
  EXPECT_EQ(c.ecr("ListImages", obj({{"repositoryName", "web"}}), SignOverrides{std::nullopt, std::nullopt, "s3"})
                .code(),
            "InvalidSignatureException");
}

TEST_F(Server, UnsignedAndTamperedRequestsAreRefused) {
  Client c(aws_.port());
  auto unsigned_call = c.raw("POST", "/", "{}",
                             {{"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"},
                              {"Content-Type", "application/x-amz-json-1.1"}});
  EXPECT_EQ(unsigned_call.status, 403);
  EXPECT_EQ(unsigned_call.code(), "MissingAuthenticationTokenException");
}

TEST(ServerSessionToken, RequiresTheConfiguredToken) {
  Options o;
  o.session_token = Secret("tok");
  LocalAws aws(o);
  aws.start();
  EXPECT_EQ(Client(aws.port()).ecr("DescribeRepositories", Json::Value(Json::objectValue)).code(),
            "UnrecognizedClientException");
  auto wrong = Client(aws.port(), "test", "test", "other").ecr("DescribeRepositories", Json::Value(Json::objectValue));
  EXPECT_EQ(wrong.code(), "UnrecognizedClientException");
  EXPECT_EQ(wrong.message(), "The security token included in the request is invalid.");
  EXPECT_EQ(Client(aws.port(), "test", "test", "tok").ecr("DescribeRepositories", Json::Value(Json::objectValue)).status,
            200);
}

TEST_F(Server, ErrorsCarryTypeHeaderAndBodyAsAwsSendsThem) {
  Client c(aws_.port());
  auto r = c.ecr("ListImages", obj({{"repositoryName", "missing"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_type, "RepositoryNotFoundException");
  EXPECT_EQ(r.code(), "RepositoryNotFoundException");
  EXPECT_FALSE(r.request_id.empty());
  auto unknown = c.ecr("NoSuchOperation", Json::Value(Json::objectValue));
  EXPECT_EQ(unknown.code(), "UnknownOperationException");
}

TEST_F(Server, AnswersNotFoundForUnclaimedPaths) {
  Client c(aws_.port());
  auto r = c.raw("GET", "/nothing/here", "", {{"Host", "x"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(r.request_id.empty());
}

// The response head is written by hand (http_server.cpp): Beast's strict parser must read it as Beast wrote it,
// with the reason phrase, the body's length, keep-alive by the version's default, and a close when asked.
TEST_F(Server, ResponsesKeepHttpFramingAndConnectionSemantics) {
  namespace http = boost::beast::http;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock(ioc);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), aws_.port()});
  boost::beast::flat_buffer buffer;
  auto exchange = [&](const std::string& request) {
    boost::asio::write(sock, boost::asio::buffer(request));
    http::response<http::string_body> res;
    http::read(sock, buffer, res);
    return res;
  };
  auto first = exchange("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(first.result_int(), 404u);
  EXPECT_EQ(first.reason(), "Not Found");
  EXPECT_EQ(first.version(), 11u);
  EXPECT_EQ(first[http::field::content_length], std::to_string(first.body().size()));
  EXPECT_NE(first.body().find("nothing serves GET /nothing"), std::string::npos);
  EXPECT_TRUE(first.keep_alive());
  EXPECT_EQ(first[http::field::content_type], "application/json");
  auto second = exchange("GET /again HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");  // same connection
  EXPECT_NE(second.body().find("/again"), std::string::npos);
  EXPECT_FALSE(second.keep_alive());
  EXPECT_EQ(second[http::field::connection], "close");
  boost::system::error_code ec;
  char byte;
  sock.read_some(boost::asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, boost::asio::error::eof);

  boost::asio::ip::tcp::socket old(ioc);
  old.connect({boost::asio::ip::make_address("127.0.0.1"), aws_.port()});
  boost::beast::flat_buffer old_buffer;
  boost::asio::write(old, boost::asio::buffer(std::string("GET /v10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")));
  http::response<http::string_body> kept;
  http::read(old, old_buffer, kept);
  EXPECT_EQ(kept.version(), 10u);
  EXPECT_EQ(kept[http::field::connection], "keep-alive");
  EXPECT_TRUE(kept.keep_alive());
}

TEST_F(Server, RefusesABodyOverTheCap) {
  // Announce a body one byte over HttpServer::kMaxBodyBytes (16 MiB); the server answers from the headers alone.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock(ioc);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), aws_.port()});
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(16 * 1024 * 1024 + 1) +
                           "\r\n\r\n";
  boost::asio::write(sock, boost::asio::buffer(head));
  boost::beast::flat_buffer buffer;
  boost::beast::http::response<boost::beast::http::string_body> res;
  boost::beast::http::read(sock, buffer, res);
  EXPECT_EQ(res.result_int(), 413u);
}

TEST_F(Server, AdminRoutesSeedSummariseAndReportMetrics) {
  Client c(aws_.port());
  auto seeded = c.raw("POST", "/_localaws/ecr/seed", R"({"repository":"seeded","images":5,"indexes":2})",
                      {{"Host", "x"}});
  ASSERT_EQ(seeded.status, 200) << seeded.raw;
  EXPECT_EQ(seeded.body["images"].asUInt(), 5u + 2u * 3u);
  EXPECT_EQ(seeded.body["tags"].asUInt(), 5u + 2u);
  auto summary = c.raw("GET", "/_localaws/ecr/summary?repository=seeded", "", {{"Host", "x"}});
  EXPECT_EQ(summary.body["images"].asUInt(), 11u);
  c.ecr("ListImages", obj({{"repositoryName", "seeded"}}));
  auto fault = c.raw("POST", "/_localaws/fault", R"({"operation":"ListImages","count":1})", {{"Host", "x"}});
  EXPECT_EQ(fault.status, 200);
  EXPECT_EQ(c.ecr("ListImages", obj({{"repositoryName", "seeded"}})).code(), "ThrottlingException");
  auto metrics = c.raw("GET", "/_localaws/metrics", "", {{"Host", "x"}});
  EXPECT_EQ(metrics.body["operations"]["ListImages"]["calls"].asUInt(), 2u);
  EXPECT_EQ(metrics.body["operations"]["ListImages"]["throttled"].asUInt(), 1u);
  EXPECT_EQ(metrics.body["in_flight"].asInt(), 0);
}

TEST(ServerState, SavesAtStopAndLoadsAtStart) {
  const auto path = std::filesystem::temp_directory_path() / ("localaws-state-" + std::to_string(::getpid()) + ".json");
  std::filesystem::remove(path);
  Options o;
  o.state_file = path.string();
  {
    LocalAws first(o);
    first.start();
    first.ecr().put_image("kept", "v1");
    first.ecr().put_image("kept", "");
    first.stop();
  }
  LocalAws second(o);
  EXPECT_EQ(second.ecr().image_count("kept"), 2u);
  EXPECT_EQ(second.ecr().tag_count("kept"), 1u);
  std::filesystem::remove(path);
}

TEST(ServerStop, StopsWithOpenKeepAliveConnections) {
  LocalAws aws{Options{}};
  aws.start();
  Client a(aws.port());
  Client b(aws.port());
  EXPECT_EQ(a.ecr("DescribeRepositories", Json::Value(Json::objectValue)).status, 200);
  EXPECT_EQ(b.ecr("DescribeRepositories", Json::Value(Json::objectValue)).status, 200);
  const auto t0 = std::chrono::steady_clock::now();
  aws.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

}  // namespace
}  // namespace ecrs::localaws
