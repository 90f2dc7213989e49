#pragma once
// Typed ECR calls over the awsJson 1.1 core. Request and response members keep the model's names
// (botocore/data/ecr/2015-09-21/service-2.json) in snake_case. Every response is decoded completely: each
// `failures` entry comes back typed, never dropped, because a partial failure is still HTTP 200.
#include <json/value.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/aws/client.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/ecr/types.hpp"

namespace ecrs::ecr {

// X-Amz-Target prefix of every ECR operation (service-2.json metadata.targetPrefix).
inline constexpr std::string_view kEcrTargetPrefix = "AmazonEC2ContainerRegistry_V20150921";
// ListImages/DescribeImages maxResults upper bound (service-2.json MaxResults, 1..1000).
inline constexpr int kMaxListImagesResults = 1000;
// BatchDeleteImage/BatchGetImage/DescribeImages imageIds: 1..100 (service-2.json ImageIdentifierList).
inline constexpr std::size_t kMaxImageIdsPerCall = 100;

// Shape ListImagesFilter/DescribeImagesFilter tagStatus: TAGGED | UNTAGGED | ANY.
enum class TagStatus { any, tagged, untagged };

struct ListImagesRequest {
  std::string repository_name;
  std::optional<std::string> registry_id;
  std::optional<int> max_results;
  std::optional<std::string> next_token;
  std::optional<TagStatus> tag_status;
};
struct ListImagesResponse {
  std::vector<ImageId> image_ids;  // one entry per (digest, tag) pair; an untagged image has no tag
  std::optional<std::string> next_token;  // absent on the last page
};

struct DescribeImagesRequest {
  std::string repository_name;
  std::optional<std::string> registry_id;
  std::vector<ImageId> image_ids;  // 1..100, or empty to page with max_results/next_token
  std::optional<int> max_results;
  std::optional<std::string> next_token;
  std::optional<TagStatus> tag_status;
};
struct DescribeImagesResponse {
  std::vector<ImageDetail> image_details;
  std::optional<std::string> next_token;
};

struct BatchDeleteImageRequest {
  std::string repository_name;
  std::optional<std::string> registry_id;
  std::vector<ImageId> image_ids;  // 1..100
};
struct BatchDeleteImageResponse {
  std::vector<ImageId> image_ids;  // deleted
  std::vector<ImageFailure> failures;
};

struct BatchGetImageRequest {
  std::string repository_name;
  std::optional<std::string> registry_id;
  std::vector<ImageId> image_ids;  // 1..100
  std::vector<std::string> accepted_media_types;  // 1..100
};
// Shape Image.
struct Image {
  std::string registry_id;
  std::string repository_name;
  ImageId image_id;
  std::string image_manifest;
  std::string image_manifest_media_type;
};
struct BatchGetImageResponse {
  std::vector<Image> images;
  std::vector<ImageFailure> failures;
};

// Shape Repository.
struct Repository {
  std::string repository_arn;
  std::string registry_id;
  std::string repository_name;
  std::string repository_uri;
  std::optional<double> created_at;
  std::string image_tag_mutability;
};

struct DescribeRepositoriesRequest {
  std::optional<std::string> registry_id;
  std::vector<std::string> repository_names;  // 1..100, or empty to page
  std::optional<int> max_results;
  std::optional<std::string> next_token;
};
struct DescribeRepositoriesResponse {
  std::vector<Repository> repositories;
  std::optional<std::string> next_token;
};

struct DeleteRepositoryRequest {
  std::string repository_name;
  std::optional<std::string> registry_id;
  bool force = false;  // without it a non-empty repository fails with RepositoryNotEmptyException
};
struct DeleteRepositoryResponse {
  Repository repository;
};

// Shape Tag: capitalised Key/Value on the wire.
struct Tag {
  std::string key;
  std::string value;
};
struct ListTagsForResourceRequest {
  std::string resource_arn;
};
struct ListTagsForResourceResponse {
  std::vector<Tag> tags;
};

// A listing page as it came over the wire, not yet decoded. next_token is read first (trailing_next_token, else a
// scan of the body's top-level members), so a caller can send the next page's request (the pages chain on the
// token) while this one decodes; decode `body` with the streaming decode_list_images/decode_describe_images below,
// which check the whole text and return the token again, then drop it.
struct RawPage {
  std::string body;
  std::optional<std::string> next_token;  // absent on the last page
};

class EcrClient {
 public:
  explicit EcrClient(aws::AwsClient& aws) : aws_(&aws) {}
  // The configured total attempts per call (AWS_MAX_ATTEMPTS, the profile's max_attempts, the retry mode).
  int max_attempts() const { return aws_->max_attempts(); }

  // `options.context` is filled in ("BatchDeleteImage repository=web") when empty; max_attempts and stats pass
  // through, so the executor can own BatchDeleteImage's retries.
  Result<ListImagesResponse> list_images(const ListImagesRequest& request, aws::CallOptions options = {});
  Result<DescribeImagesResponse> describe_images(const DescribeImagesRequest& request, aws::CallOptions options = {});
  // The same calls, the body left for the caller to decode (a malformed body is still an InvalidResponse here).
  Result<RawPage> list_images_page(const ListImagesRequest& request, aws::CallOptions options = {});
  Result<RawPage> describe_images_page(const DescribeImagesRequest& request, aws::CallOptions options = {});
  Result<BatchDeleteImageResponse> batch_delete_image(const BatchDeleteImageRequest& request,
                                                      aws::CallOptions options = {});
  Result<BatchGetImageResponse> batch_get_image(const BatchGetImageRequest& request, aws::CallOptions options = {});
  Result<DescribeRepositoriesResponse> describe_repositories(const DescribeRepositoriesRequest& request,
                                                             aws::CallOptions options = {});
  Result<DeleteRepositoryResponse> delete_repository(const DeleteRepositoryRequest& request,
                                                     aws::CallOptions options = {});
  Result<ListTagsForResourceResponse> list_tags_for_resource(const ListTagsForResourceRequest& request,
                                                             aws::CallOptions options = {});

  // Index children: BatchGetImage with both index media types accepted, then each manifest's
  // manifests[].digest (shared/docs/ecr-api.md §3). Result maps index digest -> children; digests that are
  // not indexes (or are gone) are absent. At most kMaxImageIdsPerCall digests per call; more are chunked.
  Result<std::vector<std::pair<std::string, std::vector<std::string>>>> index_children(
      const std::string& repository_name, const std::optional<std::string>& registry_id,
      const std::vector<std::string>& index_digests, aws::CallOptions options = {});

 private:
  Result<Json::Value> call(std::string_view operation, const Json::Value& input, const std::string& subject,
                           aws::CallOptions& options);
  Result<RawPage> call_page(std::string_view operation, const Json::Value& input, const std::string& subject,
                            aws::CallOptions& options);
  aws::AwsClient* aws_;
};

// Pure decoders, exposed for tests: a response body that does not match the model is an Error (code
// InvalidResponse) naming the member, never an exception.
Result<ListImagesResponse> decode_list_images(const Json::Value& body);
Result<DescribeImagesResponse> decode_describe_images(const Json::Value& body);
Result<BatchDeleteImageResponse> decode_batch_delete_image(const Json::Value& body);
Result<BatchGetImageResponse> decode_batch_get_image(const Json::Value& body);
Result<DescribeRepositoriesResponse> decode_describe_repositories(const Json::Value& body);

// Streaming decoders over a raw body: no JSON tree, one entry object reused from entry to entry (move out what
// you keep), the same members, absences and errors as the Json::Value decoders, the whole text checked. They
// return the page's nextToken.
Result<std::optional<std::string>> decode_list_images(std::string_view body,
                                                      const std::function<void(ImageId&)>& on_image_id);
Result<std::optional<std::string>> decode_describe_images(std::string_view body,
                                                          const std::function<void(ImageDetail&)>& on_detail);
// The top-level member nextToken of a JSON object (absent, null, not a string or empty: none), skipping every
// other member whatever it holds, strings with "nextToken" inside included. Malformed JSON is an Error.
Result<std::optional<std::string>> find_next_token(std::string_view body);
// nextToken read from the end of the body, where ECR writes it (the output shape's last member): the text ends with
// `,"nextToken":"<token>"}` (or `{"nextToken"...`), whitespace allowed, the token with no escapes. In valid JSON
// that is the top-level member, and only the whole-text decode can tell the JSON is valid, so a caller compares
// the decoder's token with this one. Anything else, escapes included, is nullopt: scan with find_next_token.
// An empty token is the last page, as for find_next_token. Microseconds, where the scan reads all ~390 KB.
std::optional<std::optional<std::string>> trailing_next_token(std::string_view body);

// An image index's manifests[].digest (OCI image-index / Docker manifest list). A manifest that is not JSON or
// has no `manifests` array is an Error.
Result<std::vector<std::string>> parse_index_manifest(std::string_view manifest);

std::string_view to_string(TagStatus s);

}  // namespace ecrs::ecr
