#include "ecrs/ecr/lifecycle_client.hpp"

#include "ecrs/common/json.hpp"
#include "ecrs/ecr/ecr_client.hpp"

namespace ecrs::ecr {
namespace {

constexpr const char* kInvalidResponse = "InvalidResponse";

Error invalid(std::string_view operation, std::string message) {
  return make_error(kInvalidResponse, std::move(message), std::string(operation));
}

Json::Value common_input(const std::string& repository_name, const std::optional<std::string>& registry_id) {
  Json::Value in(Json::objectValue);
  in["repositoryName"] = repository_name;
  if (registry_id) in["registryId"] = *registry_id;
  return in;
}

}  // namespace

LifecyclePolicyPreviewStatus parse_preview_status(std::string_view s) {
  if (s == "IN_PROGRESS") return LifecyclePolicyPreviewStatus::in_progress;
  if (s == "COMPLETE") return LifecyclePolicyPreviewStatus::complete;
  if (s == "EXPIRED") return LifecyclePolicyPreviewStatus::expired;
  if (s == "FAILED") return LifecyclePolicyPreviewStatus::failed;
  return LifecyclePolicyPreviewStatus::unknown;
}

std::string_view to_string(LifecyclePolicyPreviewStatus s) {
  switch (s) {
    case LifecyclePolicyPreviewStatus::in_progress: return "IN_PROGRESS";
    case LifecyclePolicyPreviewStatus::complete: return "COMPLETE";
    case LifecyclePolicyPreviewStatus::expired: return "EXPIRED";
    case LifecyclePolicyPreviewStatus::failed: return "FAILED";
    case LifecyclePolicyPreviewStatus::unknown: break;
  }
  return "UNKNOWN";
}

bool is_lifecycle_policy_not_found(const Error& e) { return e.code == kLifecyclePolicyNotFound; }

Result<LifecyclePolicyResponse> decode_lifecycle_policy(const Json::Value& body, std::string_view operation) {
  if (!body.isObject()) return invalid(operation, "response is not a JSON object");
  LifecyclePolicyResponse out;
  out.registry_id = get_string(body, "registryId").value_or("");
  out.repository_name = get_string(body, "repositoryName").value_or("");
  out.lifecycle_policy_text = get_string(body, "lifecyclePolicyText").value_or("");
  out.last_evaluated_at = get_number(body, "lastEvaluatedAt");
  return out;
}

Result<GetLifecyclePolicyPreviewResponse> decode_get_lifecycle_policy_preview(const Json::Value& body) {
  constexpr std::string_view op = "GetLifecyclePolicyPreview";
  if (!body.isObject()) return invalid(op, "response is not a JSON object");
  GetLifecyclePolicyPreviewResponse out;
  out.repository_name = get_string(body, "repositoryName").value_or("");
  out.status = parse_preview_status(get_string(body, "status").value_or(""));
  if (auto t = get_string(body, "nextToken"); t && !t->empty()) out.next_token = *t;
  const Json::Value& results = body["previewResults"];
  if (!results.isNull() && !results.isArray()) return invalid(op, "member previewResults is not a list");
  for (const auto& r : results) {
    if (!r.isObject()) return invalid(op, "a previewResults entry is not an object");
    LifecyclePolicyPreviewResult item;
    item.image_digest = get_string(r, "imageDigest").value_or("");
    const Json::Value& tags = r["imageTags"];
    if (tags.isArray()) {
      for (const auto& t : tags) {
        if (t.isString()) item.image_tags.push_back(t.asString());
      }
    }
    item.image_pushed_at = get_number(r, "imagePushedAt");
    if (r["action"].isObject()) item.action_type = get_string(r["action"], "type").value_or("");
    item.applied_rule_priority = get_int(r, "appliedRulePriority");
    out.preview_results.push_back(std::move(item));
  }
  if (body["summary"].isObject()) out.expiring_image_total_count = get_int(body["summary"], "expiringImageTotalCount");
  return out;
}

Result<Json::Value> LifecycleClient::call(std::string_view operation, const Json::Value& input,
                                          const std::string& repository, aws::CallOptions& options) {
  if (options.context.empty()) options.context = "repository=" + repository;
  return aws_->json_call(kEcrTargetPrefix, operation, input, options);
}

Result<LifecyclePolicyResponse> LifecycleClient::get_lifecycle_policy(const LifecyclePolicyRequest& request,
                                                                      aws::CallOptions options) {
  auto body = call("GetLifecyclePolicy", common_input(request.repository_name, request.registry_id),
                   request.repository_name, options);
  if (!body) return body.error();
  return decode_lifecycle_policy(*body, "GetLifecyclePolicy");
}

Result<LifecyclePolicyResponse> LifecycleClient::put_lifecycle_policy(const PutLifecyclePolicyInput& request,
                                                                      aws::CallOptions options) {
  Json::Value in = common_input(request.repository_name, request.registry_id);
  in["lifecyclePolicyText"] = request.lifecycle_policy_text;
  auto body = call("PutLifecyclePolicy", in, request.repository_name, options);
  if (!body) return body.error();
  return decode_lifecycle_policy(*body, "PutLifecyclePolicy");
}

Result<LifecyclePolicyResponse> LifecycleClient::delete_lifecycle_policy(const LifecyclePolicyRequest& request,
                                                                         aws::CallOptions options) {
  auto body = call("DeleteLifecyclePolicy", common_input(request.repository_name, request.registry_id),
                   request.repository_name, options);
  if (!body) return body.error();
  return decode_lifecycle_policy(*body, "DeleteLifecyclePolicy");
}

Result<StartLifecyclePolicyPreviewResponse> LifecycleClient::start_lifecycle_policy_preview(
    const StartLifecyclePolicyPreviewRequest& request, aws::CallOptions options) {
  Json::Value in = common_input(request.repository_name, request.registry_id);
  if (request.lifecycle_policy_text) in["lifecyclePolicyText"] = *request.lifecycle_policy_text;
  auto body = call("StartLifecyclePolicyPreview", in, request.repository_name, options);
  if (!body) return body.error();
  if (!body->isObject()) return invalid("StartLifecyclePolicyPreview", "response is not a JSON object");
  StartLifecyclePolicyPreviewResponse out;
  out.repository_name = get_string(*body, "repositoryName").value_or("");
  out.status = parse_preview_status(get_string(*body, "status").value_or(""));
  return out;
}

Result<GetLifecyclePolicyPreviewResponse> LifecycleClient::get_lifecycle_policy_preview(
    const GetLifecyclePolicyPreviewRequest& request, aws::CallOptions options) {
  Json::Value in = common_input(request.repository_name, request.registry_id);
  if (request.max_results) in["maxResults"] = *request.max_results;
  if (request.next_token) in["nextToken"] = *request.next_token;
  auto body = call("GetLifecyclePolicyPreview", in, request.repository_name, options);
  if (!body) return body.error();
  return decode_get_lifecycle_policy_preview(*body);
}

}  // namespace ecrs::ecr
