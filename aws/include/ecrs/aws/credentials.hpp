#pragma once
// Credential sources and the SDKs' default chain (lambda-runtime.md §4; botocore credentials.py). Providers
// are thread-safe; the chain caches and refreshes temporary credentials kRefreshBeforeExpiry early. Secrets
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
#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::aws {

// botocore refreshes 15 min (advisory) / 10 min (mandatory) early; 5 min covers a request's signing validity
// (SigV4 signatures are accepted for 5 min of skew) plus the longest call we make.
inline constexpr std::chrono::minutes kRefreshBeforeExpiry{5};
// Error code a source returns when it is simply not configured: the chain moves on. Any other error means
// the source is configured but failed, and the chain stops with it (as botocore does).
inline constexpr std::string_view kCredentialsNotConfigured = "CredentialsNotConfigured";

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<sigv4::Credentials> credentials() = 0;
};

class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(sigv4::Credentials creds) : creds_(std::move(creds)) {}
  Result<sigv4::Credentials> credentials() override { return creds_; }

 private:
  sigv4::Credentials creds_;
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

// ~/.aws/credentials and ~/.aws/config for the active profile: static keys or credential_process.
class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ProfileCredentialsProvider(const Environment& env) : env_(env) {}
  Result<sigv4::Credentials> credentials() override;

 private:
  const Environment& env_;
};

// AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME] -> STS AssumeRoleWithWebIdentity
// (query protocol, unsigned), on the STS endpoint resolve_endpoint gives (AWS_ENDPOINT_URL_STS applies).
class WebIdentityCredentialsProvider final : public CredentialsProvider {
 public:
  WebIdentityCredentialsProvider(const Environment& env, Transport& transport, const Clock& clock)
      : env_(env), transport_(transport), clock_(clock) {}
  Result<sigv4::Credentials> credentials() override;

 private:
  const Environment& env_;
  Transport& transport_;
  const Clock& clock_;
};

// ECS/EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or _FULL_URI (https, or
// loopback / 169.254.170.2 / 169.254.170.23 / fd00:ec2::23 over http); Authorization from
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read on every fetch: it rotates) or AWS_CONTAINER_AUTHORIZATION_TOKEN.
class ContainerCredentialsProvider final : public CredentialsProvider {
 public:
  ContainerCredentialsProvider(const Environment& env, Transport& transport) : env_(env), transport_(transport) {}
  Result<sigv4::Credentials> credentials() override;

 private:
  const Environment& env_;
  Transport& transport_;
};

// EC2 instance metadata, IMDSv2 only (token PUT, then role GET): no v1 fallback, which would defeat the
// hop-limit protection v2 exists for. AWS_EC2_METADATA_DISABLED=true skips it; AWS_EC2_METADATA_SERVICE_ENDPOINT
// overrides the endpoint. Short timeouts (botocore: 1 s, 1 attempt) so a laptop off EC2 doesn't hang.
class ImdsCredentialsProvider final : public CredentialsProvider {
 public:
  ImdsCredentialsProvider(const Environment& env, Transport& transport) : env_(env), transport_(transport) {}
  Result<sigv4::Credentials> credentials() override;

 private:
  const Environment& env_;
  Transport& transport_;
};

// Returns cached credentials until kRefreshBeforeExpiry before their expiration. If a refresh fails while the
// old credentials are still valid, they are used (and a warning logged). One fetch at a time.
class CachingCredentialsProvider final : public CredentialsProvider {
 public:
  CachingCredentialsProvider(std::unique_ptr<CredentialsProvider> inner, const Clock& clock, Logger* logger = nullptr)
      : inner_(std::move(inner)), clock_(clock), logger_(logger) {}
  Result<sigv4::Credentials> credentials() override;

 private:
  std::unique_ptr<CredentialsProvider> inner_;
  const Clock& clock_;
  Logger* logger_;
  std::mutex mu_;
  std::optional<sigv4::Credentials> cached_;
};

// Tries sources in order; remembers the one that answered. Nothing found: Error "NoCredentials" listing each
// source and why it did not apply.
class ChainCredentialsProvider final : public CredentialsProvider {
 public:
  using Source = std::pair<std::string, std::unique_ptr<CredentialsProvider>>;
  explicit ChainCredentialsProvider(std::vector<Source> sources, Logger* logger = nullptr)
      : sources_(std::move(sources)), logger_(logger) {}
  Result<sigv4::Credentials> credentials() override;

 private:
  std::vector<Source> sources_;
  Logger* logger_;
  std::mutex mu_;
  std::optional<std::size_t> winner_;
};

// botocore's order: environment (skipped when AWS_PROFILE is set explicitly, as botocore does), web identity,
// shared files (incl. credential_process), container, IMDSv2; wrapped in a CachingCredentialsProvider.
std::unique_ptr<CredentialsProvider> make_default_chain(const Environment& env, Transport& transport,
                                                        const Clock& clock, Logger* logger = nullptr);

// {"AccessKeyId","SecretAccessKey","Token"|"SessionToken","Expiration"} as container endpoints, IMDS and
// credential_process return them. `source` names the origin in errors.
Result<sigv4::Credentials> parse_credentials_json(std::string_view body, std::string_view source);

// ISO 8601 UTC ("2026-11-23T12:00:00Z", fractional seconds and +00:00 accepted).
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s);

}  // namespace ecrs::aws
