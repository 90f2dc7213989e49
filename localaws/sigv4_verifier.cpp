#include "ecrs/localaws/sigv4_verifier.hpp"

#include "ecrs/sigv4/signer.hpp"

namespace ecrs::localaws {
namespace {

// Messages as AWS's front ends word them (seen in botocore/CLI error output and the SigV4 troubleshooting page).
constexpr const char* kSignatureMismatch =
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details.";
constexpr const char* kInvalidToken = "The security token included in the request is invalid.";

std::string header_value(const HttpRequest& req, std::string_view name) { return req.header(name); }

}  // namespace

std::optional<AuthFailure> verify_sigv4(const HttpRequest& req, const VerifierOptions& options,
                                        std::chrono::system_clock::time_point now) {
  const std::string authorization = header_value(req, "Authorization");
  if (authorization.empty()) return AuthFailure{"MissingAuthenticationTokenException", "Missing Authentication Token"};
  auto auth = sigv4::parse_authorization(authorization);
  if (!auth) {
    return AuthFailure{"IncompleteSignatureException",
                       "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."};
  }
  if (auth->access_key_id != options.access_key_id) return AuthFailure{"UnrecognizedClientException", kInvalidToken};
  const std::string token = header_value(req, "X-Amz-Security-Token");
  if (token != options.session_token.reveal()) return AuthFailure{"UnrecognizedClientException", kInvalidToken};

  const std::string amz_date = header_value(req, "X-Amz-Date");
  auto request_time = sigv4::parse_amz_date(amz_date);
  if (!request_time) {
    return AuthFailure{"IncompleteSignatureException",
                       "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."};
  }
  if (*request_time < now - kMaxClockSkew || *request_time > now + kMaxClockSkew) {
    const bool early = *request_time < now;
    return AuthFailure{"InvalidSignatureException",
                       "Signature expired: " + amz_date + " is now " + (early ? "earlier" : "later") + " than " +
                           sigv4::format_amz_date(early ? now - kMaxClockSkew : now + kMaxClockSkew) + " (" +
                           sigv4::format_amz_date(now) + (early ? " - 15 min.)" : " + 15 min.)")};
  }
  if (auth->date != amz_date.substr(0, 8)) {
    return AuthFailure{"InvalidSignatureException",
                       "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
                           auth->date + "' != '" + amz_date.substr(0, 8) + "', from '" + amz_date + "'."};
  }
  if (auth->region != options.region) {
    return AuthFailure{"InvalidSignatureException", "Credential should be scoped to a valid region. "};
  }
  if (auth->service != options.service) {
    return AuthFailure{"InvalidSignatureException",
                       "Credential should be scoped to correct service: '" + options.service + "'. "};
  }
  sigv4::Request signed_request;
  signed_request.method = req.method;
  signed_request.path = req.path;
  signed_request.query = req.query;
  signed_request.headers = req.headers;
  signed_request.body = req.body;
  auto expected = sigv4::compute_for_verification(signed_request, *auth, options.secret_access_key, *request_time);
  if (!expected) return AuthFailure{"InvalidSignatureException", kSignatureMismatch};
  if (expected->signature != auth->signature) {
    // AWS's JSON front ends quote what they computed, the signed x-amz-security-token value included: a client
    // that copies this message anywhere must scrub it (issue #21).
    return AuthFailure{"InvalidSignatureException",
                       std::string(kSignatureMismatch) + "\n\nThe Canonical String for this request should have been\n'" +
                           expected->canonical_request + "'\n\nThe String-to-Sign should have been\n'" +
                           expected->string_to_sign + "'\n"};
  }
  return std::nullopt;
}

}  // namespace ecrs::localaws
