#include "ecrs/aws/http.hpp"

#include <strings.h>

#include <cctype>
#include <charconv>

namespace ecrs::aws {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || strncasecmp(a.data(), b.data(), a.size()) == 0);
}

std::optional<std::string> find_header(const HeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

std::string HttpResponse::header(std::string_view name) const { return find_header(headers, name).value_or(""); }

bool HttpResponse::has_header(std::string_view name) const { return find_header(headers, name).has_value(); }

namespace {
constexpr std::uint16_t kHttpPort = 80;
constexpr std::uint16_t kHttpsPort = 443;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  return out;
}

bool valid_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}
}  // namespace

Result<ParsedUrl> parse_url(std::string_view url) {
  auto fail = [](std::string why) { return make_error("InvalidUrl", std::move(why)); };
  ParsedUrl out;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return fail("URL has no scheme");
  out.scheme = lower(url.substr(0, scheme_end));
  if (out.scheme != "http" && out.scheme != "https") return fail("URL scheme must be http or https");
  std::string_view rest = url.substr(scheme_end + 3);
  auto frag = rest.find('#');
  if (frag != std::string_view::npos) rest = rest.substr(0, frag);
  auto auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view path_query = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  if (authority.find('@') != std::string_view::npos) return fail("URL must not carry user info");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated IPv6 literal in URL");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("junk after IPv6 literal in URL");
      port_text = after.substr(1);
    }
    for (char c : out.host)
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return fail("invalid IPv6 host");
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    for (char c : out.host)
      if (!valid_host_char(c)) return fail("invalid character in URL host");
  }
  if (out.host.empty()) return fail("URL has no host");
  out.host = lower(out.host);
  out.port = out.scheme == "https" ? kHttpsPort : kHttpPort;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || p != port_text.data() + port_text.size() || value == 0 || value > 65535)
      return fail("invalid port in URL");
    out.port = static_cast<std::uint16_t>(value);
    out.explicit_port = true;
  }
  auto q = path_query.find('?');
  out.path = std::string(path_query.substr(0, q));
  if (q != std::string_view::npos) out.query = std::string(path_query.substr(q + 1));
  if (out.path.empty()) out.path = "/";
  return out;
}

std::string ParsedUrl::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (scheme == "https" && port == kHttpsPort) || (scheme == "http" && port == kHttpPort);
  if (!default_port) h += ":" + std::to_string(port);
  return h;
}

std::string ParsedUrl::origin() const { return scheme + "://" + host_header(); }

bool is_loopback_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (iequals(host, "localhost") || host == "::1") return true;
  // 127.0.0.0/8 as a dotted quad
  if (host.substr(0, 4) != "127.") return false;
  int parts = 0;
  std::size_t i = 0;
  while (i <= host.size()) {
    auto dot = host.find('.', i);
    std::string_view part = host.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i);
    unsigned v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc{} || p != part.data() + part.size() || v > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  return parts == 4;
}

std::string form_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace ecrs::aws
