#include "aws_stack.hpp"

#include "ecrs/aws/endpoints.hpp"

namespace ecrs::handler {

Result<std::unique_ptr<AwsStack>> make_aws_stack(const Environment& env, std::optional<std::string> region,
                                                 const Clock& clock, Sleeper& sleeper, Random& random, Logger& logger) {
  auto s = std::make_unique<AwsStack>();
  auto r = aws::resolve_region(std::move(region), env);
  if (!r) return r.error();
  s->region = *r;
  auto ecr_endpoint = aws::resolve_endpoint(aws::kEcr, s->region, env);
  if (!ecr_endpoint) return ecr_endpoint.error();
  auto lambda_endpoint = aws::resolve_endpoint(aws::kLambda, s->region, env);
  if (!lambda_endpoint) return lambda_endpoint.error();
  s->transport = std::make_unique<aws::CurlTransport>(env);
  s->credentials = aws::make_default_chain(env, *s->transport, clock, &logger);
  auto attempts = aws::max_attempts_from_env(env);
  if (!attempts) return attempts.error();
  s->retry = std::make_unique<aws::RetryStrategy>(*attempts);
  aws::AwsContext ctx{*s->transport, *s->credentials, clock, sleeper, random, *s->retry, &logger};
  s->ecr_aws = std::make_unique<aws::AwsClient>(ctx, *ecr_endpoint);
  s->lambda_aws = std::make_unique<aws::AwsClient>(ctx, *lambda_endpoint);
  s->ecr = std::make_unique<ecr::EcrClient>(*s->ecr_aws);
  return s;
}

Result<void> register_credential_redactions(AwsStack& stack, Logger& logger) {
  auto creds = stack.credentials->credentials();
  if (!creds) return creds.error();
  logger.add_redaction(creds->secret_access_key.reveal());
  if (!creds->session_token.empty()) logger.add_redaction(creds->session_token.reveal());
  return {};
}

}  // namespace ecrs::handler
