#pragma once
// `lifecycle preview` flags the images a policy would expire that something still runs. The in-use set is the
// scheduled-cleanup scan (cleanup/in_use_scanner.hpp: ECS tasks and services with every deployment, Lambda image
// functions with versions and aliases, App Runner image services) over the caller's account in the session's
// region, narrowed to the registry the preview reads (the caller's own, as DescribeImages without registryId).
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ecrs/cleanup/in_use_scanner.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/handler/lifecycle_ops.hpp"
#include "ecrs/handler/modes.hpp"
#include "ecrs/lifecycle/evaluator.hpp"

namespace ecrs::handler {

// The references that point into one registry in one region, by repository name.
struct LifecycleInUse {
  std::string registry_id;
  std::string region;
  std::map<std::string, std::vector<cleanup::InUseRef>> by_repository;
  std::vector<cleanup::InUseRef> unresolved;  // ECR-like references that may name a repository of this registry
  cleanup::ScanCounts counts;
};

// Keeps the references into `registry_id`/`region`; the rest (another account's registry, another region's
// repository of the same name, ECR Public, Docker Hub) cannot name an image the preview lists. Pure.
LifecycleInUse index_in_use(const std::vector<cleanup::InUseRef>& refs, std::string registry_id, std::string region);

// The digests of `images` that `refs` use: a digest reference as written, a tag reference resolved against this
// listing (the tag's current image), an unresolved reference every image. Pure.
std::set<std::string> digests_in_use(const std::vector<cleanup::InUseRef>& refs,
                                     const std::vector<lifecycle::Image>& images);

// STS GetCallerIdentity (the registry: no IAM permission needed), then the cleanup scan in the session's region.
// Any failed call fails the whole scan (a partial set would leave images in use unflagged); the error's context
// names the call.
Result<LifecycleInUse> scan_lifecycle_in_use(AwsSession& session);

// The preview seam over a finished scan; safe to call from the preview's worker threads.
InUseLookup make_in_use_lookup(std::shared_ptr<const LifecycleInUse> in_use);

// One line for people: what was scanned and what the scan does not cover.
std::string describe_scan(const LifecycleInUse& in_use);

}  // namespace ecrs::handler
