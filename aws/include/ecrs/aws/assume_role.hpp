#pragma once
// Credentials for an IAM role through STS AssumeRole (query protocol, Version 2011-06-15), refreshed before
// they expire with botocore's advisory/mandatory windows (CachingCredentialsProvider). Used by assume-role
// profiles and by anything that works in another account (`clean --assume-role`, the sweep).
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "ecrs/aws/client.hpp"
#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/endpoints.hpp"

namespace ecrs::aws {

inline constexpr const char* kStsApiVersion = "2011-06-15";
// AssumeRole DurationSeconds bounds (STS API reference: 900 s minimum, 43200 s maximum, 3600 s default).
inline constexpr int kMinRoleDurationSeconds = 900;
inline constexpr int kMaxRoleDurationSeconds = 43200;

struct AssumeRoleParams {
  std::string role_arn;
  // RoleSessionName (2-64 of [\w+=,.@-]); empty: "ecr-sweeper-<epoch seconds>" as botocore's
  // "botocore-session-<epoch seconds>".
  std::string role_session_name;
  std::optional<int> duration_seconds;  // STS's default (1 h) when unset
  std::optional<std::string> external_id;
  // A role that needs MFA: refused (nothing here can prompt for a code), naming where it came from.
  std::optional<std::string> mfa_serial;
  std::string origin;  // "profile dev" or "--assume-role": named in errors
};

// The credentials in an AssumeRoleResponse (Credentials/AccessKeyId, SecretAccessKey, SessionToken,
// Expiration). `context` names the role in errors.
Result<sigv4::Credentials> parse_assume_role_response(std::string_view xml, const std::string& context);

class AssumeRoleProvider final : public CredentialsProvider {
 public:
  // Calls AssumeRole through `sts` (a client the caller owns, signed by whoever may assume the role; it must
  // outlive the provider). This is the form `clean --assume-role` and the sweep use:
  //   auto sts = session.client(aws::kSts, region);
  //   auto role = std::make_shared<aws::AssumeRoleProvider>(**sts, aws::AssumeRoleParams{arn, name}, clock);
  AssumeRoleProvider(AwsClient& sts, AssumeRoleParams params, const Clock& clock, Logger* logger = nullptr);
  // Owns an STS client at `sts_endpoint` signed by `source` (an assume-role profile's source_profile or
  // credential_source); retries with a standard strategy of `max_attempts`.
  AssumeRoleProvider(std::shared_ptr<CredentialsProvider> source, Endpoint sts_endpoint, AssumeRoleParams params,
                     const CredentialContext& ctx, int max_attempts = kDefaultMaxAttempts);
  ~AssumeRoleProvider() override;

  Result<sigv4::Credentials> credentials() override;
  // "assume-role:<role arn>" plus the session name and external id, so two providers for the same role share
  // clients and two roles never do.
  std::string identity() const override;
  const AssumeRoleParams& params() const { return params_; }

 private:
  class Fetcher;
  AssumeRoleParams params_;
  std::shared_ptr<CredentialsProvider> source_;
  std::unique_ptr<RetryStrategy> retry_;
  std::unique_ptr<AwsClient> owned_sts_;
  std::unique_ptr<CachingCredentialsProvider> cache_;
};

}  // namespace ecrs::aws
