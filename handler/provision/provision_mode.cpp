// The create-on-push event mode and the `repo` CLI verb over the pure parts in provision_settings.cpp.
#include <CLI/CLI.hpp>

#include <ostream>

#include "ecrs/common/json.hpp"
#include "ecrs/handler/cli_options.hpp"
#include "ecrs/ecr/lifecycle_client.hpp"
#include "ecrs/handler/provision_mode.hpp"

namespace ecrs::handler {
namespace {

constexpr const char* kAlreadyExists = "RepositoryAlreadyExistsException";
constexpr const char* kTemplateExists = "TemplateAlreadyExistsException";

std::string answer(std::string_view status, const std::string& repository, const std::string& detail = {}) {
  Json::Value v(Json::objectValue);
  v["status"] = std::string(status);
  if (!repository.empty()) v["repositoryName"] = repository;
  if (!detail.empty()) v["detail"] = detail;
  return to_compact_json(v);
}

Json::Value who(const PushEvent& p) {
  Json::Value f(Json::objectValue);
  f["repository"] = p.repository_name;
  f["account"] = p.account;
  f["region"] = p.region;
  f["event_name"] = p.event_name;
  f["event_id"] = p.event_id;
  f["pusher"] = p.pusher;
  f["source_ip"] = p.source_ip;
  return f;
}

class ProvisionEventMode final : public EventMode {
 public:
  explicit ProvisionEventMode(AwsSession& session) : session_(&session) {}
  const char* name() const override { return "create-on-push"; }
  bool accepts(const Json::Value& event) const override { return is_cloudtrail_event(event); }

  // Every answer but a transient AWS failure is a success: Lambda retries an async invocation that reports an
  // error (twice by default), which only helps when the next attempt could go differently. A malformed or
  // ignored event is logged and answered, never retried.
  Result<std::string> handle(const Json::Value& event, const InvocationInfo& info) override {
    Logger& log = session_->logger();
    const EventDecision d = decide_event(event);
    if (info.metrics != nullptr) info.metrics->repository = d.push.repository_name;
    Json::Value fields = who(d.push);
    fields["request_id"] = info.request_id;
    if (d.kind == EventKind::malformed) {
      fields["reason"] = d.reason;
      log.error("create-on-push: malformed CloudTrail event, not retried", fields);
      return answer("malformed", d.push.repository_name, d.reason);
    }
    if (d.kind == EventKind::ignore) {
      fields["reason"] = d.reason;
      log.info("create-on-push: event ignored", fields);
      return answer("ignored", d.push.repository_name, d.reason);
    }
    auto settings = load_settings(session_->env());
    if (!settings) {
      // A configuration error is the deployer's to fix; a retry would fail the same way.
      fields["error"] = settings.error().describe();
      log.error("create-on-push: invalid settings, repository not created", fields);
      return answer("misconfigured", d.push.repository_name, settings.error().message);
    }
    if (!settings->allows(d.push.repository_name)) {
      log.warn("create-on-push: repository name denied by REPO_ALLOW/REPO_DENY, not created", fields);
      return answer(to_string(EnsureStatus::denied), d.push.repository_name);
    }
    auto aws = session_->client(aws::kEcr, d.push.region.empty() ? std::nullopt : std::optional(d.push.region));
    if (!aws) {
      fields["error"] = aws.error().describe();
      log.error("create-on-push: no ECR client", fields);
      return aws.error();
    }
    auto outcome = ensure_repository(**aws, d.push.repository_name, *settings, log);
    if (!outcome) {
      fields["error"] = outcome.error().describe();
      if (outcome.error().retryable) {
        log.error("create-on-push: CreateRepository failed, Lambda will retry", fields);
        return outcome.error();
      }
      log.error("create-on-push: CreateRepository failed", fields);
      return answer("failed", d.push.repository_name, outcome.error().describe());
    }
    fields["status"] = std::string(to_string(outcome->status));
    log.info("create-on-push: done", fields);
    return answer(to_string(outcome->status), d.push.repository_name);
  }

 private:
  AwsSession* session_;
};

constexpr const char* kRepoVerb = "repo";

class RepoVerb final : public CliVerb {
 public:
  CLI::App* add_to(CLI::App& app) override {
    cmd_ = app.add_subcommand("repo", "Create repositories with the governed REPO_* settings (create-on-push)");
    cmd_->require_subcommand(1);
    cmd_->footer(kExitCodesHelp);
    ensure_ = cmd_->add_subcommand("ensure", "Create NAME with the settings unless it exists (then leave it alone)");
    ensure_->add_option("name", name_, "Repository name")->required();
    add_common_options(*ensure_, common_);
    ensure_->footer(std::string("Settings: REPO_CONFIG_FILE and REPO_* variables (README). A name denied by "
                                "REPO_ALLOW/REPO_DENY exits 2.\n--output json: docs/schemas/repo.schema.json\n") +
                    kExitCodesHelp);
    auto* tmpl = cmd_->add_subcommand("template", "ECR's native repository creation templates");
    tmpl->require_subcommand(1);
    tmpl->footer(kExitCodesHelp);
    apply_ = tmpl->add_subcommand("apply", "Create or update the CREATE_ON_PUSH template for a prefix");
    apply_->add_option("--prefix", prefix_, "Repository namespace prefix, or ROOT")->required();
    apply_->add_option("--role-arn", role_arn_,
                       "customRoleArn ECR assumes to apply tags and KMS keys (ecr:CreateRepository, ecr:TagResource)");
    add_common_options(*apply_, common_);
    apply_->footer(std::string("--output json: docs/schemas/repo.schema.json\n") + kExitCodesHelp);
    return cmd_;
  }

  int run(AwsSession& session, CliContext& io) override {
    if (ensure_->parsed()) {
      if (auto valid = check_repository_argument(name_); !valid) {
        return io.fail(kRepoVerb, valid.error().message, kCliExitUsage);
      }
    }
    auto settings = load_settings(session.env());
    if (!settings) return io.fail(kRepoVerb, settings.error().message, kCliExitUsage);
    auto aws = session.client(aws::kEcr);
    if (!aws) return io.fail(kRepoVerb, aws.error().describe(), kCliExitFailed);
    if (apply_->parsed()) {
      ecr::EcrAdminClient client(**aws);
      return apply(client, *settings, output(session) == OutputFormat::json, io);
    }
    if (!settings->allows(name_)) {
      return io.fail(kRepoVerb, "'" + name_ + "' is denied by REPO_ALLOW/REPO_DENY", kCliExitUsage);
    }
    auto outcome = ensure_repository(**aws, name_, *settings, session.logger());
    if (!outcome) {
      if (output(session) == OutputFormat::json) io.out << answer("failed", name_, outcome.error().describe()) << '\n';
      return io.fail(kRepoVerb, outcome.error().describe(), kCliExitFailed);
    }
    if (output(session) == OutputFormat::json) {
      Json::Value v(Json::objectValue);
      v["status"] = std::string(to_string(outcome->status));
      v["repositoryName"] = name_;
      if (!outcome->repository_arn.empty()) v["repositoryArn"] = outcome->repository_arn;
      Json::Value problems(Json::arrayValue);
      for (const auto& p : outcome->problems) problems.append(p);
      v["problems"] = problems;
      io.out << to_compact_json(v) << '\n';
    } else {
      io.out << to_string(outcome->status) << " " << name_ << "\n";
    }
    for (const auto& p : outcome->problems) io.warn(kRepoVerb, p);
    return outcome->status == EnsureStatus::incomplete ? kCliExitFailed : kCliExitOk;
  }

 private:
  int apply(ecr::EcrAdminClient& client, const RepositorySettings& settings, bool json, CliContext& io) {
    const std::optional<std::string> role = role_arn_.empty() ? std::nullopt : std::optional(role_arn_);
    const auto t = settings.creation_template(prefix_, role);
    // [RCT] ECR applies resource tags and customer KMS keys only through a custom role.
    if (!role) io.warn(kRepoVerb, "without --role-arn ECR cannot apply the template's tags or KMS key");
    // The template has no scan-on-push member: scanning on push is the registry's scanning configuration.
    if (settings.scan_on_push) io.err << "note: scan on push is set by the registry scanning configuration\n";
    std::string verb = "created";
    auto r = client.create_repository_creation_template(t);
    if (!r && r.error().code == kTemplateExists) {
      verb = "updated";
      r = client.update_repository_creation_template(t);
    }
    if (!r) {
      if (json) {
        Json::Value v(Json::objectValue);
        v["status"] = "failed";
        v["prefix"] = prefix_;
        v["detail"] = r.error().describe();
        io.out << to_compact_json(v) << '\n';
      }
      return io.fail(kRepoVerb, r.error().describe(), kCliExitFailed);
    }
    if (json) {
      Json::Value v(Json::objectValue);
      v["status"] = verb;
      v["prefix"] = r->prefix;
      v["appliedFor"] = "CREATE_ON_PUSH";
      io.out << to_compact_json(v) << '\n';
    } else {
      io.out << verb << " repository creation template " << r->prefix << " (CREATE_ON_PUSH)\n";
    }
    return kCliExitOk;
  }

  CLI::App* cmd_ = nullptr;
  CLI::App* ensure_ = nullptr;
  CLI::App* apply_ = nullptr;
  std::string name_;
  std::string prefix_;
  std::string role_arn_;
};

}  // namespace

Result<EnsureOutcome> ensure_repository(aws::AwsClient& ecr_api, const std::string& repository_name,
                                        const RepositorySettings& settings, Logger& logger) {
  ecr::EcrAdminClient client(ecr_api);
  EnsureOutcome out;
  auto created = client.create_repository(settings.create_request(repository_name));
  if (!created) {
    if (created.error().code == kAlreadyExists) {
      out.status = EnsureStatus::exists;
      return out;
    }
    return created.error();
  }
  out.repository_arn = created->repository.repository_arn;
  Json::Value f(Json::objectValue);
  f["repository"] = repository_name;
  // The repository exists now: a failed follow-up is reported, not retried by Lambda, because a retry would find
  // the repository and (rightly) leave it alone.
  if (settings.lifecycle_policy) {
    ecr::LifecycleClient lifecycle(ecr_api);
    auto r = lifecycle.put_lifecycle_policy({repository_name, std::nullopt, *settings.lifecycle_policy});
    if (!r) out.problems.push_back(r.error().describe());
  }
  if (settings.repository_policy) {
    auto r = client.set_repository_policy({repository_name, std::nullopt, *settings.repository_policy, false});
    if (!r) out.problems.push_back(r.error().describe());
  }
  if (!out.problems.empty()) {
    out.status = EnsureStatus::incomplete;
    for (const auto& p : out.problems) f["problems"].append(p);
    logger.error("repository created without all its policies", f);
  } else {
    out.status = EnsureStatus::created;
  }
  return out;
}

std::unique_ptr<EventMode> make_provision_event_mode(AwsSession& session) {
  return std::make_unique<ProvisionEventMode>(session);
}

std::unique_ptr<CliVerb> make_repo_verb() { return std::make_unique<RepoVerb>(); }

}  // namespace ecrs::handler
