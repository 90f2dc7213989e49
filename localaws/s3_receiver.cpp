// S3's side of the CloudFormation custom-resource protocol: presigned SigV2 query URLs and their PUTs.
// Verification follows https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAuthentication.html (query string
// request authentication): StringToSign = VERB\n Content-MD5\n Content-Type\n Expires\n
// CanonicalizedAmzHeaders CanonicalizedResource, HMAC-SHA1 with the secret, base64.
#include "ecrs/localaws/s3_receiver.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string_view>

namespace ecrs::localaws {
namespace {

constexpr std::string_view kAbsentContentType = "<absent>";
// More digits than this could overflow a long long: such an Expires is malformed, not far in the future.
constexpr std::size_t kMaxEpochDigits = 18;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string> find_header(const HttpRequest& req, std::string_view name) {
  for (const auto& [k, v] : req.headers) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX only; a stray '+' stays a '+' (botocore and our minting always encode it as %2B).
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// RFC 3986 unreserved characters stay; everything else (base64's + / =) becomes %XX.
std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> params;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    std::string name = percent_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    params.try_emplace(std::move(name), std::move(value));  // the first occurrence wins
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return params;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

std::string hmac_sha1_base64(const std::string& key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), md.data(), &md_len);
  return base64(std::string_view(reinterpret_cast<const char*>(md.data()), md_len));
}

std::string md5_raw(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &md_len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(md.data()), md_len);
}

std::string hex_lower(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// CanonicalizedAmzHeaders: lowercase x-amz-* names, sorted, repeated values joined with ',', each line
// ending in '\n'. A presigned PUT normally carries none; a client that adds one must have signed it.
std::string canonical_amz_headers(const HttpRequest& req) {
  std::map<std::string, std::string> amz;
  for (const auto& [k, v] : req.headers) {
    std::string name(k);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name.rfind("x-amz-", 0) != 0) continue;
    auto& slot = amz[name];
    slot += (slot.empty() ? "" : ",") + trim(v);
  }
  std::string out;
  for (const auto& [k, v] : amz) out += k + ":" + v + "\n";
  return out;
}

std::string status_reason_code(int status) {
  switch (status) {
    case 500:
      return "InternalError";
    case 503:
      return "SlowDown";
    case 400:
      return "BadRequest";
    case 403:
      return "AccessDenied";
    case 404:
      return "NoSuchKey";
    default:
      return "InternalError";
  }
}

}  // namespace

struct S3Receiver::Impl {
  Impl(std::string base, std::string akid, Secret secret, const Clock& c)
      : endpoint_base(std::move(base)),
        access_key_id(std::move(akid)),
        secret_access_key(std::move(secret)),
        clock(c) {}

  std::string endpoint_base;
  const std::string access_key_id;
  const Secret secret_access_key;
  const Clock& clock;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<ReceivedResponse> received;
  int fail_count = 0;
  int fail_status = 500;
  std::uint64_t next_request_number = 1;
  bool shut_down = false;

  std::string next_request_id() {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(next_request_number++));
    return buf;
  }

  std::string string_to_sign(const HttpRequest& req, std::string_view expires) const {
    const auto content_type = find_header(req, "Content-Type");
    const auto content_md5 = find_header(req, "Content-MD5");
    return req.method + "\n" + (content_md5 ? trim(*content_md5) : std::string()) + "\n" +
           (content_type ? trim(*content_type) : std::string()) + "\n" + std::string(expires) + "\n" +
           canonical_amz_headers(req) + req.path;
  }
};

namespace {

std::string xml_code(const std::string& body) {
  constexpr std::string_view kOpen = "<Code>";
  const auto b = body.find(kOpen);
  const auto e = body.find("</Code>");
  return b == std::string::npos || e == std::string::npos ? std::string()
                                                          : body.substr(b + kOpen.size(), e - b - kOpen.size());
}

HttpResponse s3_error(int status, const std::string& code, const std::string& message, const std::string& request_id,
                      const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  HttpResponse r;
  r.status = status;
  r.headers = {{"Content-Type", "application/xml"}, {"x-amz-request-id", request_id}};
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + xml_escape(code) + "</Code><Message>" +
           xml_escape(message) + "</Message>";
  for (const auto& [k, v] : extra) r.body += "<" + k + ">" + xml_escape(v) + "</" + k + ">";
  r.body += "<RequestId>" + request_id + "</RequestId></Error>";
  return r;
}

}  // namespace

S3Receiver::S3Receiver(std::string endpoint_base, std::string access_key_id, Secret secret, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(endpoint_base), std::move(access_key_id), std::move(secret), clock)) {}

S3Receiver::~S3Receiver() = default;

bool S3Receiver::handle(const HttpRequest& req, const Responder& respond) {
  if (req.path.rfind(kCfnResponsePrefix, 0) != 0) return false;

  ReceivedResponse rec;
  rec.key = req.path.substr(std::string_view(kCfnResponsePrefix).size());
  rec.body = req.body;
  const auto content_type = find_header(req, "Content-Type");
  rec.content_type = content_type ? *content_type : std::string(kAbsentContentType);
  rec.too_large = req.body.size() > kMaxCfnResponseBytes;

  HttpResponse out;
  {
    std::lock_guard lock(impl_->mu);
    const std::string request_id = impl_->next_request_id();
    const auto params = parse_query(req.query);
    const auto akid = params.find("AWSAccessKeyId");
    const auto expires = params.find("Expires");
    const auto signature = params.find("Signature");
    const auto expires_at = [&]() -> std::optional<long long> {
      if (expires == params.end() || expires->second.empty() ||
          !std::all_of(expires->second.begin(), expires->second.end(),
                       [](unsigned char c) { return std::isdigit(c) != 0; }) ||
          expires->second.size() > kMaxEpochDigits) {
        return std::nullopt;
      }
      return std::stoll(expires->second);
    }();
    const long long now_s =
        std::chrono::duration_cast<std::chrono::seconds>(impl_->clock.now().time_since_epoch()).count();

    if (impl_->fail_count > 0) {
      --impl_->fail_count;
      out = s3_error(impl_->fail_status, status_reason_code(impl_->fail_status),
                     "Scripted failure (localaws fail_next).", request_id);
    } else if (akid == params.end() || expires == params.end() || signature == params.end()) {
      // S3 answers an unsigned request to a private bucket with AccessDenied; a partial query string with this
      // message (RESTAuthentication.html, "Query string request authentication").
      out = s3_error(403, "AccessDenied",
                     "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
                     request_id);
    } else if (akid->second != impl_->access_key_id) {
      out = s3_error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
                     request_id);
    } else if (!expires_at) {
      out = s3_error(403, "AccessDenied", "Invalid date (should be seconds since epoch): Expires", request_id);
    } else if (*expires_at < now_s) {
      // S3 checks expiry before the signature: an expired URL is AccessDenied whatever was tampered with.
      out = s3_error(403, "AccessDenied", "Request has expired", request_id,
                     {{"Expires", expires->second}, {"ServerTime", std::to_string(now_s)}});
    } else {
      const std::string sts = impl_->string_to_sign(req, expires->second);
      const std::string expected = hmac_sha1_base64(impl_->secret_access_key.reveal(), sts);
      // Real S3 also echoes AWSAccessKeyId and SignatureProvided; we keep to StringToSign (it shows which
      // Content-Type was signed), so no credential part of the presigned query reaches a client's error log.
      if (!constant_time_equal(expected, signature->second)) {
        out = s3_error(403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you provided. Check your "
                       "key and signing method.",
                       request_id, {{"StringToSign", sts}});
      } else if (req.method != "PUT") {
        out =
            s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", request_id);
      } else if (const auto md5 = find_header(req, "Content-MD5");
                 md5 && !constant_time_equal(trim(*md5), base64(md5_raw(req.body)))) {
        out = s3_error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.", request_id);
      } else {
        out.status = 200;
        out.headers = {{"x-amz-request-id", request_id}, {"ETag", "\"" + hex_lower(md5_raw(req.body)) + "\""}};
      }
    }
    rec.status = out.status;
    if (out.status >= 300) rec.error_code = xml_code(out.body);
    impl_->received.push_back(std::move(rec));
  }
  impl_->cv.notify_all();
  respond(std::move(out));
  return true;
}

void S3Receiver::shutdown() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->shut_down = true;
  }
  impl_->cv.notify_all();
}

std::string S3Receiver::make_response_url(const std::string& key, std::chrono::seconds expires_in) {
  std::lock_guard lock(impl_->mu);
  const auto expires =
      std::chrono::duration_cast<std::chrono::seconds>(impl_->clock.now().time_since_epoch() + expires_in).count();
  const std::string path = std::string(kCfnResponsePrefix) + key;
  // Signed with an empty Content-MD5 and Content-Type, as CloudFormation's URLs are.
  const std::string sts = "PUT\n\n\n" + std::to_string(expires) + "\n" + path;
  const std::string signature = hmac_sha1_base64(impl_->secret_access_key.reveal(), sts);
  std::string base = impl_->endpoint_base;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + path + "?AWSAccessKeyId=" + percent_encode(impl_->access_key_id) +
         "&Expires=" + std::to_string(expires) + "&Signature=" + percent_encode(signature);
}

std::vector<ReceivedResponse> S3Receiver::received() const {
  std::lock_guard lock(impl_->mu);
  return impl_->received;
}

std::vector<ReceivedResponse> S3Receiver::accepted(const std::string& key) const {
  std::lock_guard lock(impl_->mu);
  std::vector<ReceivedResponse> out;
  for (const auto& r : impl_->received) {
    if (r.key == key && r.status >= 200 && r.status < 300) out.push_back(r);
  }
  return out;
}

std::optional<ReceivedResponse> S3Receiver::wait_accepted(const std::string& key, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  std::optional<ReceivedResponse> found;
  impl_->cv.wait_for(lock, timeout, [&] {
    for (const auto& r : impl_->received) {
      if (r.key == key && r.status >= 200 && r.status < 300) {
        found = r;
        return true;
      }
    }
    return impl_->shut_down;
  });
  return found;
}

void S3Receiver::fail_next(int count, int status) {
  std::lock_guard lock(impl_->mu);
  impl_->fail_count = count;
  impl_->fail_status = status;
}

void S3Receiver::set_endpoint_base(std::string base) {
  std::lock_guard lock(impl_->mu);
  impl_->endpoint_base = std::move(base);
}

}  // namespace ecrs::localaws
