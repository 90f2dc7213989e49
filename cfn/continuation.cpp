#include "ecrs/cfn/continuation.hpp"

#include <algorithm>
#include <limits>

#include "ecrs/common/json.hpp"

namespace ecrs::cfn {
namespace {

Error invalid(const std::string& what) {
  return make_error("InvalidContinuation", std::string(kContinuationField) + " " + what, "custom resource event");
}

}  // namespace

bool has_continuation(const Json::Value& event) { return event.isObject() && event.isMember(kContinuationField); }

Result<std::optional<Continuation>> read_continuation(const Json::Value& event) {
  if (!has_continuation(event)) return std::optional<Continuation>{};
  const Json::Value& v = event[kContinuationField];
  if (!v.isObject()) return invalid("must be an object");
  auto invocation = get_int(v, "invocation");
  if (!invocation || *invocation < 1 || *invocation > kMaxContinuationInvocations) {
    return invalid("needs a whole-number invocation from 1 to " + std::to_string(kMaxContinuationInvocations));
  }
  auto deleted = get_int(v, "deleted_so_far");
  if (!deleted || *deleted < 0) return invalid("needs a whole-number deleted_so_far >= 0");
  Continuation c;
  c.invocation = static_cast<int>(*invocation);
  c.deleted_so_far = *deleted;
  c.started_at = get_string(v, "started_at").value_or(std::string{});
  return std::optional<Continuation>{c};
}

Json::Value with_continuation(const Json::Value& event, const Continuation& c) {
  Json::Value out = event;
  Json::Value field(Json::objectValue);
  field["invocation"] = c.invocation;
  field["deleted_so_far"] = Json::Int64(c.deleted_so_far);
  field["started_at"] = c.started_at;
  out[kContinuationField] = field;
  return out;
}

Continuation next_continuation(const std::optional<Continuation>& current, std::int64_t deleted_now,
                               const std::string& started_at) {
  Continuation next;
  if (current) {
    next.invocation = current->invocation < std::numeric_limits<int>::max() ? current->invocation + 1
                                                                            : current->invocation;
    const std::int64_t room = std::numeric_limits<std::int64_t>::max() - current->deleted_so_far;
    next.deleted_so_far = current->deleted_so_far + std::min(std::max<std::int64_t>(deleted_now, 0), room);
    next.started_at = current->started_at.empty() ? started_at : current->started_at;
  } else {
    next.invocation = 1;
    next.deleted_so_far = deleted_now;
    next.started_at = started_at;
  }
  return next;
}

std::optional<std::string> continuation_limit_reason(const Continuation& next, int max_invocations) {
  // `next.invocation` counts re-invocations; with the original one there would be invocation + 1 in all.
  if (next.invocation < max_invocations) return std::nullopt;  // i.e. invocation + 1 <= max, without overflow
  std::string reason = "Repository not emptied within " + std::to_string(max_invocations) +
                       " Lambda invocations; " + std::to_string(next.deleted_so_far) + " images deleted so far";
  if (!next.started_at.empty()) reason += " since " + next.started_at;
  reason += ". Run the Delete again or empty the repository with `ecr-sweeper empty`.";
  return reason;
}

}  // namespace ecrs::cfn
