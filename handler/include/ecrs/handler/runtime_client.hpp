#pragma once
// Client of the Lambda Runtime API 2018-06-01 (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html)
// over the project's Transport. The long poll on /next has no timeout: Lambda freezes the process between
// events, so any timeout would fire spuriously after a thaw (aws-lambda-cpp runtime.cpp does the same). Proxy
// variables are ignored: the Runtime API is always local plain HTTP.
#include <chrono>
#include <optional>
#include <string>

#include "ecrs/aws/transport.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::handler {

inline constexpr const char* kRuntimeApiVersion = "2018-06-01";
// A local socket answers at once; a connect that takes longer means the runtime is gone (aws-lambda-cpp: 1 s).
inline constexpr std::chrono::milliseconds kRuntimeConnectTimeout{1000};
// An event is at most 6 MB (Lambda's synchronous invocation payload quota, LDG/gettingstarted-limits); the
// Runtime API's other replies are a few bytes. Anything larger is not read.
inline constexpr std::size_t kMaxRuntimeResponseBytes = std::size_t{6} << 20;
// /response and /error are small local POSTs.
inline constexpr std::chrono::milliseconds kRuntimePostTimeout{10000};

struct Invocation {
  std::string request_id;                                       // Lambda-Runtime-Aws-Request-Id
  std::optional<std::chrono::system_clock::time_point> deadline;  // Lambda-Runtime-Deadline-Ms (epoch ms)
  std::string function_arn;                                     // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;                                         // Lambda-Runtime-Trace-Id
  std::string body;                                             // the event; never log it (presigned URL)
};

class RuntimeClient {
 public:
  // `runtime_api` is AWS_LAMBDA_RUNTIME_API: "host:port".
  RuntimeClient(aws::Transport& transport, std::string runtime_api);

  // Blocks until an event arrives. An Error means the Runtime API did not hand out an event (HTTP 500 there
  // means the container is broken and the runtime should exit).
  Result<Invocation> next();
  // 202 expected; 413 means the body was too large.
  Result<void> post_response(const std::string& request_id, const std::string& body);
  // Body {"errorMessage","errorType","stackTrace":[]} with Lambda-Runtime-Function-Error-Type, as documented.
  Result<void> post_error(const std::string& request_id, const std::string& error_type, const std::string& message);
  Result<void> post_init_error(const std::string& error_type, const std::string& message);

 private:
  Result<void> post(const std::string& path, const std::string& body, const aws::HeaderList& headers,
                    const std::string& what);

  aws::Transport* transport_;
  std::string base_;  // http://host:port/2018-06-01
};

// Whether AWS_LAMBDA_RUNTIME_API ("host:port") names a loopback host: then plain http to a loopback
// ResponseURL is accepted (PutPolicy::loopback_http_allowed), as the tests' local S3 receiver needs.
bool runtime_api_is_local(const Environment& env);

// Error payload as the Runtime API documents it.
std::string runtime_error_body(const std::string& error_type, const std::string& message);

}  // namespace ecrs::handler
