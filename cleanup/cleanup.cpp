#include "ecrs/cleanup/cleanup.hpp"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iterator>
#include <map>
#include <set>
#include <span>
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

using TimePoint = std::chrono::system_clock::time_point;

double epoch_seconds(TimePoint t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

// What every step of one run shares.
struct Run {
  const ClientFactory& factory;
  const CleanupOptions& options;
  const CallPolicy& policy;
  Sleeper& sleeper;
  Random& random;
  Logger& logger;
  std::vector<std::string> regions;
  std::vector<Account> accounts;
  // The longest ECR listing page so far. Only calls that got a reply count: a call cut short measures the cut, not
  // the service.
  TimePoint::duration longest_read{};
  // What deleting has taught the run, one per region (ECR throttles per account and Region; a run deletes in its
  // own account only): the rate found and the delete latencies carry across re-check windows and repositories.
  std::map<std::string, std::shared_ptr<ecr::DeletePacing>> pacing;

  const std::shared_ptr<ecr::DeletePacing>& pacing_for(const std::string& region) {
    auto& p = pacing[region];
    // measure_first: a window's deletes must answer inside it, so the run's first delete measures alone.
    if (!p) p = std::make_shared<ecr::DeletePacing>(std::max(1, options.max_concurrency), policy.clock(), sleeper, true);
    return p;
  }

  // The last moment a re-check may start with a BatchDeleteImage still to follow it before the deadline: a
  // listing page or a delete (as DeletePacing expects it), whichever is longer, plus kMinAttemptTime. Nullopt: no
  // deadline.
  std::optional<TimePoint> start_by(const ecr::DeletePacing& p) const {
    if (!options.deadline) return std::nullopt;
    return *options.deadline -
           (std::max<TimePoint::duration>(longest_read, p.expected_delete_time()) + kMinAttemptTime);
  }
};

// The in-use set and when the scan that built it started.
struct InUseState {
  InUseIndex index;
  TimePoint scanned_at;
};

Result<InUseState> scan_all(const Run& run, std::vector<std::string>* scopes) {
  InUseState state;
  state.scanned_at = run.policy.clock().now();
  for (const auto& account : run.accounts) {
    for (const auto& region : run.regions) {
      if (run.policy.expired()) return run.policy.deadline_error("in-use scan " + account.label + "/" + region);
      auto ecs_aws = run.factory(aws::kEcs, region, account.credentials);
      if (!ecs_aws) return ecs_aws.error();
      auto lambda_aws = run.factory(aws::kLambda, region, account.credentials);
      if (!lambda_aws) return lambda_aws.error();
      auto apprunner_aws = run.factory(aws::kAppRunner, region, account.credentials);
      if (!apprunner_aws) return apprunner_aws.error();
      EcsClient ecs(**ecs_aws, &run.policy);
      LambdaClient lambda(**lambda_aws, &run.policy);
      AppRunnerClient apprunner(**apprunner_aws, &run.policy);
      const std::string label = account.label + "/" + region;
      auto scanned = scan_in_use({&ecs, &lambda, &apprunner, label}, run.logger);
      if (!scanned) {
        Error e = scanned.error();
        if (!is_deadline_reached(e)) e.context = "in-use scan " + label + (e.context.empty() ? "" : ": " + e.context);
        return e;
      }
      for (auto& r : scanned->refs) state.index.add(std::move(r));
      if (scopes) scopes->push_back(label);
    }
  }
  return state;
}

std::string subject(const RepositoryKey& key) { return "repository=" + key.repository; }

Result<RepositoryListing> list_repository(Run& run, ecr::EcrClient& ecr, const RepositoryKey& key) {
  RepositoryListing listing;
  listing.key = key;
  ecr::DescribeImagesRequest req;
  req.repository_name = key.repository;
  req.registry_id = key.registry_id;
  req.max_results = ecr::kMaxListImagesResults;
  std::vector<std::string> indexes;
  const Clock& clock = run.policy.clock();
  do {
    auto page = run.policy.call("DescribeImages " + subject(key), [&](const aws::CallOptions& o) {
      const TimePoint sent = clock.now();
      auto r = ecr.describe_images(req, o);
      if (r || r.error().http_status != 0) run.longest_read = std::max(run.longest_read, clock.now() - sent);
      return r;
    });
    if (!page) return page.error();
    for (auto& d : page->image_details) {
      if (ecr::is_index_media_type(d.image_manifest_media_type)) indexes.push_back(d.image_digest);
      listing.images.push_back(std::move(d));
    }
    req.next_token = page->next_token;
  } while (req.next_token);
  if (!indexes.empty()) {
    // Retried as a whole (it chunks internally): a throttle costs the chunks already fetched, and indexes are a
    // few percent of a repository.
    auto children = run.policy.call("BatchGetImage " + subject(key), [&](const aws::CallOptions& o) {
      return ecr.index_children(key.repository, key.registry_id, indexes, o);
    });
    if (!children) return children.error();
    std::map<std::string, std::vector<std::string>> by_index(children->begin(), children->end());
    for (auto& d : listing.images) {
      if (auto it = by_index.find(d.image_digest); it != by_index.end()) d.child_digests = it->second;
    }
  }
  return listing;
}

Result<std::vector<std::string>> resolve_regions(const ClientFactory& factory, const CleanupOptions& options,
                                                 const CallPolicy& policy) {
  if (options.all_regions) {
    auto ec2_aws = factory(aws::kEc2, options.home_region, nullptr);
    if (!ec2_aws) return ec2_aws.error();
    Ec2Client ec2(**ec2_aws, &policy);
    return ec2.describe_regions();
  }
  if (!options.regions.empty()) return options.regions;
  return std::vector<std::string>{options.home_region};
}

Result<std::vector<Account>> resolve_accounts(const ClientFactory& factory, const CleanupOptions& options,
                                              const Clock& clock) {
  std::vector<Account> accounts{{options.account_label, nullptr}};
  for (const auto& role : options.assume_roles) {
    auto sts_aws = factory(aws::kSts, options.home_region, nullptr);
    if (!sts_aws) return sts_aws.error();
    auto provider = assume_role_provider(**sts_aws, role, options.role_session_name, clock);
    // Assume now, so a role we may not assume fails the run before anything is planned.
    if (auto first = provider->credentials(); !first) return first.error();
    accounts.push_back({account_of_arn(role), std::move(provider)});
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
Result<std::vector<Candidate>> select_all(const Run& run, std::map<std::string, aws::AwsClient*>& ecr_clients,
                                          std::vector<std::string>& unmatched) {
  std::vector<Candidate> out;
  std::set<std::string> unseen(run.options.repository_patterns.begin(), run.options.repository_patterns.end());
  for (const auto& region : run.regions) {
    auto ecr_aws = run.factory(aws::kEcr, region, nullptr);
    if (!ecr_aws) return ecr_aws.error();
    ecr_clients[region] = *ecr_aws;
    ecr::EcrClient ecr(**ecr_aws);
    ecr::DescribeRepositoriesRequest repos_req;
    std::vector<Candidate> in_region;
    do {
      auto page = run.policy.call("DescribeRepositories region=" + region, [&](const aws::CallOptions& o) {
        return ecr.describe_repositories(repos_req, o);
      });
      if (!page) return page.error();
      for (auto& repo : page->repositories) {
        auto tags = run.policy.call("ListTagsForResource repository=" + repo.repository_name,
                                    [&](const aws::CallOptions& o) {
                                      return ecr.list_tags_for_resource({repo.repository_arn}, o);
                                    });
        if (!tags) return tags.error();
        for (auto it = unseen.begin(); it != unseen.end();) {
          it = glob_match(*it, repo.repository_name) ? unseen.erase(it) : std::next(it);
        }
        std::map<std::string, std::string> tag_map;
        for (const auto& t : tags->tags) tag_map[t.key] = t.value;
        Selection sel =
            select_repository(repo.repository_name, tag_map, run.options.repository_patterns, run.options.rules);
        if (sel.selected) in_region.push_back({region, std::move(repo), std::move(sel)});
      }
      repos_req.next_token = page->next_token;
    } while (repos_req.next_token);
    std::sort(in_region.begin(), in_region.end(), [](const Candidate& a, const Candidate& b) {
      return a.repository.repository_name < b.repository.repository_name;
    });
    std::move(in_region.begin(), in_region.end(), std::back_inserter(out));
  }
  for (const auto& p : run.options.repository_patterns) {
    if (unseen.count(p)) unmatched.push_back(p);
  }
  return out;
}

std::vector<ecr::ImageId> ids_of(std::span<const std::string> digests) {
  std::vector<ecr::ImageId> ids;
  ids.reserve(digests.size());
  for (const auto& d : digests) ids.push_back({d, ""});
  return ids;
}

// Deletes outcome.plan.remove by digest through ecr::delete_images, phase by phase (referrers+indexes, images,
// children), so no BatchDeleteImage meets ImageReferencedByManifestList. Fills deleted/spared/failures as it goes,
// so a failure or the deadline part-way keeps what was done; the deadline sets outcome.finished = false.
//
// Why one delete_images call per re-check window, not one for the whole plan: the in-use guarantee
// (CleanupOptions::recheck_every) needs a fresh scan and listing before any batch that starts more than
// recheck_every after the last ones, and delete_images, once started, takes no new in-use state. So each window
// is a re-check (scan, listing, fresh plan) and then one delete_images call per phase. Its EmptyOptions::deadline
// (no batch starts after it) is the window's end less the time a delete is expected to take, so a batch answers
// inside its window; its call_deadline is the run's deadline, against which the engine starts a batch only when the
// same expected time fits. Every call shares the region's DeletePacing, so the rate found and the latencies
// measured carry from window to window, and the run's first delete goes alone to measure it.
//
// The first window reuses `planned` (the plan's own listing, started at planned_at) when it is young enough: the
// re-check is then a fresh in-use scan alone, started after that listing, and the window counts from the listing.
// Re-listing right after the plan found nothing the plan had not, and on a slow account (400 ms a call) cost the
// delete the invocation had time for.
//
// Plan order (oldest first) is the order batches are handed to the deleters, not a promise of the order they are
// sent in: the batches that wait together for the rate controller (up to max_concurrency of them) go in whichever
// order their threads win. Every one of them was checked by the window's re-check, which is what the guarantee needs.
//
// What a window did not finish is not tracked digest by digest (delete_images counts, it does not list what it
// deleted): the next re-check's listing says what is still there, and only those digests, still planned and still
// removable, go in the next window.
Result<void> delete_planned(Run& run, ecr::EcrClient& ecr, const RepositoryKey& key, const Rules& rules,
                            InUseState& in_use, RepositoryOutcome& outcome, std::size_t& deleted_total,
                            std::size_t planned_total, const RepositoryListing* planned, TimePoint planned_at,
                            Logger& log) {
  constexpr int kPhases = 3;  // RepositoryPlan::remove_phase
  const Clock& clock = run.policy.clock();
  const std::shared_ptr<ecr::DeletePacing> pacing = run.pacing_for(key.region);
  std::set<std::string> settled;  // spared, or sent in a delete_images call that ran to its end
  std::set<std::string> failures_seen;
  const auto stop = [&] {
    outcome.finished = false;
    return Result<void>{};
  };
  const auto near_deadline = [&] {
    const auto start_by = run.start_by(*pacing);
    return run.policy.expired() || (start_by && clock.now() >= *start_by);
  };
  // A window that started no batch (its end came first) is followed by one whose first batch goes whatever the
  // window: re-checks never loop without deleting.
  bool alone_next = false;
  for (;;) {
    // No delete could follow a re-check started now: leave the time to the reply.
    if (near_deadline()) return stop();
    auto fresh_use = scan_all(run, nullptr);
    if (!fresh_use) return fresh_use.error();
    in_use = std::move(*fresh_use);
    ++outcome.in_use_rescans;
    TimePoint window_start = in_use.scanned_at;
    Result<RepositoryListing> relisted = Error{};
    const RepositoryListing* listing = nullptr;
    if (planned && planned_at + run.options.recheck_every > clock.now()) {
      listing = planned;
      window_start = planned_at;
    } else {
      relisted = list_repository(run, ecr, key);
      if (!relisted) return relisted.error();
      listing = &*relisted;
    }
    planned = nullptr;
    const RepositoryPlan fresh = plan_repository(*listing, rules, in_use.index, epoch_seconds(clock.now()));
    std::set<std::string> removable, present;
    for (const auto& d : fresh.remove) removable.insert(d.image_digest);
    for (const auto& d : listing->images) present.insert(d.image_digest);
    std::vector<std::string> todo[kPhases];
    std::vector<std::uint64_t> todo_sizes[kPhases];  // parallel to todo: the plan's sizes, for bytes_deleted
    for (std::size_t i = 0; i < outcome.plan.remove.size(); ++i) {
      const std::string& digest = outcome.plan.remove[i].image_digest;
      // Not listed any more: deleted by an earlier window (counted there) or by someone else.
      if (settled.count(digest) || !present.count(digest)) continue;
      if (!removable.count(digest)) {
        outcome.spared.push_back(digest);
        settled.insert(digest);
        continue;
      }
      const int phase = std::clamp(outcome.plan.remove_phase[i], 0, kPhases - 1);
      todo[phase].push_back(digest);
      todo_sizes[phase].push_back(
          static_cast<std::uint64_t>(std::max<std::int64_t>(0, outcome.plan.remove[i].image_size_in_bytes)));
    }
    const TimePoint window_end = window_start + run.options.recheck_every;
    bool first_send = true, window_closed = false;
    for (int phase = 0; phase < kPhases && !window_closed; ++phase) {
      std::span<const std::string> left(todo[phase]);
      std::span<const std::uint64_t> left_sizes(todo_sizes[phase]);
      while (!left.empty()) {
        if (near_deadline()) return stop();
        // The last moment a batch may start and still be expected to answer inside the window.
        const TimePoint last_start = window_end - pacing->expected_delete_time();
        const bool window_open = clock.now() < last_start;
        if (!window_open && !first_send) {
          window_closed = true;
          break;
        }
        // One batch right after its re-check, whatever the window: a re-check slower than its own window, or one
        // after a window that started nothing.
        const bool alone = !window_open || alone_next;
        const std::size_t n = alone ? std::min(left.size(), ecr::kMaxImageIdsPerCall) : left.size();
        const auto ids = ids_of(left.first(n));
        ecr::EmptyOptions eo;
        eo.repository = key.repository;
        eo.registry_id = key.registry_id;
        eo.max_concurrency = run.options.max_concurrency;
        eo.call_deadline = run.options.deadline;
        // Without a run deadline the engine gates each batch on the expected delete time before eo.deadline itself
        // (it is then the calls' deadline too), with the latest latencies: the window's end is the deadline. With
        // one, it gates on call_deadline, and the window's end less the expected time is where batches stop.
        if (!alone) eo.deadline = run.options.deadline ? last_start : window_end;
        eo.pacing = pacing;
        eo.image_sizes = left_sizes.first(n);
        eo.progress_interval = kProgressInterval;
        // A failed delete_images returns only its error; its last progress is what the report can still count.
        std::uint64_t seen_deleted = 0;
        eo.on_progress = [&, base = deleted_total](const ecr::EmptyProgress& p) {
          seen_deleted = p.deleted;
          if (run.options.on_progress) run.options.on_progress(base + p.deleted, planned_total);
        };
        auto r = ecr::delete_images(ecr, eo, ids, clock, run.sleeper, run.random, log);
        first_send = false;
        if (!r) {
          outcome.deleted += seen_deleted;
          deleted_total += seen_deleted;
          return r.error();
        }
        outcome.deleted += r->deleted;
        outcome.deleted_bytes += static_cast<std::int64_t>(r->bytes_deleted);
        deleted_total += r->deleted;
        for (const auto& f : r->failures) {
          if (failures_seen.insert(f).second) outcome.failures.push_back(f);
        }
        if (run.options.on_progress) run.options.on_progress(deleted_total, planned_total);
        if (r->repository_missing) {
          return Error{"RepositoryNotFoundException", "the repository was deleted while its images were", "", 0,
                       false, "BatchDeleteImage " + subject(key)};
        }
        if (r->deadline_reached) {
          // The run's deadline, or the window's end: the re-check's listing says what is left.
          if (near_deadline()) return stop();
          alone_next = !alone && r->deleted == 0 && r->possibly_deleted == 0;
          window_closed = true;
          break;
        }
        alone_next = false;
        settled.insert(left.begin(), left.begin() + static_cast<std::ptrdiff_t>(n));
        left = left.subspan(n);
        left_sizes = left_sizes.subspan(n);
      }
    }
    if (!window_closed) return {};
  }
}

bool before(const std::vector<std::string>& regions, const Candidate& c, const RepositoryCursor& cursor) {
  const auto region_index = [&](const std::string& r) { return std::find(regions.begin(), regions.end(), r); };
  const auto mine = region_index(c.region), theirs = region_index(cursor.region);
  if (mine != theirs) return mine < theirs;
  return c.repository.repository_name < cursor.repository;
}

void log_stop(Logger& logger, const RepositoryCursor& at, bool inside) {
  Json::Value f;
  f["region"] = at.region;
  f["repository"] = at.repository;
  f["inside_repository"] = inside;
  logger.info("deadline reached; next repository", f);
}

}  // namespace

TimePoint stop_time(TimePoint invocation_deadline, TimePoint now) {
  const auto left = invocation_deadline - now;
  if (left <= TimePoint::duration::zero()) return invocation_deadline;
  return invocation_deadline - std::min<TimePoint::duration>(kMaxReplyReserve, left / 4);
}

Result<CleanupReport> run_cleanup(const ClientFactory& factory, const CleanupOptions& options, const Clock& clock,
                                  Logger& logger) {
  RealSleeper real_sleeper;
  SystemRandom real_random;
  Sleeper& sleeper = options.sleeper ? *options.sleeper : real_sleeper;
  Random& random = options.random ? *options.random : real_random;
  const CallPolicy policy(clock, sleeper, random, options.deadline, options.max_attempts);
  CleanupReport report;
  report.applied = options.apply;
  // The deadline came before any repository: an answer, not a failure; the caller resumes from its own cursor.
  const auto stopped_early = [&](const Error& e) -> Result<CleanupReport> {
    report.complete = false;
    report.next_repository = options.start_at;
    report.stopped_early = e;
    Json::Value f;
    f["error"] = e.describe();
    logger.warn("deadline reached before the first repository", f);
    return report;
  };
  auto regions = resolve_regions(factory, options, policy);
  if (!regions) return is_deadline_reached(regions.error()) ? stopped_early(regions.error()) : regions.error();
  report.regions = *regions;
  if (options.start_at && std::find(report.regions.begin(), report.regions.end(), options.start_at->region) ==
                              report.regions.end()) {
    return Error{"InvalidCursor", "the cursor's region " + options.start_at->region + " is not one of this run's",
                 "", 0, false, "cleanup"};
  }
  auto accounts = resolve_accounts(factory, options, clock);
  if (!accounts) return accounts.error();
  Run run{factory, options, policy, sleeper, random, logger, report.regions, std::move(*accounts), {}, {}};

  // The whole in-use set first, every account in every region: an image in our registry may run anywhere.
  auto in_use = scan_all(run, &report.scopes);
  if (!in_use) return is_deadline_reached(in_use.error()) ? stopped_early(in_use.error()) : in_use.error();
  report.in_use_references = in_use->index.size();

  std::map<std::string, aws::AwsClient*> ecr_clients;
  auto candidates = select_all(run, ecr_clients, report.unmatched_patterns);
  if (!candidates) {
    return is_deadline_reached(candidates.error()) ? stopped_early(candidates.error()) : candidates.error();
  }
  report.repositories_selected = candidates->size();

  // One repository: list and plan it (and, unless plan_first, apply it at once). False: the deadline stopped it.
  struct Pending {
    const Candidate* candidate;
    std::size_t outcome;  // index in report.repositories
  };
  std::vector<Pending> to_apply;
  const auto stop_at = [&](const RepositoryCursor& here, bool inside) {
    report.complete = false;
    report.next_repository = here;
    log_stop(logger, here, inside);
  };
  const auto repository_logger = [&](const Candidate& c) {
    Json::Value f;
    f["repository"] = c.repository.repository_name;
    f["region"] = c.region;
    return logger.with(f);
  };
  // Deletes one planned repository's images; false when the deadline stopped it (or the run must stop). `listing`:
  // the plan's own, started at listed_at, when the first re-check may reuse it (see delete_planned).
  const auto apply = [&](const Candidate& c, RepositoryOutcome& outcome, const RepositoryListing* listing,
                         TimePoint listed_at) -> Result<bool> {
    ecr::EcrClient ecr(*ecr_clients.at(c.region));
    Logger repo_log = repository_logger(c);
    auto deleted = delete_planned(run, ecr, outcome.plan.key, c.selection.rules, *in_use, outcome, report.deleted,
                                  report.planned_deletions, listing, listed_at, repo_log);
    report.deleted_bytes += outcome.deleted_bytes;
    if (!deleted && is_deadline_reached(deleted.error())) {
      outcome.finished = false;
    } else if (!deleted) {
      if (!options.continue_on_repository_error) return deleted.error();
      outcome.error = deleted.error();
    }
    Json::Value f;
    f["deleted"] = static_cast<Json::UInt64>(outcome.deleted);
    f["spared"] = static_cast<Json::UInt64>(outcome.spared.size());
    f["failed"] = static_cast<Json::UInt64>(outcome.failures.size());
    f["in_use_rescans"] = outcome.in_use_rescans;
    if (outcome.error) {
      f["error"] = outcome.error->describe();
      repo_log.error("repository stopped; going on with the next", f);
    } else if (!outcome.finished) {
      repo_log.info("repository stopped part-way at the deadline", f);
    } else {
      repo_log.info("repository cleaned", f);
    }
    return outcome.finished;
  };

  bool stopped = false;
  for (const auto& c : *candidates) {
    const std::string& region = c.region;
    const std::string& name = c.repository.repository_name;
    if (options.start_at && before(report.regions, c, *options.start_at)) continue;  // done by an earlier run
    const RepositoryCursor here{region, name};
    if (policy.expired()) {
      stop_at(here, false);
      stopped = true;
      break;
    }
    ecr::EcrClient ecr(*ecr_clients.at(region));
    const RepositoryKey key{c.repository.registry_id, region, name};
    Logger repo_log = repository_logger(c);
    RepositoryOutcome outcome;
    outcome.selected_because = c.selection.why;
    const TimePoint listed_at = clock.now();
    auto listing = list_repository(run, ecr, key);
    if (!listing && is_deadline_reached(listing.error())) {
      stop_at(here, false);
      stopped = true;
      break;
    }
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
    outcome.plan = plan_repository(*listing, c.selection.rules, in_use->index, epoch_seconds(clock.now()));
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
    report.repositories.push_back(std::move(outcome));
    if (!options.apply || report.repositories.back().plan.remove.empty()) continue;
    if (options.plan_first) {
      to_apply.push_back({&c, report.repositories.size() - 1});
      continue;
    }
    auto finished = apply(c, report.repositories.back(), &*listing, listed_at);
    if (!finished) return finished.error();
    if (!*finished) {
      stop_at(here, true);
      stopped = true;
      break;
    }
  }
  // plan_first: a deadline during planning deletes nothing; otherwise each planned repository in order, and the
  // ones after a stop are left unfinished (the cursor re-plans them).
  for (std::size_t i = 0; i < to_apply.size(); ++i) {
    RepositoryOutcome& outcome = report.repositories[to_apply[i].outcome];
    if (stopped) {
      outcome.finished = false;
      continue;
    }
    // Planned a while ago, perhaps: the first re-check lists afresh.
    auto finished = apply(*to_apply[i].candidate, outcome, nullptr, TimePoint{});
    if (!finished) return finished.error();
    if (!*finished) {
      stop_at({to_apply[i].candidate->region, to_apply[i].candidate->repository.repository_name}, true);
      stopped = true;
    }
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
    if (report.stopped_early) out["stopped"] = report.stopped_early->describe();
  }
  if (!report.unmatched_patterns.empty()) out["unmatched_patterns"] = strings(report.unmatched_patterns);
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
    v["in_use_count"] = static_cast<Json::UInt64>(count_in_use(r.plan));
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
      v["deleted"] = static_cast<Json::UInt64>(r.deleted);
      v["spared"] = strings(r.spared);
      v["failures"] = strings(r.failures);
    }
    if (r.error) v["error"] = r.error->describe();
    if (!r.finished) v["finished"] = false;
    out["repositories"].append(v);
  }
  return out;
}

std::string human_bytes(std::int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  constexpr double kStep = 1024.0;  // IEC binary prefixes
  double v = static_cast<double>(bytes < 0 ? 0 : bytes);
  std::size_t unit = 0;
  while (v >= kStep && unit + 1 < std::size(kUnits)) {
    v /= kStep;
    ++unit;
  }
  std::ostringstream os;
  if (unit == 0) {
    os << static_cast<std::int64_t>(v) << " B";
  } else {
    os << std::fixed << std::setprecision(v < 10 ? 1 : 0) << v << ' ' << kUnits[unit];
  }
  return os.str();
}

std::size_t count_in_use(const RepositoryPlan& plan) {
  constexpr std::string_view kInUsePrefix = "in use by ";  // selection_planner's keep reason for what runs
  std::size_t n = 0;
  for (const auto& d : plan.keep) {
    n += std::any_of(d.reasons.begin(), d.reasons.end(),
                     [&](const std::string& why) { return why.rfind(kInUsePrefix, 0) == 0; });
  }
  return n;
}

std::string report_to_table(const CleanupReport& report, bool verbose) {
  std::ostringstream os;
  os << (report.applied ? "APPLIED" : "DRY RUN") << " regions:";
  for (const auto& r : report.regions) os << " " << r;
  os << "  in-use references: " << report.in_use_references << "\n\n";
  std::size_t name_width = std::string_view("REPOSITORY").size();
  for (const auto& r : report.repositories) {
    name_width = std::max(name_width, r.plan.key.region.size() + 1 + r.plan.key.repository.size());
  }
  const auto row = [&](const std::string& name, const std::string& remove, const std::string& keep,
                       const std::string& in_use, const std::string& reclaim, const std::string& tail) {
    os << std::left << std::setw(static_cast<int>(name_width)) << name << std::right << std::setw(8) << remove
       << std::setw(8) << keep << std::setw(8) << in_use << std::setw(12) << reclaim << tail << "\n";
  };
  const auto applied_cols = [&](const std::string& deleted, const std::string& spared, const std::string& failed) {
    if (!report.applied) return std::string();
    std::ostringstream t;
    t << std::right << std::setw(9) << deleted << std::setw(8) << spared << std::setw(8) << failed;
    return t.str();
  };
  row("REPOSITORY", "REMOVE", "KEEP", "IN USE", "RECLAIM", applied_cols("DELETED", "SPARED", "FAILED"));
  std::size_t keep_total = 0, in_use_total = 0, spared_total = 0, failed_total = 0;
  for (const auto& r : report.repositories) {
    const std::size_t in_use = count_in_use(r.plan);
    keep_total += r.plan.keep.size();
    in_use_total += in_use;
    spared_total += r.spared.size();
    failed_total += r.failures.size();
    std::string note = r.error ? "  stopped: " + r.error->describe() : (!r.finished ? "  (unfinished)" : "");
    row(r.plan.key.region + "/" + r.plan.key.repository, std::to_string(r.plan.remove.size()),
        std::to_string(r.plan.keep.size()), std::to_string(in_use), human_bytes(r.plan.bytes_reclaimed),
        applied_cols(std::to_string(r.deleted), std::to_string(r.spared.size()),
                     std::to_string(r.failures.size())) +
            note);
  }
  row("TOTAL", std::to_string(report.planned_deletions), std::to_string(keep_total), std::to_string(in_use_total),
      human_bytes(report.planned_bytes),
      applied_cols(std::to_string(report.deleted), std::to_string(spared_total), std::to_string(failed_total)));
  if (verbose) {
    for (const auto& r : report.repositories) {
      os << "\n" << r.plan.key.region << " " << r.plan.key.repository << " (" << r.selected_because << ")\n";
      auto image = [&](const char* action, const ImageDecision& d) {
        std::string tags;
        for (const auto& t : d.image_tags) tags += (tags.empty() ? "" : ",") + t;
        os << "  " << std::left << std::setw(7) << action << std::setw(22) << d.image_digest.substr(0, 19) << " "
           << std::setw(24) << (tags.empty() ? "<untagged>" : tags) << " " << std::right << std::setw(10)
           << human_bytes(d.image_size_in_bytes) << "  " << (d.reasons.empty() ? std::string() : d.reasons.front())
           << "\n";
      };
      for (const auto& d : r.plan.remove) image("REMOVE", d);
      for (const auto& d : r.plan.keep) image("keep", d);
      for (const auto& f : r.failures) os << "  failed " << f << "\n";
    }
  } else if (!report.repositories.empty()) {
    os << "\n(--verbose lists every image and why it goes or stays)\n";
  }
  if (report.next_repository) {
    os << "\nStopped at the deadline; resume at " << report.next_repository->region << " "
       << report.next_repository->repository << "\n";
  }
  os << "\nNot covered yet:";
  for (const char* n : kNotCovered) os << " " << n << ";";
  os << "\n";
  return os.str();
}

}  // namespace ecrs::cleanup
