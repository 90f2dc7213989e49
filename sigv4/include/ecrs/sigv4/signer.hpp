#pragma once
// AWS Signature Version 4, pure: no sockets, no clock, no environment. Like smithy-rs's signer it takes the
// time as an argument and returns what to add to the request, so it tests without setup and hides no I/O.
// Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecrs/common/result.hpp"
#include "ecrs/common/secret.hpp"

namespace ecrs::sigv4 {

struct Credentials {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;  // empty: long-term keys
  std::optional<std::chrono::system_clock::time_point> expiration;  // temporary credentials expire
};

using Header = std::pair<std::string, std::string>;

// A request as it will be sent. `path` is the request path as on the wire, without the query; `query` is the
// raw query string after '?' (possibly empty); headers in any case and order, Host included.
struct Request {
  std::string method;
  std::string path;
  std::string query;
  std::vector<Header> headers;
  std::string_view body;
};

struct SigningParams {
  std::string region;
  std::string service;                           // signing name: "ecr", "lambda", "sts", "s3"
  std::chrono::system_clock::time_point time;
  bool normalize_path = true;                    // every service but S3 normalises and double-encodes
  bool sign_body = false;                        // add and sign x-amz-content-sha256 (S3 wants it)
  bool omit_session_token = false;               // sign without x-amz-security-token, add it afterwards
                                                 // (post-sts-header-after vectors; some services want it)
  std::chrono::seconds expires{3600};            // presigned URLs only: X-Amz-Expires
  bool unsigned_payload = false;                 // payload hash "UNSIGNED-PAYLOAD" (S3 presigned URLs, as
                                                 // botocore's S3SigV4QueryAuth)
};

// Everything the signer computed; the intermediate strings are kept so tests and --debug can name the stage
// that differs, as aws-c-auth's suite does.
struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;                 // lowercase hex
  std::vector<Header> headers_to_add;    // header signing, in the order of the aws-c-auth suite's signed
                                         // requests: [X-Amz-Security-Token,] X-Amz-Date,
                                         // [X-Amz-Content-Sha256,] Authorization
  std::string signed_query;              // query signing: the full query string to send (X-Amz-* included)
};

// Computes the signing key once per (secret, date, region, service) and reuses it: the HMAC chain is four
// HMACs per request otherwise. Thread-safe.
class Signer {
 public:
  Result<SigningResult> sign_headers(const Request& req, const Credentials& creds, const SigningParams& params);
  Result<SigningResult> presign_query(const Request& req, const Credentials& creds, const SigningParams& params);

 private:
  std::string signing_key(const Credentials& creds, std::string_view date, const SigningParams& params);
  std::mutex mu_;
  std::map<std::string, std::string> key_cache_;  // "date/region/service/<akid>" -> key (small: one entry a day)
};

// Building blocks, exposed for localaws's verifier and for tests.
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);   // raw bytes
std::string hex_encode(std::string_view bytes);
std::string uri_encode(std::string_view s, bool keep_slash);             // RFC 3986 unreserved kept, %XX uppercase
std::string uri_decode(std::string_view s);                              // %XX and nothing else ('+' stays)
std::string format_amz_date(std::chrono::system_clock::time_point t);   // 20150830T123600Z
std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view s);

// The parts of an Authorization header, for servers that verify signatures (localaws).
struct ParsedAuthorization {
  std::string access_key_id;
  std::string date;       // YYYYMMDD from the credential scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lowercase, as listed
  std::string signature;
};
Result<ParsedAuthorization> parse_authorization(std::string_view header_value);

// Recomputes the signature of a received request as the client must have signed it, using only the headers
// the client listed in SignedHeaders. Returns the expected signature (lowercase hex) and canonical request.
Result<SigningResult> compute_for_verification(const Request& req, const ParsedAuthorization& auth,
                                               const Secret& secret_access_key,
                                               std::chrono::system_clock::time_point request_time,
                                               bool normalize_path = true);

// The whole check a server makes on a header-signed request: X-Amz-Date present, signed and inside the
// credential scope's day, every listed header present, and the recomputed signature equal (compared in
// constant time). Errors carry AWS's codes (IncompleteSignatureException, InvalidSignatureException) and
// never the header values.
Result<void> verify_request(const Request& req, const ParsedAuthorization& auth, const Secret& secret_access_key,
                            bool normalize_path = true);

// The value of the first header named `name` (case-insensitive), if any.
std::optional<std::string_view> find_header(const Request& req, std::string_view name);

// Constant-time comparison for signatures, so a verifier leaks no prefix length through timing.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace ecrs::sigv4
