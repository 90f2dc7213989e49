#pragma once
// A small synchronous, keep-alive HTTP client for localaws tests (Beast), signing ECR calls with our sigv4 library
// the way botocore does (content-type;host;x-amz-date;x-amz-target[;x-amz-security-token]).
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <json/value.h>

#include "ecrs/common/json.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::localaws::testing {

struct Reply {
  int status = 0;
  std::string error_type;  // x-amzn-ErrorType
  std::string request_id;  // x-amzn-RequestId
  std::string raw;
  Json::Value body;
  std::string code() const { return body.isObject() ? body.get("__type", "").asString() : std::string(); }
  std::string message() const { return body.isObject() ? body.get("message", "").asString() : std::string(); }
};

struct SignOverrides {
  std::optional<std::chrono::system_clock::time_point> time;
  std::optional<std::string> region;
  std::optional<std::string> service;
};

class Client {
 public:
  Client(std::uint16_t port, std::string access_key_id = "test", std::string secret = "test",
         std::string token = {}, std::string region = "us-east-1")
      : port_(port), region_(std::move(region)) {
    creds_.access_key_id = std::move(access_key_id);
    creds_.secret_access_key = Secret(std::move(secret));
    creds_.session_token = Secret(std::move(token));
  }

  Reply raw(const std::string& method, const std::string& target, const std::string& body,
            const std::vector<std::pair<std::string, std::string>>& headers) {
    namespace http = boost::beast::http;
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        ensure_connected();
        // The request is written by hand (Beast's serializer is most of a small call's client cost in the
        // unoptimised sanitizer build, 64,000 times in the concurrency test); Beast still parses every response.
        std::string wire = method + " " + target + " HTTP/1.1\r\n";
        for (const auto& [k, v] : headers) wire += k + ": " + v + "\r\n";
        // As Beast's prepare_payload: a length for a body, and for POST/PUT even when empty.
        if (!body.empty() || method == "POST" || method == "PUT") {
          wire += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        }
        wire += "\r\n";
        wire += body;
        boost::asio::write(stream_->socket(), boost::asio::buffer(wire));
        boost::beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        http::read(*stream_, buffer, parser);
        auto res = parser.release();
        Reply r;
        r.status = static_cast<int>(res.result_int());
        r.error_type = std::string(res["x-amzn-ErrorType"]);
        r.request_id = std::string(res["x-amzn-RequestId"]);
        r.raw = res.body();
        if (auto parsed = parse_json(r.raw)) r.body = *parsed;
        if (!res.keep_alive()) stream_.reset();
        return r;
      } catch (const boost::system::system_error&) {
        stream_.reset();  // the server closed an idle keep-alive connection: reconnect once
        if (attempt == 1) throw;
      }
    }
    return {};
  }

  Reply ecr(const std::string& op, const Json::Value& input, const SignOverrides& o = {}) {
    return ecr_body(op, to_compact_json(input), o);
  }

  Reply ecr_body(const std::string& op, const std::string& body, const SignOverrides& o = {}) {
    const std::string host = "127.0.0.1:" + std::to_string(port_);
    sigv4::Request req;
    req.method = "POST";
    req.path = "/";
    req.headers = {{"Host", host},
                   {"Content-Type", "application/x-amz-json-1.1"},
                   {"X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921." + op}};
    req.body = body;
    sigv4::SigningParams params;
    params.region = o.region.value_or(region_);
    params.service = o.service.value_or("ecr");
    params.time = o.time.value_or(std::chrono::system_clock::now());
    auto signed_result = signer_.sign_headers(req, creds_, params);
    if (!signed_result) throw std::runtime_error("signing failed: " + signed_result.error().describe());
    auto headers = req.headers;
    for (const auto& h : signed_result->headers_to_add) headers.push_back(h);
    return raw("POST", "/", body, headers);
  }

 private:
  void ensure_connected() {
    if (stream_) return;
    stream_.emplace(ioc_);
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port_);
    stream_->connect(ep);
  }

  std::uint16_t port_;
  std::string region_;
  sigv4::Credentials creds_;
  sigv4::Signer signer_;
  boost::asio::io_context ioc_;
  std::optional<boost::beast::tcp_stream> stream_;
};

inline Json::Value obj(std::initializer_list<std::pair<const char*, Json::Value>> members) {
  Json::Value v(Json::objectValue);
  for (const auto& [k, m] : members) v[k] = m;
  return v;
}

}  // namespace ecrs::localaws::testing
