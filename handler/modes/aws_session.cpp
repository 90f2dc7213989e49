#include <map>
#include <mutex>

#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/aws/retry.hpp"
#include "ecrs/handler/aws_session.hpp"

namespace ecrs::handler {

struct AwsSession::Impl {
  SessionOptions options;
  std::mutex mu;
  std::unique_ptr<aws::CurlTransport> transport;
  std::shared_ptr<aws::CredentialsProvider> credentials;
  std::unique_ptr<aws::RetryStrategy> retry;
  struct Owned {
    std::shared_ptr<aws::CredentialsProvider> credentials;
    std::unique_ptr<aws::AwsClient> client;
  };
  std::vector<Owned> clients;
  std::map<std::string, aws::AwsClient*> by_key;  // service/region/credentials identity
};

AwsSession::AwsSession(const Environment& env, const Clock& clock, Sleeper& sleeper, Random& random, Logger& logger,
                       std::optional<std::string> region_override)
    : AwsSession(env, clock, sleeper, random, logger, SessionOptions{std::move(region_override), {}, {}, false}) {}

AwsSession::AwsSession(const Environment& env, const Clock& clock, Sleeper& sleeper, Random& random, Logger& logger,
                       SessionOptions options)
    : impl_(std::make_unique<Impl>()), env_(&env), clock_(&clock), sleeper_(&sleeper), random_(&random), logger_(&logger) {
  impl_->options = std::move(options);
}

AwsSession::~AwsSession() = default;

Result<std::string> AwsSession::region() { return aws::resolve_region(impl_->options.region, *env_); }

aws::Transport& AwsSession::transport() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->transport) impl_->transport = std::make_unique<aws::CurlTransport>(*env_);
  return *impl_->transport;
}

std::shared_ptr<aws::CredentialsProvider> AwsSession::default_credentials() {
  aws::Transport& t = transport();
  std::lock_guard lock(impl_->mu);
  if (!impl_->credentials) impl_->credentials = aws::make_default_chain(*env_, t, *clock_, logger_);
  return impl_->credentials;
}

Result<aws::AwsClient*> AwsSession::client(const aws::ServiceInfo& service, std::optional<std::string> region,
                                           std::shared_ptr<aws::CredentialsProvider> credentials) {
  if (!region) {
    auto r = this->region();
    if (!r) return r.error();
    region = *r;
  }
  if (!credentials) credentials = default_credentials();
  aws::Transport& t = transport();
  std::lock_guard lock(impl_->mu);
  const std::string key = std::string(service.service_id) + "/" + *region + "/" +
                          std::to_string(reinterpret_cast<std::uintptr_t>(credentials.get()));
  if (auto it = impl_->by_key.find(key); it != impl_->by_key.end()) return it->second;
  auto endpoint = aws::resolve_endpoint(service, *region, *env_);
  if (!endpoint) return endpoint.error();
  if (!impl_->retry) {
    auto attempts = aws::max_attempts_from_env(*env_);
    if (!attempts) return attempts.error();
    impl_->retry = std::make_unique<aws::RetryStrategy>(*attempts);
  }
  aws::AwsContext ctx{t, *credentials, *clock_, *sleeper_, *random_, *impl_->retry, logger_};
  auto client = std::make_unique<aws::AwsClient>(ctx, *endpoint);
  aws::AwsClient* raw = client.get();
  impl_->clients.push_back(Impl::Owned{std::move(credentials), std::move(client)});
  impl_->by_key.emplace(key, raw);
  return raw;
}

Result<void> AwsSession::register_redactions() {
  auto creds = default_credentials()->credentials();
  if (!creds) return creds.error();
  logger_->add_redaction(creds->secret_access_key.reveal());
  if (!creds->session_token.empty()) logger_->add_redaction(creds->session_token.reveal());
  return {};
}

}  // namespace ecrs::handler
