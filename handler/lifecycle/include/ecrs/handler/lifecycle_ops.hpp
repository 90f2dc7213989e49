#pragma once
// The I/O side of issue 9, shared by the CLI verb and the custom resource: pick repositories (DescribeRepositories
// paged, glob patterns, ListTagsForResource), list their images (DescribeImages paged), preview a policy locally
// (lifecycle/ evaluator) or remotely (StartLifecyclePolicyPreview), and apply it (GetLifecyclePolicy diff,
// PutLifecyclePolicy) on a few worker threads. The AwsClient retries throttling; concurrency stays modest.
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "ecrs/ecr/lifecycle_client.hpp"
#include "ecrs/lifecycle/evaluator.hpp"
#include "ecrs/lifecycle/preview_json.hpp"

namespace ecrs::handler {

// Worker threads for per-repository calls: enough to hide latency, few enough to stay under ECR's per-account
// API rates (PutLifecyclePolicy and DescribeImages are single-digit TPS quotas in the Service Quotas console).
inline constexpr int kDefaultLifecycleConcurrency = 4;
inline constexpr int kMaxLifecycleConcurrency = 32;
// DescribeRepositories maxResults upper bound (service-2.json MaxResults, 1..1000).
inline constexpr int kMaxDescribeRepositoriesResults = 1000;
// DescribeRepositories repositoryNames: 1..100 (service-2.json RepositoryNameList).
inline constexpr std::size_t kMaxDescribeRepositoriesNames = 100;

// Runs fn(0..count-1) on at most `workers` threads. An exception escaping fn(i) (bad_alloc, a jsoncpp depth
// error) is caught in the worker and handed to on_error(i, error) (code "InternalError", context "item i") so the
// item can be recorded as failed; the other items still run and the caller always gets control back.
void run_bounded(std::size_t count, int workers, const std::function<void(std::size_t)>& fn,
                 const std::function<void(std::size_t, const Error&)>& on_error = {});

// Asked before each per-repository call: true once the caller's deadline is too near to start another. An empty
// function never runs out.
using OutOfTime = std::function<bool()>;
// Called once per repository when its work is over, from the worker that did it (a terminal's progress line).
using ItemDone = std::function<void()>;
// The error an item gets when it was not started because time ran out.
Error deadline_error(const std::string& operation, const std::string& repository);

// `*` any run of characters (including '/'), `?` one character; the whole name must match.
bool matches_repository_pattern(std::string_view pattern, std::string_view name);

struct RepositorySelector {
  std::vector<std::string> names;     // used as given (not listed)
  std::vector<std::string> patterns;  // matched against DescribeRepositories
  std::optional<std::pair<std::string, std::string>> tag;  // resource tag KEY=VALUE that must be present
  std::optional<std::string> registry_id;
};

// Repository names, sorted. Names are returned as given; patterns list every repository once.
Result<std::vector<std::string>> select_repositories(ecr::EcrClient& ecr, const RepositorySelector& selector,
                                                     int concurrency);

// Every image of the repository (DescribeImages, all pages) in the evaluator's form.
Result<std::vector<lifecycle::Image>> describe_all_images(ecr::EcrClient& ecr, const std::string& repository,
                                                          const std::optional<std::string>& registry_id);

// The in-use seam: digests of `images` (the repository's listing, for resolving tag references) in use in
// `repository` (ECS tasks, Lambda functions, ...; lifecycle_in_use.hpp). Empty set: none.
using InUseLookup = std::function<Result<std::set<std::string>>(const std::string& repository,
                                                                const std::vector<lifecycle::Image>& images)>;

struct RepositoryPreviewResult {
  std::string repository_name;
  std::optional<lifecycle::RepositoryPreview> preview;  // nullopt when `error` is set
  std::optional<Error> error;
};
std::vector<RepositoryPreviewResult> preview_repositories(ecr::EcrClient& ecr, const lifecycle::Policy& policy,
                                                          const std::vector<std::string>& repositories,
                                                          lifecycle::Timestamp now, const InUseLookup& in_use,
                                                          int concurrency);

// ---- remote preview ---------------------------------------------------------------------------------------
struct RemotePreviewOptions {
  std::chrono::milliseconds poll_interval{std::chrono::seconds(2)};
  int max_polls = 60;  // two minutes at the default interval; ECR previews usually finish in seconds
};
struct RemoteExpiry {
  std::string image_digest;
  std::optional<std::int64_t> rule_priority;
};
// ECR's own preview of `policy_text` (EXPIRE results only), waiting with `sleeper` while IN_PROGRESS.
Result<std::vector<RemoteExpiry>> remote_preview(ecr::LifecycleClient& client, const std::string& repository,
                                                 const std::string& policy_text, Sleeper& sleeper,
                                                 const RemotePreviewOptions& options);
struct PreviewDifference {
  std::string image_digest;
  std::optional<std::int64_t> local_rule;   // nullopt: local keeps it
  std::optional<std::int64_t> remote_rule;  // nullopt: ECR keeps it
};
// Digests where local and remote disagree (expire vs keep, or a different rule), sorted by digest.
std::vector<PreviewDifference> diff_previews(const lifecycle::RepositoryPreview& local,
                                             const std::vector<RemoteExpiry>& remote);

// ---- apply ------------------------------------------------------------------------------------------------
// The policy as a canonical compact JSON string (keys sorted), so whitespace and key order don't count as a change.
// nullopt when the text is not JSON.
std::optional<std::string> normalize_policy_text(std::string_view text);
// A unified-style line diff ("- old", "+ new", "  same") of two texts (LCS over lines).
std::string diff_lines(std::string_view before, std::string_view after);
// Indented JSON, keys sorted: what the diff compares line by line.
std::string pretty_policy(std::string_view text);

enum class PolicyChange { create, update, unchanged };
std::string_view to_string(PolicyChange c);

struct ApplyItem {
  std::string repository_name;
  PolicyChange change = PolicyChange::create;
  std::optional<std::string> current_text;  // nullopt: no policy (LifecyclePolicyNotFoundException)
  std::optional<Error> error;               // planning or applying failed
  bool applied = false;
};
// GetLifecyclePolicy for each repository and the change it would take.
std::vector<ApplyItem> plan_apply(ecr::LifecycleClient& client, const std::string& policy_text,
                                  const std::vector<std::string>& repositories,
                                  const std::optional<std::string>& registry_id, int concurrency,
                                  const OutOfTime& out_of_time = {}, const ItemDone& on_done = {});
// PutLifecyclePolicy for every planned create/update without an error; marks applied or records the error.
// on_done follows each PutLifecyclePolicy, not the items that need none.
void execute_apply(ecr::LifecycleClient& client, const std::string& policy_text, std::vector<ApplyItem>& items,
                   const std::optional<std::string>& registry_id, int concurrency, const OutOfTime& out_of_time = {},
                   const ItemDone& on_done = {});

struct PolicyRemoval {
  std::vector<std::string> removed;                              // ours, deleted (or already gone)
  std::vector<std::pair<std::string, std::string>> left_alone;   // name, why: another policy is there now
  std::vector<std::pair<std::string, Error>> errors;             // by name
};
// Removes `ours` where it still is: GetLifecyclePolicy, then DeleteLifecyclePolicy only when the repository's
// current policy is `ours` as normalised JSON (normalize_policy_text). A repository that matches a pattern now
// may have been created later with its own policy, or had ours replaced by another stack's: those are left
// alone and reported. ECR has no conditional delete, so a PutLifecyclePolicy landing between the two calls
// would still be removed; the window is one round trip. LifecyclePolicyNotFound and RepositoryNotFound count
// as removed.
PolicyRemoval remove_our_policies(ecr::LifecycleClient& client, const std::vector<std::string>& repositories,
                                  const std::optional<std::string>& registry_id, const std::string& ours,
                                  int concurrency, const OutOfTime& out_of_time = {});

}  // namespace ecrs::handler
