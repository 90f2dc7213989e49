#include "ecrs/aws/curl_transport.hpp"

#include <curl/curl.h>

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "ecrs/aws/retry.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::aws {
namespace {

struct EasyDeleter { void operator()(CURL* h) const { curl_easy_cleanup(h); } };
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
struct SlistDeleter { void operator()(curl_slist* l) const { curl_slist_free_all(l); } };
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// curl_global_init is not thread-safe on older libcurl; do it once (call_once makes racing senders wait for it),
// before any handle exists.
void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

void prepare_first_call() {
  global_init_once();
  // HMAC and SHA-256 both: OpenSSL fetches each algorithm from the provider on its first use.
  (void)sigv4::hmac_sha256("key", sigv4::sha256_hex(""));
}

namespace {

struct Sink {
  HttpResponse* response;
  std::size_t max_body = kMaxResponseBytes;
  bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * nmemb;
  if (n > sink->max_body - std::min(sink->max_body, sink->response->body.size())) {
    sink->too_large = true;
    return 0;  // anything but n makes libcurl abort the transfer (CURLE_WRITE_ERROR)
  }
  sink->response->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::string_view line(data, size * nmemb);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new status line (after 100 Continue or a proxy CONNECT): only the final response's headers count.
    sink->response->headers.clear();
    return size * nmemb;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * nmemb;
  std::string_view name = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  // The body's whole size, once: appending chunk by chunk doubles the buffer up to 2x the body and briefly holds
  // both copies (a 400 KB listing page peaked at ~770 KB, two chains of them the largest heap use of a run).
  if (name.size() == 14 && strncasecmp(name.data(), "Content-Length", 14) == 0) {
    std::size_t length = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec == std::errc() && end == value.data() + value.size()) {
      sink->response->body.reserve(std::min(length, sink->max_body));
    }
  }
  sink->response->headers.emplace_back(std::string(name), std::string(value));
  return size * nmemb;
}

// The curl_easy_setopt calls below cannot fail for valid options on a libcurl with HTTP and TLS; a failure
// would be a build problem, reported as a TransportError rather than silently ignored.
struct OptSetter {
  CURL* h;
  CURLcode first_error = CURLE_OK;
  template <typename T>
  void operator()(CURLoption opt, T value) {
    CURLcode rc = curl_easy_setopt(h, opt, value);
    if (rc != CURLE_OK && first_error == CURLE_OK) first_error = rc;
  }
};

std::string error_code_for(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return "Timeout";
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return "ConnectionError";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ISSUER_ERROR:
      return "TlsError";
    default:
      return "TransportError";
  }
}

bool is_hop_or_length_header(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding");
}

}  // namespace

struct CurlTransport::Impl {
  CurlTransportOptions options;
  std::string ca_bundle;
  std::mutex mu;
  std::vector<EasyHandle> idle;

  EasyHandle acquire() {
    {
      std::lock_guard l(mu);
      if (!idle.empty()) {
        EasyHandle h = std::move(idle.back());
        idle.pop_back();
        return h;
      }
    }
    return EasyHandle(curl_easy_init());
  }

  void release(EasyHandle h) {
    // curl_easy_reset keeps the handle's live connections, so the next request on it reuses them.
    curl_easy_reset(h.get());
    std::lock_guard l(mu);
    if (idle.size() < options.max_idle_handles) idle.push_back(std::move(h));
  }
};

CurlTransport::CurlTransport(const Environment& env, CurlTransportOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.ca_bundle) {
    impl_->ca_bundle = *impl_->options.ca_bundle;
  } else if (auto from_env = env.get("AWS_CA_BUNDLE"); from_env && !from_env->empty()) {
    impl_->ca_bundle = *from_env;
  } else {
    for (const char* candidate : kCaBundleCandidates) {
      std::error_code ec;
      if (std::filesystem::exists(candidate, ec)) {
        impl_->ca_bundle = candidate;
        break;
      }
    }
  }
}

CurlTransport::~CurlTransport() = default;

const std::string& CurlTransport::ca_bundle() const { return impl_->ca_bundle; }

Result<HttpResponse> CurlTransport::send(const HttpRequest& request, const RequestOptions& options) {
  // Error messages name the method and the URL without its query string (it may be presigned).
  auto fail = [&](std::string code, std::string_view detail) {
    Error e = make_error(std::move(code), request.method + " " + redact_url(request.url) + ": " + std::string(detail));
    return classify(std::move(e));
  };
  auto url = parse_url(request.url);
  if (!url) return fail("InvalidUrl", url.error().message);
  if (url->scheme == "http" && !is_loopback_host(url->host) && !options.allow_http &&
      !impl_->options.allow_insecure_http) {
    return fail("InsecureEndpoint", "plain http is allowed only for loopback hosts; use https");
  }

  // On first use, not at construction: libcurl's global set-up (OpenSSL, openssl.cnf) costs about a millisecond
  // that a cold start would pay before its first GET /next, which is plain HTTP on another transport. Every
  // handle comes from acquire() below, so none exists before this.
  global_init_once();
  EasyHandle handle = impl_->acquire();
  if (!handle) return fail("TransportError", "curl_easy_init failed");
  CURL* h = handle.get();
  OptSetter set{h};
  char errbuf[CURL_ERROR_SIZE] = {0};
  HttpResponse response;
  Sink sink{&response, options.max_response_bytes};

  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(CURLOPT_NOSIGNAL, 1L);  // no SIGALRM across threads
  set(CURLOPT_ERRORBUFFER, errbuf);
  set(CURLOPT_WRITEFUNCTION, &on_body);
  // A Content-Length over the cap fails before the body is read; a chunked body is cut off in on_body.
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_response_bytes));
  set(CURLOPT_WRITEDATA, &sink);
  set(CURLOPT_HEADERFUNCTION, &on_header);
  set(CURLOPT_HEADERDATA, &sink);
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (!impl_->ca_bundle.empty()) set(CURLOPT_CAINFO, impl_->ca_bundle.c_str());
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count()));
  // Loopback never goes through a proxy (an http_proxy meant for the internet would break local endpoints).
  if (options.no_proxy || is_loopback_host(url->host)) set(CURLOPT_PROXY, "");

  if (request.method == "GET" && request.body.empty()) {
    set(CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else {
    set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  bool has_body = !request.body.empty() || request.method == "POST" || request.method == "PUT" ||
                  request.method == "PATCH";
  if (has_body) {
    // POSTFIELDS with an explicit size: Content-Length is the byte count, even for an empty PUT. It also
    // makes libcurl add Content-Type: application/x-www-form-urlencoded, suppressed below.
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set(CURLOPT_POSTFIELDS, request.body.data());
  }

  // Exactly the request's headers. In CURLOPT_HTTPHEADER "Name:" deletes a default and "Name;" sends an empty
  // header (CURLOPT_HTTPHEADER(3)); the CloudFormation ResponseURL is SigV2-signed over an empty Content-Type.
  Slist headers;
  auto append = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) return false;
    (void)headers.release();
    headers.reset(next);
    return true;
  };
  bool ok = true;
  for (const auto& [name, value] : request.headers) {
    if (is_hop_or_length_header(name)) continue;  // libcurl computes the length from the body
    ok = ok && append(value.empty() ? name + ";" : name + ": " + value);
  }
  for (const char* suppressed : {"Content-Type", "Expect", "Accept"}) {
    if (!find_header(request.headers, suppressed)) ok = ok && append(std::string(suppressed) + ":");
  }
  if (!ok) return fail("TransportError", "out of memory building headers");
  set(CURLOPT_HTTPHEADER, headers.get());
  if (set.first_error != CURLE_OK) return fail("TransportError", curl_easy_strerror(set.first_error));

  CURLcode rc = curl_easy_perform(h);
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    return fail("ResponseTooLarge",
                "the response body exceeds " + std::to_string(options.max_response_bytes) + " bytes; not read further");
  }
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    // A failed handle may hold a half-broken connection; drop it instead of pooling it.
    return fail(error_code_for(rc), detail);
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  // The header list must outlive the transfer, not the pooled handle.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  impl_->release(std::move(handle));
  return response;
}

}  // namespace ecrs::aws
