#pragma once
// Shared by the ECS, Lambda, App Runner, STS and EC2 emulations: who signed a request (main keys or keys STS
// issued), and replies in each protocol's shape (awsJson/restJson1 errors carry __type; query errors are XML).
#include <json/value.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "ecrs/common/secret.hpp"
#include "ecrs/localaws/service.hpp"
#include "ecrs/localaws/sigv4_verifier.hpp"

namespace ecrs::localaws {

// Credentials localaws accepts: the configured keys (main account) and temporary keys from AssumeRole.
class Principals {
 public:
  Principals(std::string account, std::string access_key_id, Secret secret, Secret token);
  // The account whose keys signed `req` for `service`, or the failure AWS answers (403).
  std::optional<std::string> authenticate(const HttpRequest& req, const std::string& region, const std::string& service,
                                          std::chrono::system_clock::time_point now, AuthFailure* failure) const;
  // New temporary keys for `account` (AssumeRole).
  struct Issued {
    std::string access_key_id, secret_access_key, session_token;
  };
  Issued issue(const std::string& account);

 private:
  struct Entry {
    std::string account;
    Secret secret;
    Secret token;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> by_key_;
  unsigned counter_ = 0;
};

HttpResponse json_reply(int status, const Json::Value& body, const char* content_type);
HttpResponse json_error(int status, const std::string& code, const std::string& message, const char* content_type);
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse> (STS, query protocol).
HttpResponse query_error(int status, const std::string& code, const std::string& message);
// Form body or query string "a=b&c=d", percent-decoded ('+' is a space in forms).
std::map<std::string, std::string> parse_form(const std::string& body);
std::string xml_escape(const std::string& s);

}  // namespace ecrs::localaws

namespace ecrs::localaws {
// The service named in a SigV4 Authorization header's credential scope ("" when there is none).
std::string signing_service_of(const HttpRequest& req);
}  // namespace ecrs::localaws
