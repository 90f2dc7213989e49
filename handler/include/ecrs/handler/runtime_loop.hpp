#pragma once
// The Lambda custom-runtime loop: GET /next, pick the job from the event's shape, answer, repeat. It survives
// every event: a non-JSON or unknown event is reported to /error (errorType InvalidEvent, without the payload)
// and the loop goes on; anything thrown is caught at the top. After every invocation it writes one CloudWatch
// embedded-metric record (emf.hpp) to the log sink. The raw event is never logged: a custom-resource
// event carries a presigned URL that can forge the stack's answer.
#include <atomic>
#include <chrono>
#include <string>

#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/handler/custom_resource.hpp"
#include "ecrs/handler/modes.hpp"
#include "ecrs/handler/runtime_client.hpp"

namespace ecrs::handler {

// aws-lambda-cpp gives up after 3 failed /next in a row; Lambda starts a fresh environment.
inline constexpr int kMaxConsecutiveNextFailures = 3;
inline constexpr std::chrono::milliseconds kNextRetryDelay{200};

class RuntimeLoop {
 public:
  // `modes` are offered each event before the custom-resource flow (modes.hpp); they must outlive the loop.
  RuntimeLoop(RuntimeClient& client, CustomResourceFlow& flow, Logger& logger, Sleeper& sleeper,
              std::vector<EventMode*> modes = {});

  // Serves events until /next fails kMaxConsecutiveNextFailures times in a row or `stop` is set (checked between
  // events). Returns the process exit code: 0 after a stop, 1 when the Runtime API went away.
  int run(const std::atomic<bool>* stop = nullptr);

  // One event, start to finish (exposed for tests): never throws.
  RuntimeReply dispatch(const Invocation& invocation) noexcept;
  // The same, also naming the mode that answered and letting it fill `metrics` (for the EMF record).
  RuntimeReply dispatch(const Invocation& invocation, std::string& mode, InvocationMetrics& metrics) noexcept;
  std::uint64_t served() const { return served_; }

 private:
  RuntimeClient* client_;
  CustomResourceFlow* flow_;
  std::vector<EventMode*> modes_;
  Logger* logger_;
  Sleeper* sleeper_;
  std::uint64_t served_ = 0;
};

}  // namespace ecrs::handler
