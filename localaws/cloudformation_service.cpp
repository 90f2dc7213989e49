#include "cloudformation_service.hpp"

#include <cstdio>
#include <ctime>

#include "ecrs/localaws/ecr_service.hpp"

namespace ecrs::localaws {
namespace {

// botocore cloudformation service-2.json metadata: apiVersion and xmlNamespace.
constexpr const char* kApiVersion = "2010-05-15";
constexpr const char* kNs = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
constexpr const char* kDeleteComplete = "DELETE_COMPLETE";

std::string iso8601_millis(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

std::string element(const char* name, const std::string& value) {
  return std::string("<") + name + ">" + xml_escape(value) + "</" + name + ">";
}

HttpResponse xml_reply(int status, const std::string& body, const std::string& request_id) {
  HttpResponse res;
  res.status = status;
  res.headers.emplace_back("Content-Type", "text/xml");
  res.headers.emplace_back("x-amzn-RequestId", request_id);
  res.body = body;
  return res;
}

// The query protocol's error document, in CloudFormation's namespace (aws_protocols' query_error is STS's).
HttpResponse error_reply(int status, const std::string& code, const std::string& message,
                         const std::string& request_id) {
  return xml_reply(status,
                   std::string("<ErrorResponse xmlns=\"") + kNs + "\"><Error><Type>Sender</Type>" +
                       element("Code", code) + element("Message", message) + "</Error>" +
                       element("RequestId", request_id) + "</ErrorResponse>",
                   request_id);
}

// The verifier speaks the JSON services' codes; query-protocol services (STS, CloudFormation) have their own.
std::string query_auth_code(const std::string& json_code) {
  if (json_code == "UnrecognizedClientException") return "InvalidClientTokenId";
  if (json_code == "InvalidSignatureException") return "SignatureDoesNotMatch";
  if (json_code == "MissingAuthenticationTokenException") return "MissingAuthenticationToken";
  if (json_code == "IncompleteSignatureException") return "IncompleteSignature";
  return json_code;
}

std::string param(const std::map<std::string, std::string>& form, const char* name) {
  auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

// Newest first: a name reused after a deletion means the live stack. Deleted stacks answer to their id only.
template <class Stacks>
auto* find_stack(Stacks& stacks, const std::string& name_or_id) {
  for (auto it = stacks.rbegin(); it != stacks.rend(); ++it) {
    if (it->stack_id == name_or_id) return &*it;
    if (it->stack_name == name_or_id && it->stack_status != kDeleteComplete) return &*it;
  }
  return static_cast<decltype(&*stacks.rbegin())>(nullptr);
}

}  // namespace

CloudFormationStacks::CloudFormationStacks(std::string account_id, std::string region, const Clock& clock)
    : account_id_(std::move(account_id)), region_(std::move(region)), clock_(clock) {}

std::string CloudFormationStacks::put_stack(const std::string& stack_name, std::string stack_id) {
  std::lock_guard lock(mu_);
  if (stack_id.empty()) {
    char uuid[40];
    std::snprintf(uuid, sizeof uuid, "6f1c2a30-%04x-11ef-9d4a-0a1b2c3d4e5f", ++next_id_ & 0xffffu);
    stack_id = "arn:aws:cloudformation:" + region_ + ":" + account_id_ + ":stack/" + stack_name + "/" + uuid;
  }
  if (StackSpec* live = find_stack(stacks_, stack_name); live != nullptr && live->stack_name == stack_name) {
    live->stack_id = stack_id;
    live->resources.clear();
    return stack_id;
  }
  StackSpec s;
  s.stack_name = stack_name;
  s.stack_id = stack_id;
  stacks_.push_back(std::move(s));
  return stack_id;
}

bool CloudFormationStacks::put_resource(const std::string& stack_name_or_id, StackResourceSpec resource) {
  std::lock_guard lock(mu_);
  StackSpec* s = find_stack(stacks_, stack_name_or_id);
  if (s == nullptr) return false;
  if (resource.last_updated == std::chrono::system_clock::time_point{}) resource.last_updated = clock_.now();
  const std::string key = resource.logical_resource_id;
  s->resources[key] = std::move(resource);
  return true;
}

bool CloudFormationStacks::set_stack_status(const std::string& stack_name_or_id, std::string status) {
  std::lock_guard lock(mu_);
  StackSpec* s = find_stack(stacks_, stack_name_or_id);
  if (s == nullptr) return false;
  s->stack_status = std::move(status);
  return true;
}

std::optional<StackSpec> CloudFormationStacks::find(const std::string& name_or_id) const {
  std::lock_guard lock(mu_);
  const StackSpec* s = find_stack(stacks_, name_or_id);
  if (s == nullptr) return std::nullopt;
  return *s;
}

void CloudFormationStacks::count_call(const std::string& action) {
  std::lock_guard lock(mu_);
  ++calls_[action];
}

std::uint64_t CloudFormationStacks::calls(const std::string& action) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(action);
  return it == calls_.end() ? 0 : it->second;
}

bool CloudFormationService::handle(const HttpRequest& req, const Responder& respond) {
  if (req.method != "POST" || req.path != "/" || signing_service_of(req) != "cloudformation") return false;
  const std::string request_id = make_request_id(request_ids_);
  const auto form = parse_form(req.body);
  const std::string action = param(form, "Action");
  stacks_.count_call(action);
  AuthFailure failure;
  auto account = principals_.authenticate(req, region_, "cloudformation", clock_.now(), &failure);
  if (!account) {
    respond(error_reply(403, query_auth_code(failure.error_code), failure.message, request_id));
    return true;
  }
  if (action != "DescribeStackResource" || param(form, "Version") != kApiVersion) {
    respond(error_reply(400, "InvalidAction",
                        "Could not find operation " + action + " for version " + param(form, "Version"), request_id));
    return true;
  }
  const std::string stack_name = param(form, "StackName");
  const std::string logical_id = param(form, "LogicalResourceId");
  if (stack_name.empty() || logical_id.empty()) {
    respond(error_reply(400, "ValidationError",
                        std::string("1 validation error detected: Value null at '") +
                            (stack_name.empty() ? "stackName" : "logicalResourceId") +
                            "' failed to satisfy constraint: Member must not be null",
                        request_id));
    return true;
  }
  // Another account's keys (from AssumeRole) see none of the main account's stacks.
  std::optional<StackSpec> stack = *account == stacks_.account_id() ? stacks_.find(stack_name) : std::nullopt;
  if (!stack) {
    respond(error_reply(400, "ValidationError", "Stack with id " + stack_name + " does not exist", request_id));
    return true;
  }
  auto it = stack->resources.find(logical_id);
  if (it == stack->resources.end()) {
    respond(error_reply(400, "ValidationError",
                        "Resource " + logical_id + " does not exist for stack " + stack->stack_name, request_id));
    return true;
  }
  const StackResourceSpec& r = it->second;
  std::string detail = element("StackName", stack->stack_name) + element("StackId", stack->stack_id) +
                       element("LogicalResourceId", r.logical_resource_id);
  if (!r.physical_resource_id.empty()) detail += element("PhysicalResourceId", r.physical_resource_id);
  detail += element("ResourceType", r.resource_type) + element("LastUpdatedTimestamp", iso8601_millis(r.last_updated)) +
            element("ResourceStatus", r.resource_status);
  respond(xml_reply(200,
                    std::string("<DescribeStackResourceResponse xmlns=\"") + kNs +
                        "\"><DescribeStackResourceResult><StackResourceDetail>" + detail +
                        "</StackResourceDetail></DescribeStackResourceResult><ResponseMetadata>" +
                        element("RequestId", request_id) + "</ResponseMetadata></DescribeStackResourceResponse>",
                    request_id));
  return true;
}

}  // namespace ecrs::localaws
