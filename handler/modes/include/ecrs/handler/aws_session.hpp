#pragma once
// One process's AWS clients, split from modes.hpp so the credential/config side and the CLI side of the
// handler can change independently.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "ecrs/aws/client.hpp"
#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/endpoints.hpp"
#include "ecrs/aws/transport.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::handler {

// Grace after fixed credentials expire before their client is evicted: a call that started before expiry has
// failed or finished by then (botocore's advisory refresh window).
inline constexpr std::chrono::minutes kEvictAfterExpiry = aws::kAdvisoryRefresh;

// What the CLI's common option group (or a test) asks of the session, with the AWS CLI's precedence: a value
// set here beats the environment, which beats the profile in the shared config files.
struct SessionOptions {
  std::optional<std::string> region;        // --region
  std::optional<std::string> profile;       // --profile (beats AWS_PROFILE)
  std::optional<std::string> endpoint_url;  // --endpoint-url (beats AWS_ENDPOINT_URL[_<SERVICE>] and the profile)
  bool allow_insecure_http = false;         // plain http to a non-loopback endpoint, opted into by the user
};

// The AWS clients a mode needs, built on demand from the process's environment: one transport, the default
// credential chain (or credentials the mode supplies, e.g. after STS AssumeRole), the standard retry strategy.
class AwsSession {
 public:
  AwsSession(const Environment& env, const Clock& clock, Sleeper& sleeper, Random& random, Logger& logger,
             std::optional<std::string> region_override = std::nullopt);
  AwsSession(const Environment& env, const Clock& clock, Sleeper& sleeper, Random& random, Logger& logger,
             SessionOptions options);
  ~AwsSession();
  AwsSession(const AwsSession&) = delete;
  AwsSession& operator=(const AwsSession&) = delete;

  // --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region.
  Result<std::string> region();
  // The active profile: --profile, AWS_PROFILE, AWS_DEFAULT_PROFILE, "default".
  std::string profile() const;
  // Total attempts per call (AWS_MAX_ATTEMPTS / the profile's max_attempts / the retry mode's default), for
  // loops above AwsClient that retry on their own.
  Result<int> max_attempts();
  // A client for `service` in `region` (default: region()), signed with `credentials` (default: the chain).
  // Clients are shared by identity (service, region, and who signs: the provider's identity(), e.g. the access
  // key id of fixed credentials or the role of an AssumeRoleProvider). A client whose fixed credentials expired
  // more than kEvictAfterExpiry ago is dropped with them at the next call: do not keep the pointer past its
  // credentials' expiry. Endpoint: --endpoint-url, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's
  // services section, its endpoint_url; plain http to a non-loopback host needs allow_insecure_http or
  // ECRS_ALLOW_INSECURE_HTTP=1 and logs one warning.
  Result<aws::AwsClient*> client(const aws::ServiceInfo& service, std::optional<std::string> region = std::nullopt,
                                 std::shared_ptr<aws::CredentialsProvider> credentials = nullptr);
  aws::Transport& transport();
  std::shared_ptr<aws::CredentialsProvider> default_credentials();
  // Fetches credentials once and registers the secret and token with the logger's redactor.
  Result<void> register_redactions();

  const Environment& env() const { return *env_; }
  const Clock& clock() const { return *clock_; }
  Sleeper& sleeper() { return *sleeper_; }
  Random& random() { return *random_; }
  Logger& logger() { return *logger_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  const Environment* env_;
  const Clock* clock_;
  Sleeper* sleeper_;
  Random* random_;
  Logger* logger_;
};

}  // namespace ecrs::handler
