#pragma once
// Transport over libcurl: HTTP/1.1, a pool of reused easy handles (each keeps its connections alive), TLS
// verification always on, plain http only for loopback hosts. <curl/curl.h> stays inside curl_transport.cpp.
#include <memory>
#include <optional>
#include <string>

#include "ecrs/aws/transport.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::aws {

struct CurlTransportOptions {
  // CA bundle; when unset: AWS_CA_BUNDLE, then the first existing of kCaBundleCandidates, else libcurl's default.
  std::optional<std::string> ca_bundle;
  bool allow_insecure_http = false;   // http:// to any host (tests against a non-loopback emulator)
  std::size_t max_idle_handles = 32;  // handles kept for reuse; more may exist while many threads send
};

// Amazon Linux 2023 (the provided.al2023 runtime) first, then Debian/Ubuntu. See lambda-runtime.md §3.
inline constexpr const char* kCaBundleCandidates[] = {
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
};

// The first signed call pays for libcurl's global set-up (~0.5 ms) and for OpenSSL's first digest, which loads its
// configuration and default provider (~4 ms on a 2-core VM, traced through the bootstrap: the first DescribeImages
// went out 8 ms after the event arrived, 4.4 ms of it in the signer). Thread-safe and idempotent: the Lambda
// runtime runs it on a thread of its own while it waits for its first event, so the first stack deletion does not.
void prepare_first_call();

class CurlTransport final : public Transport {
 public:
  CurlTransport(const Environment& env, CurlTransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> send(const HttpRequest& request, const RequestOptions& options = {}) override;

  const std::string& ca_bundle() const;  // "" when libcurl's compiled-in default is used

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecrs::aws
