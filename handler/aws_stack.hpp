#pragma once
// Private to handler/: the objects one process needs to talk to ECR and Lambda, built once from the
// environment (region, endpoints, default credential chain) and owned together.
#include <memory>
#include <optional>
#include <string>

#include "ecrs/aws/client.hpp"
#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/ecr/ecr_client.hpp"

namespace ecrs::handler {

struct AwsStack {
  std::string region;
  std::unique_ptr<aws::CurlTransport> transport;
  std::unique_ptr<aws::CredentialsProvider> credentials;
  std::unique_ptr<aws::RetryStrategy> retry;
  std::unique_ptr<aws::AwsClient> ecr_aws;
  std::unique_ptr<aws::AwsClient> lambda_aws;
  std::unique_ptr<ecr::EcrClient> ecr;
};

// Resolves region and endpoints; builds the credential chain without fetching. `logger` must outlive the stack.
Result<std::unique_ptr<AwsStack>> make_aws_stack(const Environment& env, std::optional<std::string> region,
                                                 const Clock& clock, Sleeper& sleeper, Random& random, Logger& logger);

// Fetches credentials once and registers the secret key and session token with the logger's redactor, so even
// a stray copy in an error message never reaches a log line. A failure is returned (and logged by the caller),
// never fatal: each call reports it again with its context.
Result<void> register_credential_redactions(AwsStack& stack, Logger& logger);

}  // namespace ecrs::handler
