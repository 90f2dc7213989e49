#include "ecrs/handler/custom_resource.hpp"
#include "ecrs/handler/runtime_client.hpp"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>

#include "ecrs/cfn/decision.hpp"
#include "ecrs/cfn/physical_id.hpp"
#include "ecrs/cfn/properties.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/handler/modes.hpp"

namespace ecrs::handler {

namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

Result<int> positive_int_env(const Environment& env, const char* name, int fallback) {
  auto v = env.get(name);
  if (!v || v->empty()) return fallback;
  int out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size() || out < 1) {
    return make_error("InvalidConfiguration", std::string(name) + " must be a positive integer, got '" + *v + "'");
  }
  return out;
}

Json::Value fields(std::initializer_list<std::pair<const char*, Json::Value>> kv) {
  Json::Value f(Json::objectValue);
  for (const auto& [k, v] : kv) f[k] = v;
  return f;
}

std::string registry_label(const std::optional<std::string>& registry_id) {
  return registry_id ? "registry " + *registry_id : "this account's registry";
}

}  // namespace

Result<FlowConfig> flow_config_from_env(const Environment& env) {
  FlowConfig c;
  auto max_inv = positive_int_env(env, "ECRS_MAX_INVOCATIONS", cfn::kDefaultMaxInvocations);
  if (!max_inv) return max_inv.error();
  c.max_invocations = *max_inv;
  auto conc = positive_int_env(env, "ECRS_CONCURRENCY", c.concurrency);
  if (!conc) return conc.error();
  c.concurrency = *conc;
  if (auto name = env.get(cfn::kRepositoryNameEnvVar); name && !name->empty()) c.default_repository_name = *name;
  // Plain http to a loopback ResponseURL only when the Runtime API itself is local (tests and the demo); in Lambda
  // the ResponseURL must be https to the partition's S3 hosts.
  c.put_policy.loopback_http_allowed = runtime_api_is_local(env);
  return c;
}

Budget compute_budget(std::optional<system_clock::time_point> deadline, system_clock::time_point now,
                      const FlowConfig& config) {
  Budget b;
  if (!deadline) return b;
  b.deadline = deadline;
  auto remaining = std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(*deadline - now));
  const auto proportional =
      milliseconds(static_cast<long long>(static_cast<double>(remaining.count()) * config.reserve_fraction));
  const auto reserve =
      std::max(config.min_reserve, std::min(proportional, worst_case_duration(config.put_policy) + kRuntimeReplyMargin));
  b.work_until = *deadline - reserve;
  // Calls started before work_until may finish in the first half of the reserve; their timeouts are cut to it. The
  // second half carries the PUT and the Runtime reply, and never less than the PUT's shortest attempt, the reply
  // margin and the watchdog's slice: with a small reserve, the calls get what is left.
  const auto put_floor = kMinPutAttempt + kRuntimeReplyMargin;
  const auto tail = std::max<milliseconds>(reserve / 2, put_floor + reserve / 8);
  b.calls_until = *deadline - tail;
  // The watchdog is the last resort behind those timeouts: it fires only if a call ignored its own, and still
  // leaves the PUT its shortest attempt.
  b.abandon_at = *b.calls_until + reserve / 8;
  return b;
}

CustomResourceFlow::CustomResourceFlow(SweeperBackend& backend, aws::Transport& put_transport, FlowConfig config,
                                       const Clock& clock, Sleeper& sleeper, Random& random, Logger& logger)
    : backend_(&backend),
      put_transport_(&put_transport),
      config_(std::move(config)),
      clock_(&clock),
      sleeper_(&sleeper),
      random_(&random),
      logger_(&logger) {}

CustomResourceFlow::~CustomResourceFlow() {
  for (auto& t : abandoned_) {
    if (t.joinable()) t.join();
  }
}

RuntimeReply CustomResourceFlow::handle(const Json::Value& event, const Invocation& invocation,
                                        InvocationMetrics* metrics) noexcept {
  InvocationMetrics unused;
  InvocationMetrics& m = metrics != nullptr ? *metrics : unused;
  Logger log = logger_->with(fields({{"aws_request_id", invocation.request_id}}));
  auto target = cfn::parse_response_target(event);
  if (!target) {
    // Nothing to answer CloudFormation with: the error is all anyone will see.
    log.error("event rejected", fields({{"error", target.error().describe()}}));
    return {true, "InvalidEvent", target.error().describe()};
  }
  log = log.with(fields({{"stack_id", target->stack_id},
                         {"request_id", target->request_id},
                         {"logical_resource_id", target->logical_resource_id}}));
  const std::string key = cfn::dedup_key(*target);
  std::string what;
  try {
    return handle_request(event, invocation, *target, log, m);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  // The last resort: whatever went wrong, CloudFormation hears FAILED (once) instead of waiting an hour.
  log.error("unexpected exception", fields({{"error", what}}));
  if (ledger_.answered(key)) return {false, {}, R"({"Duplicate":true})"};
  try {
    return answer(cfn::CustomResourceOutcome::failure("internal error: " + what), *target, invocation.deadline, key,
                  0, log);
  } catch (...) {
    return {true, "InternalError", "internal error: " + what};
  }
}

RuntimeReply CustomResourceFlow::handle_request(const Json::Value& event, const Invocation& invocation,
                                                 const cfn::ResponseTarget& target, Logger& log_in,
                                                 InvocationMetrics& metrics) {
  const auto started = clock_->monotonic();
  // One key for the request whatever the invocation, so a redelivery of the original after a continued chain
  // answered is still recognised.
  const std::string base_key = cfn::dedup_key(target);
  auto request = cfn::parse_request(event);
  if (!request) {
    Logger log = log_in;
    log.warn("request rejected", fields({{"error", request.error().describe()}}));
    if (!ledger_.claim(base_key, 0)) {
      log.info("duplicate delivery ignored");
      return {false, {}, R"({"Duplicate":true})"};
    }
    return answer(cfn::CustomResourceOutcome::failure(request.error().message), target, invocation.deadline, base_key,
                  0, log);
  }
  const int invocation_number = request->continuation ? request->continuation->invocation : 0;
  Logger log = log_in.with(fields({{"request_type", std::string(cfn::to_string(request->request_type))},
                                   {"invocation", invocation_number}}));
  if (!ledger_.claim(base_key, invocation_number)) {
    log.info("duplicate delivery ignored: this request was already handled here");
    return {false, {}, R"({"Duplicate":true})"};
  }

  cfn::Decision decision = cfn::decide(*request, config_.default_repository_name);
  if (decision.properties) {
    metrics.repository = decision.properties->repository_name;
    log = log.with(fields({{"repository", decision.properties->repository_name}}));
    if (decision.properties->registry_id) log = log.with(fields({{"registry_id", *decision.properties->registry_id}}));
  }
  log.info("request received", fields({{"action", std::string(cfn::to_string(decision.action))},
                                       {"physical_resource_id", decision.physical_resource_id}}));

  cfn::CustomResourceOutcome outcome;
  bool continued = false;
  switch (decision.action) {
    case cfn::Action::fail:
      outcome = cfn::CustomResourceOutcome::failure(decision.reason, decision.physical_resource_id);
      break;
    case cfn::Action::succeed:
      outcome = cfn::CustomResourceOutcome::success(decision.physical_resource_id, decision.reason);
      break;
    case cfn::Action::check_repository:
      outcome = run_check(*decision.properties, decision.physical_resource_id, log);
      break;
    case cfn::Action::empty_repository:
      outcome = run_delete(event, *request, *decision.properties, invocation, log, continued, metrics);
      outcome.physical_resource_id = decision.physical_resource_id;
      break;
  }
  auto ms = std::chrono::duration_cast<milliseconds>(clock_->monotonic() - started).count();
  // A FAILED answer is one repository that failed, whether or not single images were counted.
  if (outcome.status == cfn::ResponseStatus::FAILED) metrics.failures = std::max<std::uint64_t>(metrics.failures, 1);
  if (continued) {
    metrics.continuations = 1;
    log.info("continuing in a new invocation", fields({{"duration_ms", static_cast<Json::Int64>(ms)}}));
    return {false, {}, to_compact_json(fields({{"Continued", true}, {"Invocation", invocation_number + 1}}))};
  }
  log.info("request done", fields({{"status", std::string(cfn::to_string(outcome.status))},
                                   {"reason", outcome.reason},
                                   {"duration_ms", static_cast<Json::Int64>(ms)}}));
  return answer(outcome, target, invocation.deadline, base_key, invocation_number, log);
}

cfn::CustomResourceOutcome CustomResourceFlow::run_check(const cfn::EmptyEcrRepositoryProperties& props,
                                                         const std::string& id, Logger& log) {
  auto exists = backend_->repository_exists(props.repository_name, props.registry_id);
  if (!exists) {
    log.error("repository check failed", fields({{"error", exists.error().describe()}}));
    return cfn::CustomResourceOutcome::failure("Could not check repository '" + props.repository_name + "' in " +
                                                   registry_label(props.registry_id) + ": " + exists.error().describe(),
                                               id);
  }
  if (!*exists) {
    return cfn::CustomResourceOutcome::failure("Repository '" + props.repository_name + "' does not exist in " +
                                                   registry_label(props.registry_id) +
                                                   ": create it first or fix RepositoryName/RegistryId.",
                                               id);
  }
  auto out = cfn::CustomResourceOutcome::success(id);
  out.data = Json::Value(Json::objectValue);
  out.data["RepositoryName"] = props.repository_name;
  if (props.registry_id) out.data["RegistryId"] = *props.registry_id;
  return out;
}

Result<ecr::EmptyReport> CustomResourceFlow::run_with_watchdog(const ecr::EmptyOptions& options, const Budget& budget,
                                                               Logger& log, bool& abandoned) {
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::optional<Result<ecr::EmptyReport>> result;
  };
  auto shared = std::make_shared<Shared>();
  SweeperBackend* backend = backend_;
  std::thread worker([shared, backend, options] {
    std::optional<Result<ecr::EmptyReport>> r;
    try {
      r.emplace(backend->empty_repository(options));
    } catch (const std::exception& e) {
      r.emplace(make_error("InternalError", e.what(), "empty_repository"));
    } catch (...) {
      r.emplace(make_error("InternalError", "unknown exception", "empty_repository"));
    }
    std::lock_guard lock(shared->mu);
    shared->result = std::move(r);
    shared->done = true;
    shared->cv.notify_all();
  });
  std::unique_lock lock(shared->mu);
  if (budget.abandon_at) {
    auto wait = std::chrono::duration_cast<milliseconds>(*budget.abandon_at - clock_->now());
    shared->cv.wait_for(lock, std::max(wait, milliseconds(0)), [&] { return shared->done; });
  } else {
    shared->cv.wait(lock, [&] { return shared->done; });
  }
  if (!shared->done) {
    lock.unlock();
    // The worker still owns a call that overran the budget; it stops at its next deadline check. It is joined
    // when the flow is destroyed, never detached.
    log.error("watchdog: deletion overran its budget; answering without it");
    abandoned_.push_back(std::move(worker));
    abandoned = true;
    return make_error("WatchdogTimeout", "the deletion did not stop before the Lambda deadline", "empty_repository");
  }
  lock.unlock();
  worker.join();
  return std::move(*shared->result);
}

cfn::CustomResourceOutcome CustomResourceFlow::run_delete(const Json::Value& event,
                                                          const cfn::CustomResourceRequest& request,
                                                          const cfn::EmptyEcrRepositoryProperties& props,
                                                          const Invocation& invocation, Logger& log, bool& continued,
                                                          InvocationMetrics& metrics) {
  const Budget budget = compute_budget(invocation.deadline, clock_->now(), config_);
  const std::int64_t before = request.continuation ? request.continuation->deleted_so_far : 0;
  const std::string& repo = props.repository_name;

  ecr::EmptyOptions options;
  options.repository = repo;
  options.registry_id = props.registry_id;
  options.dry_run = props.dry_run;
  options.max_concurrency = config_.concurrency;
  options.deadline = budget.work_until;
  options.call_deadline = budget.calls_until;
  Logger progress_log = log;
  options.on_progress = [progress_log](const ecr::EmptyProgress& p) mutable {
    progress_log.info("progress", fields({{"deleted", static_cast<Json::UInt64>(p.deleted)},
                                          {"listed", static_cast<Json::UInt64>(p.listed)},
                                          {"known_total", static_cast<Json::UInt64>(p.known_total)},
                                          {"rate_per_s", p.rate},
                                          {"batches_done", static_cast<Json::UInt64>(p.batches_done)},
                                          {"throttled", static_cast<Json::UInt64>(p.throttled)},
                                          {"concurrency", p.concurrency}}));
  };
  bool abandoned = false;
  auto report = run_with_watchdog(options, budget, log, abandoned);
  if (!report) {
    log.error("emptying failed", fields({{"error", report.error().describe()}}));
    return cfn::CustomResourceOutcome::failure("Could not empty repository '" + repo + "': " + report.error().describe() +
                                               " (" + std::to_string(before) + " images deleted before this invocation)");
  }
  const ecr::EmptyReport& r = *report;
  // A BatchDeleteImage cut at the deadline may or may not have taken effect. Once a final listing shows the
  // repository empty, those images are gone, and this run is what deleted them.
  const std::uint64_t confirmed = r.complete ? r.deleted + r.possibly_deleted : r.deleted;
  // This invocation's share: a continued chain writes one record per invocation, and CloudWatch sums them to the
  // total CloudFormation is told (Data.ImagesDeleted).
  metrics.images_deleted = props.dry_run ? 0 : confirmed;
  // A dry run counts what would go in `deleted` and leaves it all in `remaining` too.
  metrics.images_planned = props.dry_run ? r.deleted : r.deleted + r.remaining;
  metrics.bytes_reclaimed = props.dry_run ? 0 : static_cast<std::int64_t>(r.bytes_deleted);
  metrics.throttled_calls = r.throttled;
  metrics.failures = r.failures.size();
  const std::int64_t total = before + static_cast<std::int64_t>(confirmed);
  log.info("emptying stopped", fields({{"deleted", static_cast<Json::UInt64>(r.deleted)},
                                       {"deleted_total", static_cast<Json::Int64>(total)},
                                       {"remaining", static_cast<Json::UInt64>(r.remaining)},
                                       {"complete", r.complete},
                                       {"deadline_reached", r.deadline_reached},
                                       {"stalled", r.stalled},
                                       {"possibly_deleted", static_cast<Json::UInt64>(r.possibly_deleted)},
                                       {"bytes_deleted", static_cast<Json::UInt64>(r.bytes_deleted)},
                                       {"list_calls", static_cast<Json::UInt64>(r.list_calls)},
                                       {"describe_calls", static_cast<Json::UInt64>(r.describe_calls)},
                                       {"delete_calls", static_cast<Json::UInt64>(r.delete_calls)},
                                       {"retries", static_cast<Json::UInt64>(r.retries)},
                                       {"throttled", static_cast<Json::UInt64>(r.throttled)},
                                       {"elapsed_ms", static_cast<Json::Int64>(r.elapsed.count())}}));
  auto data = [&] {
    Json::Value d(Json::objectValue);
    d["RepositoryName"] = repo;
    d["ImagesDeleted"] = std::to_string(total);
    return d;
  };
  if (r.repository_missing) {
    return cfn::CustomResourceOutcome::success({}, "Repository '" + repo + "' does not exist; nothing to empty.");
  }
  if (props.dry_run) {
    for (std::size_t i = 0; i < r.planned.size(); ++i) {
      log.info("dry run: would delete", fields({{"image_digest", r.planned[i]}}));
    }
    auto out = cfn::CustomResourceOutcome::success(
        {}, "Dry run: " + std::to_string(r.deleted) + " images would be deleted from '" + repo + "'; nothing deleted.");
    out.data = data();
    out.data["ImagesDeleted"] = "0";
    out.data["ImagesPlanned"] = std::to_string(r.deleted);
    return out;
  }
  if (r.complete) {
    auto out = cfn::CustomResourceOutcome::success({}, "Deleted " + std::to_string(total) + " images from '" + repo + "'.");
    out.data = data();
    return out;
  }
  if (r.stalled) {
    std::string reason = "Could not empty repository '" + repo + "': " + std::to_string(r.remaining) +
                         " images remain after a pass that deleted nothing (" + std::to_string(total) + " deleted).";
    for (const auto& f : r.failures) reason += " " + f + ";";
    return cfn::CustomResourceOutcome::failure(reason);
  }
  // Out of time (deadline_reached, or anything else short of complete): continue in a fresh invocation.
  const auto next = cfn::next_continuation(request.continuation, static_cast<std::int64_t>(r.deleted),
                                           request.continuation ? request.continuation->started_at
                                                                : format_timestamp(clock_->now()));
  if (abandoned) {
    // The worker may still be deleting: a new invocation could race it. Fail clearly rather than guess.
    return cfn::CustomResourceOutcome::failure("Timed out emptying repository '" + repo + "' (" +
                                               std::to_string(before) + "+ images deleted); the watchdog stopped it "
                                               "before the Lambda deadline.");
  }
  if (auto limit = cfn::continuation_limit_reason(next, config_.max_invocations)) {
    return cfn::CustomResourceOutcome::failure(*limit + " Repository '" + repo + "': " + std::to_string(total) +
                                               " images deleted, " + std::to_string(r.remaining) + " remain.");
  }
  if (invocation.function_arn.empty()) {
    return cfn::CustomResourceOutcome::failure("Out of time emptying '" + repo + "' (" + std::to_string(total) +
                                               " images deleted) and the Runtime API gave no function ARN to "
                                               "continue with.");
  }
  auto payload = to_compact_json(cfn::with_continuation(event, next));
  auto invoked = backend_->invoke_async(invocation.function_arn, payload);
  if (!invoked) {
    log.error("re-invocation failed", fields({{"error", invoked.error().describe()}}));
    return cfn::CustomResourceOutcome::failure(
        "Out of time emptying '" + repo + "' after deleting " + std::to_string(total) + " images (" +
        std::to_string(r.remaining) + " remain), and could not re-invoke this function to continue: " +
        invoked.error().describe() + ". Grant the function's role lambda:InvokeFunction on its own ARN.");
  }
  log.info("re-invoked to continue", fields({{"next_invocation", next.invocation},
                                             {"deleted_total", static_cast<Json::Int64>(total)}}));
  continued = true;
  return cfn::CustomResourceOutcome::success({});
}

RuntimeReply CustomResourceFlow::answer(const cfn::CustomResourceOutcome& outcome, const cfn::ResponseTarget& target,
                                        const std::optional<system_clock::time_point>& deadline,
                                        const std::string& base_key, int invocation_number, Logger& log) {
  const std::string body = cfn::build_response(outcome, target);
  PutPolicy policy = config_.put_policy;
  if (deadline) policy.give_up_at = *deadline - kRuntimeReplyMargin;
  auto put = put_response(*put_transport_, target.response_url, body, policy, *clock_, *sleeper_, *random_, log);
  if (!put) {
    ledger_.release(base_key, invocation_number);
    // Not delivered: /error makes Lambda retry the event (twice, LDG/invocation-async-error-handling), which is
    // one more chance for CloudFormation to hear back.
    return {true, "ResponseNotDelivered", put.error().describe()};
  }
  ledger_.mark_answered(base_key);
  Json::Value reply(Json::objectValue);
  reply["Status"] = std::string(cfn::to_string(outcome.status));
  auto parsed = parse_json(body);
  if (parsed) {
    if (auto id = get_string(*parsed, "PhysicalResourceId")) reply["PhysicalResourceId"] = *id;
  }
  return {false, {}, to_compact_json(reply)};
}

}  // namespace ecrs::handler
