#pragma once
// Create-on-push (issue 10). A push to a repository that does not exist fails with RepositoryNotFoundException;
// CloudTrail records it and EventBridge delivers the record ("AWS API Call via CloudTrail"); this mode creates the
// repository with governed settings, so the client's retry succeeds (shared/docs/ecr-api.md §6, seed 004).
// The same settings feed `ecr-sweeper repo ensure NAME` and `repo template apply --prefix P`, which writes ECR's
// native repository creation template (appliedFor CREATE_ON_PUSH) so one definition serves both.
#include <json/value.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/aws/client.hpp"
#include "ecrs/ecr/admin_client.hpp"
#include "ecrs/handler/modes.hpp"

namespace ecrs::handler {

// The tag every created repository carries, so scheduled cleanup (which selects by it) covers it from birth.
inline constexpr std::string_view kSweeperTagKey = "ecr-sweeper:enabled";
inline constexpr std::string_view kSweeperTagValue = "true";
// Error code of a bad REPO_* setting.
inline constexpr std::string_view kConfigError = "InvalidConfiguration";

// `*` matches within one path segment (never '/'), `**` matches across segments (anything, '/' included); every
// other character matches itself. The whole name must match.
bool glob_match(std::string_view pattern, std::string_view name);

struct RepositorySettings {
  std::string image_tag_mutability = "IMMUTABLE";  // REPO_TAG_MUTABILITY: MUTABLE | IMMUTABLE
  bool scan_on_push = true;                        // REPO_SCAN_ON_PUSH
  std::optional<std::string> kms_key;              // REPO_KMS_KEY: KMS with this key; unset = AES256
  std::map<std::string, std::string> tags;         // REPO_TAGS (JSON object) + the sweeper tag
  std::optional<std::string> lifecycle_policy;     // REPO_LIFECYCLE_POLICY, valid per lifecycle::validate_policy
  std::optional<std::string> repository_policy;    // REPO_POLICY: a JSON IAM resource policy
  std::vector<std::string> allow;                  // REPO_ALLOW: globs; empty = every name
  std::vector<std::string> deny;                   // REPO_DENY: globs, checked after allow

  // Allowed by some allow pattern (or no allow list) and by no deny pattern.
  bool allows(std::string_view repository_name) const;
  ecr::CreateRepositoryRequest create_request(const std::string& repository_name) const;
  ecr::RepositoryCreationTemplate creation_template(const std::string& prefix,
                                                    const std::optional<std::string>& custom_role_arn) const;
};

// "true/false", "1/0", "yes/no", "on/off" in any case; anything else is nullopt (not Python's bool("false")).
std::optional<bool> parse_bool(std::string_view text);

// Settings from a JSON object with the REPO_* keys (the config file): strings, or native JSON (a boolean, an
// object for REPO_TAGS / the policies, an array for REPO_ALLOW / REPO_DENY). Errors are kConfigError.
Result<RepositorySettings> settings_from_json(const Json::Value& config, RepositorySettings base = {});
// REPO_CONFIG_FILE (read here) first, then each REPO_* variable set in `env` overrides the file's key.
Result<RepositorySettings> load_settings(const Environment& env);

// What a CloudTrail record delivered by EventBridge asks of us.
struct PushEvent {
  std::string repository_name;
  std::string account;      // event "account" (the registry)
  std::string region;       // event "region"
  std::string event_name;   // InitiateLayerUpload, PutImage...
  std::string event_id;     // detail.eventID, for logs
  std::string pusher;       // detail.userIdentity.arn (or principalId / type)
  std::string source_ip;    // detail.sourceIPAddress
};
enum class EventKind { create, ignore, malformed };
struct EventDecision {
  EventKind kind = EventKind::ignore;
  std::string reason;  // why ignored / malformed
  PushEvent push;      // for create (and, as far as read, for the others)
};
// Any EventBridge delivery of a CloudTrail record (detail-type "AWS API Call via CloudTrail"), the events this
// mode answers: a record from another service (a rule wider than ours) is answered "ignored", not left to fail as
// an unknown event shape, which Lambda would retry.
bool is_cloudtrail_event(const Json::Value& event);
// The same envelope from ECR: source aws.ecr.
bool is_ecr_cloudtrail_event(const Json::Value& event);
// create: source aws.ecr, detail.eventSource ecr.amazonaws.com, a push API's eventName, errorCode
// RepositoryNotFoundException and a repositoryName in requestParameters naming this account's registry.
EventDecision decide_event(const Json::Value& event);

// Outcome of creating one repository.
enum class EnsureStatus { created, exists, denied, incomplete };
std::string_view to_string(EnsureStatus s);
struct EnsureOutcome {
  EnsureStatus status = EnsureStatus::created;
  std::string repository_arn;
  std::vector<std::string> problems;  // follow-up calls that failed (incomplete)
};
// CreateRepository with the settings (tags included; EcrAdminClient), then PutLifecyclePolicy (LifecycleClient)
// and SetRepositoryPolicy. An existing repository is success and left untouched: it may be someone else's. Any
// other CreateRepository error is returned.
Result<EnsureOutcome> ensure_repository(aws::AwsClient& ecr_api, const std::string& repository_name,
                                        const RepositorySettings& settings, Logger& logger);

// Registry hooks (handler/modes/registry.cpp).
std::unique_ptr<EventMode> make_provision_event_mode(AwsSession& session);
std::unique_ptr<CliVerb> make_repo_verb();

}  // namespace ecrs::handler
