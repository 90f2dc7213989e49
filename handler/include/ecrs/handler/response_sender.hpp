#pragma once
// The one PUT of a custom-resource response to CloudFormation's presigned S3 ResponseURL
// (shared/docs/cfn-custom-resource.md §4). The URL goes out byte for byte; Content-Type is sent EMPTY because
// the SigV2 signature covers it (any default such as libcurl's form type gives 403 SignatureDoesNotMatch);
// only a 2xx counts as delivered; failures are retried with full-jitter backoff, because an undelivered
// response leaves the stack waiting for up to an hour (gh:aws/aws-cdk#38428).
#include <chrono>
#include <optional>
#include <string>

#include "ecrs/aws/transport.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::handler {

struct PutPolicy {
  // CDK's provider framework and aws-saas-boost make 5 attempts; one more costs little and rides out a blip.
  int max_attempts = 6;
  std::chrono::milliseconds base_delay{250};  // full jitter: rand * min(base * 2^(n-1), max_delay)
  std::chrono::milliseconds max_delay{4000};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(3)};
  std::chrono::milliseconds attempt_timeout{std::chrono::seconds(10)};
  // Retries stop before this point so the runtime can still post /response.
  std::optional<std::chrono::system_clock::time_point> give_up_at;
};

// Worst-case wall time the policy can take (all attempts timing out plus the largest backoffs): the
// watchdog keeps at least this much before the Lambda deadline... capped by the caller's own reserve.
std::chrono::milliseconds worst_case_duration(const PutPolicy& policy);

struct PutOutcome {
  int attempts = 0;
  int http_status = 0;
};

// Ok when S3 answered 2xx. Retries transport errors, 5xx, 429 and 408; other statuses (403: a bad signature or
// an expired URL) cannot improve by retrying.
Result<PutOutcome> put_response(aws::Transport& transport, const std::string& response_url, const std::string& body,
                                const PutPolicy& policy, const Clock& clock, Sleeper& sleeper, Random& random,
                                Logger& log);

}  // namespace ecrs::handler
