#include "ecrs/cleanup/cleanup.hpp"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "ecrs/cleanup/ec2_client.hpp"
#include "ecrs/cleanup/sts_client.hpp"
#include "ecrs/ecr/ecr_client.hpp"

namespace ecrs::cleanup {
namespace {

// The compact (Lambda reply) report names at most this many digests per repository; the count is exact.
constexpr std::size_t kCompactRemoveSample = 20;

struct Account {
  std::string label;  // "default" or the role ARN
  std::shared_ptr<aws::CredentialsProvider> credentials;
};

double epoch_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

Result<InUseIndex> scan_all(const ClientFactory& factory, const std::vector<Account>& accounts,
                            const std::vector<std::string>& regions, Logger& logger,
                            std::vector<std::string>* scopes) {
  InUseIndex index;
  for (const auto& account : accounts) {
    for (const auto& region : regions) {
      auto ecs_aws = factory(aws::kEcs, region, account.credentials);
      if (!ecs_aws) return ecs_aws.error();
      auto lambda_aws = factory(aws::kLambda, region, account.credentials);
      if (!lambda_aws) return lambda_aws.error();
      auto apprunner_aws = factory(aws::kAppRunner, region, account.credentials);
      if (!apprunner_aws) return apprunner_aws.error();
      EcsClient ecs(**ecs_aws);
      LambdaClient lambda(**lambda_aws);
      AppRunnerClient apprunner(**apprunner_aws);
      const std::string label = account.label + "/" + region;
      auto scanned = scan_in_use({&ecs, &lambda, &apprunner, label}, logger);
      if (!scanned) {
        Error e = scanned.error();
        e.context = "in-use scan " + label + (e.context.empty() ? "" : ": " + e.context);
        return e;
      }
      for (auto& r : scanned->refs) index.add(std::move(r));
      if (scopes) scopes->push_back(label);
    }
  }
  return index;
}

Result<RepositoryListing> list_repository(ecr::EcrClient& ecr, const RepositoryKey& key) {
  RepositoryListing listing;
  listing.key = key;
  ecr::DescribeImagesRequest req;
  req.repository_name = key.repository;
  req.registry_id = key.registry_id;
  req.max_results = ecr::kMaxListImagesResults;
  std::vector<std::string> indexes;
  do {
    auto page = ecr.describe_images(req);
    if (!page) return page.error();
    for (auto& d : page->image_details) {
      if (ecr::is_index_media_type(d.image_manifest_media_type)) indexes.push_back(d.image_digest);
      listing.images.push_back(std::move(d));
    }
    req.next_token = page->next_token;
  } while (req.next_token);
  if (!indexes.empty()) {
    auto children = ecr.index_children(key.repository, key.registry_id, indexes);
    if (!children) return children.error();
    std::map<std::string, std::vector<std::string>> by_index(children->begin(), children->end());
    for (auto& d : listing.images) {
      if (auto it = by_index.find(d.image_digest); it != by_index.end()) d.child_digests = it->second;
    }
  }
  return listing;
}

Result<std::vector<std::string>> resolve_regions(const ClientFactory& factory, const CleanupOptions& options) {
  if (options.all_regions) {
    auto ec2_aws = factory(aws::kEc2, options.home_region, nullptr);
    if (!ec2_aws) return ec2_aws.error();
    Ec2Client ec2(**ec2_aws);
    return ec2.describe_regions();
  }
  if (!options.regions.empty()) return options.regions;
  return std::vector<std::string>{options.home_region};
}

Result<std::vector<Account>> resolve_accounts(const ClientFactory& factory, const CleanupOptions& options) {
  std::vector<Account> accounts{{options.account_label, nullptr}};
  for (const auto& role : options.assume_roles) {
    auto sts_aws = factory(aws::kSts, options.home_region, nullptr);
    if (!sts_aws) return sts_aws.error();
    StsClient sts(**sts_aws);
    auto creds = sts.assume_role(role, options.role_session_name);
    if (!creds) return creds.error();
    accounts.push_back({account_of_arn(role), std::make_shared<aws::StaticCredentialsProvider>(std::move(*creds))});
  }
  return accounts;
}

struct Candidate {
  std::string region;
  ecr::Repository repository;
  Selection selection;
};

// Every selected repository of every region, in run order: regions as resolved, names sorted, so a cursor means
// the same place on every run whatever order DescribeRepositories pages came in.
// Fills `ecr_clients` (by region) for the deletion pass.
Result<std::vector<Candidate>> select_all(const ClientFactory& factory, const CleanupOptions& options,
                                          const std::vector<std::string>& regions,
                                          std::map<std::string, aws::AwsClient*>& ecr_clients) {
  std::vector<Candidate> out;
  for (const auto& region : regions) {
    auto ecr_aws = factory(aws::kEcr, region, nullptr);
    if (!ecr_aws) return ecr_aws.error();
    ecr_clients[region] = *ecr_aws;
    ecr::EcrClient ecr(**ecr_aws);
    ecr::DescribeRepositoriesRequest repos_req;
    std::vector<Candidate> in_region;
    do {
      auto page = ecr.describe_repositories(repos_req);
      if (!page) return page.error();
      for (auto& repo : page->repositories) {
        auto tags = ecr.list_tags_for_resource({repo.repository_arn});
        if (!tags) return tags.error();
        std::map<std::string, std::string> tag_map;
        for (const auto& t : tags->tags) tag_map[t.key] = t.value;
        Selection sel = select_repository(repo.repository_name, tag_map, options.repository_patterns, options.rules);
        if (sel.selected) in_region.push_back({region, std::move(repo), std::move(sel)});
      }
      repos_req.next_token = page->next_token;
    } while (repos_req.next_token);
    std::sort(in_region.begin(), in_region.end(), [](const Candidate& a, const Candidate& b) {
      return a.repository.repository_name < b.repository.repository_name;
    });
    std::move(in_region.begin(), in_region.end(), std::back_inserter(out));
  }
  return out;
}

// Deletes outcome.plan.remove by digest: phases (referrers+indexes, images, children), each in chunks of at most
// kMaxImageIdsPerCall, re-checking just before every batch with a fresh in-use scan and a fresh listing (tags may
// have moved). Fills deleted/spared/failures as it goes, so a failure part-way keeps what was done.
Result<void> delete_planned(const ClientFactory& factory, const std::vector<Account>& accounts,
                            const std::vector<std::string>& regions, ecr::EcrClient& ecr, const RepositoryKey& key,
                            const Rules& rules, const Clock& clock, Logger& logger, RepositoryOutcome& outcome) {
  std::vector<std::vector<std::string>> batches;
  for (std::size_t i = 0; i < outcome.plan.remove.size(); ++i) {
    const bool new_phase = i == 0 || outcome.plan.remove_phase[i] != outcome.plan.remove_phase[i - 1];
    if (new_phase || batches.back().size() == ecr::kMaxImageIdsPerCall) batches.emplace_back();
    batches.back().push_back(outcome.plan.remove[i].image_digest);
  }
  for (const auto& batch : batches) {
    auto fresh_use = scan_all(factory, accounts, regions, logger, nullptr);
    if (!fresh_use) return fresh_use.error();
    auto fresh_listing = list_repository(ecr, key);
    if (!fresh_listing) return fresh_listing.error();
    const RepositoryPlan fresh = plan_repository(*fresh_listing, rules, *fresh_use, epoch_seconds(clock.now()));
    std::set<std::string> removable;
    for (const auto& d : fresh.remove) removable.insert(d.image_digest);
    ecr::BatchDeleteImageRequest del;
    del.repository_name = key.repository;
    del.registry_id = key.registry_id;
    for (const auto& digest : batch) {
      if (removable.count(digest)) {
        del.image_ids.push_back({digest, ""});  // by digest, never by tag: the image and all its tags
      } else {
        outcome.spared.push_back(digest);
      }
    }
    if (del.image_ids.empty()) continue;
    auto res = ecr.batch_delete_image(del);
    if (!res) return res.error();
    std::set<std::string> done;
    for (const auto& id : res->image_ids) {
      if (done.insert(id.image_digest).second) outcome.deleted.push_back(id.image_digest);
    }
    for (const auto& f : res->failures) {
      outcome.failures.push_back(f.image_id.image_digest + ": " + f.failure_code + ": " + f.failure_reason);
    }
  }
  return {};
}

bool before(const std::vector<std::string>& regions, const Candidate& c, const RepositoryCursor& cursor) {
  const auto region_index = [&](const std::string& r) { return std::find(regions.begin(), regions.end(), r); };
  const auto mine = region_index(c.region), theirs = region_index(cursor.region);
  if (mine != theirs) return mine < theirs;
  return c.repository.repository_name < cursor.repository;
}

}  // namespace

Result<CleanupReport> run_cleanup(const ClientFactory& factory, const CleanupOptions& options, const Clock& clock,
                                  Logger& logger) {
  CleanupReport report;
  report.applied = options.apply;
  auto regions = resolve_regions(factory, options);
  if (!regions) return regions.error();
  report.regions = *regions;
  if (options.start_at && std::find(report.regions.begin(), report.regions.end(), options.start_at->region) ==
                              report.regions.end()) {
    return Error{"InvalidCursor", "the cursor's region " + options.start_at->region + " is not one of this run's",
                 "", 0, false, "cleanup"};
  }
  auto accounts = resolve_accounts(factory, options);
  if (!accounts) return accounts.error();

  // The whole in-use set first, every account in every region: an image in our registry may run anywhere.
  auto in_use = scan_all(factory, *accounts, report.regions, logger, &report.scopes);
  if (!in_use) return in_use.error();
  report.in_use_references = in_use->size();

  std::map<std::string, aws::AwsClient*> ecr_clients;
  auto candidates = select_all(factory, options, report.regions, ecr_clients);
  if (!candidates) return candidates.error();
  report.repositories_selected = candidates->size();

  for (const auto& c : *candidates) {
    const std::string& region = c.region;
    const std::string& name = c.repository.repository_name;
    if (options.start_at && before(report.regions, c, *options.start_at)) continue;  // done by an earlier run
    if (options.deadline && clock.now() >= *options.deadline) {
      report.complete = false;
      report.next_repository = RepositoryCursor{region, name};
      Json::Value f;
      f["region"] = region;
      f["repository"] = name;
      logger.info("deadline reached; next repository", f);
      break;
    }
    ecr::EcrClient ecr(*ecr_clients.at(region));
    const RepositoryKey key{c.repository.registry_id, region, name};
    Logger repo_log = logger.with([&] {
      Json::Value f;
      f["repository"] = name;
      f["region"] = region;
      return f;
    }());
    RepositoryOutcome outcome;
    outcome.selected_because = c.selection.why;
    auto listing = list_repository(ecr, key);
    if (!listing) {
      if (!options.continue_on_repository_error) return listing.error();
      outcome.plan.key = key;
      outcome.plan.rules = c.selection.rules;
      outcome.error = listing.error();
      Json::Value f;
      f["error"] = listing.error().describe();
      repo_log.error("repository listing failed; going on with the next", f);
      report.repositories.push_back(std::move(outcome));
      continue;
    }
    outcome.plan = plan_repository(*listing, c.selection.rules, *in_use, epoch_seconds(clock.now()));
    report.planned_deletions += outcome.plan.remove.size();
    report.planned_bytes += outcome.plan.bytes_reclaimed;
    for (const auto& d : outcome.plan.remove) {
      Json::Value f;
      f["digest"] = d.image_digest;
      f["action"] = options.apply ? "delete" : "would-delete";
      f["reason"] = d.reasons.empty() ? "" : d.reasons.front();
      f["bytes"] = static_cast<Json::Int64>(d.image_size_in_bytes);
      repo_log.info("plan", f);
    }

    if (options.apply) {
      auto deleted = delete_planned(factory, *accounts, report.regions, ecr, key, c.selection.rules, clock, logger,
                                    outcome);
      report.deleted += outcome.deleted.size();
      if (!deleted) {
        if (!options.continue_on_repository_error) return deleted.error();
        outcome.error = deleted.error();
      }
      Json::Value f;
      f["deleted"] = static_cast<Json::UInt64>(outcome.deleted.size());
      f["spared"] = static_cast<Json::UInt64>(outcome.spared.size());
      f["failed"] = static_cast<Json::UInt64>(outcome.failures.size());
      if (outcome.error) {
        f["error"] = outcome.error->describe();
        repo_log.error("repository stopped; going on with the next", f);
      } else {
        repo_log.info("repository cleaned", f);
      }
    }
    report.repositories.push_back(std::move(outcome));
  }
  Json::Value summary;
  summary["applied"] = options.apply;
  summary["repositories"] = static_cast<Json::UInt64>(report.repositories.size());
  summary["planned_deletions"] = static_cast<Json::UInt64>(report.planned_deletions);
  summary["bytes_reclaimed"] = static_cast<Json::Int64>(report.planned_bytes);
  summary["deleted"] = static_cast<Json::UInt64>(report.deleted);
  summary["in_use_references"] = static_cast<Json::UInt64>(report.in_use_references);
  if (!report.complete) summary["complete"] = false;
  logger.info("cleanup summary", summary);
  return report;
}

namespace {

Json::Value decision_json(const ImageDecision& d) {
  Json::Value v;
  v["imageDigest"] = d.image_digest;
  v["imageTags"] = Json::Value(Json::arrayValue);
  for (const auto& t : d.image_tags) v["imageTags"].append(t);
  if (d.image_pushed_at) v["imagePushedAt"] = *d.image_pushed_at;
  v["imageSizeInBytes"] = static_cast<Json::Int64>(d.image_size_in_bytes);
  v["reasons"] = Json::Value(Json::arrayValue);
  for (const auto& r : d.reasons) v["reasons"].append(r);
  return v;
}

Json::Value strings(const std::vector<std::string>& list) {
  Json::Value v(Json::arrayValue);
  for (const auto& s : list) v.append(s);
  return v;
}

}  // namespace

Json::Value report_to_json(const CleanupReport& report, bool compact) {
  Json::Value out;
  out["applied"] = report.applied;
  out["regions"] = strings(report.regions);
  out["scopes"] = strings(report.scopes);
  out["in_use_references"] = static_cast<Json::UInt64>(report.in_use_references);
  out["not_covered"] = Json::Value(Json::arrayValue);
  for (const char* n : kNotCovered) out["not_covered"].append(n);
  out["summary"]["repositories"] = static_cast<Json::UInt64>(report.repositories.size());
  out["summary"]["planned_deletions"] = static_cast<Json::UInt64>(report.planned_deletions);
  out["summary"]["bytes_reclaimed"] = static_cast<Json::Int64>(report.planned_bytes);
  out["summary"]["deleted"] = static_cast<Json::UInt64>(report.deleted);
  if (!report.complete) {
    out["complete"] = false;
    if (report.next_repository) {
      out["next_repository"]["region"] = report.next_repository->region;
      out["next_repository"]["repository"] = report.next_repository->repository;
    }
  }
  out["repositories"] = Json::Value(Json::arrayValue);
  for (const auto& r : report.repositories) {
    Json::Value v;
    v["repository"] = r.plan.key.repository;
    v["registry_id"] = r.plan.key.registry_id;
    v["region"] = r.plan.key.region;
    v["selected_because"] = r.selected_because;
    v["rules"]["keep_count"] = r.plan.rules.keep_count;
    v["rules"]["keep_days"] = r.plan.rules.keep_days;
    v["rules"]["keep_tag_patterns"] = strings(r.plan.rules.keep_tag_patterns);
    v["bytes_reclaimed"] = static_cast<Json::Int64>(r.plan.bytes_reclaimed);
    v["remove_count"] = static_cast<Json::UInt64>(r.plan.remove.size());
    v["keep_count"] = static_cast<Json::UInt64>(r.plan.keep.size());
    v["remove"] = Json::Value(Json::arrayValue);
    for (std::size_t i = 0; i < r.plan.remove.size(); ++i) {
      if (compact && i >= kCompactRemoveSample) break;
      v["remove"].append(compact ? Json::Value(r.plan.remove[i].image_digest) : decision_json(r.plan.remove[i]));
    }
    if (!compact) {
      v["keep"] = Json::Value(Json::arrayValue);
      for (const auto& d : r.plan.keep) v["keep"].append(decision_json(d));
    }
    if (report.applied) {
      v["deleted"] = static_cast<Json::UInt64>(r.deleted.size());
      v["spared"] = strings(r.spared);
      v["failures"] = strings(r.failures);
    }
    if (r.error) v["error"] = r.error->describe();
    out["repositories"].append(v);
  }
  return out;
}

std::string report_to_table(const CleanupReport& report) {
  std::ostringstream os;
  os << (report.applied ? "APPLIED" : "DRY RUN") << " regions:";
  for (const auto& r : report.regions) os << " " << r;
  os << "  in-use references: " << report.in_use_references << "\n";
  for (const auto& r : report.repositories) {
    os << "\n" << r.plan.key.region << " " << r.plan.key.repository << " (" << r.selected_because << ")  remove "
       << r.plan.remove.size() << ", keep " << r.plan.keep.size() << ", reclaim " << r.plan.bytes_reclaimed
       << " bytes\n";
    auto row = [&](const char* action, const ImageDecision& d) {
      std::string tags;
      for (const auto& t : d.image_tags) tags += (tags.empty() ? "" : ",") + t;
      os << "  " << std::left << std::setw(7) << action << std::setw(22) << d.image_digest.substr(0, 19) << " "
         << std::setw(24) << (tags.empty() ? "<untagged>" : tags) << " "
         << (d.reasons.empty() ? std::string() : d.reasons.front()) << "\n";
    };
    for (const auto& d : r.plan.remove) row("REMOVE", d);
    for (const auto& d : r.plan.keep) row("keep", d);
    if (r.error) os << "  stopped: " << r.error->describe() << "\n";
    if (report.applied) {
      os << "  deleted " << r.deleted.size() << ", spared " << r.spared.size() << ", failed " << r.failures.size()
         << "\n";
    }
  }
  if (report.next_repository) {
    os << "\nStopped at the deadline; resume at " << report.next_repository->region << " "
       << report.next_repository->repository << "\n";
  }
  os << "\nNot covered yet:";
  for (const char* n : kNotCovered) os << " " << n << ";";
  os << "\nTotal: " << report.planned_deletions << " images, " << report.planned_bytes << " bytes"
     << (report.applied ? ", deleted " + std::to_string(report.deleted) : std::string()) << "\n";
  return os.str();
}

}  // namespace ecrs::cleanup
