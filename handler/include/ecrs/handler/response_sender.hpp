#pragma once
// The one PUT of a custom-resource response to CloudFormation's presigned S3 ResponseURL
// (shared/docs/cfn-custom-resource.md §4). The URL goes out byte for byte; Content-Type is sent EMPTY because
// the SigV2 signature covers it (any default such as libcurl's form type gives 403 SignatureDoesNotMatch);
// only a 2xx counts as delivered; failures are retried with full-jitter backoff, because an undelivered
// response leaves the stack waiting for up to an hour (gh:aws/aws-cdk#38428).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "ecrs/aws/transport.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::handler {

// An attempt with less time than this left before the deadline is not started: a small PUT to S3 takes a TLS
// handshake and a round trip (~100-300 ms from Lambda), and a timeout cut shorter than that only wastes the rest.
// It has to fit, with the Runtime reply margin, inside the custom resource's smallest reserve
// (kMinDeadlineReserve, 800 ms), which also carries a call cut off at the work's end.
inline constexpr std::chrono::milliseconds kMinPutAttempt{200};

struct PutPolicy {
  // CDK's provider framework and aws-saas-boost make 5 attempts; one more costs little and rides out a blip.
  int max_attempts = 6;
  std::chrono::milliseconds base_delay{250};  // full jitter: rand * min(base * 2^(n-1), max_delay)
  std::chrono::milliseconds max_delay{4000};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(3)};
  std::chrono::milliseconds attempt_timeout{std::chrono::seconds(10)};
  // No attempt runs past this point (each is clamped to the time left) so the runtime can still post /response.
  std::optional<std::chrono::system_clock::time_point> give_up_at;
  // check_response_url's `loopback_http_allowed`: true where the Runtime API is on loopback (every Lambda, the
  // tests); a caller without a local Runtime API sets false.
  bool loopback_http_allowed = true;
};

// Where a ResponseURL may point: https (port 443) to an S3 endpoint of a partition CloudFormation uses — path
// style s3.amazonaws.com, s3.REGION / s3-REGION / s3-external-1, s3.dualstack.REGION, s3-fips[.dualstack].REGION,
// each also virtual-hosted (BUCKET.<any of those>), under amazonaws.com or amazonaws.com.cn. Plain http only to
// a loopback host and only when `loopback_http_allowed` (the Runtime API itself is local, as in Lambda and the
// tests). Anything else is refused: the response carries the stack's answer and AWS error text, and the PUT
// must not be pointed at another server. Errors (code InvalidResponseURL) name the host, never the query.
Result<void> check_response_url(std::string_view url, bool loopback_http_allowed);

// Worst-case wall time the policy can take (all attempts timing out plus the largest backoffs): the
// watchdog keeps at least this much before the Lambda deadline... capped by the caller's own reserve.
std::chrono::milliseconds worst_case_duration(const PutPolicy& policy);

struct PutOutcome {
  int attempts = 0;
  int http_status = 0;
};

// A URL check_response_url refuses is logged (redacted) and returned as its error, with no PUT.
// Ok when S3 answered 2xx. Retries transport errors, 5xx, 429 and 408; other statuses (403: a bad signature or
// an expired URL) cannot improve by retrying.
Result<PutOutcome> put_response(aws::Transport& transport, const std::string& response_url, const std::string& body,
                                const PutPolicy& policy, const Clock& clock, Sleeper& sleeper, Random& random,
                                Logger& log);

}  // namespace ecrs::handler
