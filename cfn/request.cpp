#include "ecrs/cfn/request.hpp"

#include "ecrs/common/json.hpp"

namespace ecrs::cfn {
namespace {

constexpr const char* kContext = "custom resource event";

Result<std::string> required_string(const Json::Value& event, const char* key) {
  if (!event.isMember(key)) return make_error("InvalidEvent", std::string(key) + " is missing", kContext);
  const Json::Value& v = event[key];
  if (!v.isString()) {
    return make_error("InvalidEvent", std::string(key) + " must be a string, got " + json_type_name(v), kContext);
  }
  if (v.asString().empty()) return make_error("InvalidEvent", std::string(key) + " is empty", kContext);
  return v.asString();
}

std::string optional_string(const Json::Value& event, const char* key) {
  return get_string(event, key).value_or(std::string{});
}

}  // namespace

std::string_view to_string(RequestType t) {
  switch (t) {
    case RequestType::Create: return "Create";
    case RequestType::Update: return "Update";
    case RequestType::Delete: return "Delete";
  }
  return "Create";
}

std::optional<RequestType> request_type_from_string(std::string_view s) {
  if (s == "Create") return RequestType::Create;
  if (s == "Update") return RequestType::Update;
  if (s == "Delete") return RequestType::Delete;
  return std::nullopt;
}

ResponseTarget CustomResourceRequest::response_target() const {
  return ResponseTarget{response_url, stack_id, request_id, logical_resource_id, physical_resource_id, request_type};
}

bool looks_like_custom_resource(const Json::Value& event) {
  if (!event.isObject()) return false;
  for (const char* key : {"RequestType", "ResponseURL", "StackId", "RequestId"}) {
    if (!event[key].isString()) return false;
  }
  return true;
}

Result<ResponseTarget> parse_response_target(const Json::Value& event) {
  if (!event.isObject()) {
    return make_error("InvalidEvent", std::string("the event must be a JSON object, got ") + json_type_name(event),
                      kContext);
  }
  ResponseTarget t;
  auto url = required_string(event, "ResponseURL");
  if (!url) return url.error();
  auto stack = required_string(event, "StackId");
  if (!stack) return stack.error();
  auto request = required_string(event, "RequestId");
  if (!request) return request.error();
  t.response_url = std::move(*url);
  t.stack_id = std::move(*stack);
  t.request_id = std::move(*request);
  t.logical_resource_id = optional_string(event, "LogicalResourceId");
  t.physical_resource_id = optional_string(event, "PhysicalResourceId");
  if (auto type = get_string(event, "RequestType")) t.request_type = request_type_from_string(*type);
  return t;
}

Result<CustomResourceRequest> parse_request(const Json::Value& event) {
  auto target = parse_response_target(event);
  if (!target) return target.error();

  CustomResourceRequest r;
  const Json::Value& type = event["RequestType"];
  if (!type.isString()) {
    return make_error("InvalidRequestType",
                      std::string("RequestType must be one of Create, Update, Delete; got ") + json_type_name(type),
                      kContext);
  }
  auto parsed_type = request_type_from_string(type.asString());
  if (!parsed_type) {
    return make_error("InvalidRequestType",
                      "RequestType '" + type.asString() + "' is not one of Create, Update, Delete", kContext);
  }
  r.request_type = *parsed_type;
  r.response_url = std::move(target->response_url);
  r.stack_id = std::move(target->stack_id);
  r.request_id = std::move(target->request_id);

  auto logical = required_string(event, "LogicalResourceId");
  if (!logical) return logical.error();
  r.logical_resource_id = std::move(*logical);
  r.resource_type = optional_string(event, "ResourceType");
  r.service_token = optional_string(event, "ServiceToken");

  // CFNUG/crpg-ref-requests: PhysicalResourceId is always sent on Update and Delete, never on Create.
  if (r.request_type != RequestType::Create) {
    auto physical = required_string(event, "PhysicalResourceId");
    if (!physical) return physical.error();
    r.physical_resource_id = std::move(*physical);
  }

  const Json::Value& props = event["ResourceProperties"];
  if (props.isNull()) {
    r.resource_properties = Json::Value(Json::objectValue);
  } else if (props.isObject()) {
    r.resource_properties = props;
  } else {
    return make_error("InvalidEvent", std::string("ResourceProperties must be an object, got ") + json_type_name(props),
                      kContext);
  }
  if (r.service_token.empty()) r.service_token = optional_string(r.resource_properties, "ServiceToken");

  if (r.request_type == RequestType::Update) {
    const Json::Value& old = event["OldResourceProperties"];
    if (old.isObject()) {
      r.old_resource_properties = old;
    } else if (!old.isNull()) {
      return make_error("InvalidEvent",
                        std::string("OldResourceProperties must be an object, got ") + json_type_name(old), kContext);
    } else {
      r.old_resource_properties = Json::Value(Json::objectValue);
    }
  }

  auto continuation = read_continuation(event);
  if (!continuation) return continuation.error();
  r.continuation = std::move(*continuation);
  return r;
}

std::string dedup_key(const ResponseTarget& target, int invocation) {
  // StackId is an ARN and RequestId a UUID: neither holds a newline.
  std::string key = target.stack_id + "\n" + target.request_id;
  if (invocation > 0) key += "\n" + std::to_string(invocation);
  return key;
}

std::string dedup_key(const CustomResourceRequest& request) {
  return dedup_key(request.response_target(), request.continuation ? request.continuation->invocation : 0);
}

}  // namespace ecrs::cfn
