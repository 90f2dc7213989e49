#pragma once
// IAM Identity Center (SSO) profiles as botocore's SSOProvider reads them: the access token the AWS CLI's
// `aws sso login` left in ~/.aws/sso/cache/<sha1>.json, exchanged at the SSO portal for role credentials
// (GetRoleCredentials: GET /federation/credentials, bearer token in x-amz-sso_bearer_token, unsigned).
// The token is never refreshed here: an expired one is an error telling the user to log in again.
#include <optional>
#include <string>

#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/shared_config.hpp"

namespace ecrs::aws {

struct SsoConfig {
  std::string profile;
  std::string start_url;
  std::string sso_region;
  std::string account_id;
  std::string role_name;
  std::optional<std::string> session_name;  // [sso-session NAME]; unset: the legacy sso_start_url form
};

// From the profile and its [sso-session]: nullopt when the profile has neither sso_account_id nor
// sso_role_name (not an SSO profile); an error naming the missing keys, a missing sso-session or a key the
// profile and the session disagree on.
Result<std::optional<SsoConfig>> sso_config_of(const SharedFiles& files, const std::string& profile);

// ~/.aws/sso/cache/<sha1 hex of the session name, or of the start URL for legacy profiles>.json
std::string sso_token_cache_path(const Environment& env, const SsoConfig& config);

class SsoCredentialsProvider final : public CredentialsProvider {
 public:
  SsoCredentialsProvider(SsoConfig config, const CredentialContext& ctx);
  Result<sigv4::Credentials> credentials() override;
  std::string identity() const override;

 private:
  SsoConfig config_;
  CredentialContext ctx_;
};

}  // namespace ecrs::aws
