#pragma once
// Credential sources and the SDKs' default chain (lambda-runtime.md §4; botocore credentials.py). Providers
// are thread-safe; the chain caches and refreshes temporary credentials botocore's refresh windows early. Secrets
// stay in sigv4::Credentials' Secret fields and never reach a log line or an Error message.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecrs/aws/transport.hpp"
#include "ecrs/common/secret.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::aws {

// botocore credentials.py _DEFAULT_ADVISORY_REFRESH_TIMEOUT / _DEFAULT_MANDATORY_REFRESH_TIMEOUT: inside the
// advisory window one caller refreshes and a failure keeps the old credentials; inside the mandatory window
// every caller waits for the refresh and a failure is an error.
inline constexpr std::chrono::minutes kAdvisoryRefresh{15};
inline constexpr std::chrono::minutes kMandatoryRefresh{10};
// Error code a source returns when it is simply not configured: the chain moves on. Any other error means
// the source is configured but failed, and the chain stops with it (as botocore does).
inline constexpr std::string_view kCredentialsNotConfigured = "CredentialsNotConfigured";

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<sigv4::Credentials> credentials() = 0;
  // Who signs, for sharing clients between equal providers: "" when unknown (then only the same object is
  // the same identity). Never holds a secret.
  virtual std::string identity() const { return {}; }
  // When a provider that cannot refresh becomes useless (a fixed set of temporary credentials).
  virtual std::optional<std::chrono::system_clock::time_point> expires() const { return std::nullopt; }
};

class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(sigv4::Credentials creds) : creds_(std::move(creds)) {}
  Result<sigv4::Credentials> credentials() override { return creds_; }
  std::string identity() const override { return "static:" + creds_.access_key_id; }
  std::optional<std::chrono::system_clock::time_point> expires() const override { return creds_.expiration; }

 private:
  sigv4::Credentials creds_;
};

// What the sources that call AWS (STS, the SSO portal, metadata endpoints) need; every reference must outlive
// the providers built from it.
struct CredentialContext {
  const Environment& env;
  Transport& transport;
  const Clock& clock;
  Sleeper& sleeper;
  Random& random;
  Logger* logger = nullptr;
  // --profile: beats AWS_PROFILE and, as botocore does for an explicit profile, drops the environment source.
  std::optional<std::string> profile;
  // --region for the STS calls of assume-role profiles (else AWS_REGION, ..., the profile's region, us-east-1).
  std::optional<std::string> region;
};

// The sources below keep references to env/transport/clock: those must outlive them.

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (Lambda's execution role arrives this way).
class EnvironmentCredentialsProvider final : public CredentialsProvider {
 public:
  explicit EnvironmentCredentialsProvider(const Environment& env) : env_(env) {}
  Result<sigv4::Credentials> credentials() override;

 private:
  const Environment& env_;
};

// The active profile of ~/.aws/credentials and ~/.aws/config, in botocore's provider order. `assume_role`:
// role_arn profiles (source_profile chains with cycle detection, credential_source Environment /
// Ec2InstanceMetadata / EcsContainer) through STS AssumeRole; `files`: SSO (token cache + GetRoleCredentials),
// static keys of the credentials file, credential_process, static keys of the config file; `all`: both, as a
// source_profile is resolved. mfa_serial is refused: nothing here can prompt for a code.
class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  enum class Stage { assume_role, files, all };
  explicit ProfileCredentialsProvider(const CredentialContext& ctx, Stage stage = Stage::all,
                                      std::optional<std::string> profile = std::nullopt);
  ~ProfileCredentialsProvider() override;
  Result<sigv4::Credentials> credentials() override;
  std::string identity() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME] -> STS AssumeRoleWithWebIdentity
// (query protocol, unsigned), on the STS endpoint resolve_endpoint gives (AWS_ENDPOINT_URL_STS applies).
// `profile` set: the profile's web_identity_token_file / role_arn / role_session_name, the environment's
// variables first unless `use_env` is false (botocore's disable_env_vars for an explicit profile).
class WebIdentityCredentialsProvider final : public CredentialsProvider {
 public:
  WebIdentityCredentialsProvider(const Environment& env, Transport& transport, const Clock& clock)
      : env_(env), transport_(transport), clock_(clock) {}
  WebIdentityCredentialsProvider(const Environment& env, Transport& transport, const Clock& clock,
                                 std::string profile, bool use_env)
      : env_(env), transport_(transport), clock_(clock), profile_(std::move(profile)), use_env_(use_env) {}
  Result<sigv4::Credentials> credentials() override;

 private:
  const Environment& env_;
  Transport& transport_;
  const Clock& clock_;
  std::optional<std::string> profile_;
  bool use_env_ = true;
};

// ECS/EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or _FULL_URI (https, or
// over http only a loopback address or botocore's hosts 169.254.170.2 / 169.254.170.23 / fd00:ec2::23 /
// localhost); Authorization from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read on every fetch: it rotates)
// or AWS_CONTAINER_AUTHORIZATION_TOKEN. Like botocore's ContainerMetadataFetcher: 2 s timeout, 3 attempts
// 1 s apart for connection errors, non-200 answers and unparsable bodies.
class ContainerCredentialsProvider final : public CredentialsProvider {
 public:
  ContainerCredentialsProvider(const Environment& env, Transport& transport, Sleeper& sleeper)
      : env_(env), transport_(transport), sleeper_(sleeper) {}
  Result<sigv4::Credentials> credentials() override;

 private:
  const Environment& env_;
  Transport& transport_;
  Sleeper& sleeper_;
};

// botocore utils.py ContainerMetadataFetcher._ALLOWED_HOSTS (plus any loopback address).
bool is_container_metadata_host(std::string_view host);

// EC2 instance metadata as botocore's InstanceMetadataFetcher: token PUT, then role GET and credentials GET with
// the token; when the PUT is refused (403/404/405), times out or cannot connect, the GETs go without a token
// (IMDSv1), unless AWS_EC2_METADATA_V1_DISABLED=true. A 400 on the PUT is an error. AWS_EC2_METADATA_DISABLED=true
// skips it; AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the endpoint; AWS_METADATA_SERVICE_TIMEOUT /
// AWS_METADATA_SERVICE_NUM_ATTEMPTS (botocore: 1 s, 1 attempt) so a laptop off EC2 doesn't hang.
class ImdsCredentialsProvider final : public CredentialsProvider {
 public:
  ImdsCredentialsProvider(const Environment& env, Transport& transport) : env_(env), transport_(transport) {}
  Result<sigv4::Credentials> credentials() override;

 private:
  const Environment& env_;
  Transport& transport_;
};

// botocore's RefreshableCredentials: cached credentials until kAdvisoryRefresh before their expiration. In the
// advisory window one caller refreshes while the others keep the cached set, and a failed refresh keeps it (a
// warning is logged); in the kMandatoryRefresh window every caller waits for the refresh and a failure is an
// error. Fresh credentials that are already expired are an error.
class CachingCredentialsProvider final : public CredentialsProvider {
 public:
  CachingCredentialsProvider(std::unique_ptr<CredentialsProvider> inner, const Clock& clock, Logger* logger = nullptr)
      : inner_(std::move(inner)), clock_(clock), logger_(logger) {}
  Result<sigv4::Credentials> credentials() override;
  std::string identity() const override { return inner_->identity(); }

 private:
  std::unique_ptr<CredentialsProvider> inner_;
  const Clock& clock_;
  Logger* logger_;
  std::mutex refresh_mu_;  // one refresh at a time
  std::mutex state_mu_;    // guards cached_
  std::optional<sigv4::Credentials> cached_;
};

// Tries sources in order; remembers the one that answered. Nothing found: Error "NoCredentials" listing each
// source and why it did not apply.
class ChainCredentialsProvider final : public CredentialsProvider {
 public:
  using Source = std::pair<std::string, std::unique_ptr<CredentialsProvider>>;
  explicit ChainCredentialsProvider(std::vector<Source> sources, Logger* logger = nullptr, std::string identity = {})
      : sources_(std::move(sources)), logger_(logger), identity_(std::move(identity)) {}
  Result<sigv4::Credentials> credentials() override;
  std::string identity() const override { return identity_; }

 private:
  std::vector<Source> sources_;
  Logger* logger_;
  std::string identity_;
  std::mutex mu_;
  std::optional<std::size_t> winner_;
};

// botocore's create_credential_resolver order: environment (dropped only for an explicit --profile; AWS_PROFILE
// keeps it, as in botocore), assume-role profile, web identity, shared files (SSO, credentials file,
// credential_process, config file), container, instance metadata; wrapped in a CachingCredentialsProvider.
std::unique_ptr<CredentialsProvider> make_default_chain(const CredentialContext& ctx);

// The named sources a role profile's credential_source may use (botocore CanonicalNameCredentialSourcer):
// "Environment", "Ec2InstanceMetadata", "EcsContainer"; nullptr for any other name.
std::unique_ptr<CredentialsProvider> make_named_source(std::string_view name, const CredentialContext& ctx);

// {"AccessKeyId","SecretAccessKey","Token"|"SessionToken","Expiration"} as container endpoints, IMDS and
// credential_process return them. `source` names the origin in errors.
Result<sigv4::Credentials> parse_credentials_json(std::string_view body, std::string_view source);

// ISO 8601 with a zone ("2026-11-23T12:00:00Z", "...+02:00", "...-0500", "...UTC"), fractional seconds
// accepted; the result is UTC.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s);

}  // namespace ecrs::aws
