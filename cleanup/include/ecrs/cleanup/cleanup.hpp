#pragma once
// Scheduled cleanup end to end: regions and accounts, the in-use scan, repository selection, one plan per
// repository, and (with apply) deletion by digest, re-checking before every batch that nothing new uses the
// digests (a deployment racing the sweep) and that the tags still resolve as planned.
#include <functional>
#include <memory>
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

struct CleanupOptions {
  Rules rules;
  std::vector<std::string> repository_patterns;  // opt-in by name, besides the repository tags
  std::vector<std::string> regions;              // empty: home_region
  bool all_regions = false;                      // EC2 DescribeRegions in home_region
  std::string home_region;
  std::vector<std::string> assume_roles;         // other accounts whose workloads use our registry
  std::string role_session_name = "ecr-sweeper-clean";
  bool apply = false;
};

struct RepositoryOutcome {
  RepositoryPlan plan;
  std::string selected_because;
  std::vector<std::string> deleted;   // digests BatchDeleteImage confirmed (apply)
  std::vector<std::string> spared;    // planned, but the re-check found them used or kept just before the batch
  std::vector<std::string> failures;  // "digest: code: reason"
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
};

Result<CleanupReport> run_cleanup(const ClientFactory& clients, const CleanupOptions& options, const Clock& clock,
                                  Logger& logger);

// The report as JSON: {"applied", "regions", "scopes", "in_use_references", "not_covered", "summary": {...},
// "repositories": [{"repository", "registry_id", "region", "selected_because", "rules", "remove": [...],
// "keep": [...], "bytes_reclaimed", "deleted", "spared", "failures"}]}. `compact` drops the keep list and caps
// the remove list (the Lambda's reply).
Json::Value report_to_json(const CleanupReport& report, bool compact = false);
// A fixed-width table per repository for a terminal.
std::string report_to_table(const CleanupReport& report);

}  // namespace ecrs::cleanup
