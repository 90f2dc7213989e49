#include "ecrs/handler/sweep_mode.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "ecrs/cleanup/in_use_scanner.hpp"
#include "ecrs/cleanup/sts_client.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/ecr/ecr_client.hpp"

namespace ecrs::handler {
namespace {

constexpr const char* kEventKey = "ecrSweeper";
constexpr const char* kCleanTask = "clean";
constexpr const char* kInUsePrefix = "in use by ";  // cleanup's keep reason for a digest something runs
// Renew cached AssumeRole credentials this long before they expire, so no call signs with an expiring key.
constexpr std::chrono::minutes kCredentialRefreshMargin{5};

Error invalid(const std::string& message) { return Error{"InvalidEvent", message, "", 0, false, "sweep task"}; }

std::string bounded(const std::string& s) {
  return s.size() <= kSweepReportMaxStringLength ? s : s.substr(0, kSweepReportMaxStringLength) + "...";
}

Result<std::vector<std::string>> string_list(const Json::Value& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.isMember(key)) return out;
  const Json::Value& v = obj[key];
  if (!v.isArray()) return invalid(std::string("options.") + key + " must be a list of strings");
  for (const auto& item : v) {
    if (!item.isString()) return invalid(std::string("options.") + key + " must be a list of strings");
    out.push_back(item.asString());
  }
  return out;
}

Result<std::string> optional_string(const Json::Value& obj, const char* key) {
  if (!obj.isMember(key) || obj[key].isNull()) return std::string();
  if (!obj[key].isString()) return invalid(std::string(key) + " must be a string");
  return obj[key].asString();
}

Result<std::optional<int>> optional_count(const Json::Value& obj, const char* key) {
  if (!obj.isMember(key) || obj[key].isNull()) return std::optional<int>();
  if (!obj[key].isInt() || obj[key].asInt() < 0) return invalid(std::string("options.") + key + " must be >= 0");
  return std::optional<int>(obj[key].asInt());
}

double epoch_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// What the reply accumulates; turned into bounded JSON at the end.
struct SweepReport {
  const SweepTask* task = nullptr;
  std::string account_id;
  std::string region;
  std::optional<Error> error;
  bool complete = false;
  std::string cursor;
  std::size_t repositories_seen = 0;       // selected for cleanup in this account and region
  std::size_t repositories_processed = 0;  // in this invocation
  std::size_t images_planned = 0;
  std::size_t images_deleted = 0;
  std::size_t images_spared = 0;
  std::int64_t bytes = 0;
  std::size_t in_use_kept = 0;
  std::size_t in_use_references = 0;
  std::vector<std::string> errors;
  std::size_t errors_total = 0;
  Json::Value rows{Json::arrayValue};
  std::size_t rows_omitted = 0;

  void add_error(const std::string& e) {
    ++errors_total;
    if (errors.size() < kSweepReportMaxErrors) errors.push_back(bounded(e));
  }

  std::string to_json() const {
    Json::Value v;
    v["task"] = task ? task->task : std::string(kCleanTask);
    v["accountId"] = account_id;
    v["region"] = region;
    v["dryRun"] = task ? task->dry_run : true;
    v["complete"] = complete;
    if (!cursor.empty()) v["cursor"] = cursor;
    if (error) {
      v["error"]["code"] = error->code;
      v["error"]["message"] = bounded(error->context.empty() ? error->message
                                                             : error->context + ": " + error->message);
    }
    v["repositoriesSeen"] = static_cast<Json::UInt64>(repositories_seen);
    v["repositoriesProcessed"] = static_cast<Json::UInt64>(repositories_processed);
    v["imagesPlanned"] = static_cast<Json::UInt64>(images_planned);
    v["imagesDeleted"] = static_cast<Json::UInt64>(images_deleted);
    v["imagesSpared"] = static_cast<Json::UInt64>(images_spared);
    v["bytes"] = static_cast<Json::Int64>(bytes);
    v["inUseKept"] = static_cast<Json::UInt64>(in_use_kept);
    v["inUseReferences"] = static_cast<Json::UInt64>(in_use_references);
    v["errors"] = Json::Value(Json::arrayValue);
    for (const auto& e : errors) v["errors"].append(e);
    v["errorsTotal"] = static_cast<Json::UInt64>(errors_total);
    v["repositories"] = rows;
    v["repositoriesOmitted"] = static_cast<Json::UInt64>(rows_omitted);
    return to_compact_json(v);
  }
};

struct Candidate {
  ecr::Repository repository;
  cleanup::Selection selection;
};

class SweepMode final : public EventMode {
 public:
  SweepMode(AwsSession& session, SweepSettings settings) : session_(&session), settings_(settings) {}
  const char* name() const override { return "sweep"; }
  bool accepts(const Json::Value& event) const override {
    return event.isObject() && event.isMember(kEventKey) && event[kEventKey].isObject();
  }

  Result<std::string> handle(const Json::Value& event, const InvocationInfo& info) override {
    SweepReport report;
    auto task = parse_sweep_task(event);
    if (!task) {
      // Not retryable: the same event would fail again, so the reply (not /error) carries it.
      report.error = task.error();
      return report.to_json();
    }
    report.task = &*task;
    report.account_id = task->account_id;
    run(*task, info, report);
    Json::Value f;
    f["account"] = report.account_id;
    f["region"] = report.region;
    f["complete"] = report.complete;
    f["planned"] = static_cast<Json::UInt64>(report.images_planned);
    f["deleted"] = static_cast<Json::UInt64>(report.images_deleted);
    if (report.error) f["error"] = report.error->code;
    session_->logger().info("sweep task", f);
    return report.to_json();
  }

 private:
  // A warm function runs many items, most of them another region of an account it just assumed a role in:
  // reuse the credentials until shortly before STS's Expiration.
  Result<std::shared_ptr<aws::CredentialsProvider>> assumed(cleanup::StsClient& sts, const std::string& role_arn,
                                                            const std::string& run) {
    const auto now = session_->clock().now();
    if (auto it = assumed_.find(role_arn); it != assumed_.end()) {
      auto cached = it->second->credentials();
      if (cached && cached->expiration && *cached->expiration - kCredentialRefreshMargin > now) return it->second;
      assumed_.erase(it);
    }
    auto creds = sts.assume_role(role_arn, sweep_role_session_name(run));
    if (!creds) return creds.error();
    if (!creds->expiration) creds->expiration = now + std::chrono::seconds(cleanup::kAssumeRoleDurationSeconds);
    auto provider = std::make_shared<aws::StaticCredentialsProvider>(std::move(*creds));
    assumed_[role_arn] = provider;
    return std::shared_ptr<aws::CredentialsProvider>(provider);
  }

  bool near_deadline(const InvocationInfo& info) const {
    return session_->clock().now() + settings_.deadline_margin >= info.deadline;
  }

  void run(const SweepTask& task, const InvocationInfo& info, SweepReport& report) {
    std::string region = task.region;
    if (region.empty()) {
      auto r = session_->region();
      if (!r) {
        report.error = r.error();
        return;
      }
      region = *r;
    }
    report.region = region;

    // Whose function is this? Never sweep it by mistake (an item with a missing or copied role ARN).
    auto sts_aws = session_->client(aws::kSts, region);
    if (!sts_aws) {
      report.error = sts_aws.error();
      return;
    }
    cleanup::StsClient sts(**sts_aws);
    auto me = sts.get_caller_identity();
    if (!me) {
      report.error = me.error();
      return;
    }
    std::shared_ptr<aws::CredentialsProvider> member;
    if (task.role_arn.empty()) {
      // Only an explicit opt-in sweeps the function's own account, with the function's own role.
      if (!task.allow_own_account) {
        report.error = Error{"RoleArnRequired", "a sweep task names the member role to assume", "", 0, false, ""};
        return;
      }
      if (!task.account_id.empty() && task.account_id != me->account) {
        report.error = Error{"AccountMismatch", "no roleArn, and accountId is not the function's own account " +
                                                    me->account, "", 0, false, ""};
        return;
      }
      report.account_id = me->account;
      member = session_->default_credentials();
    } else {
      const std::string role_account = cleanup::account_of_arn(task.role_arn);
      if (role_account.empty()) {
        report.error = Error{"InvalidRoleArn", "roleArn is not an IAM role ARN", "", 0, false, ""};
        return;
      }
      if (!task.account_id.empty() && task.account_id != role_account) {
        report.error = Error{"AccountMismatch",
                             "roleArn belongs to account " + role_account + ", not " + task.account_id, "", 0, false,
                             ""};
        return;
      }
      report.account_id = role_account;
      if (role_account == me->account && !task.allow_own_account) {
        report.error = Error{"OwnAccountRefused",
                             "the role is in the function's own account " + me->account +
                                 "; set allowOwnAccount to sweep it",
                             "", 0, false, ""};
        return;
      }
      auto creds = assumed(sts, task.role_arn, task.run_id.empty() ? info.request_id : task.run_id);
      if (!creds) {
        report.error = creds.error();
        return;
      }
      member = *creds;
    }
    sweep_region(task, region, member, info, report);
  }

  Result<cleanup::InUseIndex> scan(const std::string& region, const std::shared_ptr<aws::CredentialsProvider>& creds,
                                   const std::string& label) {
    auto ecs_aws = session_->client(aws::kEcs, region, creds);
    if (!ecs_aws) return ecs_aws.error();
    auto lambda_aws = session_->client(aws::kLambda, region, creds);
    if (!lambda_aws) return lambda_aws.error();
    auto apprunner_aws = session_->client(aws::kAppRunner, region, creds);
    if (!apprunner_aws) return apprunner_aws.error();
    cleanup::EcsClient ecs(**ecs_aws);
    cleanup::LambdaClient lambda(**lambda_aws);
    cleanup::AppRunnerClient apprunner(**apprunner_aws);
    auto scanned = cleanup::scan_in_use({&ecs, &lambda, &apprunner, label}, session_->logger());
    if (!scanned) return scanned.error();
    cleanup::InUseIndex index;
    for (auto& r : scanned->refs) index.add(std::move(r));
    return index;
  }

  static Result<cleanup::RepositoryListing> list_repository(ecr::EcrClient& ecr, const cleanup::RepositoryKey& key) {
    cleanup::RepositoryListing listing;
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

  void sweep_region(const SweepTask& task, const std::string& region,
                    const std::shared_ptr<aws::CredentialsProvider>& creds, const InvocationInfo& info,
                    SweepReport& report) {
    const std::string label = report.account_id + "/" + region;
    auto in_use = scan(region, creds, label);
    if (!in_use) {
      report.error = in_use.error();
      return;
    }
    report.in_use_references = in_use->size();

    auto ecr_aws = session_->client(aws::kEcr, region, creds);
    if (!ecr_aws) {
      report.error = ecr_aws.error();
      return;
    }
    ecr::EcrClient ecr(**ecr_aws);
    std::vector<Candidate> candidates;
    ecr::DescribeRepositoriesRequest repos_req;
    do {
      auto page = ecr.describe_repositories(repos_req);
      if (!page) {
        report.error = page.error();
        return;
      }
      for (auto& repo : page->repositories) {
        auto tags = ecr.list_tags_for_resource({repo.repository_arn});
        if (!tags) {
          report.error = tags.error();
          return;
        }
        std::map<std::string, std::string> tag_map;
        for (const auto& t : tags->tags) tag_map[t.key] = t.value;
        auto sel = cleanup::select_repository(repo.repository_name, tag_map, task.repositories, task.rules);
        if (sel.selected) candidates.push_back({std::move(repo), std::move(sel)});
      }
      repos_req.next_token = page->next_token;
    } while (repos_req.next_token);
    // By name, so a cursor means the same place on every run whatever order the pages came in.
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      return a.repository.repository_name < b.repository.repository_name;
    });
    report.repositories_seen = candidates.size();

    for (const auto& c : candidates) {
      const std::string& name = c.repository.repository_name;
      if (!task.cursor.empty() && name < task.cursor) continue;  // done by an earlier invocation of this item
      if (near_deadline(info)) {
        report.cursor = name;
        report.complete = false;
        return;
      }
      sweep_repository(task, ecr, {c.repository.registry_id, region, name}, c.selection, *in_use, creds, label,
                       report);
      ++report.repositories_processed;
    }
    report.complete = !report.error && report.errors_total == 0;
  }

  void sweep_repository(const SweepTask& task, ecr::EcrClient& ecr, const cleanup::RepositoryKey& key,
                        const cleanup::Selection& sel, const cleanup::InUseIndex& in_use,
                        const std::shared_ptr<aws::CredentialsProvider>& creds, const std::string& label,
                        SweepReport& report) {
    const auto now = [this] { return epoch_seconds(session_->clock().now()); };
    Json::Value row;
    row["repository"] = bounded(key.repository);
    row["selectedBecause"] = bounded(sel.why);
    auto listing = list_repository(ecr, key);
    if (!listing) {
      report.add_error(key.repository + ": " + listing.error().describe());
      return;
    }
    const cleanup::RepositoryPlan plan = cleanup::plan_repository(*listing, sel.rules, in_use, now());
    std::size_t in_use_kept = 0;
    for (const auto& d : plan.keep) {
      for (const auto& why : d.reasons) {
        if (why.rfind(kInUsePrefix, 0) == 0) {
          ++in_use_kept;
          break;
        }
      }
    }
    report.images_planned += plan.remove.size();
    report.bytes += plan.bytes_reclaimed;
    report.in_use_kept += in_use_kept;
    std::size_t deleted = 0, spared = 0, failed = 0;
    if (!task.dry_run) {
      // Same phases and chunks as cleanup::run_cleanup, and the same re-check before every batch: a deployment
      // racing the sweep, or a tag moved since the plan, spares the digest.
      std::vector<std::vector<std::string>> batches;
      for (std::size_t i = 0; i < plan.remove.size(); ++i) {
        const bool new_phase = i == 0 || plan.remove_phase[i] != plan.remove_phase[i - 1];
        if (new_phase || batches.back().size() == ecr::kMaxImageIdsPerCall) batches.emplace_back();
        batches.back().push_back(plan.remove[i].image_digest);
      }
      for (const auto& batch : batches) {
        auto fresh_use = scan(key.region, creds, label);
        if (!fresh_use) {
          report.add_error(key.repository + ": " + fresh_use.error().describe());
          break;
        }
        auto fresh_listing = list_repository(ecr, key);
        if (!fresh_listing) {
          report.add_error(key.repository + ": " + fresh_listing.error().describe());
          break;
        }
        const auto fresh = cleanup::plan_repository(*fresh_listing, sel.rules, *fresh_use, now());
        std::set<std::string> removable;
        for (const auto& d : fresh.remove) removable.insert(d.image_digest);
        ecr::BatchDeleteImageRequest del;
        del.repository_name = key.repository;
        del.registry_id = key.registry_id;
        for (const auto& digest : batch) {
          if (removable.count(digest)) {
            del.image_ids.push_back({digest, ""});  // by digest: the image and all its tags
          } else {
            ++spared;
          }
        }
        if (del.image_ids.empty()) continue;
        auto res = ecr.batch_delete_image(del);
        if (!res) {
          report.add_error(key.repository + ": " + res.error().describe());
          break;
        }
        std::set<std::string> done;
        for (const auto& id : res->image_ids) {
          if (done.insert(id.image_digest).second) ++deleted;
        }
        for (const auto& f : res->failures) {
          ++failed;
          report.add_error(key.repository + ": " + f.image_id.image_digest + ": " + f.failure_code + ": " +
                           f.failure_reason);
        }
      }
    }
    report.images_deleted += deleted;
    report.images_spared += spared;
    row["planned"] = static_cast<Json::UInt64>(plan.remove.size());
    row["deleted"] = static_cast<Json::UInt64>(deleted);
    row["spared"] = static_cast<Json::UInt64>(spared);
    row["failed"] = static_cast<Json::UInt64>(failed);
    row["bytes"] = static_cast<Json::Int64>(plan.bytes_reclaimed);
    row["inUseKept"] = static_cast<Json::UInt64>(in_use_kept);
    if (report.rows.size() < kSweepReportMaxRepositories) {
      report.rows.append(row);
    } else {
      ++report.rows_omitted;
    }
  }

  AwsSession* session_;
  SweepSettings settings_;
  std::map<std::string, std::shared_ptr<aws::CredentialsProvider>> assumed_;  // by role ARN
};

}  // namespace

Result<SweepTask> parse_sweep_task(const Json::Value& event) {
  if (!event.isObject() || !event.isMember(kEventKey) || !event[kEventKey].isObject()) {
    return invalid("the event has no ecrSweeper object");
  }
  const Json::Value& e = event[kEventKey];
  SweepTask t;
  auto task = optional_string(e, "task");
  if (!task) return task.error();
  if (*task != kCleanTask) return invalid("unsupported task '" + bounded(*task) + "' (supported: clean)");
  t.task = *task;
  for (auto [key, out] : {std::pair{"accountId", &t.account_id}, std::pair{"region", &t.region},
                          std::pair{"roleArn", &t.role_arn}, std::pair{"runId", &t.run_id}}) {
    auto v = optional_string(e, key);
    if (!v) return v.error();
    *out = *v;
  }
  if (e.isMember("allowOwnAccount")) {
    if (!e["allowOwnAccount"].isBool()) return invalid("allowOwnAccount must be a boolean");
    t.allow_own_account = e["allowOwnAccount"].asBool();
  }
  if (!e.isMember("options") || e["options"].isNull()) return t;
  const Json::Value& o = e["options"];
  if (!o.isObject()) return invalid("options must be an object");
  if (o.isMember("dryRun")) {
    if (!o["dryRun"].isBool()) return invalid("options.dryRun must be a boolean");
    t.dry_run = o["dryRun"].asBool();
  }
  auto keep_count = optional_count(o, "keepCount");
  if (!keep_count) return keep_count.error();
  if (*keep_count) t.rules.keep_count = **keep_count;
  auto keep_days = optional_count(o, "keepDays");
  if (!keep_days) return keep_days.error();
  if (*keep_days) t.rules.keep_days = **keep_days;
  if (o.isMember("keepTags")) {
    auto tags = string_list(o, "keepTags");
    if (!tags) return tags.error();
    t.rules.keep_tag_patterns = *tags;
  }
  auto repos = string_list(o, "repositories");
  if (!repos) return repos.error();
  t.repositories = *repos;
  auto cursor = optional_string(o, "cursor");
  if (!cursor) return invalid("options.cursor must be a string");
  t.cursor = *cursor;
  return t;
}

std::string sweep_role_session_name(const std::string& run) {
  std::string out = "ecr-sweeper-";
  for (char ch : run) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    std::string_view("_+=,.@-").find(ch) != std::string_view::npos;
    out += ok ? ch : '-';
    if (out.size() == kMaxRoleSessionNameLength) break;
  }
  if (run.empty()) out += "run";
  return out;
}

std::unique_ptr<EventMode> make_sweep_mode(AwsSession& session) { return make_sweep_mode(session, {}); }
std::unique_ptr<EventMode> make_sweep_mode(AwsSession& session, SweepSettings settings) {
  return std::make_unique<SweepMode>(session, settings);
}

}  // namespace ecrs::handler
