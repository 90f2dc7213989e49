#pragma once
// localaws's HTTP/1.1 server (private to the library): Boost.Beast, asynchronous, an io_context run by N threads
// and a strand per connection. Each parsed request goes to one handler, which answers through a Responder now or
// later from any thread (the Runtime API's long poll), so no serving thread blocks on a waiting client.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ecrs/localaws/service.hpp"

namespace ecrs::localaws {

using RequestHandler = std::function<void(HttpRequest, Responder)>;

class HttpServer {
 public:
  // Beast's default parser limit is 1 MiB; PutImage alone allows a 4,194,304-character manifest (botocore
  // ImageManifest max), which JSON escaping can double. Anything above this is answered 413 and the connection
  // closed.
  static constexpr std::size_t kMaxBodyBytes = 16 * 1024 * 1024;

  HttpServer(RequestHandler handler, int threads);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (throws std::runtime_error when the port is taken), then starts the threads.
  void start(const std::string& host, std::uint16_t port);
  // Closes the acceptor and every connection, stops the io_context and joins the threads. Idempotent.
  void stop();
  std::uint16_t port() const;
  std::size_t open_connections() const;

  // Calls `respond(response)` at `at` (at once if it has passed) without holding a serving thread (latency).
  void respond_at(std::chrono::steady_clock::time_point at, Responder respond, HttpResponse response);
  // Runs `fn` on a serving thread after `delay` (dropped if the server stops first).
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);

  struct Impl;  // public so the connection class in the .cpp can reach it


 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecrs::localaws
