#include "ecrs/handler/hook_flow.hpp"

#include <algorithm>
#include <cctype>
#include <exception>

#include "ecrs/aws/xml.hpp"
#include "ecrs/ecr/executor.hpp"
#include "ecrs/handler/custom_resource.hpp"
#include "ecrs/handler/modes.hpp"

namespace ecrs::handler {
namespace {

using std::chrono::system_clock;

std::string plural(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string left_text(const ecr::EmptyReport& r) {
  // `remaining` counts what the last listing saw; a run cut short mid-listing may have seen only part of it.
  std::string text =
      r.remaining > 0 ? "at least " + plural(r.remaining, "image", "images") + " left" : "images left";
  // A BatchDeleteImage cut at the deadline may or may not have taken effect: say so rather than guess.
  if (r.possibly_deleted > 0) {
    text += " (" + plural(r.possibly_deleted, "image", "images") + " in a call cut at the deadline may also be gone)";
  }
  return text;
}

}  // namespace

std::optional<std::string> physical_id_from_describe_stack_resource(std::string_view xml) {
  auto id = aws::xml_text(xml, "PhysicalResourceId");
  if (!id || id->empty()) return std::nullopt;
  return id;
}

Result<std::optional<std::string>> CloudFormationStackResolver::physical_resource_id(
    const std::string& stack_id, const std::string& logical_resource_id) {
  aws::CallOptions options;
  options.context = "stack=" + stack_id + " logical_id=" + logical_resource_id;
  auto body = cloudformation_->query_call("DescribeStackResource",
                                          {{"StackName", stack_id}, {"LogicalResourceId", logical_resource_id}},
                                          kCloudFormationApiVersion, options);
  if (!body) return body.error();
  return physical_id_from_describe_stack_resource(*body);
}

Result<HookFlowConfig> hook_flow_config_from_env(const Environment& env) {
  auto base = flow_config_from_env(env);
  if (!base) return base.error();
  HookFlowConfig c;
  c.concurrency = base->concurrency;
  return c;
}

HookFlow::HookFlow(ecr::EcrClient& ecr, StackResourceResolver* stacks, HookFlowConfig config, const Clock& clock,
                   Sleeper& sleeper, Random& random, Logger& logger)
    : ecr_(&ecr), stacks_(stacks), config_(config), clock_(&clock), sleeper_(&sleeper), random_(&random),
      logger_(&logger) {}

system_clock::time_point HookFlow::work_until(system_clock::time_point start,
                                              std::optional<system_clock::time_point> deadline) const {
  system_clock::time_point until = start + config_.invocation_wait - config_.wait_margin;
  if (deadline) until = std::min(until, *deadline - config_.reply_reserve);
  return until;
}

std::string HookFlow::handle(const Json::Value& event, std::optional<system_clock::time_point> deadline,
                             InvocationMetrics* metrics) noexcept {
  // The token is echoed even when the rest of the request is unusable, so Hooks can match the answer.
  std::string token = get_string(event, "clientRequestToken").value_or("");
  try {
    auto request = cfn::parse_hook_request(event);
    if (!request) {
      Json::Value f(Json::objectValue);
      f["error"] = request.error().describe();
      logger_->error("hook request rejected", f);
      return cfn::build_hook_response(
          cfn::HookResponse::failed(cfn::HookErrorCode::InternalFailure,
                                    "ecr-sweeper could not read the Hooks request: " + request.error().describe()),
          token);
    }
    Json::Value fields(Json::objectValue);
    fields["client_request_token"] = request->client_request_token;
    fields["stack"] = request->stack_id;
    fields["logical_id"] = request->target_logical_id;
    fields["target"] = request->resource_type();
    fields["action"] = request->action_invocation_point;
    fields["invocation"] = request->invocation;
    Logger log = logger_->with(fields);
    const cfn::HookResponse response = decide(*request, deadline, log, metrics);
    if (metrics != nullptr) {
      if (response.status == cfn::HookStatus::IN_PROGRESS) metrics->continuations = 1;
      // A blocked deletion (NonCompliant, the keep-on-delete tag) is the opt-out working, not a failure to alarm on.
      if (response.status == cfn::HookStatus::FAILED &&
          response.error_code.value_or(cfn::HookErrorCode::InternalFailure) != cfn::HookErrorCode::NonCompliant) {
        metrics->failures = std::max<std::uint64_t>(metrics->failures, 1);
      }
    }
    Json::Value outcome(Json::objectValue);
    outcome["hook_status"] = std::string(cfn::to_string(response.status));
    if (response.status == cfn::HookStatus::FAILED) {
      outcome["error_code"] = std::string(cfn::to_string(response.error_code.value_or(cfn::HookErrorCode::InternalFailure)));
    }
    outcome["message"] = response.message;
    log.info("hook answered", outcome);
    return cfn::build_hook_response(response, request->client_request_token, cfn::max_hook_message_bytes(*request));
  } catch (const std::exception& e) {
    // Last resort at the top of the hook mode: Hooks must get an answer, not a crashed invocation.
    Json::Value f(Json::objectValue);
    f["what"] = e.what();
    logger_->error("hook flow failed with an exception", f);
  } catch (...) {
    logger_->error("hook flow failed with an unknown exception");
  }
  return cfn::build_hook_response(
      cfn::HookResponse::failed(cfn::HookErrorCode::InternalFailure, "ecr-sweeper failed with an internal error"), token);
}

Result<std::optional<std::string>> HookFlow::repository_name(const cfn::HookRequest& request,
                                                             const std::optional<cfn::HookProgress>& progress) {
  if (progress) return std::optional<std::string>{progress->repository};
  if (auto name = cfn::target_property(request, "RepositoryName")) return name;
  // No RepositoryName in the template: CloudFormation generated one, and only the stack knows it.
  if (request.from_cloud_control() || request.target_logical_id.empty()) {
    return make_error("RepositoryUnknown",
                      "the request names no RepositoryName and no stack to look it up in (Cloud Control API caller)",
                      "hook");
  }
  if (stacks_ == nullptr) {
    return make_error("RepositoryUnknown", "the repository has no RepositoryName and no CloudFormation client is "
                                           "configured to resolve it from the stack", "hook");
  }
  return stacks_->physical_resource_id(request.stack_id, request.target_logical_id);
}

cfn::HookResponse HookFlow::retry_or_fail(const Error& error, const std::string& what, const cfn::HookProgress& progress,
                                          int invocation, Logger& log) {
  Json::Value f(Json::objectValue);
  f["error"] = error.describe();
  f["retryable"] = error.retryable;
  log.warn(what + " failed", f);
  if (error.retryable && invocation < config_.max_invocations) {
    cfn::HookProgress next = progress;
    next.invocations = invocation;
    return cfn::HookResponse::in_progress(cfn::to_callback_context(next), config_.callback_delay_seconds,
                                          "ecr-sweeper will retry after a transient error: " + error.describe());
  }
  return cfn::HookResponse::failed(cfn::HookErrorCode::InternalFailure,
                                   "ecr-sweeper could not empty repository " + progress.repository + ": " + what +
                                       " failed: " + error.describe());
}

cfn::HookResponse HookFlow::decide(const cfn::HookRequest& request, std::optional<system_clock::time_point> deadline,
                                   Logger& log, InvocationMetrics* metrics) {
  const system_clock::time_point start = clock_->now();
  if (request.resource_type() != kEcrRepositoryType ||
      request.invocation_point != cfn::HookInvocationPoint::DeletePreProvision) {
    return cfn::HookResponse::success("ecr-sweeper: nothing to do for " + request.resource_type() + " " +
                                      request.action_invocation_point);
  }

  auto progress = cfn::read_hook_progress(request.callback_context);
  if (!progress) {
    return cfn::HookResponse::failed(cfn::HookErrorCode::InternalFailure,
                                     "ecr-sweeper could not resume: " + progress.error().describe());
  }
  // Hooks count attempts in requestContext.invocation; our own count in the context covers a caller that does not.
  const int invocation = std::max(request.invocation, *progress ? (*progress)->invocations + 1 : 1);

  auto name = repository_name(request, *progress);
  if (!name) {
    return cfn::HookResponse::failed(cfn::HookErrorCode::InternalFailure,
                                     "ecr-sweeper could not find the name of repository " + request.target_logical_id +
                                         ": " + name.error().describe());
  }
  if (!name->has_value()) {
    return cfn::HookResponse::success("ecr-sweeper: repository " + request.target_logical_id +
                                      " was never created; nothing to empty");
  }
  cfn::HookProgress done = progress->value_or(cfn::HookProgress{});
  done.repository = **name;
  if (metrics != nullptr) metrics->repository = done.repository;
  Logger rlog = log.with([&] {
    Json::Value f(Json::objectValue);
    f["repository"] = done.repository;
    return f;
  }());

  // DescribeRepositories: existence, and the ARN ListTagsForResource needs (no partition/region guessing).
  ecr::DescribeRepositoriesRequest describe;
  describe.repository_names = {done.repository};
  auto repos = ecr_->describe_repositories(describe);
  if (!repos) {
    if (repos.error().code == "RepositoryNotFoundException") {
      return cfn::HookResponse::success("ecr-sweeper: repository " + done.repository + " does not exist; nothing to empty");
    }
    return retry_or_fail(repos.error(), "DescribeRepositories", done, invocation, rlog);
  }
  if (repos->repositories.empty()) {
    return cfn::HookResponse::success("ecr-sweeper: repository " + done.repository + " does not exist; nothing to empty");
  }
  const std::string arn = repos->repositories.front().repository_arn;
  auto tags = ecr_->list_tags_for_resource({arn});
  if (!tags) return retry_or_fail(tags.error(), "ListTagsForResource", done, invocation, rlog);
  for (const auto& tag : tags->tags) {
    if (tag.key == kKeepOnDeleteTagKey && equals_ignore_case(tag.value, kKeepOnDeleteTagValue)) {
      return cfn::HookResponse::failed(
          cfn::HookErrorCode::NonCompliant,
          "Repository " + done.repository + " is tagged " + std::string(kKeepOnDeleteTagKey) + "=" + tag.value +
              ": ecr-sweeper keeps its images and blocks its deletion. To delete it, remove the tag (aws ecr "
              "untag-resource --resource-arn " + arn + " --tag-keys " + std::string(kKeepOnDeleteTagKey) +
              ") and retry; to keep it, set DeletionPolicy: Retain on " + request.target_logical_id + ".");
    }
  }

  ecr::EmptyOptions options;
  options.repository = done.repository;
  options.max_concurrency = config_.concurrency;
  options.deadline = work_until(start, deadline);
  // Calls started before the work stops may use half the reply's reserve; their timeouts are cut to it.
  options.call_deadline = *options.deadline + config_.reply_reserve / 2;
  options.on_progress = [&rlog](const ecr::EmptyProgress& p) {
    Json::Value f(Json::objectValue);
    f["deleted"] = Json::UInt64(p.deleted);
    f["listed"] = Json::UInt64(p.listed);
    f["known_total"] = Json::UInt64(p.known_total);
    f["rate_per_s"] = p.rate;
    f["throttled"] = Json::UInt64(p.throttled);
    f["concurrency"] = p.concurrency;
    rlog.info("emptying", f);
  };
  auto report = ecr::empty_repository(*ecr_, options, *clock_, *sleeper_, *random_, rlog);
  if (!report) return retry_or_fail(report.error(), "emptying", done, invocation, rlog);
  if (metrics != nullptr) {
    // This invocation's share; a repository emptied over several invocations writes one record per invocation.
    metrics->images_deleted = report->deleted;
    metrics->images_planned = report->deleted + report->remaining;
    metrics->bytes_reclaimed = static_cast<std::int64_t>(report->bytes_deleted);
    metrics->throttled_calls = report->throttled;
    metrics->failures = report->failures.size();
  }
  done.deleted += report->deleted;
  const std::string invocations = plural(static_cast<std::uint64_t>(invocation), "invocation", "invocations");

  if (report->repository_missing) {
    return cfn::HookResponse::success("ecr-sweeper: repository " + done.repository + " no longer exists (" +
                                      plural(done.deleted, "image", "images") + " deleted)");
  }
  if (report->complete) {
    return cfn::HookResponse::success("ecr-sweeper emptied repository " + done.repository + ": " +
                                      plural(done.deleted, "image", "images") + " deleted in " + invocations);
  }
  if (report->stalled) {
    std::string msg = "ecr-sweeper could not empty repository " + done.repository + ": " +
                      plural(done.deleted, "image", "images") + " deleted, " + left_text(*report) +
                      " that ECR refuses to delete";
    if (!report->failures.empty()) msg += " (e.g. " + report->failures.front() + ")";
    return cfn::HookResponse::failed(cfn::HookErrorCode::InternalFailure, msg);
  }
  // Out of time for this invocation.
  if (invocation < config_.max_invocations) {
    done.invocations = invocation;
    return cfn::HookResponse::in_progress(
        cfn::to_callback_context(done), config_.callback_delay_seconds,
        "ecr-sweeper is emptying repository " + done.repository + ": " + plural(done.deleted, "image", "images") +
            " deleted so far, " + left_text(*report));
  }
  return cfn::HookResponse::failed(
      cfn::HookErrorCode::InternalFailure,
      "ecr-sweeper could not empty repository " + done.repository + " within the " + invocations +
          " CloudFormation Hooks allows: " + plural(done.deleted, "image", "images") + " deleted, " +
          left_text(*report) + ". Empty it with `ecr-sweeper empty " + done.repository +
          "` (or the Custom::EmptyEcrRepository resource) and retry the stack deletion.");
}

}  // namespace ecrs::handler
