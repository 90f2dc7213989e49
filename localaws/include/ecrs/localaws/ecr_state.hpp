#pragma once
// ECR's data model, thread-safe, shared by the ECR service (HTTP) and by tests that seed or inspect it
// directly. Semantics follow the ECR API reference: deleting a tag removes only that tag and the image goes
// with its last tag; deleting a digest removes the image and all its tags; a child referenced by an image
// index cannot be deleted (ImageReferencedByManifestList).
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <json/value.h>

#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::localaws {

struct Image {
  std::string digest;                    // sha256:<64 hex>, derived from the manifest bytes
  std::set<std::string> tags;
  std::string manifest;                  // the manifest JSON as pushed
  std::string manifest_media_type;
  std::string artifact_media_type;       // optional (config.mediaType of an artifact)
  std::vector<std::string> child_digests;  // for an image index: manifests[].digest
  std::string subject_digest;            // OCI 1.1 referrer: subject.digest
  std::int64_t size_bytes = 0;
  std::chrono::system_clock::time_point pushed_at;
  std::optional<std::chrono::system_clock::time_point> last_pull;
};

// LifecyclePolicyPreviewResult in service-2.json: an image the previewed policy acts on.
struct LifecyclePreviewResult {
  std::string image_digest;
  std::vector<std::string> image_tags;
  double image_pushed_at = 0;
  std::string action;  // EXPIRE | TRANSITION (ImageActionType)
  std::int64_t applied_rule_priority = 0;
};
struct LifecyclePreview {
  std::string lifecycle_policy_text;
  std::vector<LifecyclePreviewResult> results;  // oldest push first
};

// A registry's repository creation template (RepositoryCreationTemplate in service-2.json), keyed by prefix. The
// Create/Update input members are kept as sent, so every member the model has (and a newer model adds) round-trips
// through Describe and the state file without a field list to keep in step.
struct CreationTemplate {
  Json::Value fields;  // prefix, appliedFor, imageTagMutability, encryptionConfiguration, resourceTags...
  std::chrono::system_clock::time_point created_at;
  std::chrono::system_clock::time_point updated_at;
};

struct Repository {
  std::string name;
  std::string registry_id;
  std::chrono::system_clock::time_point created_at;
  std::string tag_mutability = "MUTABLE";
  bool scan_on_push = false;
  std::string encryption_type = "AES256";
  std::string kms_key;
  std::map<std::string, std::string> tags;   // resource tags
  std::optional<std::string> lifecycle_policy;
  std::optional<std::string> repository_policy;  // SetRepositoryPolicy's policyText
  // The last StartLifecyclePolicyPreview result; a computed view of the images, so it is not saved.
  std::optional<LifecyclePreview> lifecycle_preview;
  std::map<std::string, Image> images;       // by digest
  // tag -> digest, kept in step with images[].tags: tag lookups stay O(log n) in repositories of 10,000+ images.
  std::map<std::string, std::string> tag_index;
  // child digest -> digests of the indexes listing it (ImageReferencedByManifestList without a scan).
  std::multimap<std::string, std::string> parents;

  // Removes `tag` from whichever image holds it; returns that image's digest (empty when no image had it).
  std::string untag(const std::string& tag);
  // Removes the image and all its tags.
  void erase_image(const std::string& digest);
};

// Media types ECR reports (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-manifest-formats.html).
inline constexpr const char* kDockerManifestV2 = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";

bool is_index_media_type(const std::string& media_type);

// Reads a pushed manifest as ECR does: digest = "sha256:" + hex(sha256(manifest bytes)); the media type from
// `media_type` or the manifest's own mediaType; children of an index from manifests[].digest; the OCI 1.1
// subject; size = config + layers (an index: its largest child, resolved by the caller). Fails with
// InvalidParameterException when the manifest is not a JSON object.
Result<Image> make_image(const std::string& manifest, const std::string& media_type);

// Places `image` into `repo` with an optional tag under MUTABLE semantics: a tag held by another image moves
// here and that image stays, untagged (ECR keeps images whose tag was taken by a later push).
void place_image(Repository& repo, Image image, const std::string& tag);

// "arn:aws:ecr:<region>:<account>:repository/<name>"
std::string repository_arn(const std::string& region, const std::string& account_id, const std::string& name);
// "<account>.dkr.ecr.<region>.amazonaws.com/<name>"
std::string repository_uri(const std::string& region, const std::string& account_id, const std::string& name);
double to_epoch_seconds(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point from_epoch_seconds(double s);

class EcrState {
 public:
  // `clock` stamps createdAt/imagePushedAt; null = the system clock.
  EcrState(std::string account_id, std::string region, const Clock* clock = nullptr);
  const Clock& clock() const { return *clock_; }

  // Seeding helpers (tests, demo). put_* return the digest.
  bool create_repository(const std::string& name);  // false if it exists
  bool delete_repository(const std::string& name);
  std::string put_image(const std::string& repo, const std::string& tag /* empty = untagged */,
                        std::optional<std::chrono::system_clock::time_point> pushed_at = std::nullopt);
  // An index over `children` (their digests must exist); returns the index digest.
  std::string put_index(const std::string& repo, const std::vector<std::string>& children, const std::string& tag);
  std::string put_manifest(const std::string& repo, const std::string& manifest, const std::string& media_type,
                           const std::string& tag);
  // An OCI referrer (signature, SBOM) whose subject is `subject_digest`; returns its digest.
  std::string put_referrer(const std::string& repo, const std::string& subject_digest);

  // Inspection.
  bool has_repository(const std::string& name) const;
  std::size_t image_count(const std::string& repo) const;  // digests
  std::size_t tag_count(const std::string& repo) const;
  std::vector<std::string> repositories() const;
  std::optional<Repository> repository(const std::string& name) const;

  // Repository creation templates by prefix (ROOT or a namespace without its trailing '/').
  std::vector<std::string> creation_template_prefixes() const;
  std::optional<CreationTemplate> creation_template(const std::string& prefix) const;

  // --state FILE: repositories with their settings, tags, policies and images, and the creation templates.
  // load_json accepts files written before templates and repository policies were saved (they load empty).
  Json::Value to_json() const;
  Result<void> load_json(const Json::Value& v);

  const std::string& account_id() const { return account_id_; }
  const std::string& region() const { return region_; }

  // The ECR service holds this lock while it reads or changes repositories.
  std::mutex& mutex() const { return mu_; }
  std::map<std::string, Repository>& repositories_unlocked() { return repos_; }
  std::map<std::string, CreationTemplate>& creation_templates_unlocked() { return templates_; }

 private:
  std::string account_id_;
  std::string region_;
  const Clock* clock_;
  mutable std::mutex mu_;
  std::map<std::string, Repository> repos_;
  std::map<std::string, CreationTemplate> templates_;  // by prefix
  std::uint64_t counter_ = 0;  // makes seeded manifests unique
  std::string put_manifest_locked(const std::string& repo, const std::string& manifest,
                                  const std::string& media_type, const std::string& tag,
                                  std::optional<std::chrono::system_clock::time_point> pushed_at);
};

}  // namespace ecrs::localaws
