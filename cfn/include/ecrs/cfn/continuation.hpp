#pragma once
// Work that outlives one Lambda invocation (15 min max) continues in a fresh one: the handler re-invokes its own
// function asynchronously with the original event plus this field, and only the last invocation answers
// CloudFormation. The count is bounded so a repository that never empties ends in FAILED, not in a loop.
#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>

#include "ecrs/common/result.hpp"

namespace ecrs::cfn {

inline constexpr const char* kContinuationField = "EcrSweeperContinuation";

// CloudFormation waits ServiceTimeout for an answer, 3600 s by default (TemplateReference
// aws-resource-cloudformation-customresource); Lambda runs at most 900 s (LDG/gettingstarted-limits). Four full
// invocations fill the default; more could only answer a stack that has already failed.
inline constexpr int kDefaultServiceTimeoutSeconds = 3600;
inline constexpr int kMaxLambdaTimeoutSeconds = 900;
inline constexpr int kDefaultMaxInvocations = kDefaultServiceTimeoutSeconds / kMaxLambdaTimeoutSeconds;
// No chain can usefully run longer than this: ServiceTimeout is at most 3600 s and a Lambda function runs at
// least 1 s (its minimum timeout), so a larger count in an event is forged or corrupt, whatever is configured.
inline constexpr int kMaxServiceTimeoutSeconds = 3600;
inline constexpr int kMinLambdaTimeoutSeconds = 1;
inline constexpr int kMaxContinuationInvocations = kMaxServiceTimeoutSeconds / kMinLambdaTimeoutSeconds;

struct Continuation {
  int invocation = 1;              // 1 for the first re-invocation; the original invocation is 0
  std::int64_t deleted_so_far = 0;
  std::string started_at;          // RFC 3339, when the original invocation began
  friend bool operator==(const Continuation&, const Continuation&) = default;
};

bool has_continuation(const Json::Value& event);

// nullopt when the event has no continuation; an error (code InvalidContinuation) when it has a malformed one:
// invocation and deleted_so_far must be whole JSON numbers, 1 <= invocation <= kMaxContinuationInvocations,
// deleted_so_far >= 0.
Result<std::optional<Continuation>> read_continuation(const Json::Value& event);

// The event to send to the next invocation: the original event with the continuation field set (replaced).
Json::Value with_continuation(const Json::Value& event, const Continuation& c);

// The continuation that follows `current` (nullopt = this is the original invocation). `started_at` is used only
// when starting the chain; `deleted_now` is what this invocation deleted. Counts saturate instead of overflowing.
Continuation next_continuation(const std::optional<Continuation>& current, std::int64_t deleted_now,
                               const std::string& started_at);

// A FAILED Reason when `next` would exceed `max_invocations` (counting the original), else nullopt.
std::optional<std::string> continuation_limit_reason(const Continuation& next, int max_invocations = kDefaultMaxInvocations);

}  // namespace ecrs::cfn
