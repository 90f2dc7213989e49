#pragma once
// A tiny scripted HTTP/1.1 server for tests: binds 127.0.0.1 port 0 before its thread starts (no sleep needed),
// answers each request from a queue of scripted responses (or a handler), and records what it received with the
// header names exactly as sent, so tests can assert on what a client put on the wire.
// Optionally serves TLS with a freshly generated self-signed certificate (for TLS-verification tests).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ecrs::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RecordedRequest {
  std::string method;
  std::string target;  // path and query as on the request line
  HeaderList headers;  // names in the case the client sent
  std::string body;

  // First value of a header, case-insensitive; nullopt when absent (an empty header is "" not nullopt).
  std::optional<std::string> header(std::string_view name) const;
  std::size_t count_header(std::string_view name) const;
};

struct ScriptedResponse {
  int status = 200;
  HeaderList headers;
  std::string body;
  bool close = false;             // Connection: close after this response
  std::optional<std::string> raw; // bytes written verbatim before closing (truncated or malformed replies)
};

// A plain response: reply(404, "nope").
inline ScriptedResponse reply(int status, std::string body = {}, HeaderList headers = {}) {
  ScriptedResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

using Handler = std::function<ScriptedResponse(const RecordedRequest&)>;

struct ServerOptions {
  bool tls = false;  // HTTPS with a self-signed certificate for 127.0.0.1 (see cert_pem())
};

class ScriptedHttpServer {
 public:
  explicit ScriptedHttpServer(ServerOptions options = {});
  ~ScriptedHttpServer();
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  std::uint16_t port() const;
  // "http://127.0.0.1:<port>" + path (https with TLS)
  std::string url(std::string_view path = "") const;

  void enqueue(ScriptedResponse response);
  void enqueue_json(int status, std::string body, HeaderList headers = {});
  // Used when the queue is empty; without one an unscripted request gets 599 "unscripted request".
  void set_handler(Handler handler);

  std::vector<RecordedRequest> requests() const;
  std::size_t request_count() const;
  std::size_t connections_accepted() const;
  std::string cert_pem() const;  // PEM of the self-signed certificate (TLS only)

  // Stops accepting and closes every connection; also done by the destructor.
  void stop();

  struct Impl;  // implementation detail (public so the connection sessions in the .cpp can name it)

 private:
  std::shared_ptr<Impl> impl_;
};

// A port on 127.0.0.1 that was free a moment ago and has nothing listening: for connection-refused tests.
std::uint16_t unused_local_port();

}  // namespace ecrs::test
