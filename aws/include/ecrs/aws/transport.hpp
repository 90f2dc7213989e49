#pragma once
// The one way bytes leave the process. Implementations are THREAD-SAFE: the executor calls send() from many
// worker threads at once.
#include <chrono>
#include <cstddef>
#include <vector>

#include "ecrs/aws/http.hpp"
#include "ecrs/common/result.hpp"

namespace ecrs::aws {

// The largest response body read from AWS: the biggest replies we ask for (a 1000-image DescribeImages page, a
// GetLifecyclePolicyPreview page, a ListFunctions page) are a few MiB; a larger body is a fault or a hostile
// endpoint, and reading it unbounded would exhaust a Lambda's memory. Larger is the error "ResponseTooLarge".
inline constexpr std::size_t kMaxResponseBytes = std::size_t{32} << 20;  // 32 MiB

struct RequestOptions {
  // libcurl's own default connect timeout is 300 s; AWS SDKs use a few seconds.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  // 0 = none: the Runtime API's /next long poll must not time out (Lambda freezes the process between events).
  std::chrono::milliseconds total_timeout{std::chrono::seconds(60)};
  bool no_proxy = false;  // ignore http(s)_proxy: Runtime API and metadata endpoints are local
  // Permit plain http to a non-loopback host for this request: only the fixed link-local metadata addresses
  // (169.254.169.254, 169.254.170.2) use it.
  bool allow_http = false;
  std::size_t max_response_bytes = kMaxResponseBytes;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // A response of any HTTP status is a value; an Error means no complete response arrived
  // (codes TransportError, Timeout, ConnectionError, TlsError, InsecureEndpoint, InvalidUrl).
  virtual Result<HttpResponse> send(const HttpRequest& request, const RequestOptions& options = {}) = 0;
};

// Sends every request with at most `max_in_flight` in flight (a bounded pool of threads over
// transport.send), results in the order of `requests`.
std::vector<Result<HttpResponse>> send_all(Transport& transport, const std::vector<HttpRequest>& requests,
                                           std::size_t max_in_flight, const RequestOptions& options = {});

}  // namespace ecrs::aws
