#pragma once
// The CloudFormation custom-resource request (shared/docs/cfn-custom-resource.md §2), parsed into a typed value.
// Pure: no environment, no clock. The ResponseURL is presigned: whoever holds it can forge the stack's answer,
// so it is kept here only to be PUT to, and reaches logs only through ecrs::redact_url.
#include <json/value.h>

#include <optional>
#include <string>
#include <string_view>

#include "ecrs/cfn/continuation.hpp"
#include "ecrs/common/result.hpp"

namespace ecrs::cfn {

enum class RequestType { Create, Update, Delete };
std::string_view to_string(RequestType t);
std::optional<RequestType> request_type_from_string(std::string_view s);

// What is needed to answer at all. Parsed separately from the full request so an event with an unknown
// RequestType or malformed properties still gets a FAILED response instead of a one-hour stack hang.
struct ResponseTarget {
  std::string response_url;
  std::string stack_id;
  std::string request_id;
  std::string logical_resource_id;
  std::string physical_resource_id;         // empty on Create (CloudFormation sends none)
  std::optional<RequestType> request_type;  // nullopt when the event's RequestType is not one we know
};

struct CustomResourceRequest {
  RequestType request_type = RequestType::Create;
  std::string response_url;
  std::string stack_id;
  std::string request_id;
  std::string resource_type;
  std::string logical_resource_id;
  std::string physical_resource_id;     // always on Update/Delete, never on Create
  Json::Value resource_properties;      // object; includes ServiceToken (and ServiceTimeout when set)
  Json::Value old_resource_properties;  // object on Update, null otherwise
  std::string service_token;
  std::optional<Continuation> continuation;  // set when this invocation continues an earlier one

  ResponseTarget response_target() const;
};

// Shape detection for the dispatcher: an object carrying RequestType, ResponseURL, StackId and RequestId as
// strings. An unknown RequestType still looks like a custom resource, so it is answered FAILED.
bool looks_like_custom_resource(const Json::Value& event);

// Errors have code "InvalidEvent" (envelope unusable), "InvalidRequestType" or "InvalidContinuation"; messages
// name the field and never include the ResponseURL.
Result<ResponseTarget> parse_response_target(const Json::Value& event);
Result<CustomResourceRequest> parse_request(const Json::Value& event);

// Lambda may deliver one asynchronous event more than once (LDG/invocation-async-error-handling); StackId plus
// RequestId names the request. A continuation is a deliberate re-invocation of the same request, so its
// invocation number is part of the key: it must not be mistaken for a duplicate.
std::string dedup_key(const CustomResourceRequest& request);
std::string dedup_key(const ResponseTarget& target, int invocation = 0);

}  // namespace ecrs::cfn
