#pragma once
// Amazon ECR over awsJson1.1 (POST /, X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>), SigV4-verified,
// validated against botocore's model, with fault/latency injection and metrics. `call` runs one operation
// without HTTP or signing, for semantic tests of the operations themselves.
#include <chrono>
#include <functional>
#include <string>

#include <json/value.h>

#include "ecrs/common/system.hpp"
#include "ecrs/localaws/ecr_state.hpp"
#include "ecrs/localaws/faults.hpp"
#include "ecrs/localaws/service.hpp"
#include "ecrs/localaws/sigv4_verifier.hpp"

namespace ecrs::localaws {

// X-Amz-Target prefix from the model's metadata.targetPrefix.
inline constexpr const char* kEcrTargetPrefix = "AmazonEC2ContainerRegistry_V20150921.";

struct EcrReply {
  int status = 200;
  std::string error_code;  // empty on success
  Json::Value body;        // the output shape, or {"__type", "message"}
  // The output already written as JSON text (the listing pages, see json_text.hpp); when set, it is the reply
  // and `body` is null, except from `call`, which parses it into `body` for its callers.
  std::string json;
};

// Sends a response at a time (now, if that has passed) without blocking a serving thread (the HTTP server's timer).
using DelayedResponder = std::function<void(std::chrono::steady_clock::time_point, Responder, HttpResponse)>;

class EcrService : public Service {
 public:
  EcrService(EcrState& state, VerifierOptions auth, FaultInjector& faults, Metrics& metrics, const Clock& clock,
             Random& request_ids, DelayedResponder delayed = nullptr);

  bool handle(const HttpRequest& req, const Responder& respond) override;

  // One operation on the state: validation, semantics and errors, no signature, faults or metrics.
  EcrReply call(const std::string& operation, const Json::Value& input);

 private:
  EcrReply access_denied(const std::string& operation, const Json::Value& input) const;
  // `call` without parsing a reply written as text: what the HTTP path sends.
  EcrReply serve(const std::string& operation, const Json::Value& input);

  EcrState& state_;
  VerifierOptions auth_;
  FaultInjector& faults_;
  Metrics& metrics_;
  const Clock& clock_;
  Random& request_ids_;
  DelayedResponder delayed_;
};

// A request id in the UUID form AWS uses for x-amzn-RequestId.
std::string make_request_id(Random& random);

}  // namespace ecrs::localaws
