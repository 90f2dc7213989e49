#pragma once
// Scheduled cleanup end to end: regions and accounts, the in-use scan, repository selection, one plan per
// repository, and (with apply) deletion by digest through ecr::delete_images (the deleters and adaptive rate
// control every deleting mode shares), re-checked against a fresh in-use scan and listing (a deployment racing
// the sweep, a tag moved onto an old image) at a bounded cost: see CleanupOptions::recheck_every.
// A deadline and a cursor let a caller with a time limit (a Lambda invocation, `clean --max-duration`) stop
// anywhere, inside a repository too, answer in time, and resume later where it stopped.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <json/value.h>

#include "ecrs/aws/client.hpp"
#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/endpoints.hpp"
#include "ecrs/cleanup/call_policy.hpp"
#include "ecrs/cleanup/in_use_scanner.hpp"
#include "ecrs/cleanup/selection_planner.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/ecr/executor.hpp"

namespace ecrs::cleanup {

// A signed client for a service in a region with given credentials (null: the default chain). The factory
// owns the clients; handler's AwsSession::client is one.
using ClientFactory = std::function<Result<aws::AwsClient*>(const aws::ServiceInfo&, const std::string& region,
                                                            std::shared_ptr<aws::CredentialsProvider>)>;

// How often, at most, apply re-runs the in-use scan and re-lists the repository before a BatchDeleteImage. Before
// 2026-12 every 100-image batch re-ran the whole scan and re-listed (5,000 removals = 50 full scans, each one
// paged ECS/Lambda/App Runner calls in every account and region). A scan only shrinks the race window, it
// cannot close it (a task may start between the last scan and the delete), so the window is what to bound:
// 15 s keeps it within the order of one scan's own duration in a busy account while a repository of 20,000
// images costs one rescan per 15 s of deleting, not 200.
inline constexpr std::chrono::seconds kInUseRecheckInterval{15};
// How often, at most, a progress display hears from a running delete (ecr::EmptyOptions::progress_interval):
// often enough for a terminal line to move, rare enough to cost nothing.
inline constexpr std::chrono::milliseconds kProgressInterval{250};

// What a Lambda-driven run keeps between its stop time and the invocation's deadline: every call's timeout ends
// at the stop time (CallPolicy), so this covers only the report, the reply to the Runtime API and a connection
// set-up overrunning by a little. A quarter of the time left when that is shorter, so an invocation with 1 s
// left still makes progress.
inline constexpr std::chrono::seconds kMaxReplyReserve{2};
std::chrono::system_clock::time_point stop_time(std::chrono::system_clock::time_point invocation_deadline,
                                                std::chrono::system_clock::time_point now);

// A place in run_cleanup's order: regions in the order they resolve to, repositories by name within a region.
struct RepositoryCursor {
  std::string region;
  std::string repository;
  bool operator==(const RepositoryCursor&) const = default;
};

struct CleanupOptions {
  Rules rules;
  std::vector<std::string> repository_patterns;  // opt-in by name, besides the repository tags
  std::vector<std::string> regions;              // empty: home_region
  bool all_regions = false;                      // EC2 DescribeRegions in home_region
  std::string home_region;
  std::vector<std::string> assume_roles;         // other accounts whose workloads use our registry
  std::string role_session_name = "ecr-sweeper-clean";
  bool apply = false;
  // Names the run's own credentials (the factory's null provider) in scopes and in-use users.
  std::string account_label = "default";
  // The run answers by then: no call starts after it and none runs past it (CallPolicy), a repository in progress
  // stops between batches, and the report says complete=false with next_repository (the repository in progress,
  // or the next one). A BatchDeleteImage starts only while the time a delete is expected to take (ecr::DeletePacing:
  // 1.5x the p95 of the run's delete latencies; the run's first delete goes alone to measure it) still fits before
  // it: a delete cut by the deadline may have been carried out by ECR unseen, deleting images the report would not
  // count. A re-check starts only while that or the longest listing page, plus kMinAttemptTime, still fits.
  // Unset: no deadline.
  std::optional<std::chrono::system_clock::time_point> deadline;
  // Resume at this repository (inclusive): repositories before it in run order are skipped. A repository the
  // deadline stopped part-way is the cursor itself: the next run lists and plans it afresh, so what was deleted
  // is gone from the plan (never deleted twice) and what came into use since is kept. Unset: from the start.
  std::optional<RepositoryCursor> start_at;
  // Safety guarantee of apply: every BatchDeleteImage deletes only digests that a plan made from an in-use scan
  // started after this repository's own listing, and a listing (that one or a later one), both started at most
  // this long before the batch, still marks remove; a batch starts only while it is expected to answer inside that
  // time (ecr::DeletePacing's expected delete time). The one exception keeps a slow scan from starving the run:
  // when no batch fits in what is left of the time after a re-check (the re-check itself took about that long, or
  // deletes take longer than this), one batch (at most kMaxImageIdsPerCall digests) still goes right after it.
  // 0: rescan and re-list before every batch.
  std::chrono::milliseconds recheck_every{kInUseRecheckInterval};
  // Retries of errors other than throttling (AWS_MAX_ATTEMPTS); throttling is CallPolicy's.
  int max_attempts = aws::kDefaultMaxAttempts;
  // Sleeps between retries and their jitter; null: the real ones.
  Sleeper* sleeper = nullptr;
  Random* random = nullptr;
  // Plan every repository before deleting from any, so the total is known from the first deletion (a progress
  // display). Costs one listing per repository: its first re-check lists it again, where without plan_first the
  // re-check right after the plan reuses the plan's listing. A deadline during the planning pass stops the run with
  // nothing deleted.
  bool plan_first = false;
  // Deleters in flight at once (ECRS_CONCURRENCY), as for `empty`.
  int max_concurrency = ecr::EmptyOptions{}.max_concurrency;
  // Called while deleting (at least every kProgressInterval, and after each delete_images call) with
  // (deleted so far, planned so far) for a progress display.
  std::function<void(std::size_t deleted, std::size_t planned)> on_progress;
  // A repository whose listing, re-check or BatchDeleteImage fails gets the error in its outcome and the run goes
  // on with the next repository; otherwise (the default) the run stops with that error.
  bool continue_on_repository_error = false;
};

struct RepositoryOutcome {
  RepositoryPlan plan;
  std::string selected_because;
  std::size_t deleted = 0;            // digests BatchDeleteImage confirmed deleted (apply)
  std::int64_t deleted_bytes = 0;     // the plan's imageSizeInBytes of those digests
  std::vector<std::string> spared;    // planned, but the re-check found them used or kept just before the batch
  std::vector<std::string> failures;  // "digest: code: reason"
  std::optional<Error> error;         // continue_on_repository_error: why this repository stopped
  bool finished = true;               // false: the deadline stopped it part-way (it is the report's cursor)
  int in_use_rescans = 0;             // apply: scans run to re-check this repository's batches
};

struct CleanupReport {
  bool applied = false;
  std::vector<std::string> regions;
  std::vector<std::string> scopes;  // account/region pairs scanned for use
  std::size_t in_use_references = 0;
  std::vector<RepositoryOutcome> repositories;
  std::size_t planned_deletions = 0;
  std::int64_t planned_bytes = 0;
  std::size_t deleted = 0;
  std::int64_t deleted_bytes = 0;  // the plan's sizes of what was deleted (planned_bytes is what would be)
  std::size_t repositories_selected = 0;  // in every region, including those the cursor skipped or the deadline left
  bool complete = true;                   // false: the deadline stopped the run at next_repository
  std::optional<RepositoryCursor> next_repository;
  // The deadline came before any repository was reached (regions, accounts, the first scan or the selection):
  // next_repository is the cursor the run was given, if any.
  std::optional<Error> stopped_early;
  // --repos patterns that matched no repository name in any region (a typo, or the wrong region).
  std::vector<std::string> unmatched_patterns;
};

Result<CleanupReport> run_cleanup(const ClientFactory& clients, const CleanupOptions& options, const Clock& clock,
                                  Logger& logger);

// The report as JSON: {"applied", "regions", "scopes", "in_use_references", "not_covered", "summary": {...},
// "repositories": [{"repository", "registry_id", "region", "selected_because", "rules", "remove": [...],
// "keep": [...], "bytes_reclaimed", "deleted", "spared", "failures"}]}. `compact` drops the keep list and caps
// the remove list (the Lambda's reply). A run the deadline stopped adds "complete": false and "next_repository":
// {"region", "repository"}; a repository with an error adds "error".
Json::Value report_to_json(const CleanupReport& report, bool compact = false);
// A terminal's view: one summary row per repository (remove/keep/in-use counts, human-readable sizes, and with
// apply deleted/spared/failed), a total row; `verbose` adds every image with its decision and the reason.
std::string report_to_table(const CleanupReport& report, bool verbose = false);
// 1536 -> "1.5 KiB", 0 -> "0 B": IEC units, as `docker images` and the ECR console size images.
std::string human_bytes(std::int64_t bytes);
// Digests kept because something runs them ("in use by ..." among their reasons).
std::size_t count_in_use(const RepositoryPlan& plan);

}  // namespace ecrs::cleanup
