#include "ecrs/ecr/admin_client.hpp"

#include <string>

#include "ecrs/common/json.hpp"

namespace ecrs::ecr {
namespace {

Error invalid(std::string_view operation, std::string message) {
  return make_error("InvalidResponse", std::move(message), std::string(operation));
}

std::string string_or_empty(const Json::Value& obj, const char* key) { return get_string(obj, key).value_or(""); }

// Shape Tag is capitalised on the wire (Key/Value), unlike every other ECR member.
Json::Value encode_tags(const std::vector<Tag>& tags) {
  Json::Value a(Json::arrayValue);
  for (const auto& t : tags) {
    Json::Value v(Json::objectValue);
    v["Key"] = t.key;
    v["Value"] = t.value;
    a.append(v);
  }
  return a;
}

Json::Value encode_encryption(const EncryptionConfiguration& e) {
  Json::Value v(Json::objectValue);
  v["encryptionType"] = e.encryption_type;
  if (e.kms_key) v["kmsKey"] = *e.kms_key;
  return v;
}

EncryptionConfiguration decode_encryption(const Json::Value& v) {
  EncryptionConfiguration e;
  e.encryption_type = get_string(v, "encryptionType").value_or("AES256");
  e.kms_key = get_string(v, "kmsKey");
  return e;
}

// A member of a response body, or null when the body is not an object (jsoncpp asserts otherwise).
const Json::Value& member_of(const Json::Value& body, const char* key) {
  static const Json::Value kNull;
  if (!body.isObject()) return kNull;
  const Json::Value* v = body.find(key, key + std::char_traits<char>::length(key));
  return v == nullptr ? kNull : *v;
}

std::string subject_of(const std::string& key, const std::string& value) {
  return value.empty() ? std::string() : key + "=" + value;
}

}  // namespace

Json::Value encode_create_repository(const CreateRepositoryRequest& r) {
  Json::Value in(Json::objectValue);
  in["repositoryName"] = r.repository_name;
  if (r.registry_id) in["registryId"] = *r.registry_id;
  if (r.image_tag_mutability) in["imageTagMutability"] = *r.image_tag_mutability;
  if (r.scan_on_push) in["imageScanningConfiguration"]["scanOnPush"] = *r.scan_on_push;
  if (r.encryption_configuration) in["encryptionConfiguration"] = encode_encryption(*r.encryption_configuration);
  if (!r.tags.empty()) in["tags"] = encode_tags(r.tags);
  return in;
}

Json::Value encode_repository_creation_template(const RepositoryCreationTemplate& t) {
  Json::Value in(Json::objectValue);
  in["prefix"] = t.prefix;
  if (t.description) in["description"] = *t.description;
  if (t.encryption_configuration) in["encryptionConfiguration"] = encode_encryption(*t.encryption_configuration);
  if (!t.resource_tags.empty()) in["resourceTags"] = encode_tags(t.resource_tags);
  if (t.image_tag_mutability) in["imageTagMutability"] = *t.image_tag_mutability;
  if (t.repository_policy) in["repositoryPolicy"] = *t.repository_policy;
  if (t.lifecycle_policy) in["lifecyclePolicy"] = *t.lifecycle_policy;
  if (!t.applied_for.empty()) {
    Json::Value a(Json::arrayValue);
    for (const auto& s : t.applied_for) a.append(s);
    in["appliedFor"] = a;
  }
  if (t.custom_role_arn) in["customRoleArn"] = *t.custom_role_arn;
  return in;
}

Result<RepositoryDetail> decode_create_repository(const Json::Value& body) {
  constexpr std::string_view op = "CreateRepository";
  if (!body.isObject() || !body["repository"].isObject()) return invalid(op, "response has no repository object");
  const Json::Value& r = body["repository"];
  RepositoryDetail d;
  d.repository.repository_arn = string_or_empty(r, "repositoryArn");
  d.repository.registry_id = string_or_empty(r, "registryId");
  d.repository.repository_name = string_or_empty(r, "repositoryName");
  d.repository.repository_uri = string_or_empty(r, "repositoryUri");
  d.repository.created_at = get_number(r, "createdAt");
  d.repository.image_tag_mutability = string_or_empty(r, "imageTagMutability");
  if (d.repository.repository_arn.empty()) return invalid(op, "repository.repositoryArn is missing");
  if (r["imageScanningConfiguration"].isObject()) {
    d.scan_on_push = get_bool(r["imageScanningConfiguration"], "scanOnPush").value_or(false);
  }
  if (r["encryptionConfiguration"].isObject()) d.encryption_configuration = decode_encryption(r["encryptionConfiguration"]);
  return d;
}

Result<RepositoryCreationTemplate> decode_repository_creation_template(const Json::Value& v) {
  constexpr std::string_view op = "RepositoryCreationTemplate";
  if (!v.isObject()) return invalid(op, "repositoryCreationTemplate is not an object");
  RepositoryCreationTemplate t;
  t.prefix = string_or_empty(v, "prefix");
  if (t.prefix.empty()) return invalid(op, "repositoryCreationTemplate.prefix is missing");
  t.description = get_string(v, "description");
  if (v["encryptionConfiguration"].isObject()) t.encryption_configuration = decode_encryption(v["encryptionConfiguration"]);
  if (const Json::Value& tags = v["resourceTags"]; tags.isArray()) {
    for (const auto& tag : tags) {
      if (!tag.isObject()) return invalid(op, "a resourceTags entry is not an object");
      t.resource_tags.push_back(Tag{string_or_empty(tag, "Key"), string_or_empty(tag, "Value")});
    }
  }
  t.image_tag_mutability = get_string(v, "imageTagMutability");
  t.repository_policy = get_string(v, "repositoryPolicy");
  t.lifecycle_policy = get_string(v, "lifecyclePolicy");
  if (const Json::Value& applied = v["appliedFor"]; applied.isArray()) {
    for (const auto& a : applied) {
      if (!a.isString()) return invalid(op, "an appliedFor entry is not a string");
      t.applied_for.push_back(a.asString());
    }
  }
  t.custom_role_arn = get_string(v, "customRoleArn");
  t.created_at = get_number(v, "createdAt");
  t.updated_at = get_number(v, "updatedAt");
  return t;
}

Result<Json::Value> EcrAdminClient::call(std::string_view operation, const Json::Value& input,
                                         const std::string& subject, aws::CallOptions& options) {
  if (options.context.empty()) options.context = subject;
  auto r = aws_->json_call(kEcrTargetPrefix, operation, input, options);
  if (!r) {
    Error e = std::move(r).error();
    if (e.context.empty()) e.context = std::string(operation) + (options.context.empty() ? "" : " " + options.context);
    return e;
  }
  return r;
}

Result<RepositoryDetail> EcrAdminClient::create_repository(const CreateRepositoryRequest& request,
                                                           aws::CallOptions options) {
  auto r = call("CreateRepository", encode_create_repository(request),
                subject_of("repository", request.repository_name), options);
  if (!r) return r.error();
  return decode_create_repository(*r);
}

Result<void> EcrAdminClient::tag_resource(const TagResourceRequest& request, aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  in["resourceArn"] = request.resource_arn;
  in["tags"] = encode_tags(request.tags);
  auto r = call("TagResource", in, subject_of("resource", request.resource_arn), options);
  if (!r) return r.error();
  return {};
}

Result<void> EcrAdminClient::set_repository_policy(const SetRepositoryPolicyRequest& request,
                                                   aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  in["repositoryName"] = request.repository_name;
  if (request.registry_id) in["registryId"] = *request.registry_id;
  in["policyText"] = request.policy_text;
  if (request.force) in["force"] = true;
  auto r = call("SetRepositoryPolicy", in, subject_of("repository", request.repository_name), options);
  if (!r) return r.error();
  return {};
}

Result<RepositoryCreationTemplate> EcrAdminClient::create_repository_creation_template(
    const RepositoryCreationTemplate& t, aws::CallOptions options) {
  auto r = call("CreateRepositoryCreationTemplate", encode_repository_creation_template(t),
                subject_of("prefix", t.prefix), options);
  if (!r) return r.error();
  return decode_repository_creation_template(member_of(*r, "repositoryCreationTemplate"));
}

Result<RepositoryCreationTemplate> EcrAdminClient::update_repository_creation_template(
    const RepositoryCreationTemplate& t, aws::CallOptions options) {
  auto r = call("UpdateRepositoryCreationTemplate", encode_repository_creation_template(t),
                subject_of("prefix", t.prefix), options);
  if (!r) return r.error();
  return decode_repository_creation_template(member_of(*r, "repositoryCreationTemplate"));
}

Result<DescribeRepositoryCreationTemplatesResponse> EcrAdminClient::describe_repository_creation_templates(
    const DescribeRepositoryCreationTemplatesRequest& request, aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  if (!request.prefixes.empty()) {
    for (const auto& p : request.prefixes) in["prefixes"].append(p);
  }
  if (request.max_results) in["maxResults"] = *request.max_results;
  if (request.next_token) in["nextToken"] = *request.next_token;
  auto r = call("DescribeRepositoryCreationTemplates", in, "", options);
  if (!r) return r.error();
  const Json::Value& body = *r;
  if (!body.isObject()) return invalid("DescribeRepositoryCreationTemplates", "response is not a JSON object");
  DescribeRepositoryCreationTemplatesResponse out;
  out.registry_id = string_or_empty(body, "registryId");
  if (const Json::Value& list = body["repositoryCreationTemplates"]; list.isArray()) {
    for (const auto& v : list) {
      auto t = decode_repository_creation_template(v);
      if (!t) return t.error();
      out.repository_creation_templates.push_back(std::move(*t));
    }
  }
  out.next_token = get_string(body, "nextToken");
  if (out.next_token && out.next_token->empty()) out.next_token.reset();
  return out;
}

Result<RepositoryCreationTemplate> EcrAdminClient::delete_repository_creation_template(const std::string& prefix,
                                                                                       aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  in["prefix"] = prefix;
  auto r = call("DeleteRepositoryCreationTemplate", in, subject_of("prefix", prefix), options);
  if (!r) return r.error();
  return decode_repository_creation_template(member_of(*r, "repositoryCreationTemplate"));
}

}  // namespace ecrs::ecr
