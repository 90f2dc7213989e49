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
  std::map<std::string, Image> images;       // by digest
};

class EcrState {
 public:
  EcrState(std::string account_id, std::string region);

  // Seeding helpers (tests, demo). put_* return the digest.
  bool create_repository(const std::string& name);  // false if it exists
  bool delete_repository(const std::string& name);
  std::string put_image(const std::string& repo, const std::string& tag /* empty = untagged */,
                        std::optional<std::chrono::system_clock::time_point> pushed_at = std::nullopt);
  // An index over `children` (their digests must exist); returns the index digest.
  std::string put_index(const std::string& repo, const std::vector<std::string>& children, const std::string& tag);
  std::string put_manifest(const std::string& repo, const std::string& manifest, const std::string& media_type,
                           const std::string& tag);

  // Inspection.
  bool has_repository(const std::string& name) const;
  std::size_t image_count(const std::string& repo) const;  // digests
  std::size_t tag_count(const std::string& repo) const;
  std::vector<std::string> repositories() const;
  std::optional<Repository> repository(const std::string& name) const;

  Json::Value to_json() const;          // --state FILE
  void load_json(const Json::Value& v);

  const std::string& account_id() const { return account_id_; }
  const std::string& region() const { return region_; }

  // The ECR service holds this lock while it reads or changes repositories.
  std::mutex& mutex() const { return mu_; }
  std::map<std::string, Repository>& repositories_unlocked() { return repos_; }

 private:
  std::string account_id_;
  std::string region_;
  mutable std::mutex mu_;
  std::map<std::string, Repository> repos_;
  std::uint64_t counter_ = 0;  // makes seeded manifests unique
};

}  // namespace ecrs::localaws
