// The create-on-push event mode and the `repo` CLI verb over the pure parts in provision_settings.cpp.
#include <CLI/CLI.hpp>

#include <ostream>

#include "ecrs/common/json.hpp"
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

class RepoVerb final : public CliVerb {
 public:
  CLI::App* add_to(CLI::App& app) override {
    cmd_ = app.add_subcommand("repo", "Create repositories with the governed REPO_* settings (create-on-push)");
    cmd_->require_subcommand(1);
    ensure_ = cmd_->add_subcommand("ensure", "Create NAME with the settings unless it exists (then leave it alone)");
    ensure_->add_option("name", name_, "Repository name")->required();
    ensure_->add_option("--region", region_, "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)");
    auto* tmpl = cmd_->add_subcommand("template", "ECR's native repository creation templates");
    tmpl->require_subcommand(1);
    apply_ = tmpl->add_subcommand("apply", "Create or update the CREATE_ON_PUSH template for a prefix");
    apply_->add_option("--prefix", prefix_, "Repository namespace prefix, or ROOT")->required();
    apply_->add_option("--role-arn", role_arn_,
                       "customRoleArn ECR assumes to apply tags and KMS keys (ecr:CreateRepository, ecr:TagResource)");
    apply_->add_option("--region", region_, "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)");
    return cmd_;
  }

  int run(AwsSession& session, CliContext& io) override {
    auto settings = load_settings(session.env());
    if (!settings) {
      io.err << "error: " << settings.error().message << "\n";
      return 2;
    }
    auto aws = session.client(aws::kEcr, region_.empty() ? std::nullopt : std::optional(region_));
    if (!aws) {
      io.err << "error: " << aws.error().describe() << "\n";
      return 1;
    }
    if (apply_->parsed()) {
      ecr::EcrAdminClient client(**aws);
      return apply(client, *settings, io);
    }
    if (!settings->allows(name_)) {
      io.err << "error: " << name_ << " is denied by REPO_ALLOW/REPO_DENY\n";
      return 1;
    }
    auto outcome = ensure_repository(**aws, name_, *settings, session.logger());
    if (!outcome) {
      io.err << "error: " << outcome.error().describe() << "\n";
      return 1;
    }
    io.out << to_string(outcome->status) << " " << name_ << "\n";
    for (const auto& p : outcome->problems) io.err << "warning: " << p << "\n";
    return outcome->status == EnsureStatus::incomplete ? 1 : 0;
  }

 private:
  int apply(ecr::EcrAdminClient& client, const RepositorySettings& settings, CliContext& io) {
    const std::optional<std::string> role = role_arn_.empty() ? std::nullopt : std::optional(role_arn_);
    const auto t = settings.creation_template(prefix_, role);
    // [RCT] ECR applies resource tags and customer KMS keys only through a custom role.
    if (!role) io.err << "warning: without --role-arn ECR cannot apply the template's tags or KMS key\n";
    // The template has no scan-on-push member: scanning on push is the registry's scanning configuration.
    if (settings.scan_on_push) io.err << "note: scan on push is set by the registry scanning configuration\n";
    std::string verb = "created";
    auto r = client.create_repository_creation_template(t);
    if (!r && r.error().code == kTemplateExists) {
      verb = "updated";
      r = client.update_repository_creation_template(t);
    }
    if (!r) {
      io.err << "error: " << r.error().describe() << "\n";
      return 1;
    }
    io.out << verb << " repository creation template " << r->prefix << " (CREATE_ON_PUSH)\n";
    return 0;
  }

  CLI::App* cmd_ = nullptr;
  CLI::App* ensure_ = nullptr;
  CLI::App* apply_ = nullptr;
  std::string name_;
  std::string region_;
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
