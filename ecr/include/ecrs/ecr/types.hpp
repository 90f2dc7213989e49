#pragma once
// ECR shapes as botocore's model names them (botocore/data/ecr/2015-09-21/service-2.json), in snake_case so a
// grep from the model lands here. Only the members the sweeper reads are kept.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ecrs::ecr {

// Shape ImageIdentifier: both members are optional on the wire. An empty string means "absent": ECR digests are
// never empty and ImageTag has min length 1 in the model.
struct ImageId {
  std::string image_digest;
  std::string image_tag;
  friend bool operator==(const ImageId&, const ImageId&) = default;
};

// Shape ImageDetail (DescribeImages), plus child_digests, which is ours: an index's manifests[].digest as read
// through BatchGetImage (the model has no member for it; see shared/docs/ecr-api.md §3).
struct ImageDetail {
  std::string image_digest;
  std::vector<std::string> image_tags;
  std::optional<double> image_pushed_at;  // epoch seconds, as awsJson sends timestamps
  std::optional<std::int64_t> image_size_in_bytes;
  std::string image_manifest_media_type;
  std::string artifact_media_type;
  std::string subject_manifest_digest;  // set on OCI 1.1 referrers (signatures, SBOMs, attestations)
  std::vector<std::string> child_digests;
};

// Shape ImageFailure (BatchDeleteImage/BatchGetImage `failures`): a per-image failure inside an HTTP 200.
struct ImageFailure {
  ImageId image_id;
  std::string failure_code;  // shape ImageFailureCode
  std::string failure_reason;
};

// Media types of image indexes: Docker's manifest list and OCI's image index.
inline constexpr const char* kDockerManifestListMediaType = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kOciImageIndexMediaType = "application/vnd.oci.image.index.v1+json";

inline bool is_index_media_type(const std::string& media_type) {
  return media_type == kDockerManifestListMediaType || media_type == kOciImageIndexMediaType;
}

}  // namespace ecrs::ecr
