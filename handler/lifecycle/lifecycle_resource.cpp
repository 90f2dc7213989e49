// Custom::EcrLifecyclePolicy: one policy on repositories the stack may not own (issue 9). Create and Update
// validate, then put the policy on every named or matching repository; Update also removes it from repositories
// the old properties named and the new ones don't; Delete removes it. One response PUT per request, through the
// handler's response sender; the Runtime reply is the same small document the EmptyEcrRepository flow returns.
#include <set>

#include "ecrs/cfn/physical_id.hpp"
#include "ecrs/cfn/request.hpp"
#include "ecrs/cfn/response.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/handler/custom_resource.hpp"
#include "ecrs/handler/lifecycle_mode.hpp"
#include "ecrs/handler/response_sender.hpp"
#include "ecrs/handler/runtime_client.hpp"
#include "ecrs/lifecycle/policy_validator.hpp"

namespace ecrs::handler {
namespace {

constexpr const char* kInvalidProperty = "InvalidProperty";
constexpr const char* kMissingProperty = "MissingProperty";

Json::Value fields(std::initializer_list<std::pair<const char*, Json::Value>> kv) {
  Json::Value v(Json::objectValue);
  for (const auto& [k, val] : kv) v[k] = val;
  return v;
}

// Properties CloudFormation adds to every custom resource (CFNUG/aws-resource-cloudformation-customresource).
bool is_reserved_property(const std::string& name) { return name == "ServiceToken" || name == "ServiceTimeout"; }

// CloudFormation sends every scalar of a property object as a string (countNumber: 14 arrives as "14":
// gh:aws-cloudformation/cloudformation-coverage-roadmap#1037). The policy's two integer members are turned back
// into numbers when they are plain decimal integers; anything else is left for the validator to report.
void restore_policy_integers(Json::Value& policy) {
  auto fix = [](Json::Value& v) {
    if (!v.isString()) return;
    const std::string s = v.asString();
    if (s.empty() || s.size() > 18) return;  // 18 digits always fit in an int64
    const std::size_t start = s[0] == '-' ? 1 : 0;
    if (start == s.size()) return;
    for (std::size_t i = start; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return;
    }
    v = Json::Value(static_cast<Json::Int64>(std::stoll(s)));
  };
  // isMember before operator[]: a non-const lookup would add the member it looks for.
  if (!policy.isObject() || !policy.isMember("rules") || !policy["rules"].isArray()) return;
  for (auto& rule : policy["rules"]) {
    if (!rule.isObject()) continue;
    if (rule.isMember("rulePriority")) fix(rule["rulePriority"]);
    if (rule.isMember("selection") && rule["selection"].isObject() && rule["selection"].isMember("countNumber")) {
      fix(rule["selection"]["countNumber"]);
    }
  }
}

class LifecycleResourceMode final : public EventMode {
 public:
  explicit LifecycleResourceMode(AwsSession& session) : session_(&session) {}

  const char* name() const override { return "lifecycle-policy-resource"; }

  bool accepts(const Json::Value& event) const override {
    if (!cfn::looks_like_custom_resource(event)) return false;
    const Json::Value* type = event.find("ResourceType", "ResourceType" + 12);
    return type != nullptr && type->isString() && type->asString() == kLifecycleResourceType;
  }

  Result<std::string> handle(const Json::Value& event, const InvocationInfo& info) override {
    Logger log = session_->logger().with(fields({{"aws_request_id", info.request_id}}));
    auto target = cfn::parse_response_target(event);
    if (!target) {
      log.error("event rejected", fields({{"error", target.error().describe()}}));
      return target.error();
    }
    log = log.with(fields({{"stack_id", target->stack_id},
                           {"request_id", target->request_id},
                           {"logical_resource_id", target->logical_resource_id}}));
    cfn::CustomResourceOutcome outcome;
    try {
      outcome = decide_and_run(event, *target, info, log);
    } catch (const std::exception& e) {
      // Last resort: CloudFormation must hear back whatever happened.
      log.error("unexpected exception", fields({{"error", e.what()}}));
      outcome = cfn::CustomResourceOutcome::failure(std::string("internal error: ") + e.what());
    }
    // A FAILED answer is a successful invocation to Lambda, so only this count lets the template's alarm see it.
    if (info.metrics != nullptr && outcome.status == cfn::ResponseStatus::FAILED) {
      info.metrics->failures = std::max<std::uint64_t>(info.metrics->failures, 1);
    }
    return answer(outcome, *target, info, log);
  }

 private:
  // No new per-repository call starts once the time left could not also carry the response PUT (every attempt
  // and backoff the policy allows) and the Runtime reply: the resource then answers FAILED, naming what it did
  // not reach, before Lambda's deadline.
  OutOfTime out_of_time(const InvocationInfo& info) const {
    if (info.deadline.time_since_epoch().count() == 0) return {};
    const auto stop_at = info.deadline - kRuntimeReplyMargin - worst_case_duration(PutPolicy{});
    const Clock* clock = &session_->clock();
    return [clock, stop_at] { return clock->now() >= stop_at; };
  }

  static Json::Value names_of(const std::vector<std::pair<std::string, std::string>>& items) {
    Json::Value v(Json::arrayValue);
    for (const auto& [name, why] : items) v.append(name);
    return v;
  }

  cfn::CustomResourceOutcome decide_and_run(const Json::Value& event, const cfn::ResponseTarget& target,
                                            const InvocationInfo& info, Logger& log) {
    auto request = cfn::parse_request(event);
    if (!request) return cfn::CustomResourceOutcome::failure(request.error().message);
    const std::string id = kLifecyclePhysicalIdPrefix + request->logical_resource_id;
    const bool is_delete = request->request_type == cfn::RequestType::Delete;
    if (is_delete && cfn::is_create_failed_id(request->physical_resource_id)) {
      log.info("delete after a failed create: nothing to remove");
      return cfn::CustomResourceOutcome::success(request->physical_resource_id);
    }
    auto props = parse_lifecycle_properties(
        request->resource_properties, is_delete ? UnknownLifecycleProperties::ignore : UnknownLifecycleProperties::reject);
    if (!props) {
      // A Delete whose properties could never have passed Create has nothing of ours to remove.
      if (is_delete) return cfn::CustomResourceOutcome::success(request->physical_resource_id, props.error().message);
      return cfn::CustomResourceOutcome::failure(props.error().message, target.physical_resource_id);
    }
    auto client = session_->client(aws::kEcr);
    if (!client) return cfn::CustomResourceOutcome::failure(client.error().describe());
    ecr::EcrClient ecr(**client);
    ecr::LifecycleClient lc(**client);
    const int concurrency = kDefaultLifecycleConcurrency;
    const OutOfTime late = out_of_time(info);

    auto repositories = select_repositories(ecr, props->selector, concurrency);
    if (!repositories) return cfn::CustomResourceOutcome::failure(repositories.error().describe());

    if (is_delete) {
      // Only where our policy still is: a repository matching the pattern now may carry another stack's.
      auto removal = remove_our_policies(lc, *repositories, props->selector.registry_id, props->policy_text,
                                         concurrency, late);
      if (!removal.errors.empty()) return failure_from(removal.errors, "could not remove the policy from");
      log.info("lifecycle policy removed", fields({{"repositories", static_cast<Json::UInt64>(removal.removed.size())},
                                                   {"left_alone", names_of(removal.left_alone)}}));
      auto outcome = cfn::CustomResourceOutcome::success(request->physical_resource_id);
      outcome.data = removal_data(removal);
      return outcome;
    }

    const auto report = lifecycle::validate_policy(props->policy_text);
    if (!report.valid()) return cfn::CustomResourceOutcome::failure("invalid lifecycle policy:\n" + report.describe());

    auto items = plan_apply(lc, props->policy_text, *repositories, props->selector.registry_id, concurrency, late);
    execute_apply(lc, props->policy_text, items, props->selector.registry_id, concurrency, late);
    std::vector<std::pair<std::string, Error>> errors;
    std::size_t applied = 0;
    for (const auto& item : items) {
      if (item.error) errors.emplace_back(item.repository_name, *item.error);
      if (item.applied) ++applied;
    }
    if (!errors.empty()) return failure_from(errors, "could not put the policy on");

    PolicyRemoval dropped_removal;
    if (request->request_type == cfn::RequestType::Update && request->old_resource_properties.isObject()) {
      // Repositories the stack governed before and no longer does get their policy removed; ones still named
      // keep the policy just put.
      auto old_props = parse_lifecycle_properties(request->old_resource_properties, UnknownLifecycleProperties::ignore);
      if (old_props) {
        auto old_repositories = select_repositories(ecr, old_props->selector, concurrency);
        if (old_repositories) {
          const std::set<std::string> now_named(repositories->begin(), repositories->end());
          std::vector<std::string> dropped;
          for (const auto& name : *old_repositories) {
            if (!now_named.contains(name)) dropped.push_back(name);
          }
          // The old policy is what this resource put there; anything else there now is someone else's.
          dropped_removal = remove_our_policies(lc, dropped, old_props->selector.registry_id, old_props->policy_text,
                                                concurrency, late);
          if (!dropped_removal.errors.empty()) {
            return failure_from(dropped_removal.errors, "could not remove the old policy from");
          }
        }
      }
    }
    log.info("lifecycle policy applied", fields({{"repositories", static_cast<Json::UInt64>(items.size())},
                                                 {"changed", static_cast<Json::UInt64>(applied)},
                                                 {"left_alone", names_of(dropped_removal.left_alone)}}));
    auto outcome = cfn::CustomResourceOutcome::success(id);
    outcome.data = removal_data(dropped_removal);
    outcome.data["RepositoryCount"] = static_cast<Json::UInt64>(items.size());
    return outcome;
  }

  // Response Data (strings, as Fn::GetAtt reads them): what was removed and what was left alone, and why.
  static Json::Value removal_data(const PolicyRemoval& removal) {
    Json::Value data(Json::objectValue);
    // CloudFormation takes at most 4096 bytes of response: the list is cut short with a count of the rest.
    constexpr std::size_t kMaxListedChars = 1024;
    std::string left;
    std::size_t listed = 0;
    for (const auto& [name, why] : removal.left_alone) {
      if (left.size() + name.size() + 1 > kMaxListedChars) break;
      left += (left.empty() ? "" : ",") + name;
      ++listed;
    }
    if (listed < removal.left_alone.size()) {
      left += ",... (" + std::to_string(removal.left_alone.size() - listed) + " more)";
    }
    data["PoliciesRemoved"] = std::to_string(removal.removed.size());
    data["PoliciesLeftAlone"] = left;
    if (!left.empty()) data["LeftAloneReason"] = removal.left_alone.front().second;
    return data;
  }

  static cfn::CustomResourceOutcome failure_from(const std::vector<std::pair<std::string, Error>>& errors,
                                                 const std::string& what) {
    // build_response shortens the Reason to fit CloudFormation's 4096-byte limit.
    std::string reason = what + " " + std::to_string(errors.size()) + " repositories:";
    for (const auto& [name, error] : errors) reason += "\n" + name + ": " + error.describe();
    return cfn::CustomResourceOutcome::failure(reason);
  }

  Result<std::string> answer(const cfn::CustomResourceOutcome& outcome, const cfn::ResponseTarget& target,
                             const InvocationInfo& info, Logger& log) {
    const std::string body = cfn::build_response(outcome, target);
    PutPolicy policy;
    policy.loopback_http_allowed = runtime_api_is_local(session_->env());
    if (info.deadline.time_since_epoch().count() != 0) policy.give_up_at = info.deadline - kRuntimeReplyMargin;
    auto put = put_response(session_->transport(), target.response_url, body, policy, session_->clock(),
                            session_->sleeper(), session_->random(), log);
    if (!put) {
      // Posted to /error, so Lambda retries the event: one more chance for CloudFormation to hear back.
      return make_error("ResponseNotDelivered", put.error().describe());
    }
    Json::Value reply(Json::objectValue);
    reply["Status"] = std::string(cfn::to_string(outcome.status));
    if (auto parsed = parse_json(body)) {
      if (auto pid = get_string(*parsed, "PhysicalResourceId")) reply["PhysicalResourceId"] = *pid;
    }
    return to_compact_json(reply);
  }

  AwsSession* session_;
};

}  // namespace

Result<LifecyclePolicyProperties> parse_lifecycle_properties(const Json::Value& props,
                                                             UnknownLifecycleProperties unknown) {
  if (!props.isObject()) return make_error(kMissingProperty, "ResourceProperties is not an object");
  LifecyclePolicyProperties out;
  if (unknown == UnknownLifecycleProperties::reject) {
    for (const auto& name : props.getMemberNames()) {
      if (name != kPolicyProperty && name != kRepositoryNamesProperty && name != kRepositoryPatternProperty &&
          !is_reserved_property(name)) {
        return make_error(kInvalidProperty, "unknown property '" + name + "' (expected Policy, RepositoryNames or "
                                            "RepositoryPattern)");
      }
    }
  }
  const Json::Value& policy = props[kPolicyProperty];
  if (policy.isString()) {
    out.policy_text = policy.asString();
  } else if (policy.isObject()) {
    Json::Value copy = policy;
    restore_policy_integers(copy);
    out.policy_text = to_compact_json(copy);
  } else if (policy.isNull()) {
    return make_error(kMissingProperty, "Policy is required (a JSON string or an object)");
  } else {
    return make_error(kInvalidProperty, "Policy must be a JSON string or an object");
  }
  const Json::Value& names = props[kRepositoryNamesProperty];
  const Json::Value& pattern = props[kRepositoryPatternProperty];
  if (!names.isNull() == !pattern.isNull()) {
    return make_error(kInvalidProperty, "exactly one of RepositoryNames and RepositoryPattern is required");
  }
  if (!names.isNull()) {
    if (!names.isArray() || names.empty()) {
      return make_error(kInvalidProperty, "RepositoryNames must be a non-empty list of repository names");
    }
    for (const auto& n : names) {
      if (!n.isString()) return make_error(kInvalidProperty, "RepositoryNames must hold strings");
      if (auto ok = cfn::validate_repository_name(n.asString()); !ok) return ok.error();
      out.selector.names.push_back(n.asString());
    }
  } else {
    if (!pattern.isString() || pattern.asString().empty()) {
      return make_error(kInvalidProperty, "RepositoryPattern must be a non-empty string such as 'team-a/*'");
    }
    out.selector.patterns.push_back(pattern.asString());
  }
  return out;
}

std::unique_ptr<EventMode> make_lifecycle_resource_mode(AwsSession& session) {
  return std::make_unique<LifecycleResourceMode>(session);
}

}  // namespace ecrs::handler
