#pragma once
// Lambda Runtime API 2018-06-01 (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) plus the
// Lambda Invoke API (POST /2015-03-31/functions/{name}/invocations) that feeds the same queue, so a handler
// can re-invoke itself asynchronously. The owner of this header may extend it; keep these members.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ecrs/common/secret.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/localaws/service.hpp"

namespace ecrs::localaws {

struct RuntimeOptions {
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  std::string function_name = "ecr-sweeper";
  std::chrono::milliseconds function_timeout{std::chrono::minutes(15)};
  // Invoke is SigV4-verified (service "lambda") with these; the Runtime API itself is unauthenticated.
  std::string access_key_id = "test";
  Secret secret_access_key{"test"};
  Secret session_token;
  // Deadlines, trace ids and the Invoke API's 15-minute signature window read this; nullptr = the system clock.
  const Clock* clock = nullptr;
};

// Per-invocation extras; Lambda passes them to the runtime as /next headers only when set.
struct InvokeOptions {
  std::optional<std::chrono::milliseconds> timeout;  // overrides RuntimeOptions::function_timeout
  std::string client_context;                        // JSON, sent as Lambda-Runtime-Client-Context
  std::string cognito_identity;                      // JSON, sent as Lambda-Runtime-Cognito-Identity
};

// Payload quotas (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): 6 MB for a
// synchronous request or response, 1 MB for an asynchronous (Event) invocation.
inline constexpr std::size_t kMaxSyncPayloadBytes = 6 * 1024 * 1024;
inline constexpr std::size_t kMaxAsyncPayloadBytes = 1024 * 1024;

struct InvocationOutcome {
  std::string request_id;
  std::string kind;        // "response" or "error"
  std::string body;        // what the runtime posted
  std::string error_type;  // Lambda-Runtime-Function-Error-Type header on /error
};

class RuntimeApi : public Service {
 public:
  explicit RuntimeApi(RuntimeOptions options);
  ~RuntimeApi() override;

  // Routes: /2018-06-01/runtime/... (unauthenticated, as in a Lambda sandbox) and
  // POST /2015-03-31/functions/{name|arn}/invocations (SigV4, service "lambda"). Invoke with
  // X-Amz-Invocation-Type Event answers 202 at once; RequestResponse (botocore's default) queues the event
  // too and answers when the runtime posts /response (200 + body) or /error (200 + X-Amz-Function-Error:
  // Unhandled), as Lambda does; DryRun checks signature and name, then answers 204.
  bool handle(const HttpRequest& req, const Responder& respond) override;
  // Answers every waiting /next poll and every pending RequestResponse Invoke with 500; later polls too.
  void shutdown() override;

  // Enqueue an event (tests, demo, `localaws invoke`); returns the request id the runtime will see.
  // `timeout` overrides the function timeout for this invocation (short deadlines in tests).
  std::string invoke(std::string event_json, std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  std::string invoke(std::string event_json, InvokeOptions options);
  // Waits until the runtime posted /response or /error for `request_id`.
  std::optional<InvocationOutcome> wait_outcome(const std::string& request_id, std::chrono::milliseconds timeout);
  // Every outcome so far, in arrival order; and the request ids enqueued through the Invoke API.
  std::vector<InvocationOutcome> outcomes() const;
  std::vector<std::string> invoked_by_api() const;
  std::optional<std::string> init_error() const;  // body of /runtime/init/error, if any
  std::size_t pending() const;                    // events queued, not yet handed out
  // Blocks until at least one GET /next is waiting for an event (the runtime is idle in its long poll).
  bool wait_polling(std::chrono::milliseconds timeout);
  // Blocks until the queue is empty and every handed-out invocation has an outcome, or timeout. True if idle.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecrs::localaws
