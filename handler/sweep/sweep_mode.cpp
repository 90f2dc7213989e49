#include "ecrs/handler/sweep_mode.hpp"

#include <chrono>
#include <map>

#include "ecrs/cleanup/cleanup.hpp"
#include "ecrs/cleanup/sts_client.hpp"
#include "ecrs/aws/retry.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::handler {
namespace {

constexpr const char* kEventKey = "ecrSweeper";
constexpr const char* kCleanTask = "clean";

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

// What the reply accumulates; turned into bounded JSON at the end.
struct SweepReport {
  const SweepTask* task = nullptr;
  std::string account_id;
  std::string region;
  std::optional<Error> error;
  bool complete = false;
  std::string cursor;
  bool cursor_inside = false;  // the cursor's repository was started: the next run re-plans what is left of it
  std::size_t repositories_seen = 0;       // selected for cleanup in this account and region
  std::size_t repositories_processed = 0;  // in this invocation
  std::size_t images_planned = 0;
  std::size_t images_deleted = 0;
  std::size_t images_spared = 0;
  std::int64_t bytes = 0;
  std::int64_t deleted_bytes = 0;  // the EMF record's BytesReclaimed; `bytes` (the reply's) is what would go
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
    if (cursor_inside) v["cursorInsideRepository"] = true;
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
    if (info.metrics) {
      info.metrics->images_planned = report.images_planned;
      info.metrics->images_deleted = report.images_deleted;
      info.metrics->bytes_reclaimed = report.deleted_bytes;  // `bytes` is what the plans would reclaim
      // The state machine resumes an item in a fresh invocation only when it is partial and has a cursor
      // (templates/org-sweep.yaml, ItemDone): a failure without one (RoleArnRequired) is not handed on.
      info.metrics->continuations = !report.complete && !report.cursor.empty() ? 1 : 0;
      info.metrics->failures = report.errors_total + (report.error ? 1 : 0);
    }
    return report.to_json();
  }

 private:
  // A warm function runs many items, most of them another region of an account it just assumed a role in: one
  // provider per role, which renews its credentials before STS's Expiration (cleanup::assume_role_provider), so an
  // item longer than the session keeps signing with a valid token. The first item's run id names the session.
  Result<std::shared_ptr<aws::CredentialsProvider>> assumed(aws::AwsClient& sts, const std::string& role_arn,
                                                            const std::string& run) {
    auto it = assumed_.find(role_arn);
    if (it == assumed_.end()) {
      it = assumed_
               .emplace(role_arn, cleanup::assume_role_provider(sts, role_arn, sweep_role_session_name(run),
                                                                session_->clock()))
               .first;
    }
    // Ask now: a role we may not assume is the item's error before any registry call.
    if (auto creds = it->second->credentials(); !creds) {
      assumed_.erase(it);
      return creds.error();
    }
    return it->second;
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
      auto creds = assumed(**sts_aws, task.role_arn, task.run_id.empty() ? info.request_id : task.run_id);
      if (!creds) {
        report.error = creds.error();
        return;
      }
      member = *creds;
    }
    sweep_region(task, region, member, info, report);
  }

  // The cleanup engine as the member: its "own" credentials (the factory's null provider) are the member's, so
  // the in-use scan and the registry are the member account's, in the item's one region.
  void sweep_region(const SweepTask& task, const std::string& region,
                    const std::shared_ptr<aws::CredentialsProvider>& member, const InvocationInfo& info,
                    SweepReport& report) {
    cleanup::CleanupOptions options;
    options.rules = task.rules;
    options.repository_patterns = task.repositories;
    options.regions = {region};
    options.home_region = region;
    options.apply = !task.dry_run;
    options.account_label = report.account_id;
    options.deadline = settings_.deadline_margin ? info.deadline - *settings_.deadline_margin
                                                 : cleanup::stop_time(info.deadline, session_->clock().now());
    if (auto attempts = aws::max_attempts_from_env(session_->env())) options.max_attempts = *attempts;
    options.sleeper = &session_->sleeper();
    options.random = &session_->random();
    if (!task.cursor.empty()) options.start_at = cleanup::RepositoryCursor{region, task.cursor};
    // One repository failing is an error in the report, not the end of the item: the others still get swept and
    // the state machine sees complete=false.
    options.continue_on_repository_error = true;
    const cleanup::ClientFactory as_member = [this, member](const aws::ServiceInfo& service,
                                                            const std::string& in_region,
                                                            std::shared_ptr<aws::CredentialsProvider> credentials) {
      return session_->client(service, in_region, credentials ? std::move(credentials) : member);
    };
    auto result = cleanup::run_cleanup(as_member, options, session_->clock(), session_->logger());
    if (!result) {
      report.error = result.error();
      return;
    }
    report.in_use_references = result->in_use_references;
    report.repositories_seen = result->repositories_selected;
    for (const auto& r : result->repositories) add_repository(r, report);
    if (result->next_repository) report.cursor = result->next_repository->repository;
    // The deadline came before the first repository (a slow scan): the same cursor again, and why.
    if (result->stopped_early) {
      report.cursor = task.cursor;
      report.error = *result->stopped_early;
    }
    report.cursor_inside = !result->repositories.empty() && !result->repositories.back().finished;
    report.complete = result->complete && report.errors_total == 0;
  }

  static void add_repository(const cleanup::RepositoryOutcome& r, SweepReport& report) {
    const std::string& name = r.plan.key.repository;
    const std::size_t in_use_kept = cleanup::count_in_use(r.plan);
    // A repository the deadline stopped part-way is processed by the invocation that finishes it (it is the cursor).
    if (r.finished) ++report.repositories_processed;
    report.images_planned += r.plan.remove.size();
    report.bytes += r.plan.bytes_reclaimed;
    report.deleted_bytes += r.deleted_bytes;
    report.in_use_kept += in_use_kept;
    report.images_deleted += r.deleted;
    report.images_spared += r.spared.size();
    if (r.error) report.add_error(name + ": " + r.error->describe());
    for (const auto& f : r.failures) report.add_error(name + ": " + f);
    if (report.rows.size() >= kSweepReportMaxRepositories) {
      ++report.rows_omitted;
      return;
    }
    Json::Value row;
    row["repository"] = bounded(name);
    row["selectedBecause"] = bounded(r.selected_because);
    row["planned"] = static_cast<Json::UInt64>(r.plan.remove.size());
    row["deleted"] = static_cast<Json::UInt64>(r.deleted);
    row["spared"] = static_cast<Json::UInt64>(r.spared.size());
    row["failed"] = static_cast<Json::UInt64>(r.failures.size());
    row["bytes"] = static_cast<Json::Int64>(r.plan.bytes_reclaimed);
    row["inUseKept"] = static_cast<Json::UInt64>(in_use_kept);
    if (!r.finished) row["finished"] = false;
    report.rows.append(row);
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
