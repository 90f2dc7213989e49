#pragma once
// A plain-HTTP/1.1 Transport for the Lambda Runtime API, over POSIX sockets. The Runtime API is
// http://${AWS_LAMBDA_RUNTIME_API} on the sandbox's loopback (runtimes-api), so the bootstrap's first
// GET /next needs neither TLS nor libcurl: with this transport nothing initialises OpenSSL or reads a CA
// bundle before the first event (cold start), and the long poll is one blocking read, not a curl multi loop.
// https:// URLs are refused. Thread-safe: each send() takes an idle keep-alive connection or opens one.
#include <cstddef>
#include <functional>
#include <memory>

#include "ecrs/aws/transport.hpp"

namespace ecrs::handler {

// The largest response body read before the transport gives up: Lambda's invocation payload limit is 6 MB
// for synchronous and 1 MB for asynchronous events (Lambda quotas); a margin above the larger one.
inline constexpr std::size_t kRuntimeMaxResponseBytes = 8u * 1024 * 1024;

class RuntimeHttpTransport final : public aws::Transport {
 public:
  explicit RuntimeHttpTransport(std::size_t max_response_bytes = kRuntimeMaxResponseBytes);
  ~RuntimeHttpTransport() override;
  RuntimeHttpTransport(const RuntimeHttpTransport&) = delete;
  RuntimeHttpTransport& operator=(const RuntimeHttpTransport&) = delete;

  // Errors: InvalidUrl (not http://host:port/...), ConnectionError (connect failed), Timeout,
  // TransportError (the peer closed early, a malformed response, a body above the limit).
  Result<aws::HttpResponse> send(const aws::HttpRequest& request, const aws::RequestOptions& options = {}) override;

  std::size_t connections_opened() const;
  // Runs `f` once, on the sending thread, right after the next request is written and before its reply is read:
  // work that should neither delay that request nor wait for its reply (the runtime starts its warm-up there, as
  // its first GET /next waits for an event). Not thread-safe against a concurrent send.
  void after_next_write(std::function<void()> f);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecrs::handler
