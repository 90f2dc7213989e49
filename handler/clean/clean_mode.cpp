// The scheduled-cleanup event mode and the `clean` CLI verb over cleanup::run_cleanup.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <ostream>

#include "ecrs/common/json.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/handler/clean_mode.hpp"
#include "ecrs/handler/progress_bar.hpp"
#include "ecrs/handler/cli_options.hpp"

namespace ecrs::handler {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

class CleanEventMode final : public EventMode {
 public:
  explicit CleanEventMode(AwsSession& session) : session_(&session) {}
  const char* name() const override { return "scheduled-cleanup"; }
  bool accepts(const Json::Value& event) const override { return clean::is_scheduled_event(event); }

  // A bad setting or a failed scan is returned as an Error: the invocation fails visibly (CloudWatch metric
  // Errors, the destination on failure) and EventBridge's asynchronous invocation retries it, which is harmless:
  // a dry run deletes nothing and an applied run re-plans from scratch.
  Result<std::string> handle(const Json::Value& event, const InvocationInfo& info) override {
    Json::Value base(Json::objectValue);
    base["request_id"] = info.request_id;
    if (auto id = get_string(event, "id")) base["event_id"] = *id;
    Logger log = session_->logger().with(base);
    auto region = session_->region();
    auto options = clean::options_from_env(session_->env(), region ? *region : std::string());
    if (!options) {
      Json::Value f;
      f["error"] = options.error().describe();
      log.error("scheduled cleanup: invalid settings, nothing done", f);
      return options.error();
    }
    Json::Value start;
    start["dry_run"] = !options->apply;
    start["keep_count"] = options->rules.keep_count;
    start["keep_days"] = options->rules.keep_days;
    start["regions"] = options->all_regions ? Json::Value("all") : Json::Value(Json::arrayValue);
    for (const auto& r : options->regions) start["regions"].append(r);
    // Lambda's deadline (a zero one: no Lambda-Runtime-Deadline-Ms, i.e. no deadline). A run the deadline stops
    // replies with complete=false and next_repository; nothing carries the cursor to the next scheduled run, which
    // re-plans from the first repository: what this one deleted is gone from its plans, so it moves on.
    if (info.deadline != std::chrono::system_clock::time_point{}) {
      options->deadline = cleanup::stop_time(info.deadline, session_->clock().now());
      start["stop_at"] = format_timestamp(*options->deadline);
    }
    clean::apply_session_settings(*session_, *options);
    log.info("scheduled cleanup: start", start);
    auto report = cleanup::run_cleanup(clean::session_factory(*session_), *options, session_->clock(), log);
    if (!report) {
      Json::Value f;
      f["error"] = report.error().describe();
      log.error("scheduled cleanup failed; nothing more was deleted", f);
      return report.error();
    }
    std::size_t failures = 0;
    for (const auto& r : report->repositories) failures += r.failures.size();
    Json::Value done;
    done["repositories"] = static_cast<Json::UInt64>(report->repositories.size());
    done["planned_deletions"] = static_cast<Json::UInt64>(report->planned_deletions);
    done["bytes_reclaimed"] = static_cast<Json::Int64>(report->planned_bytes);
    done["deleted"] = static_cast<Json::UInt64>(report->deleted);
    done["failed"] = static_cast<Json::UInt64>(failures);
    if (info.metrics) {
      info.metrics->images_planned = report->planned_deletions;
      info.metrics->images_deleted = report->deleted;
      info.metrics->bytes_reclaimed = report->deleted_bytes;  // planned_bytes in a dry run would claim a saving
      info.metrics->failures = failures;
    }
    if (!report->complete) {
      done["complete"] = false;
      if (report->next_repository) done["next_repository"] = report->next_repository->repository;
      log.warn("scheduled cleanup: stopped at the deadline; the next run continues", done);
    } else if (failures > 0) {
      log.warn("scheduled cleanup: done with per-image failures", done);
    } else {
      log.info("scheduled cleanup: done", done);
    }
    return clean::scheduled_reply(*report);
  }

 private:
  AwsSession* session_;
};

constexpr const char* kCleanFooter = R"(Without --apply nothing is deleted: the plan lists, per repository, what goes, what stays and why.

Repositories: those tagged ecr-sweeper:enabled=true (or BoxCleanerEnabled=true), plus those whose name
matches a --repos pattern. Tags ecr-sweeper:keep-count, ecr-sweeper:keep-days and BoxCleanerKeepDays
override --keep / --keep-days per repository.

An image (digest) is deleted only when no rule keeps it and nothing uses it. "In use" covers, in every
scanned region and every --assume-role account: ECS running tasks (each container's image and the
resolved digest), ECS services (desired count 0 too) with every deployment's task definition (PRIMARY,
ACTIVE, rollback), Lambda image functions (every published version, $LATEST and alias targets) and
App Runner image services. Tags are resolved to digests; an index in use keeps its children.
NOT covered yet: EKS / Kubernetes pods, EventBridge Scheduler and ECS scheduled tasks, AWS Batch job
definitions -- protect those images with --keep-tag or keep them out of --repos.

--apply re-checks that nothing new uses the digests with a fresh in-use scan after the plan, and a fresh
scan and listing at least every 15 s while deleting. --max-duration stops in time (between two batches) and says where.
On a terminal --apply draws a progress line on stderr (images deleted of the total, rate, ETA; not with
--no-color, NO_COLOR or --debug).
Output: a summary table per repository (counts, sizes, in use); --verbose adds every image and why.
--max-duration stopping the run exits 1. With --detailed-exitcode: 3 images planned (dry run) or deleted
(--apply), 0 nothing to delete.
)";

class CleanVerb final : public CliVerb {
 public:
  explicit CleanVerb(clean::CleanVerbOptions options) : options_(options) {}

  CLI::App* add_to(CLI::App& app) override {
    cmd_ = app.add_subcommand("clean", "Delete old images nothing uses (a dry-run plan unless --apply)");
    cmd_->footer(std::string(kCleanFooter) + kExitCodesHelp);
    cmd_->add_flag("--apply", apply_, "Delete the images the plan marks remove (default: dry run)");
    cmd_->add_option("--keep", keep_, "Keep the newest N images (digests, not tags) per repository")
        ->default_val(cleanup::kDefaultKeepCount)
        ->check(CLI::Range(0, clean::kMaxKeep));
    cmd_->add_option("--keep-days", keep_days_, "Keep every image pushed in the last D days")
        ->default_val(cleanup::kDefaultKeepDays)
        ->check(CLI::Range(0, clean::kMaxKeep));
    cmd_->add_option("--keep-tag", keep_tags_,
                     "Keep images with a tag matching PATTERN (* and ?; repeatable; default: latest, release-*)");
    cmd_->add_option("--repos", repos_,
                     "Clean repositories whose name matches PATTERN (repeatable), besides the opted-in ones");
    cmd_->add_flag("--all-regions", all_regions_, "Every region enabled for the account (not with --region)");
    cmd_->add_option("--assume-role", roles_,
                     "Also scan the account of this role for images in use (repeatable; arn:aws:iam::ACCOUNT:role/NAME)");
    cmd_->add_flag("--verbose,-v", verbose_, "List every image with its decision and why, not just the summary");
    cmd_->add_flag("--detailed-exitcode", detailed_exitcode_,
                   "Exit 0 when nothing is to be deleted, 3 when images are planned or deleted");
    cmd_->add_option("--max-duration", max_duration_s_,
                     "Stop (between two batches) after this many seconds and say where; the next run continues")
        ->check(CLI::Range(1, clean::kMaxDurationSeconds));
    // --region is repeatable here: every region to clean and scan.
    add_common_options(*cmd_, common_, {.table = true, .repeatable_region = true});
    return cmd_;
  }

  int run(AwsSession& session, CliContext& io) override {
    const std::vector<std::string>& regions_ = common_.regions;
    if (all_regions_ && !regions_.empty()) return usage(io, "--region and --all-regions exclude each other");
    for (const auto& r : regions_) {
      if (!clean::is_region_name(r)) return usage(io, "--region '" + r + "' is not a region name (e.g. us-east-1)");
    }
    for (const auto& a : roles_) {
      if (!clean::is_role_arn(a)) return usage(io, "--assume-role '" + a + "' is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
    }
    for (const auto& p : keep_tags_) {
      if (p.empty()) return usage(io, "--keep-tag needs a non-empty pattern");
    }
    for (const auto& p : repos_) {
      if (p.empty()) return usage(io, "--repos needs a non-empty pattern");
    }
    cleanup::CleanupOptions options;
    options.apply = apply_;
    options.rules.keep_count = keep_;
    options.rules.keep_days = keep_days_;
    if (!keep_tags_.empty()) options.rules.keep_tag_patterns = keep_tags_;
    options.repository_patterns = repos_;
    options.regions = regions_;
    options.all_regions = all_regions_;
    options.assume_roles = roles_;
    if (auto home = session.region()) {
      options.home_region = *home;
    } else if (!regions_.empty()) {
      options.home_region = regions_.front();
    } else {
      io.err << "ecr-sweeper clean: no region: pass --region or set AWS_REGION (" << home.error().describe()
             << ")\n";
      return kExitUsage;
    }

    clean::apply_session_settings(session, options);
    if (max_duration_s_ > 0) options.deadline = session.clock().now() + std::chrono::seconds(max_duration_s_);
    ProgressLine progress(io.err, session.clock(), "images");
    if (apply_ && io.progress) {
      options.plan_first = true;  // a known total from the first deletion
      options.on_progress = [&](std::size_t deleted, std::size_t planned) { progress.update(deleted, planned); };
    }
    auto report = cleanup::run_cleanup(clean::session_factory(session), options, session.clock(), session.logger());
    progress.finish();
    if (report) {
      for (const auto& p : report->unmatched_patterns) {
        io.err << "ecr-sweeper clean: warning: --repos '" << p << "' matches no repository in "
               << (report->regions.size() == 1 ? "region " + report->regions.front()
                                                : std::to_string(report->regions.size()) + " regions")
               << "\n";
      }
    }
    if (!report) {
      io.err << "ecr-sweeper clean: " << report.error().describe() << "\n"
             << (apply_ ? "stopped; images deleted before the failure stay deleted, nothing else was touched\n"
                        : "nothing was deleted (dry run)\n");
      return kExitFailed;
    }
    const OutputFormat format = output(session);
    if (format == OutputFormat::json) {
      io.out << to_compact_json(cleanup::report_to_json(*report)) << '\n';
    } else if (format == OutputFormat::table ||
               (!output_chosen(session) && options_.table.value_or(::isatty(STDOUT_FILENO) != 0))) {
      io.out << cleanup::report_to_table(*report, verbose_);
      if (!apply_) io.out << "Dry run: nothing was deleted. Run again with --apply to delete what REMOVE counts.\n";
    } else {
      io.out << clean::report_to_text(*report, verbose_);
    }
    std::size_t failures = 0;
    for (const auto& r : report->repositories) failures += r.failures.size();
    if (failures > 0) {
      io.err << "ecr-sweeper clean: " << failures << " image(s) could not be deleted (see failures above)\n";
      return kExitFailed;
    }
    if (!report->complete) {
      io.err << "ecr-sweeper clean: --max-duration reached before the end"
             << (report->next_repository ? " (stopped at " + report->next_repository->region + "/" +
                                               report->next_repository->repository + ")"
                                         : std::string())
             << "; run again to continue: what was deleted stays deleted and is not planned again\n";
      return kExitFailed;
    }
    if (detailed_exitcode_ && report->planned_deletions > 0) return kCliExitFlagged;
    return kExitOk;
  }

 private:
  int usage(CliContext& io, const std::string& message) {
    io.err << "ecr-sweeper clean: " << message << "\n";
    return kExitUsage;
  }

  clean::CleanVerbOptions options_;
  CLI::App* cmd_ = nullptr;
  bool apply_ = false;
  int keep_ = cleanup::kDefaultKeepCount;
  int keep_days_ = cleanup::kDefaultKeepDays;
  std::vector<std::string> keep_tags_;
  std::vector<std::string> repos_;
  bool all_regions_ = false;
  std::vector<std::string> roles_;
  bool verbose_ = false;
  bool detailed_exitcode_ = false;
  int max_duration_s_ = 0;
};

}  // namespace

std::unique_ptr<EventMode> make_clean_event_mode(AwsSession& session) {
  return std::make_unique<CleanEventMode>(session);
}

std::unique_ptr<CliVerb> make_clean_verb() { return make_clean_verb(clean::CleanVerbOptions{}); }

std::unique_ptr<CliVerb> make_clean_verb(clean::CleanVerbOptions options) {
  return std::make_unique<CleanVerb>(options);
}

}  // namespace ecrs::handler
