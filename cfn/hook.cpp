#include "ecrs/cfn/hook.hpp"

#include <algorithm>
#include <limits>

#include "ecrs/cfn/response.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::cfn {
namespace {

constexpr const char* kContext = "hook request";
constexpr const char* kInvalid = "InvalidHookRequest";

Error invalid(std::string message) { return make_error(kInvalid, std::move(message), kContext); }

// Absent and null read as "" (stackId is empty under Cloud Control API, changeSetId outside change sets); any
// other non-string is an error naming the member.
Result<std::string> optional_string(const Json::Value& obj, const char* key, const std::string& path) {
  if (!obj.isMember(key) || obj[key].isNull()) return std::string{};
  const Json::Value& v = obj[key];
  if (!v.isString()) return invalid(path + key + " must be a string, got " + json_type_name(v));
  return v.asString();
}

Result<std::string> required_string(const Json::Value& obj, const char* key, const std::string& path) {
  if (!obj.isMember(key)) return invalid(path + key + " is missing");
  auto s = optional_string(obj, key, path);
  if (!s) return s.error();
  if (s->empty()) return invalid(path + key + " is empty");
  return s;
}

// Properties may be absent or null ("this value will be empty"): both read as {}.
Result<Json::Value> optional_object(const Json::Value& obj, const char* key, const std::string& path) {
  if (!obj.isMember(key) || obj[key].isNull()) return Json::Value(Json::objectValue);
  const Json::Value& v = obj[key];
  if (!v.isObject()) return invalid(path + key + " must be an object, got " + json_type_name(v));
  return v;
}

}  // namespace

std::string_view to_string(HookInvocationPoint p) {
  switch (p) {
    case HookInvocationPoint::CreatePreProvision: return kCreatePreProvision;
    case HookInvocationPoint::UpdatePreProvision: return kUpdatePreProvision;
    case HookInvocationPoint::DeletePreProvision: return kDeletePreProvision;
  }
  return kCreatePreProvision;
}

std::optional<HookInvocationPoint> hook_invocation_point_from_string(std::string_view s) {
  if (s == kCreatePreProvision) return HookInvocationPoint::CreatePreProvision;
  if (s == kUpdatePreProvision) return HookInvocationPoint::UpdatePreProvision;
  if (s == kDeletePreProvision) return HookInvocationPoint::DeletePreProvision;
  return std::nullopt;
}

bool looks_like_hook_request(const Json::Value& event) {
  return event.isObject() && event["hookTypeName"].isString() && event["actionInvocationPoint"].isString() &&
         event["requestData"].isObject();
}

Result<HookRequest> parse_hook_request(const Json::Value& event) {
  if (!event.isObject()) return invalid(std::string("the event must be an object, got ") + json_type_name(event));
  HookRequest r;
  auto token = optional_string(event, "clientRequestToken", "");
  if (!token) return token.error();
  r.client_request_token = *token;
  auto account = optional_string(event, "awsAccountId", "");
  if (!account) return account.error();
  r.aws_account_id = *account;
  auto stack = optional_string(event, "stackId", "");
  if (!stack) return stack.error();
  r.stack_id = *stack;
  auto change_set = optional_string(event, "changeSetId", "");
  if (!change_set) return change_set.error();
  r.change_set_id = *change_set;
  auto type_name = required_string(event, "hookTypeName", "");
  if (!type_name) return type_name.error();
  r.hook_type_name = *type_name;
  auto type_version = optional_string(event, "hookTypeVersion", "");
  if (!type_version) return type_version.error();
  r.hook_type_version = *type_version;
  r.hook_model = event.get("hookModel", Json::Value());
  auto point = required_string(event, "actionInvocationPoint", "");
  if (!point) return point.error();
  r.action_invocation_point = *point;
  r.invocation_point = hook_invocation_point_from_string(*point);

  if (!event["requestData"].isObject()) {
    return invalid(std::string("requestData must be an object, got ") + json_type_name(event["requestData"]));
  }
  const Json::Value& data = event["requestData"];
  auto target_name = optional_string(data, "targetName", "requestData.");
  if (!target_name) return target_name.error();
  r.target_name = *target_name;
  auto target_type = optional_string(data, "targetType", "requestData.");
  if (!target_type) return target_type.error();
  r.target_type = *target_type;
  if (r.target_name.empty() && r.target_type.empty()) return invalid("requestData names no target (targetName, targetType)");
  auto logical_id = optional_string(data, "targetLogicalId", "requestData.");
  if (!logical_id) return logical_id.error();
  r.target_logical_id = *logical_id;
  auto model = optional_object(data, "targetModel", "requestData.");
  if (!model) return model.error();
  auto props = optional_object(*model, "resourceProperties", "requestData.targetModel.");
  if (!props) return props.error();
  r.resource_properties = *props;
  auto previous = optional_object(*model, "previousResourceProperties", "requestData.targetModel.");
  if (!previous) return previous.error();
  r.previous_resource_properties = *previous;

  const Json::Value& context = event["requestContext"];
  if (!context.isNull() && !context.isObject()) {
    return invalid(std::string("requestContext must be an object, got ") + json_type_name(context));
  }
  if (context.isObject()) {
    const Json::Value& n = context["invocation"];
    if (!n.isNull()) {
      if (!n.isInt64() || n.asLargestInt() < 1 || n.asLargestInt() > std::numeric_limits<int>::max()) {
        return invalid("requestContext.invocation must be a positive integer");
      }
      r.invocation = static_cast<int>(n.asLargestInt());
    }
    r.callback_context = context.get("callbackContext", Json::Value());
  }
  return r;
}

std::optional<std::string> target_property(const HookRequest& request, const char* name) {
  for (const Json::Value* props : {&request.previous_resource_properties, &request.resource_properties}) {
    auto v = get_string(*props, name);
    if (v && !v->empty()) return v;
  }
  return std::nullopt;
}

std::string_view to_string(HookStatus s) {
  switch (s) {
    case HookStatus::SUCCESS: return "SUCCESS";
    case HookStatus::FAILED: return "FAILED";
    case HookStatus::IN_PROGRESS: return "IN_PROGRESS";
  }
  return "FAILED";
}

std::string_view to_string(HookErrorCode c) {
  switch (c) {
    case HookErrorCode::NonCompliant: return "NonCompliant";
    case HookErrorCode::InternalFailure: return "InternalFailure";
  }
  return "InternalFailure";
}

HookResponse HookResponse::success(std::string message) {
  HookResponse r;
  r.status = HookStatus::SUCCESS;
  r.message = std::move(message);
  return r;
}

HookResponse HookResponse::failed(HookErrorCode code, std::string message) {
  HookResponse r;
  r.status = HookStatus::FAILED;
  r.error_code = code;
  r.message = std::move(message);
  return r;
}

HookResponse HookResponse::in_progress(Json::Value callback_context, int callback_delay_seconds, std::string message) {
  HookResponse r;
  r.status = HookStatus::IN_PROGRESS;
  r.callback_context = std::move(callback_context);
  r.callback_delay_seconds = callback_delay_seconds;
  r.message = std::move(message);
  return r;
}

Json::Value hook_response_json(const HookResponse& response, std::string_view client_request_token,
                               std::size_t max_message_bytes) {
  Json::Value out(Json::objectValue);
  out["hookStatus"] = std::string(to_string(response.status));
  if (response.status == HookStatus::FAILED) {
    out["errorCode"] = std::string(to_string(response.error_code.value_or(HookErrorCode::InternalFailure)));
  }
  out["message"] = truncate_middle_utf8(sanitize_utf8(response.message), max_message_bytes);
  out["clientRequestToken"] = sanitize_utf8(client_request_token);
  if (response.status == HookStatus::IN_PROGRESS) {
    out["callbackContext"] =
        response.callback_context.isObject() ? response.callback_context : Json::Value(Json::objectValue);
    out["callbackDelaySeconds"] = std::max(0, response.callback_delay_seconds);
  }
  return out;
}

std::string build_hook_response(const HookResponse& response, std::string_view client_request_token,
                                std::size_t max_message_bytes) {
  return to_compact_json(hook_response_json(response, client_request_token, max_message_bytes));
}

std::size_t max_hook_message_bytes(const HookRequest& request) {
  return request.from_cloud_control() ? kMaxCloudControlHookMessageChars : kMaxHookMessageChars;
}

Json::Value to_callback_context(const HookProgress& progress) {
  Json::Value p(Json::objectValue);
  p["repository"] = progress.repository;
  p["deleted"] = Json::UInt64(progress.deleted);
  p["invocations"] = progress.invocations;
  Json::Value out(Json::objectValue);
  out[kHookProgressField] = p;
  return out;
}

Result<std::optional<HookProgress>> read_hook_progress(const Json::Value& callback_context) {
  if (callback_context.isNull()) return std::optional<HookProgress>{};
  if (!callback_context.isObject() || !callback_context.isMember(kHookProgressField)) {
    return std::optional<HookProgress>{};
  }
  const Json::Value& p = callback_context[kHookProgressField];
  const std::string path = std::string("requestContext.callbackContext.") + kHookProgressField;
  if (!p.isObject()) return invalid(path + " must be an object");
  HookProgress out;
  auto repo = get_string(p, "repository");
  if (!repo || repo->empty()) return invalid(path + ".repository must be a non-empty string");
  out.repository = *repo;
  const Json::Value& deleted = p["deleted"];
  if (!deleted.isUInt64()) return invalid(path + ".deleted must be a count");
  out.deleted = deleted.asLargestUInt();
  const Json::Value& n = p["invocations"];
  if (!n.isInt64() || n.asLargestInt() < 0 || n.asLargestInt() > std::numeric_limits<int>::max()) {
    return invalid(path + ".invocations must be a count");
  }
  out.invocations = static_cast<int>(n.asLargestInt());
  return std::optional<HookProgress>{out};
}

}  // namespace ecrs::cfn
