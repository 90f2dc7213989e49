// The in-use scan behind `lifecycle preview`: cleanup's scanner, borrowed through handler/clean's session factory.
#include "ecrs/handler/lifecycle_in_use.hpp"

#include <utility>

#include "ecrs/cleanup/sts_client.hpp"
#include "ecrs/handler/clean_mode.hpp"

namespace ecrs::handler {

LifecycleInUse index_in_use(const std::vector<cleanup::InUseRef>& refs, std::string registry_id, std::string region) {
  LifecycleInUse out;
  out.registry_id = std::move(registry_id);
  out.region = std::move(region);
  for (const auto& use : refs) {
    if (use.ref.unresolved) {
      if (cleanup::may_name(use.ref, {out.registry_id, out.region, use.ref.repository})) out.unresolved.push_back(use);
      continue;
    }
    if (use.ref.registry_id != out.registry_id || use.ref.region != out.region) continue;
    out.by_repository[use.ref.repository].push_back(use);
  }
  return out;
}

std::set<std::string> digests_in_use(const std::vector<cleanup::InUseRef>& refs,
                                     const std::vector<lifecycle::Image>& images) {
  std::set<std::string> out;
  if (refs.empty()) return out;
  std::map<std::string, std::string> digest_of_tag;
  for (const auto& image : images) {
    for (const auto& tag : image.image_tags) digest_of_tag[tag] = image.image_digest;
  }
  for (const auto& use : refs) {
    if (use.ref.unresolved) {  // a reference we could not read may name any image here
      for (const auto& image : images) out.insert(image.image_digest);
      continue;
    }
    // A digest is what runs (ImageRef: the digest wins over a tag); a tag that names nothing here now uses
    // nothing the policy could expire.
    if (!use.ref.digest.empty()) {
      out.insert(use.ref.digest);
    } else if (auto it = digest_of_tag.find(use.ref.tag); it != digest_of_tag.end()) {
      out.insert(it->second);
    }
  }
  return out;
}

Result<LifecycleInUse> scan_lifecycle_in_use(AwsSession& session) {
  auto region = session.region();
  if (!region) return region.error();
  auto factory = clean::session_factory(session);
  auto sts_aws = factory(aws::kSts, *region, nullptr);
  if (!sts_aws) return sts_aws.error();
  cleanup::StsClient sts(**sts_aws);
  auto identity = sts.get_caller_identity();
  if (!identity) return identity.error();

  auto ecs_aws = factory(aws::kEcs, *region, nullptr);
  if (!ecs_aws) return ecs_aws.error();
  auto lambda_aws = factory(aws::kLambda, *region, nullptr);
  if (!lambda_aws) return lambda_aws.error();
  auto apprunner_aws = factory(aws::kAppRunner, *region, nullptr);
  if (!apprunner_aws) return apprunner_aws.error();
  cleanup::EcsClient ecs(**ecs_aws);
  cleanup::LambdaClient lambda(**lambda_aws);
  cleanup::AppRunnerClient apprunner(**apprunner_aws);
  const std::string label = identity->account + "/" + *region;
  auto scanned = cleanup::scan_in_use({&ecs, &lambda, &apprunner, label}, session.logger());
  if (!scanned) return scanned.error();
  auto out = index_in_use(scanned->refs, identity->account, *region);
  out.counts = scanned->counts;
  return out;
}

InUseLookup make_in_use_lookup(std::shared_ptr<const LifecycleInUse> in_use) {
  return [in_use = std::move(in_use)](const std::string& repository,
                                      const std::vector<lifecycle::Image>& images) -> Result<std::set<std::string>> {
    std::vector<cleanup::InUseRef> refs;
    if (auto it = in_use->by_repository.find(repository); it != in_use->by_repository.end()) refs = it->second;
    for (const auto& use : in_use->unresolved) {
      if (cleanup::may_name(use.ref, {in_use->registry_id, in_use->region, repository})) refs.push_back(use);
    }
    return digests_in_use(refs, images);
  };
}

std::string describe_scan(const LifecycleInUse& in_use) {
  const auto& c = in_use.counts;
  std::string s = "in use: scanned " + in_use.registry_id + "/" + in_use.region + ": ECS " +
                  std::to_string(c.clusters) + " clusters, " + std::to_string(c.services) + " services, " +
                  std::to_string(c.tasks) + " running tasks; Lambda " + std::to_string(c.functions) +
                  " image functions; App Runner " + std::to_string(c.apprunner_services) + " services. Not covered:";
  bool first = true;
  for (const char* what : cleanup::kNotCovered) {
    s += std::string(first ? " " : ", ") + what;
    first = false;
  }
  return s;
}

}  // namespace ecrs::handler
