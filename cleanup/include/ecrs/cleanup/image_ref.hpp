#pragma once
// Container image references as ECS task definitions, Lambda (Code.ImageUri) and App Runner (ImageIdentifier)
// carry them: "<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:<tag>][@sha256:<hex>]".
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-pull-ecr-image.html
#include <optional>
#include <string>
#include <string_view>

namespace ecrs::cleanup {

struct ImageRef {
  std::string registry_id;  // 12-digit account
  std::string region;
  std::string repository;
  std::string tag;     // empty when absent
  std::string digest;  // "sha256:..."; empty when absent. A digest wins over a tag: it is what runs.
  friend bool operator==(const ImageRef&, const ImageRef&) = default;
};

// nullopt for anything that is not a private ECR reference (Docker Hub, ECR Public, other registries): those
// images cannot be in a repository we clean. A reference with neither tag nor digest means ":latest", as
// Docker resolves it.
std::optional<ImageRef> parse_image_ref(std::string_view uri);

// Where a repository lives: one key for the in-use index and the plan.
struct RepositoryKey {
  std::string registry_id;
  std::string region;
  std::string repository;
  friend auto operator<=>(const RepositoryKey&, const RepositoryKey&) = default;
};

// Shell-style pattern: '*' any run, '?' one character (the ECR lifecycle tagPatternList wildcard, plus '?').
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace ecrs::cleanup
