// `ecr-sweeper empty REPOSITORY ...`: the same engine as the custom resource, driven from a terminal.
#include <CLI/CLI.hpp>
#include <json/value.h>

#include <cmath>
#include <iomanip>
#include <sstream>

#include "ecrs/aws/endpoints.hpp"
#include "ecrs/cfn/properties.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "ecrs/ecr/executor.hpp"
#include "ecrs/handler/app.hpp"
#include "ecrs/handler/modes.hpp"

namespace ecrs::handler {

namespace {

// Logs go to stderr in the CLI: stdout carries the plan, the summary or the JSON document.
class StderrSink final : public LogSink {
 public:
  explicit StderrSink(std::ostream& err) : err_(&err) {}
  void write(std::string_view line) override {
    std::lock_guard lock(mu_);
    *err_ << line << '\n' << std::flush;
  }

 private:
  std::mutex mu_;
  std::ostream* err_;
};

const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0  success (the repository is empty, or the dry-run plan was printed)\n"
    "  1  failed (AWS error, repository missing, images left)\n"
    "  2  usage error (bad option or repository name)\n"
    "Environment: AWS_REGION/AWS_DEFAULT_REGION, credentials from the SDK default chain, AWS_ENDPOINT_URL[_ECR],\n"
    "ECRS_LOG_LEVEL (default warn for the CLI).";

struct EmptyArgs {
  std::string repository;
  std::string registry_id;
  std::string region;
  bool dry_run = false;
  int concurrency = 8;
  std::string output = "text";
};

Json::Value report_json(const EmptyArgs& a, const ecr::EmptyReport& r, bool ok) {
  Json::Value v(Json::objectValue);
  v["repository"] = a.repository;
  if (!a.registry_id.empty()) v["registry_id"] = a.registry_id;
  v["dry_run"] = a.dry_run;
  v["ok"] = ok;
  v["repository_missing"] = r.repository_missing;
  v["complete"] = r.complete;
  v["deadline_reached"] = r.deadline_reached;
  v["stalled"] = r.stalled;
  v[a.dry_run ? "would_delete" : "deleted"] = static_cast<Json::UInt64>(r.deleted);
  v["remaining"] = static_cast<Json::UInt64>(r.remaining);
  Json::Value calls(Json::objectValue);
  calls["ListImages"] = static_cast<Json::UInt64>(r.list_calls);
  calls["BatchDeleteImage"] = static_cast<Json::UInt64>(r.delete_calls);
  calls["DescribeImages"] = static_cast<Json::UInt64>(r.describe_calls);
  v["calls"] = calls;
  v["retries"] = static_cast<Json::UInt64>(r.retries);
  v["throttled"] = static_cast<Json::UInt64>(r.throttled);
  v["seconds"] = static_cast<double>(r.elapsed.count()) / 1000.0;
  Json::Value failures(Json::arrayValue);
  for (const auto& f : r.failures) failures.append(f);
  v["failures"] = failures;
  if (a.dry_run) {
    Json::Value planned(Json::arrayValue);
    for (const auto& d : r.planned) planned.append(d);
    v["planned"] = planned;
  }
  return v;
}

void print_text(std::ostream& out, const EmptyArgs& a, const ecr::EmptyReport& r) {
  if (r.repository_missing) {
    out << "Repository '" << a.repository << "' does not exist.\n";
    return;
  }
  if (a.dry_run) {
    out << "Dry run: " << r.deleted << " images would be deleted from '" << a.repository << "':\n";
    for (const auto& d : r.planned) out << "  " << d << '\n';
    if (r.planned.size() < r.deleted) out << "  ... and " << (r.deleted - r.planned.size()) << " more\n";
    out << "Nothing was deleted.\n";
  } else {
    out << "Deleted " << r.deleted << " images from '" << a.repository << "'";
    out << (r.complete ? "; the repository is empty.\n" : ".\n");
    if (r.remaining > 0) out << r.remaining << " images remain.\n";
  }
  for (const auto& f : r.failures) out << "  failed: " << f << '\n';
  out << "Calls: " << r.list_calls << " ListImages, " << r.delete_calls << " BatchDeleteImage, " << r.describe_calls
      << " DescribeImages; " << r.retries << " retries, " << r.throttled << " throttled; " << std::fixed
      << std::setprecision(1) << static_cast<double>(r.elapsed.count()) / 1000.0 << " s\n";
}

int run_empty(const EmptyArgs& a, const Environment& env, CliIo& io, LogSink& sink) {
  SystemClock clock;
  RealSleeper sleeper;
  SystemRandom random;
  Logger logger(sink, clock, log_level_from_env(env, LogLevel::warn));
  logger = logger.with([&] {
    Json::Value f(Json::objectValue);
    f["repository"] = a.repository;
    return f;
  }());
  std::optional<std::string> region;
  if (!a.region.empty()) region = a.region;
  AwsSession session(env, clock, sleeper, random, logger, region);
  auto ecr_aws = session.client(aws::kEcr);
  if (!ecr_aws) {
    io.err << "ecr-sweeper: " << ecr_aws.error().describe() << '\n';
    return kExitFailed;
  }
  ecr::EcrClient ecr(**ecr_aws);
  ecr::EmptyOptions options;
  options.repository = a.repository;
  if (!a.registry_id.empty()) options.registry_id = a.registry_id;
  options.dry_run = a.dry_run;
  options.max_concurrency = a.concurrency;
  if (io.progress) {
    std::ostream* err = &io.err;
    options.on_progress = [err](const ecr::EmptyProgress& p) {
      *err << "\r\x1b[K" << "deleted " << p.deleted << ", listed " << p.listed << ", batches " << p.batches_done
           << ", throttled " << p.throttled << ", concurrency " << p.concurrency << std::flush;
    };
    options.progress_interval = std::chrono::milliseconds(500);
  }
  auto report = ecr::empty_repository(ecr, options, clock, sleeper, random, logger);
  if (io.progress) io.err << "\r\x1b[K" << std::flush;
  if (!report) {
    io.err << "ecr-sweeper: " << report.error().describe() << '\n';
    if (a.output == "json") {
      Json::Value v(Json::objectValue);
      v["repository"] = a.repository;
      v["ok"] = false;
      v["error"] = report.error().describe();
      io.out << to_compact_json(v) << '\n';
    }
    return kExitFailed;
  }
  const bool ok = !report->repository_missing && (a.dry_run || report->complete);
  if (a.output == "json") {
    io.out << to_compact_json(report_json(a, *report, ok)) << '\n';
  } else {
    print_text(io.out, a, *report);
  }
  return ok ? kExitOk : kExitFailed;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, const Environment& env, CliIo io) {
  CLI::App app{"ecr-sweeper: keeps Amazon ECR clean. The same binary is the Lambda bootstrap of the "
               "Custom::EmptyEcrRepository CloudFormation resource.",
               "ecr-sweeper"};
  app.footer(kExitCodesHelp);
  app.set_version_flag("--version", version_string());
  app.require_subcommand(1);
  EmptyArgs a;
  auto* empty = app.add_subcommand("empty", "Delete every image of a repository (by digest, indexes first).");
  empty->add_option("REPOSITORY", a.repository, "Repository name")->required();
  empty->add_option("--registry-id", a.registry_id, "Registry (account id) that owns the repository");
  empty->add_option("--region", a.region, "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)");
  empty->add_flag("--dry-run", a.dry_run, "Print the plan; delete nothing");
  empty->add_option("--concurrency", a.concurrency, "Maximum BatchDeleteImage calls in flight")
      ->check(CLI::Range(1, 64));
  empty->add_option("--output", a.output, "Summary format")->check(CLI::IsMember({"text", "json"}));
  // The other verbs (clean, lifecycle, repo) come from their modes' folders through the registry.
  auto verbs = make_cli_verbs();
  std::vector<CLI::App*> verb_apps;
  for (auto& verb : verbs) verb_apps.push_back(verb->add_to(app));

  std::vector<std::string> rev(args.rbegin(), args.rend());
  if (!rev.empty()) rev.pop_back();  // program name
  std::ostringstream cli_out, cli_err;
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e, cli_out, cli_err);
    io.out << cli_out.str();
    io.err << cli_err.str();
    return rc == 0 ? kExitOk : kExitUsage;
  }
  StderrSink stderr_sink(io.err);
  LogSink& sink = io.log_sink != nullptr ? *io.log_sink : stderr_sink;
  for (std::size_t i = 0; i < verbs.size(); ++i) {
    if (verb_apps[i] == nullptr || !verb_apps[i]->parsed()) continue;
    SystemClock clock;
    RealSleeper sleeper;
    SystemRandom random;
    Logger logger(sink, clock, log_level_from_env(env, LogLevel::warn));
    AwsSession session(env, clock, sleeper, random, logger);
    CliContext ctx{io.out, io.err, io.progress, &sink};
    return verbs[i]->run(session, ctx);
  }
  if (auto valid = cfn::validate_repository_name(a.repository); !valid) {
    io.err << "ecr-sweeper: invalid repository name '" << a.repository << "': " << valid.error().message << '\n';
    return kExitUsage;
  }
  if (!a.registry_id.empty()) {
    if (auto valid = cfn::validate_registry_id(a.registry_id); !valid) {
      io.err << "ecr-sweeper: invalid --registry-id '" << a.registry_id << "': " << valid.error().message << '\n';
      return kExitUsage;
    }
  }
  return run_empty(a, env, io, sink);
}

}  // namespace ecrs::handler
