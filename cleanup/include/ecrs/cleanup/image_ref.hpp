#pragma once
// Container image references as ECS task definitions, Lambda (Code.ImageUri) and App Runner (ImageIdentifier)
// carry them: "<registry host>/<repository>[:<tag>][@sha256:<hex>]". A private ECR registry has several host
// forms, all naming the same registry (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html,
// the FIPS list in https://docs.aws.amazon.com/general/latest/gr/ecr.html, and the kubelet ECR credential
// provider's matchImages for the other partitions):
//   <account>.dkr.ecr.<region>.amazonaws.com           standard (amazonaws.com.cn in China, us-gov-* GovCloud)
//   <account>.dkr.ecr-fips.<region>.amazonaws.com      FIPS
//   <account>.dkr-ecr.<region>.on.aws                  dual-stack (on.amazonwebservices.com.cn in China)
//   <account>.dkr-ecr-fips.<region>.on.aws             FIPS dual-stack
// plus the ISO, EU sovereign and ADC partitions' suffixes.
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
  // Set when the host is ECR-like (it names dkr.ecr / dkr-ecr / ecr-fips) but the reference cannot be read in
  // full: an unknown partition suffix, a missing account, no repository. Then registry_id, region and
  // repository hold what could be told (empty: any), tag and digest are empty, and the reference protects every
  // image of every repository it may name. `text` is the reference as written, for the plan's keep reason.
  bool unresolved = false;
  std::string text{};
  friend bool operator==(const ImageRef&, const ImageRef&) = default;
};

// nullopt only for a reference that cannot be in a private ECR registry (Docker Hub, ECR Public, another
// registry): those images cannot be in a repository we clean. An ECR-like reference that cannot be parsed comes
// back `unresolved`, never dropped: dropping it would let a cleanup delete what it runs. A reference with
// neither tag nor digest means ":latest", as Docker resolves it.
std::optional<ImageRef> parse_image_ref(std::string_view uri);

// Where a repository lives: one key for the in-use index and the plan.
struct RepositoryKey {
  std::string registry_id;
  std::string region;
  std::string repository;
  friend auto operator<=>(const RepositoryKey&, const RepositoryKey&) = default;
};

// Whether an unresolved reference may name `key`: each part it could tell must match.
bool may_name(const ImageRef& unresolved, const RepositoryKey& key);

// Shell-style pattern: '*' any run, '?' one character (the ECR lifecycle tagPatternList wildcard, plus '?').
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace ecrs::cleanup
