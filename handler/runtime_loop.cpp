#include "ecrs/handler/runtime_loop.hpp"

#include <exception>

#include "ecrs/cfn/request.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/handler/emf.hpp"

namespace ecrs::handler {

namespace {
Json::Value one(const char* k, Json::Value v) {
  Json::Value f(Json::objectValue);
  f[k] = std::move(v);
  return f;
}

// arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] -> NAME; empty when the ARN is not one.
std::string function_name_of(std::string_view arn) {
  constexpr std::string_view kMarker = ":function:";
  const auto at = arn.find(kMarker);
  if (at == std::string_view::npos) return {};
  const auto name = arn.substr(at + kMarker.size());
  return std::string(name.substr(0, name.find(':')));
}
}  // namespace

RuntimeLoop::RuntimeLoop(RuntimeClient& client, CustomResourceFlow& flow, Logger& logger, Sleeper& sleeper,
                         std::vector<EventMode*> modes)
    : client_(&client), flow_(&flow), modes_(std::move(modes)), logger_(&logger), sleeper_(&sleeper) {}

RuntimeReply RuntimeLoop::dispatch(const Invocation& invocation) noexcept {
  std::string mode;
  InvocationMetrics metrics;
  return dispatch(invocation, mode, metrics);
}

RuntimeReply RuntimeLoop::dispatch(const Invocation& invocation, std::string& mode, InvocationMetrics& metrics) noexcept {
  mode = "invalid-event";
  try {
    auto event = parse_json(invocation.body, "event");
    if (!event) {
      return {true, "InvalidEvent",
              "The event is not JSON (" + std::to_string(invocation.body.size()) + " bytes); expected a CloudFormation "
              "custom-resource request."};
    }
    for (EventMode* candidate : modes_) {
      if (!candidate->accepts(*event)) continue;
      mode = candidate->name();
      InvocationInfo info{invocation.request_id,
                          invocation.deadline.value_or(std::chrono::system_clock::time_point::max()),
                          invocation.function_arn, &metrics};
      auto reply = candidate->handle(*event, info);
      if (!reply) return {true, reply.error().code.empty() ? "HandlerError" : reply.error().code, reply.error().describe()};
      return {false, "", *reply};
    }
    if (!cfn::looks_like_custom_resource(*event)) {
      return {true, "InvalidEvent",
              "Unknown event shape: expected a CloudFormation custom-resource request (RequestType, ResponseURL, "
              "StackId, RequestId), a CloudFormation Hooks request, or another event an enabled mode handles."};
    }
    mode = "custom-resource";
    return flow_->handle(*event, invocation, &metrics);
  } catch (const std::exception& e) {
    return {true, "InternalError", std::string("internal error: ") + e.what()};
  } catch (...) {
    return {true, "InternalError", "internal error"};
  }
}

int RuntimeLoop::run(const std::atomic<bool>* stop) {
  int failures = 0;
  while (stop == nullptr || !stop->load()) {
    auto inv = client_->next();
    if (!inv) {
      ++failures;
      logger_->error("Runtime API /next failed", one("error", inv.error().describe()));
      if (failures >= kMaxConsecutiveNextFailures || (stop != nullptr && stop->load())) break;
      sleeper_->sleep_for(kNextRetryDelay);
      continue;
    }
    failures = 0;
    Logger log = logger_->with(one("aws_request_id", inv->request_id));
    log.debug("invocation", one("bytes", static_cast<Json::UInt64>(inv->body.size())));
    const auto started = logger_->clock().monotonic();
    std::string mode;
    InvocationMetrics metrics;
    RuntimeReply reply = dispatch(*inv, mode, metrics);
    ++served_;
    if (reply.is_error) ++metrics.failures;
    metrics.function_name = function_name_of(inv->function_arn);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(logger_->clock().monotonic() - started);
    // Written before the reply is posted: Lambda may freeze the environment as soon as it has the answer.
    logger_->sink().write(to_compact_json(emf_record(mode, metrics, took, logger_->clock().now())));
    Result<void> posted;
    if (reply.is_error) {
      Json::Value f(Json::objectValue);
      f["error_type"] = reply.error_type;
      f["error"] = reply.body;
      log.error("invocation failed", f);
      posted = client_->post_error(inv->request_id, reply.error_type, reply.body);
    } else {
      posted = client_->post_response(inv->request_id, reply.body);
    }
    if (!posted) log.error("Runtime API reply failed", one("error", posted.error().describe()));
  }
  return (stop != nullptr && stop->load()) ? 0 : 1;
}

}  // namespace ecrs::handler
