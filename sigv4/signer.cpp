#include "ecrs/sigv4/signer.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace ecrs::sigv4 {
namespace {

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kScopeTerminator = "aws4_request";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::size_t kSha256Bytes = 32;
constexpr std::size_t kSignatureHexChars = 2 * kSha256Bytes;
// Presigned URLs live at most seven days (604800 s): S3 "Authenticating Requests: Using Query Parameters".
constexpr std::chrono::seconds kMaxPresignExpires{604800};
// One entry per (day, region, service, access key); a process signs for a handful. Dropping everything past
// this bound keeps a long-running verifier that sees many keys from growing without limit.
constexpr std::size_t kMaxCachedSigningKeys = 64;

Error signing_error(std::string message) { return make_error("SigningError", std::move(message), "sigv4"); }
Error incomplete_signature(std::string message) {
  return make_error("IncompleteSignatureException", std::move(message), "sigv4");
}
Error invalid_signature(std::string message) {
  return make_error("InvalidSignatureException", std::move(message), "sigv4");
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_hex(unsigned char c) { return std::isxdigit(c) != 0; }
int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return std::tolower(c) - 'a' + 10;
}
bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

constexpr std::string_view kHexUpper = "0123456789ABCDEF";
void append_percent(std::string& out, unsigned char c) {
  out += '%';
  out += kHexUpper[c >> 4];
  out += kHexUpper[c & 0xF];
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// botocore's _header_value: ' '.join(value.split()), i.e. trim and collapse every whitespace run (obs-fold
// continuation lines included, as the get-header-value-multiline vector shows).
std::string canonical_header_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char ch : v) {
    if (is_space(static_cast<unsigned char>(ch))) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += ch;
  }
  return out;
}

// botocore's SIGNED_HEADERS_BLACKLIST (1.43): hop-by-hop headers a proxy may rewrite, the user agent and the
// X-Ray trace id, which the Lambda runtime and load balancers add after signing. We also drop every proxy-*.
bool never_signed(std::string_view lname) {
  static constexpr std::array<std::string_view, 9> kExcluded = {
      "connection", "expect", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "user-agent",
      "x-amzn-trace-id"};
  if (lname.starts_with("proxy-")) return true;
  return std::find(kExcluded.begin(), kExcluded.end(), lname) != kExcluded.end();
}

struct CanonicalHeaders {
  std::string block;        // "name:value\n" per header
  std::string signed_list;  // "a;b;c"
};

// Lowercase names, canonical values, repeated names joined with ',' in their original order, sorted by name.
CanonicalHeaders canonicalize(std::vector<std::pair<std::string, std::string>> headers) {
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (std::size_t i = 0; i < headers.size();) {
    const std::string& name = headers[i].first;
    std::string value = canonical_header_value(headers[i].second);
    std::size_t j = i + 1;
    for (; j < headers.size() && headers[j].first == name; ++j) {
      value += ',';
      value += canonical_header_value(headers[j].second);
    }
    out.block += name + ':' + value + '\n';
    if (!out.signed_list.empty()) out.signed_list += ';';
    out.signed_list += name;
    i = j;
  }
  return out;
}

// RFC 3986 5.2.4 dot-segment removal plus collapsing of empty segments, as botocore's remove_dot_segments
// ("AWS services require consecutive slashes to be removed").
std::string remove_dot_segments(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view seg = path.substr(pos, next - pos);
    if (!seg.empty() && seg != ".") {
      if (seg == "..") {
        if (!out.empty()) out.pop_back();
      } else {
        out.push_back(seg);
      }
    }
    pos = next + 1;
  }
  std::string result = path.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i) result += '/';
    result += out[i];
  }
  if (path.back() == '/' && !out.empty()) result += '/';
  return result;
}

// S3 signs the path encoded once: valid %XX escapes stay (uppercased; an escaped unreserved character is
// decoded, %2F stays escaped), anything else not unreserved or '/' is escaped. For a path as an S3 client
// sends it this is the identity; a raw space or UTF-8 byte (as in the get-space-unnormalized vector) is escaped.
std::string encode_path_once(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    auto c = static_cast<unsigned char>(path[i]);
    if (c == '%' && i + 2 < path.size() && is_hex(static_cast<unsigned char>(path[i + 1])) &&
        is_hex(static_cast<unsigned char>(path[i + 2]))) {
      auto decoded = static_cast<unsigned char>(hex_value(static_cast<unsigned char>(path[i + 1])) * 16 +
                                                hex_value(static_cast<unsigned char>(path[i + 2])));
      if (is_unreserved(decoded)) {
        out += static_cast<char>(decoded);
      } else {
        append_percent(out, decoded);
      }
      i += 2;
    } else if (is_unreserved(c) || c == '/') {
      out += static_cast<char>(c);
    } else {
      append_percent(out, c);
    }
  }
  return out;
}

std::string canonical_path(std::string_view path, bool normalize) {
  if (path.empty()) return "/";
  // Every service but S3 normalises and then encodes the wire path (already percent-encoded) once more:
  // "each path segment must be URI-encoded twice" (SigV4 docs; botocore SigV4Auth._normalize_url_path).
  if (normalize) return uri_encode(remove_dot_segments(path), true);
  return encode_path_once(path);
}

using Param = std::pair<std::string, std::string>;  // encoded name, encoded value

// Decode then re-encode each name and value so that raw and pre-encoded queries canonicalise alike
// (get-vanilla-utf8-query vs get-vanilla-query-order-encoded), and sort by encoded name then value.
std::vector<Param> parse_query(std::string_view query) {
  std::vector<Param> params;
  std::size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      std::string_view name = pair.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      params.emplace_back(uri_encode(uri_decode(name), false), uri_encode(uri_decode(value), false));
    }
    pos = amp + 1;
  }
  return params;
}

std::string join_query(std::vector<Param> params) {
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name + '=' + value;
  }
  return out;
}

std::string amz_day(std::string_view amz_date) { return std::string(amz_date.substr(0, 8)); }

std::string scope_of(std::string_view day, std::string_view region, std::string_view service) {
  std::string s;
  s.append(day).append("/").append(region).append("/").append(service).append("/").append(kScopeTerminator);
  return s;
}

std::string build_canonical_request(std::string_view method, std::string_view cpath, std::string_view cquery,
                                    const CanonicalHeaders& headers, std::string_view payload_hash) {
  std::string out;
  out.reserve(method.size() + cpath.size() + cquery.size() + headers.block.size() + headers.signed_list.size() +
              payload_hash.size() + 8);
  for (char c : method) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out.append("\n").append(cpath).append("\n").append(cquery).append("\n").append(headers.block).append("\n");
  out.append(headers.signed_list).append("\n").append(payload_hash);
  return out;
}

std::string build_string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view creq) {
  std::string out;
  out.append(kAlgorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out.append(sha256_hex(creq));
  return out;
}

std::string derive_signing_key(std::string_view secret, std::string_view day, std::string_view region,
                               std::string_view service) {
  std::string k = hmac_sha256("AWS4" + std::string(secret), day);
  k = hmac_sha256(k, region);
  k = hmac_sha256(k, service);
  return hmac_sha256(k, kScopeTerminator);
}

Result<void> check_inputs(const Request& req, const Credentials& creds, const SigningParams& params) {
  if (creds.access_key_id.empty()) return signing_error("credentials have no access key id");
  if (creds.secret_access_key.empty()) return signing_error("credentials have no secret access key");
  if (params.region.empty()) return signing_error("no signing region");
  if (params.service.empty()) return signing_error("no signing service name");
  if (req.method.empty()) return signing_error("request has no method");
  if (!find_header(req, "host")) return signing_error("request has no Host header");
  return {};
}

// The request's headers that take part in signing: lowercased, minus the never-signed ones and minus any the
// signer itself writes (a re-signed request must not sign its old Authorization or X-Amz-Date).
std::vector<std::pair<std::string, std::string>> signable_headers(const Request& req, bool drop_content_sha) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(req.headers.size() + 3);
  for (const auto& [name, value] : req.headers) {
    std::string lname = to_lower(name);
    if (never_signed(lname) || lname == "authorization" || lname == "x-amz-date" ||
        lname == "x-amz-security-token" || (drop_content_sha && lname == "x-amz-content-sha256")) {
      continue;
    }
    out.emplace_back(std::move(lname), value);
  }
  return out;
}

std::string payload_hash_for(const Request& req, const SigningParams& params) {
  return params.unsigned_payload ? std::string(kUnsignedPayload) : sha256_hex(req.body);
}

}  // namespace

std::string hex_encode(std::string_view bytes) {
  static constexpr std::string_view kHexLower = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    out += kHexLower[c >> 4];
    out += kHexLower[c & 0xF];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  // EVP_Digest cannot fail for SHA-256 on in-memory data short of allocation failure; an empty digest would
  // then make every signature mismatch, which the server reports, rather than crash here.
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) return {};
  return hex_encode(std::string_view(reinterpret_cast<const char*>(md.data()), len));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data(), &len) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      append_percent(out, c);
    }
  }
  return out;
}

std::string uri_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && is_hex(static_cast<unsigned char>(s[i + 1])) &&
        is_hex(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(hex_value(static_cast<unsigned char>(s[i + 1])) * 16 +
                               hex_value(static_cast<unsigned char>(s[i + 2])));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string format_amz_date(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd(day);
  const hh_mm_ss hms(secs - day);
  // Fixed-width digits without snprintf (GCC's -Wformat-truncation cannot bound chrono's fields). The format
  // has four year digits, so times outside 0000-9999 are not representable; callers pass clock times.
  std::string out;
  out.reserve(16);
  auto digits = [&out](long v, int width) {
    std::string d(static_cast<std::size_t>(width), '0');
    for (int i = width - 1; i >= 0 && v > 0; --i, v /= 10) {
      d[static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
    }
    out += d;
  };
  digits(static_cast<int>(ymd.year()), 4);
  digits(static_cast<unsigned>(ymd.month()), 2);
  digits(static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  digits(hms.hours().count(), 2);
  digits(hms.minutes().count(), 2);
  digits(hms.seconds().count(), 2);
  out += 'Z';
  return out;
}

std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view s) {
  using namespace std::chrono;
  constexpr std::size_t kAmzDateLength = 16;  // YYYYMMDDTHHMMSSZ
  if (s.size() != kAmzDateLength || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2), se = num(13, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  constexpr int kHoursPerDay = 24, kMinutesPerHour = 60, kLastSecond = 60;  // 60: a leap second is legal
  if (!ymd.ok() || *h >= kHoursPerDay || *mi >= kMinutesPerHour || *se > kLastSecond) return std::nullopt;
  return system_clock::time_point(sys_days(ymd) + hours(*h) + minutes(*mi) + seconds(*se));
}

std::optional<std::string_view> find_header(const Request& req, std::string_view name) {
  for (const auto& [n, v] : req.headers) {
    if (iequals(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Signer::signing_key(const Credentials& creds, std::string_view date, const SigningParams& params) {
  std::string cache_key;
  cache_key.append(date).append("/").append(params.region).append("/").append(params.service).append("/");
  cache_key.append(creds.access_key_id);
  const std::string& secret = creds.secret_access_key.reveal();
  {
    std::lock_guard lock(mu_);
    auto it = key_cache_.find(cache_key);
    // The entry holds the derived key followed by the secret it came from: a rotated secret under the same
    // access key id must not reuse a stale key.
    if (it != key_cache_.end() && it->second.size() == kSha256Bytes + secret.size() &&
        std::string_view(it->second).substr(kSha256Bytes) == secret) {
      return it->second.substr(0, kSha256Bytes);
    }
  }
  std::string key = derive_signing_key(secret, date, params.region, params.service);
  std::lock_guard lock(mu_);
  if (key_cache_.size() >= kMaxCachedSigningKeys) key_cache_.clear();
  key_cache_[cache_key] = key + secret;
  return key;
}

Result<SigningResult> Signer::sign_headers(const Request& req, const Credentials& creds,
                                           const SigningParams& params) {
  if (auto ok = check_inputs(req, creds, params); !ok) return ok.error();
  const std::string amz_date = format_amz_date(params.time);
  const std::string day = amz_day(amz_date);
  const std::string payload_hash = payload_hash_for(req, params);
  const bool with_token = !creds.session_token.empty();

  auto headers = signable_headers(req, params.sign_body);
  headers.emplace_back("x-amz-date", amz_date);
  if (with_token && !params.omit_session_token) {
    headers.emplace_back("x-amz-security-token", creds.session_token.reveal());
  }
  if (params.sign_body) headers.emplace_back("x-amz-content-sha256", payload_hash);
  const CanonicalHeaders ch = canonicalize(std::move(headers));

  SigningResult r;
  r.canonical_request = build_canonical_request(req.method, canonical_path(req.path, params.normalize_path),
                                                join_query(parse_query(req.query)), ch, payload_hash);
  const std::string scope = scope_of(day, params.region, params.service);
  r.string_to_sign = build_string_to_sign(amz_date, scope, r.canonical_request);
  r.signature = hex_encode(hmac_sha256(signing_key(creds, day, params), r.string_to_sign));

  // With omit_session_token the token still travels, unsigned (post-sts-header-after).
  if (with_token) r.headers_to_add.emplace_back("X-Amz-Security-Token", creds.session_token.reveal());
  r.headers_to_add.emplace_back("X-Amz-Date", amz_date);
  if (params.sign_body) r.headers_to_add.emplace_back("X-Amz-Content-Sha256", payload_hash);
  std::string authorization;
  authorization.append(kAlgorithm).append(" Credential=").append(creds.access_key_id).append("/").append(scope);
  authorization.append(", SignedHeaders=").append(ch.signed_list).append(", Signature=").append(r.signature);
  r.headers_to_add.emplace_back("Authorization", std::move(authorization));
  return r;
}

Result<SigningResult> Signer::presign_query(const Request& req, const Credentials& creds,
                                            const SigningParams& params) {
  if (auto ok = check_inputs(req, creds, params); !ok) return ok.error();
  if (params.expires.count() <= 0 || params.expires > kMaxPresignExpires) {
    return signing_error("X-Amz-Expires must be between 1 and 604800 seconds");
  }
  const std::string amz_date = format_amz_date(params.time);
  const std::string day = amz_day(amz_date);
  const std::string scope = scope_of(day, params.region, params.service);
  const bool with_token = !creds.session_token.empty();

  const CanonicalHeaders ch = canonicalize(signable_headers(req, false));
  const std::string credential = creds.access_key_id + "/" + scope;
  const std::string expires = std::to_string(params.expires.count());

  // The X-Amz-* parameters in the order the aws-c-auth suite's signed requests append them.
  std::vector<Param> auth_params = {
      {"X-Amz-Algorithm", std::string(kAlgorithm)},
      {"X-Amz-Credential", uri_encode(credential, false)},
      {"X-Amz-Date", amz_date},
      {"X-Amz-SignedHeaders", uri_encode(ch.signed_list, false)},
      {"X-Amz-Expires", expires},
  };
  const std::string encoded_token = with_token ? uri_encode(creds.session_token.reveal(), false) : std::string();

  std::vector<Param> all = parse_query(req.query);
  all.insert(all.end(), auth_params.begin(), auth_params.end());
  if (with_token && !params.omit_session_token) all.emplace_back("X-Amz-Security-Token", encoded_token);

  SigningResult r;
  r.canonical_request = build_canonical_request(req.method, canonical_path(req.path, params.normalize_path),
                                                join_query(std::move(all)), ch, payload_hash_for(req, params));
  r.string_to_sign = build_string_to_sign(amz_date, scope, r.canonical_request);
  r.signature = hex_encode(hmac_sha256(signing_key(creds, day, params), r.string_to_sign));

  r.signed_query = req.query;
  for (const auto& [name, value] : auth_params) {
    if (!r.signed_query.empty()) r.signed_query += '&';
    r.signed_query += name + '=' + value;
  }
  if (with_token) r.signed_query += "&X-Amz-Security-Token=" + encoded_token;
  r.signed_query += "&X-Amz-Signature=" + r.signature;
  return r;
}

Result<ParsedAuthorization> parse_authorization(std::string_view v) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && is_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && is_space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  v = trim(v);
  if (!v.starts_with(kAlgorithm) || v.size() == kAlgorithm.size() ||
      !is_space(static_cast<unsigned char>(v[kAlgorithm.size()]))) {
    return incomplete_signature("Authorization header does not start with AWS4-HMAC-SHA256");
  }
  v.remove_prefix(kAlgorithm.size());

  std::optional<std::string_view> credential, signed_headers, signature;
  while (!v.empty()) {
    std::size_t comma = v.find(',');
    std::string_view part = trim(v.substr(0, comma));
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) return incomplete_signature("Authorization component without '='");
    std::string_view key = part.substr(0, eq);
    std::string_view value = part.substr(eq + 1);
    std::optional<std::string_view>* slot = key == "Credential"      ? &credential
                                            : key == "SignedHeaders" ? &signed_headers
                                            : key == "Signature"     ? &signature
                                                                     : nullptr;
    if (slot == nullptr) return incomplete_signature("unknown Authorization component");
    if (slot->has_value()) return incomplete_signature("repeated Authorization component");
    *slot = value;
  }
  if (!credential) return incomplete_signature("Authorization header has no Credential");
  if (!signed_headers) return incomplete_signature("Authorization header has no SignedHeaders");
  if (!signature) return incomplete_signature("Authorization header has no Signature");

  ParsedAuthorization out;
  std::vector<std::string_view> scope;
  for (std::size_t pos = 0;;) {
    std::size_t slash = credential->find('/', pos);
    scope.push_back(credential->substr(pos, slash == std::string_view::npos ? slash : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  constexpr std::size_t kScopeParts = 5;  // akid/date/region/service/aws4_request
  constexpr std::size_t kDayDigits = 8;
  if (scope.size() != kScopeParts || scope[4] != kScopeTerminator) {
    return incomplete_signature("Credential is not <key>/<date>/<region>/<service>/aws4_request");
  }
  if (scope[0].empty() || scope[2].empty() || scope[3].empty()) {
    return incomplete_signature("Credential has an empty key, region or service");
  }
  if (scope[1].size() != kDayDigits ||
      !std::all_of(scope[1].begin(), scope[1].end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return incomplete_signature("Credential date is not YYYYMMDD");
  }
  out.access_key_id = scope[0];
  out.date = scope[1];
  out.region = scope[2];
  out.service = scope[3];

  for (std::size_t pos = 0; pos <= signed_headers->size();) {
    std::size_t semi = signed_headers->find(';', pos);
    if (semi == std::string_view::npos) semi = signed_headers->size();
    std::string_view name = signed_headers->substr(pos, semi - pos);
    if (name.empty()) return incomplete_signature("SignedHeaders has an empty name");
    if (to_lower(name) != name) return incomplete_signature("SignedHeaders must be lowercase");
    out.signed_headers.emplace_back(name);
    pos = semi + 1;
  }
  if (signature->size() != kSignatureHexChars ||
      !std::all_of(signature->begin(), signature->end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
    return incomplete_signature("Signature is not 64 lowercase hex digits");
  }
  out.signature = *signature;
  return out;
}

Result<SigningResult> compute_for_verification(const Request& req, const ParsedAuthorization& auth,
                                               const Secret& secret_access_key,
                                               std::chrono::system_clock::time_point request_time,
                                               bool normalize_path) {
  const std::string amz_date = format_amz_date(request_time);
  const std::string day = amz_day(amz_date);
  if (auth.date != day) return invalid_signature("credential scope date does not match the request date");
  if (auth.signed_headers.empty()) return incomplete_signature("SignedHeaders is empty");

  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> content_sha;
  for (const std::string& name : auth.signed_headers) {
    bool found = false;
    for (const auto& [n, v] : req.headers) {
      if (!iequals(n, name)) continue;
      found = true;
      headers.emplace_back(name, v);
      if (name == "x-amz-content-sha256" && !content_sha) content_sha = canonical_header_value(v);
    }
    if (!found) return incomplete_signature("signed header " + name + " is missing from the request");
  }

  // A signed x-amz-content-sha256 is the payload hash the client used (S3); unless it declares an unsigned
  // or streaming payload, the body must match it or the signature would cover a body we did not receive.
  std::string payload_hash;
  if (content_sha) {
    payload_hash = *content_sha;
    const bool hashed = payload_hash.size() == kSignatureHexChars &&
                        std::all_of(payload_hash.begin(), payload_hash.end(), [](char c) { return is_hex(c); });
    if (hashed && payload_hash != sha256_hex(req.body)) {
      return make_error("XAmzContentSHA256Mismatch", "x-amz-content-sha256 does not match the body", "sigv4");
    }
  } else {
    payload_hash = sha256_hex(req.body);
  }

  SigningResult r;
  r.canonical_request = build_canonical_request(req.method, canonical_path(req.path, normalize_path),
                                                join_query(parse_query(req.query)),
                                                canonicalize(std::move(headers)), payload_hash);
  r.string_to_sign = build_string_to_sign(amz_date, scope_of(day, auth.region, auth.service), r.canonical_request);
  r.signature = hex_encode(hmac_sha256(derive_signing_key(secret_access_key.reveal(), day, auth.region, auth.service),
                                       r.string_to_sign));
  return r;
}

Result<void> verify_request(const Request& req, const ParsedAuthorization& auth, const Secret& secret_access_key,
                            bool normalize_path) {
  auto amz_date = find_header(req, "x-amz-date");
  if (!amz_date) return incomplete_signature("request has no X-Amz-Date header");
  if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), "x-amz-date") ==
      auth.signed_headers.end()) {
    return incomplete_signature("X-Amz-Date is not among the signed headers");
  }
  if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), "host") == auth.signed_headers.end()) {
    return incomplete_signature("Host is not among the signed headers");
  }
  auto when = parse_amz_date(*amz_date);
  if (!when) return incomplete_signature("X-Amz-Date is not YYYYMMDDTHHMMSSZ");
  auto expected = compute_for_verification(req, auth, secret_access_key, *when, normalize_path);
  if (!expected) return expected.error();
  if (!constant_time_equal(expected->signature, auth.signature)) {
    return invalid_signature(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method.");
  }
  return {};
}

}  // namespace ecrs::sigv4
