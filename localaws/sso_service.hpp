#pragma once
// The IAM Identity Center portal's GetRoleCredentials (restJson1, unsigned: GET /federation/credentials
// ?role_name=R&account_id=A with the access token in x-amz-sso_bearer_token), answering with temporary keys
// Principals accepts for that account. Tokens are what `aws sso login` would have obtained; tests register them:
//   POST /_localaws/sso/token   {"access_token": "...", "expires_in": seconds (default 3600)}
// An unknown or expired token is 401 UnauthorizedException, as the portal answers.
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "aws_protocols.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::localaws {

class SsoPortalService final : public Service {
 public:
  SsoPortalService(Principals& principals, const Clock& clock) : principals_(principals), clock_(clock) {}
  bool handle(const HttpRequest& req, const Responder& respond) override;

 private:
  Principals& principals_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::chrono::system_clock::time_point> tokens_;  // access token -> expiry
};

}  // namespace ecrs::localaws
