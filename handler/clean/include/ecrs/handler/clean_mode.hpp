#pragma once
// Scheduled cleanup that never deletes an image in use (issue 8), exposed twice over cleanup::run_cleanup:
//   - `ecr-sweeper clean`: a dry-run plan by default (table on a terminal, text otherwise, JSON on request),
//     `--apply` to delete;
//   - an event mode for EventBridge scheduled events ("source": "aws.events", "detail-type": "Scheduled Event")
//     taking its options from the function's environment (DRY_RUN defaults to true), as seed 003 does.
#include <json/value.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/cleanup/cleanup.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/handler/modes.hpp"

namespace ecrs::handler {
namespace clean {

// The environment the scheduled mode reads (templates/scheduled-cleanup.yaml sets them).
inline constexpr const char* kDryRunVar = "DRY_RUN";            // true (default) | false
inline constexpr const char* kKeepCountVar = "KEEP_COUNT";      // newest images kept per repository
inline constexpr const char* kKeepDaysVar = "KEEP_DAYS";        // images pushed within this many days are kept
inline constexpr const char* kKeepTagsVar = "KEEP_TAGS";        // comma-separated tag patterns
inline constexpr const char* kRepositoriesVar = "REPOSITORIES";  // comma-separated name patterns (besides tags)
inline constexpr const char* kRegionsVar = "REGIONS";            // comma-separated, or "all"; empty: AWS_REGION
// Error code of a bad setting; the message names the variable or flag.
inline constexpr const char* kInvalidSetting = "InvalidConfiguration";
// REGIONS=all: every region enabled for the account (EC2 DescribeRegions).
inline constexpr std::string_view kAllRegions = "all";
// Upper bound for KEEP_COUNT / KEEP_DAYS / --keep / --keep-days: far beyond ECR's default quota of 20,000 images
// per repository and any retention anyone means, small enough that day arithmetic never overflows.
inline constexpr int kMaxKeep = 1000000;

// Lambda's asynchronous invocation payload limit is 256 KB (Lambda quotas page); EventBridge invokes the
// function asynchronously, and the reply lands in logs and destinations, so it stays well under that.
inline constexpr std::size_t kMaxReplyBytes = 64 * 1024;

// "true" or "false" in any case, nothing else (seed 003 treats anything but "false" as a dry run; Python's
// bool("false") is True): a typo must be an error, never a silent choice.
std::optional<bool> parse_strict_bool(std::string_view text);
// A decimal integer in [0, kMaxKeep], no sign, no spaces.
std::optional<int> parse_keep(std::string_view text);
// Comma-separated items, each trimmed of blanks; empty items are dropped.
std::vector<std::string> split_list(std::string_view text);
// An AWS region name: lowercase letters, digits and '-' (us-east-1, eu-central-2, us-gov-west-1).
bool is_region_name(std::string_view text);
// arn:<partition>:iam::<12-digit account>:role/<path and name>
bool is_role_arn(std::string_view text);

// The EventBridge envelope of a schedule: source aws.events, detail-type "Scheduled Event" (EventBridge's
// "Events from AWS services" reference; Scheduler's universal target sends the same shape by default).
bool is_scheduled_event(const Json::Value& event);

// The options the scheduled mode runs with; home_region is the function's region. Errors are kInvalidSetting and
// name the variable.
Result<cleanup::CleanupOptions> options_from_env(const Environment& env, const std::string& home_region);

// AwsSession::client as run_cleanup's client factory.
cleanup::ClientFactory session_factory(AwsSession& session);

// The scheduled mode's reply: report_to_json(compact) and, when that still exceeds kMaxReplyBytes (thousands of
// repositories), the per-repository entries are cut to fit and "truncated" says how many were left out; the
// summary stays exact and the full plan is in the log lines.
std::string scheduled_reply(const cleanup::CleanupReport& report);

// The plan as text lines (stdout is not a terminal): one line per repository and, with `verbose`, one per image.
std::string report_to_text(const cleanup::CleanupReport& report, bool verbose = true);

// --max-duration's upper bound: a day, far beyond any run anyone waits for, and small enough for any clock.
inline constexpr int kMaxDurationSeconds = 24 * 60 * 60;

// What the session knows that the run uses: AWS_MAX_ATTEMPTS, and the session's sleeper and random source.
void apply_session_settings(AwsSession& session, cleanup::CleanupOptions& options);

// Tests choose the format a terminal would get; the binary asks isatty(stdout).
struct CleanVerbOptions {
  std::optional<bool> table;
};

}  // namespace clean

// Registry hooks (handler/modes/registry.cpp).
std::unique_ptr<EventMode> make_clean_event_mode(AwsSession& session);
std::unique_ptr<CliVerb> make_clean_verb();
std::unique_ptr<CliVerb> make_clean_verb(clean::CleanVerbOptions options);

}  // namespace ecrs::handler
