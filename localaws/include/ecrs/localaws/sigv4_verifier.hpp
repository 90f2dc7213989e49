#pragma once
// Verifies a received request's SigV4 Authorization header as an AWS front end does, with our own sigv4 library:
// the server recomputes the signature over exactly the headers the client listed in SignedHeaders (CLI v1 adds
// unsigned amz-sdk-* headers; the JS SDK signs content-length), so any client choice verifies.
#include <chrono>
#include <optional>
#include <string>

#include "ecrs/common/secret.hpp"
#include "ecrs/localaws/service.hpp"

namespace ecrs::localaws {

struct VerifierOptions {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;   // when set, requests must carry it as X-Amz-Security-Token
  std::string region;
  std::string service;    // signing name: "ecr", "lambda"
};

// What AWS answers: HTTP 403 with this __type and message.
struct AuthFailure {
  std::string error_code;
  std::string message;
};

// AWS rejects a signature dated more than 15 minutes from its clock
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html).
inline constexpr std::chrono::minutes kMaxClockSkew{15};

std::optional<AuthFailure> verify_sigv4(const HttpRequest& req, const VerifierOptions& options,
                                        std::chrono::system_clock::time_point now);

}  // namespace ecrs::localaws
