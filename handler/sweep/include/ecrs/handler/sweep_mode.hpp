#pragma once
// One item of an organisation sweep (issue 12): Step Functions' Distributed Map invokes the function once per
// account and region with {"ecrSweeper": {"task": "clean", "accountId", "region", "roleArn", "options": {...}}}.
// The mode assumes the member role, runs cleanup::run_cleanup as the member for that account and region with
// options from the event only (dry run unless the event says otherwise), and replies with a bounded JSON report.
// Near the invocation's deadline it stops, between repositories or inside one between two deletion batches, with
// "complete": false and a "cursor" (the repository in progress, "cursorInsideRepository": true, or the next one by
// name); the state machine passes it back in options.cursor and the next invocation re-plans from there. Repeating an item is harmless: a digest
// already gone is no longer planned, and BatchDeleteImage of a missing digest is a failure entry, not a second
// deletion.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <json/value.h>

#include "ecrs/cleanup/selection_planner.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/handler/modes.hpp"

namespace ecrs::handler {

// Step Functions' payload limit for a state's input or output is 256 KiB (Step Functions quotas); the report
// stays far below it by capping every list it carries.
inline constexpr std::size_t kStepFunctionsPayloadLimit = 256 * 1024;
inline constexpr std::size_t kSweepReportMaxRepositories = 100;  // per-repository rows; totals stay exact
inline constexpr std::size_t kSweepReportMaxErrors = 20;
inline constexpr std::size_t kSweepReportMaxStringLength = 300;  // AWS messages and repository names (<= 256)
// RoleSessionName: 2-64 characters of [\w+=,.@-] (STS AssumeRole API reference).
inline constexpr std::size_t kMaxRoleSessionNameLength = 64;

struct SweepTask {
  std::string task;        // "clean"
  std::string account_id;  // the member account the item names (checked against roleArn)
  std::string region;      // empty: the session's region
  std::string role_arn;
  std::string run_id;      // names the STS session; empty: the request id
  // Explicit opt-in to sweep the function's own account: with roleArn in that account, or without roleArn (then
  // with the function's own credentials). Otherwise a missing roleArn or a role in the caller's own account
  // (STS GetCallerIdentity) is refused in the report.
  bool allow_own_account = false;
  bool dry_run = true;
  cleanup::Rules rules;
  std::vector<std::string> repositories;  // name patterns opting repositories in, besides their tags
  std::string cursor;                     // resume at this repository name (inclusive)
};

// The event's shape and types; an Error (code InvalidEvent) names the offending field.
Result<SweepTask> parse_sweep_task(const Json::Value& event);
// "ecr-sweeper-<run>" reduced to STS's RoleSessionName alphabet and length.
std::string sweep_role_session_name(const std::string& run);

struct SweepSettings {
  // Stop this long before the invocation's deadline. Unset: cleanup::stop_time's reserve (every call's timeout
  // already ends at the stop time, and a repository stops between batches, so only the reply needs room).
  std::optional<std::chrono::milliseconds> deadline_margin;
};

std::unique_ptr<EventMode> make_sweep_mode(AwsSession& session);
std::unique_ptr<EventMode> make_sweep_mode(AwsSession& session, SweepSettings settings);

}  // namespace ecrs::handler
