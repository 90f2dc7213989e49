#include "ecrs/ecr/ecr_client.hpp"

#include <algorithm>
#include <exception>

#include "ecrs/common/json.hpp"

namespace ecrs::ecr {
namespace {

constexpr const char* kInvalidResponse = "InvalidResponse";

Error invalid(std::string_view operation, std::string message) {
  return make_error(kInvalidResponse, std::move(message), std::string(operation));
}

// Members of an object, or null when `obj` is not an object (jsoncpp's const operator[] asserts on arrays).
const Json::Value* member(const Json::Value& obj, const char* key) {
  if (!obj.isObject()) return nullptr;
  const Json::Value* v = obj.find(key, key + std::char_traits<char>::length(key));
  if (v == nullptr || v->isNull()) return nullptr;
  return v;
}

std::string string_or_empty(const Json::Value& obj, const char* key) { return get_string(obj, key).value_or(""); }

// An optional array member: absent is an empty list, any other type is a decode error.
Result<const Json::Value*> array_member(const Json::Value& obj, const char* key, std::string_view operation) {
  const Json::Value* v = member(obj, key);
  if (v == nullptr) return static_cast<const Json::Value*>(nullptr);
  if (!v->isArray()) return invalid(operation, std::string("member ") + key + " is not a list");
  return v;
}

ImageId decode_image_id(const Json::Value& v) {
  return ImageId{string_or_empty(v, "imageDigest"), string_or_empty(v, "imageTag")};
}

Json::Value encode_image_id(const ImageId& id) {
  Json::Value v(Json::objectValue);
  if (!id.image_digest.empty()) v["imageDigest"] = id.image_digest;
  if (!id.image_tag.empty()) v["imageTag"] = id.image_tag;
  return v;
}

Json::Value encode_image_ids(const std::vector<ImageId>& ids) {
  Json::Value a(Json::arrayValue);
  for (const auto& id : ids) a.append(encode_image_id(id));
  return a;
}

Result<std::vector<ImageFailure>> decode_failures(const Json::Value& body, std::string_view operation) {
  auto arr = array_member(body, "failures", operation);
  if (!arr) return arr.error();
  std::vector<ImageFailure> out;
  if (*arr == nullptr) return out;
  for (const auto& f : **arr) {
    if (!f.isObject()) return invalid(operation, "a failures entry is not an object");
    ImageFailure failure;
    if (const auto* id = member(f, "imageId")) failure.image_id = decode_image_id(*id);
    failure.failure_code = string_or_empty(f, "failureCode");
    failure.failure_reason = string_or_empty(f, "failureReason");
    out.push_back(std::move(failure));
  }
  return out;
}

std::optional<std::string> next_token_of(const Json::Value& body) {
  auto t = get_string(body, "nextToken");
  if (t && t->empty()) return std::nullopt;
  return t;
}

void put_common(Json::Value& in, const std::string& repository_name, const std::optional<std::string>& registry_id) {
  in["repositoryName"] = repository_name;
  if (registry_id) in["registryId"] = *registry_id;
}

Repository decode_repository(const Json::Value& r) {
  Repository repo;
  repo.repository_arn = string_or_empty(r, "repositoryArn");
  repo.registry_id = string_or_empty(r, "registryId");
  repo.repository_name = string_or_empty(r, "repositoryName");
  repo.repository_uri = string_or_empty(r, "repositoryUri");
  repo.created_at = get_number(r, "createdAt");
  repo.image_tag_mutability = string_or_empty(r, "imageTagMutability");
  return repo;
}

// What CallOptions::context carries: the subject; AwsClient prefixes the operation ("ListImages repository=web").
std::string subject_of(const std::string& repository_name, const std::optional<std::string>& registry_id) {
  std::string s;
  if (!repository_name.empty()) s = "repository=" + repository_name;
  if (registry_id) s += (s.empty() ? "registry=" : " registry=") + *registry_id;
  return s;
}

std::string full_context(std::string_view operation, const std::string& subject) {
  std::string out(operation);
  if (!subject.empty()) out += " " + subject;
  return out;
}

}  // namespace

std::string_view to_string(TagStatus s) {
  switch (s) {
    case TagStatus::tagged: return "TAGGED";
    case TagStatus::untagged: return "UNTAGGED";
    case TagStatus::any: break;
  }
  return "ANY";
}

Result<ListImagesResponse> decode_list_images(const Json::Value& body) {
  constexpr std::string_view op = "ListImages";
  if (!body.isObject()) return invalid(op, "response is not a JSON object");
  auto arr = array_member(body, "imageIds", op);
  if (!arr) return arr.error();
  ListImagesResponse out;
  if (*arr != nullptr) {
    out.image_ids.reserve((*arr)->size());
    for (const auto& v : **arr) {
      if (!v.isObject()) return invalid(op, "an imageIds entry is not an object");
      out.image_ids.push_back(decode_image_id(v));
    }
  }
  out.next_token = next_token_of(body);
  return out;
}

Result<DescribeImagesResponse> decode_describe_images(const Json::Value& body) {
  constexpr std::string_view op = "DescribeImages";
  if (!body.isObject()) return invalid(op, "response is not a JSON object");
  auto arr = array_member(body, "imageDetails", op);
  if (!arr) return arr.error();
  DescribeImagesResponse out;
  if (*arr != nullptr) {
    for (const auto& v : **arr) {
      if (!v.isObject()) return invalid(op, "an imageDetails entry is not an object");
      ImageDetail d;
      d.image_digest = string_or_empty(v, "imageDigest");
      auto tags = array_member(v, "imageTags", op);
      if (!tags) return tags.error();
      if (*tags != nullptr) {
        for (const auto& t : **tags) {
          if (t.isString()) d.image_tags.push_back(t.asString());
        }
      }
      d.image_pushed_at = get_number(v, "imagePushedAt");
      d.image_size_in_bytes = get_int(v, "imageSizeInBytes");
      d.image_manifest_media_type = string_or_empty(v, "imageManifestMediaType");
      d.artifact_media_type = string_or_empty(v, "artifactMediaType");
      d.subject_manifest_digest = string_or_empty(v, "subjectManifestDigest");
      out.image_details.push_back(std::move(d));
    }
  }
  out.next_token = next_token_of(body);
  return out;
}

Result<BatchDeleteImageResponse> decode_batch_delete_image(const Json::Value& body) {
  constexpr std::string_view op = "BatchDeleteImage";
  if (!body.isObject()) return invalid(op, "response is not a JSON object");
  BatchDeleteImageResponse out;
  auto arr = array_member(body, "imageIds", op);
  if (!arr) return arr.error();
  if (*arr != nullptr) {
    for (const auto& v : **arr) {
      if (!v.isObject()) return invalid(op, "an imageIds entry is not an object");
      out.image_ids.push_back(decode_image_id(v));
    }
  }
  auto failures = decode_failures(body, op);
  if (!failures) return failures.error();
  out.failures = std::move(*failures);
  return out;
}

Result<BatchGetImageResponse> decode_batch_get_image(const Json::Value& body) {
  constexpr std::string_view op = "BatchGetImage";
  if (!body.isObject()) return invalid(op, "response is not a JSON object");
  BatchGetImageResponse out;
  auto arr = array_member(body, "images", op);
  if (!arr) return arr.error();
  if (*arr != nullptr) {
    for (const auto& v : **arr) {
      if (!v.isObject()) return invalid(op, "an images entry is not an object");
      Image img;
      img.registry_id = string_or_empty(v, "registryId");
      img.repository_name = string_or_empty(v, "repositoryName");
      if (const auto* id = member(v, "imageId")) img.image_id = decode_image_id(*id);
      img.image_manifest = string_or_empty(v, "imageManifest");
      img.image_manifest_media_type = string_or_empty(v, "imageManifestMediaType");
      out.images.push_back(std::move(img));
    }
  }
  auto failures = decode_failures(body, op);
  if (!failures) return failures.error();
  out.failures = std::move(*failures);
  return out;
}

Result<DescribeRepositoriesResponse> decode_describe_repositories(const Json::Value& body) {
  constexpr std::string_view op = "DescribeRepositories";
  if (!body.isObject()) return invalid(op, "response is not a JSON object");
  auto arr = array_member(body, "repositories", op);
  if (!arr) return arr.error();
  DescribeRepositoriesResponse out;
  if (*arr != nullptr) {
    for (const auto& v : **arr) {
      if (!v.isObject()) return invalid(op, "a repositories entry is not an object");
      out.repositories.push_back(decode_repository(v));
    }
  }
  out.next_token = next_token_of(body);
  return out;
}

Result<std::vector<std::string>> parse_index_manifest(std::string_view manifest) {
  auto doc = parse_json(manifest, "image index manifest");
  if (!doc) return doc.error();
  const auto* manifests = member(*doc, "manifests");
  if (manifests == nullptr || !manifests->isArray()) {
    return make_error(kInvalidResponse, "image index has no manifests list", "image index manifest");
  }
  std::vector<std::string> out;
  for (const auto& m : *manifests) {
    if (auto d = get_string(m, "digest"); d && !d->empty()) out.push_back(*d);
  }
  return out;
}

Result<Json::Value> EcrClient::call(std::string_view operation, const Json::Value& input, const std::string& subject,
                                    aws::CallOptions& options) {
  if (options.context.empty()) options.context = subject;
  auto r = aws_->json_call(kEcrTargetPrefix, operation, input, options);
  if (!r) {
    Error e = std::move(r).error();
    if (e.context.empty()) e.context = full_context(operation, options.context);
    return e;
  }
  return r;
}

Result<ListImagesResponse> EcrClient::list_images(const ListImagesRequest& request, aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  put_common(in, request.repository_name, request.registry_id);
  if (request.max_results) in["maxResults"] = *request.max_results;
  if (request.next_token) in["nextToken"] = *request.next_token;
  if (request.tag_status) in["filter"]["tagStatus"] = std::string(to_string(*request.tag_status));
  auto body = call("ListImages", in, subject_of(request.repository_name, request.registry_id), options);
  if (!body) return body.error();
  auto out = decode_list_images(*body);
  if (!out) out.error().context = full_context(out.error().context, options.context);
  return out;
}

Result<DescribeImagesResponse> EcrClient::describe_images(const DescribeImagesRequest& request,
                                                          aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  put_common(in, request.repository_name, request.registry_id);
  if (!request.image_ids.empty()) in["imageIds"] = encode_image_ids(request.image_ids);
  if (request.max_results) in["maxResults"] = *request.max_results;
  if (request.next_token) in["nextToken"] = *request.next_token;
  if (request.tag_status) in["filter"]["tagStatus"] = std::string(to_string(*request.tag_status));
  auto body = call("DescribeImages", in, subject_of(request.repository_name, request.registry_id), options);
  if (!body) return body.error();
  auto out = decode_describe_images(*body);
  if (!out) out.error().context = full_context(out.error().context, options.context);
  return out;
}

Result<BatchDeleteImageResponse> EcrClient::batch_delete_image(const BatchDeleteImageRequest& request,
                                                               aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  put_common(in, request.repository_name, request.registry_id);
  in["imageIds"] = encode_image_ids(request.image_ids);
  auto body = call("BatchDeleteImage", in, subject_of(request.repository_name, request.registry_id), options);
  if (!body) return body.error();
  auto out = decode_batch_delete_image(*body);
  if (!out) out.error().context = full_context(out.error().context, options.context);
  return out;
}

Result<BatchGetImageResponse> EcrClient::batch_get_image(const BatchGetImageRequest& request,
                                                         aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  put_common(in, request.repository_name, request.registry_id);
  in["imageIds"] = encode_image_ids(request.image_ids);
  if (!request.accepted_media_types.empty()) {
    Json::Value types(Json::arrayValue);
    for (const auto& t : request.accepted_media_types) types.append(t);
    in["acceptedMediaTypes"] = types;
  }
  auto body = call("BatchGetImage", in, subject_of(request.repository_name, request.registry_id), options);
  if (!body) return body.error();
  auto out = decode_batch_get_image(*body);
  if (!out) out.error().context = full_context(out.error().context, options.context);
  return out;
}

Result<DescribeRepositoriesResponse> EcrClient::describe_repositories(const DescribeRepositoriesRequest& request,
                                                                      aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  if (request.registry_id) in["registryId"] = *request.registry_id;
  if (!request.repository_names.empty()) {
    Json::Value names(Json::arrayValue);
    for (const auto& n : request.repository_names) names.append(n);
    in["repositoryNames"] = names;
  }
  if (request.max_results) in["maxResults"] = *request.max_results;
  if (request.next_token) in["nextToken"] = *request.next_token;
  const std::string subject =
      subject_of(request.repository_names.size() == 1 ? request.repository_names[0] : "", request.registry_id);
  auto body = call("DescribeRepositories", in, subject, options);
  if (!body) return body.error();
  auto out = decode_describe_repositories(*body);
  if (!out) out.error().context = full_context(out.error().context, options.context);
  return out;
}

Result<DeleteRepositoryResponse> EcrClient::delete_repository(const DeleteRepositoryRequest& request,
                                                              aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  put_common(in, request.repository_name, request.registry_id);
  if (request.force) in["force"] = true;
  auto body = call("DeleteRepository", in, subject_of(request.repository_name, request.registry_id), options);
  if (!body) return body.error();
  DeleteRepositoryResponse out;
  if (const auto* r = member(*body, "repository")) out.repository = decode_repository(*r);
  return out;
}

Result<ListTagsForResourceResponse> EcrClient::list_tags_for_resource(const ListTagsForResourceRequest& request,
                                                                      aws::CallOptions options) {
  Json::Value in(Json::objectValue);
  in["resourceArn"] = request.resource_arn;
  auto body = call("ListTagsForResource", in, "resourceArn=" + request.resource_arn, options);
  if (!body) return body.error();
  auto arr = array_member(*body, "tags", "ListTagsForResource");
  if (!arr) {
    arr.error().context = full_context("ListTagsForResource", options.context);
    return arr.error();
  }
  ListTagsForResourceResponse out;
  if (*arr != nullptr) {
    for (const auto& t : **arr) out.tags.push_back(Tag{string_or_empty(t, "Key"), string_or_empty(t, "Value")});
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::vector<std::string>>>> EcrClient::index_children(
    const std::string& repository_name, const std::optional<std::string>& registry_id,
    const std::vector<std::string>& index_digests, aws::CallOptions options) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (std::size_t i = 0; i < index_digests.size(); i += kMaxImageIdsPerCall) {
    BatchGetImageRequest req;
    req.repository_name = repository_name;
    req.registry_id = registry_id;
    req.accepted_media_types = {kOciImageIndexMediaType, kDockerManifestListMediaType};
    const std::size_t end = std::min(index_digests.size(), i + kMaxImageIdsPerCall);
    for (std::size_t j = i; j < end; ++j) req.image_ids.push_back(ImageId{index_digests[j], ""});
    auto got = batch_get_image(req, options);
    if (!got) return got.error();
    // A failure here (ImageNotFound: deleted meanwhile; UnsupportedImageType) only means we learn no children
    // for that digest; the executor still deletes it and retries children ECR refuses.
    for (const auto& img : got->images) {
      if (!is_index_media_type(img.image_manifest_media_type)) continue;
      auto children = parse_index_manifest(img.image_manifest);
      if (!children) {
        Error e = std::move(children).error();
        e.context = full_context("BatchGetImage", subject_of(repository_name, registry_id)) +
                    " digest=" + img.image_id.image_digest;
        return e;
      }
      out.emplace_back(img.image_id.image_digest, std::move(*children));
    }
  }
  return out;
}

}  // namespace ecrs::ecr
