#include <map>
#include <mutex>

#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/aws/http.hpp"
#include "ecrs/aws/retry.hpp"
#include "ecrs/aws/shared_config.hpp"
#include "ecrs/handler/aws_session.hpp"

namespace ecrs::handler {
namespace {

bool insecure_http_opted_in(const SessionOptions& options, const Environment& env) {
  return options.allow_insecure_http || env.get("ECRS_ALLOW_INSECURE_HTTP").value_or("") == "1";
}

}  // namespace

struct AwsSession::Impl {
  SessionOptions options;
  std::mutex mu;
  std::unique_ptr<aws::CurlTransport> transport;
  std::shared_ptr<aws::CredentialsProvider> credentials;
  std::unique_ptr<aws::RetryStrategy> retry;
  bool warned_insecure = false;
  struct Owned {
    std::shared_ptr<aws::CredentialsProvider> credentials;
    std::unique_ptr<aws::AwsClient> client;
    std::optional<std::chrono::system_clock::time_point> expires;  // fixed credentials only
  };
  std::map<std::string, Owned> by_key;  // service/region/identity

  Result<aws::ConfigView> config(const Environment& env) const { return aws::ConfigView::load(env, options.profile); }
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

Result<std::string> AwsSession::region() {
  auto config = impl_->config(*env_);
  if (!config) return config.error();
  return aws::resolve_region(impl_->options.region, *config);
}

std::string AwsSession::profile() const { return aws::active_profile(*env_, impl_->options.profile); }

aws::Transport& AwsSession::transport() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->transport) {
    aws::CurlTransportOptions options;
    options.allow_insecure_http = insecure_http_opted_in(impl_->options, *env_);
    impl_->transport = std::make_unique<aws::CurlTransport>(*env_, options);
  }
  return *impl_->transport;
}

std::shared_ptr<aws::CredentialsProvider> AwsSession::default_credentials() {
  aws::Transport& t = transport();
  std::lock_guard lock(impl_->mu);
  if (!impl_->credentials) {
    aws::CredentialContext ctx{*env_, t, *clock_, *sleeper_, *random_, logger_, impl_->options.profile,
                               impl_->options.region};
    impl_->credentials = aws::make_default_chain(ctx);
  }
  return impl_->credentials;
}

Result<int> AwsSession::max_attempts() {
  std::lock_guard lock(impl_->mu);
  if (impl_->retry) return impl_->retry->max_attempts();
  auto config = impl_->config(*env_);
  if (!config) return config.error();
  auto retry = aws::resolve_retry_config(*config);
  if (!retry) return retry.error();
  return retry->max_attempts;
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
  auto config = impl_->config(*env_);
  if (!config) return config.error();
  std::lock_guard lock(impl_->mu);

  const auto now = clock_->now();
  std::erase_if(impl_->by_key, [&](const auto& entry) {
    return entry.second.expires && *entry.second.expires + kEvictAfterExpiry < now;
  });
  std::string identity = credentials->identity();
  if (identity.empty()) identity = "object:" + std::to_string(reinterpret_cast<std::uintptr_t>(credentials.get()));
  const std::string key = std::string(service.service_id) + "/" + *region + "/" + identity;
  if (auto it = impl_->by_key.find(key); it != impl_->by_key.end()) return it->second.client.get();

  auto endpoint = aws::resolve_endpoint(service, *region, *config, impl_->options.endpoint_url);
  if (!endpoint) return endpoint.error();
  if (auto url = aws::parse_url(endpoint->url); url && url->scheme == "http" && !aws::is_loopback_host(url->host)) {
    if (!insecure_http_opted_in(impl_->options, *env_))
      return make_error("InsecureEndpoint",
                        "endpoint " + url->origin() + " for " + std::string(service.service_id) +
                            " is plain http to a non-loopback host; pass --allow-insecure-http or set "
                            "ECRS_ALLOW_INSECURE_HTTP=1 to send requests (and signatures) unencrypted");
    if (!impl_->warned_insecure) {
      impl_->warned_insecure = true;
      Json::Value f;
      f["endpoint"] = url->origin();
      logger_->warn("plain http to a non-loopback endpoint, as opted in: requests travel unencrypted", f);
    }
  }
  if (!impl_->retry) {
    auto retry = aws::resolve_retry_config(*config);
    if (!retry) return retry.error();
    impl_->retry = std::make_unique<aws::RetryStrategy>(*retry);
  }
  aws::AwsContext ctx{t, *credentials, *clock_, *sleeper_, *random_, *impl_->retry, logger_};
  auto client = std::make_unique<aws::AwsClient>(ctx, *endpoint);
  aws::AwsClient* raw = client.get();
  auto expires = credentials->expires();
  impl_->by_key.emplace(key, Impl::Owned{std::move(credentials), std::move(client), expires});
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
