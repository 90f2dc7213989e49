#pragma once
// A signed, retrying AWS client for one endpoint: awsJson 1.0/1.1 (ECR), restJson1 (Lambda Invoke), query
// (STS), and raw signed requests. Thread-safe: one AwsClient is shared by every worker thread.
#include <json/value.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/endpoints.hpp"
#include "ecrs/aws/http.hpp"
#include "ecrs/aws/retry.hpp"
#include "ecrs/aws/transport.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::aws {

// Per-call counters, filled by the call (plain ints: give each call, or each thread, its own).
struct CallStats {
  int attempts = 0;   // requests sent
  int throttled = 0;  // attempts that failed with a throttling error
  int retried = 0;    // retries made (after backoff or a clock-skew correction)
  std::chrono::milliseconds backoff{0};  // total time slept between attempts
};

struct CallOptions {
  std::string context;                // appended to the operation in Error::context: "repository=web"
  std::optional<int> max_attempts;    // overrides the strategy's (1: no retry, the caller handles throttling)
  CallStats* stats = nullptr;         // accumulated into when set
  RequestOptions request{};           // timeouts
};

// What a client needs from the outside; every reference must outlive the client.
struct AwsContext {
  Transport& transport;
  CredentialsProvider& credentials;
  const Clock& clock;
  Sleeper& sleeper;
  Random& random;
  RetryStrategy& retry;
  Logger* logger = nullptr;
};

struct ClientConfig {
  bool normalize_path = true;  // SigV4 path normalisation: every service but S3
  bool sign_body = false;      // X-Amz-Content-Sha256 (S3)
};

// Error documents -> Error (code normalised, message, request id, HTTP status; retryable per classify()).
// awsJson / restJson1: x-amzn-ErrorType header first, then body "code", then "__type"; the code is cut at
// the first ':' and after the last '#' (smithy awsJson1_1 spec, "Operation error parsing").
Error parse_json_error(const HttpResponse& response);
// query / restXml: <Code>, <Message>, <RequestId> (or x-amzn-RequestId / x-amz-request-id headers).
Error parse_xml_error(const HttpResponse& response);
std::string normalize_error_code(std::string_view raw);

// An unsigned request (the SSO portal, AssumeRoleWithWebIdentity) retried like AwsClient's calls: transport
// failures, 5xx and 429 per `retry`. Any other reply, 4xx included, is returned as a response.
Result<HttpResponse> send_unsigned(Transport& transport, const HttpRequest& request, const RequestOptions& options,
                                   RetryStrategy& retry, Sleeper& sleeper, Random& random);

class AwsClient {
 public:
  AwsClient(AwsContext context, Endpoint endpoint, ClientConfig config = {});

  // Signs (SigV4, fresh for every attempt) and sends; retries per the strategy; a non-2xx reply is an Error
  // (parsed as XML when the body looks like XML, else as a JSON error).
  Result<HttpResponse> send_signed(HttpRequest request, const CallOptions& options = {},
                                   std::string_view operation = "Request");

  // awsJson: POST / with X-Amz-Target: <target_prefix>.<operation>. An empty 2xx body is {}.
  Result<Json::Value> json_call(std::string_view target_prefix, std::string_view operation, const Json::Value& input,
                                const CallOptions& options = {}, std::string_view json_version = "1.1");

  // restJson1: `path` is appended to the endpoint URL (it may carry a query); `headers` are added as given.
  Result<HttpResponse> rest_call(std::string_view method, std::string_view path, std::string body,
                                 HeaderList headers = {}, const CallOptions& options = {},
                                 std::string_view operation = "Request");

  // query protocol: POST Action=<action>&Version=<version>&<params>; returns the XML body.
  Result<std::string> query_call(std::string_view action, const std::vector<std::pair<std::string, std::string>>& params,
                                 std::string_view version, const CallOptions& options = {});

  const Endpoint& endpoint() const { return endpoint_; }
  // The configured total attempts per call (AWS_MAX_ATTEMPTS / max_attempts / the retry mode's default).
  int max_attempts() const { return ctx_.retry.max_attempts(); }
  std::chrono::milliseconds clock_offset() const { return skew_.offset(); }

 private:
  using ErrorParser = Error (*)(const HttpResponse&);
  Result<HttpResponse> send_with_retry(HttpRequest request, const CallOptions& options, std::string_view operation,
                                       ErrorParser parse_error);

  AwsContext ctx_;
  Endpoint endpoint_;
  ClientConfig config_;
  sigv4::Signer signer_;
  ClockSkew skew_;
};

}  // namespace ecrs::aws
