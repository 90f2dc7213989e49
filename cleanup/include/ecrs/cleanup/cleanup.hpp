#pragma once
// Scheduled cleanup end to end: regions and accounts, the in-use scan, repository selection, one plan per
// repository, and (with apply) deletion by digest, re-checking before every batch that nothing new uses the
// digests (a deployment racing the sweep) and that the tags still resolve as planned. A deadline and a cursor let
// a caller with a time limit (a Lambda invocation of an organisation sweep item) stop between repositories and
// resume later where it stopped.
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
#include "ecrs/cleanup/in_use_scanner.hpp"
#include "ecrs/cleanup/selection_planner.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::cleanup {

// A signed client for a service in a region with given credentials (null: the default chain). The factory
// owns the clients; handler's AwsSession::client is one.
using ClientFactory = std::function<Result<aws::AwsClient*>(const aws::ServiceInfo&, const std::string& region,
                                                            std::shared_ptr<aws::CredentialsProvider>)>;

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
  // Once the clock reaches this, no further repository is started (one in progress finishes): the report says
  // complete=false and next_repository. Unset: no deadline.
  std::optional<std::chrono::system_clock::time_point> deadline;
  // Resume at this repository (inclusive): repositories before it in run order are skipped. Starting AT the first
  // repository not started (rather than after the last one done) keeps a cursor non-empty even when a deadline
  // stops a run before its first repository. Unset: from the start.
  std::optional<RepositoryCursor> start_at;
  // A repository whose listing, re-check or BatchDeleteImage fails gets the error in its outcome and the run goes
  // on with the next repository; otherwise (the default) the run stops with that error.
  bool continue_on_repository_error = false;
};

struct RepositoryOutcome {
  RepositoryPlan plan;
  std::string selected_because;
  std::vector<std::string> deleted;   // digests BatchDeleteImage confirmed (apply)
  std::vector<std::string> spared;    // planned, but the re-check found them used or kept just before the batch
  std::vector<std::string> failures;  // "digest: code: reason"
  std::optional<Error> error;         // continue_on_repository_error: why this repository stopped
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
  std::size_t repositories_selected = 0;  // in every region, including those the cursor skipped or the deadline left
  bool complete = true;                   // false: the deadline stopped the run at next_repository
  std::optional<RepositoryCursor> next_repository;
};

Result<CleanupReport> run_cleanup(const ClientFactory& clients, const CleanupOptions& options, const Clock& clock,
                                  Logger& logger);

// The report as JSON: {"applied", "regions", "scopes", "in_use_references", "not_covered", "summary": {...},
// "repositories": [{"repository", "registry_id", "region", "selected_because", "rules", "remove": [...],
// "keep": [...], "bytes_reclaimed", "deleted", "spared", "failures"}]}. `compact` drops the keep list and caps
// the remove list (the Lambda's reply). A run the deadline stopped adds "complete": false and "next_repository":
// {"region", "repository"}; a repository with an error adds "error".
Json::Value report_to_json(const CleanupReport& report, bool compact = false);
// A fixed-width table per repository for a terminal.
std::string report_to_table(const CleanupReport& report);

}  // namespace ecrs::cleanup
