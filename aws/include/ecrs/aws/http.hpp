#pragma once
// HTTP request/response values shared by the transport, the signer glue and every client above aws/.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecrs/common/result.hpp"

namespace ecrs::aws {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;   // GET, PUT, POST, ...
  std::string url;      // absolute: scheme://host[:port]/path[?query]
  HeaderList headers;   // sent exactly as given (an empty value goes out as an empty header)
  std::string body;
};

struct HttpResponse {
  int status = 0;
  HeaderList headers;
  std::string body;

  // First value of the header, case-insensitive; "" when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

bool iequals(std::string_view a, std::string_view b);

// First value of `name` in `headers`, case-insensitive.
std::optional<std::string> find_header(const HeaderList& headers, std::string_view name);

// An absolute http(s) URL split into the parts the signer and the transport's loopback check need.
struct ParsedUrl {
  std::string scheme;  // "http" or "https", lowercase
  std::string host;    // without brackets for IPv6 ("::1")
  std::uint16_t port = 0;  // explicit or the scheme's default
  bool explicit_port = false;
  std::string path;    // "/" when empty
  std::string query;   // after '?', without the fragment

  // Host header value: host, bracketed for IPv6, with the port only when it is not the scheme's default.
  std::string host_header() const;
  // scheme://host[:port] (no path)
  std::string origin() const;
};

Result<ParsedUrl> parse_url(std::string_view url);

// 127.0.0.0/8, localhost, ::1: hosts for which plain http is acceptable.
bool is_loopback_host(std::string_view host);

// application/x-www-form-urlencoded as the query protocol (STS) sends it: RFC 3986 unreserved kept, %XX else.
std::string form_encode(std::string_view s);

}  // namespace ecrs::aws
