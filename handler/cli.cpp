// `ecr-sweeper empty REPOSITORY ...`: the same engine as the custom resource, driven from a terminal.
#include <CLI/CLI.hpp>
#include <json/value.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <iomanip>
#include <sstream>

#include "ecrs/aws/endpoints.hpp"
#include "ecrs/cfn/properties.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "ecrs/ecr/executor.hpp"
#include "ecrs/handler/app.hpp"
#include "ecrs/handler/cli_options.hpp"
#include "ecrs/handler/completion.hpp"
#include "ecrs/handler/progress_bar.hpp"
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

const char* kEmptyFooter =
    "--dry-run prints the plan (what would be deleted) and deletes nothing. On a terminal a progress bar on stderr\n"
    "shows images deleted, the total, rate and ETA (not with --no-color, NO_COLOR or --debug).\n"
    "--output json prints one document (docs/schemas/empty.schema.json).";

struct EmptyArgs {
  std::string repository;
  std::string registry_id;
  bool dry_run = false;
  int concurrency = ecr::kDefaultConcurrency;
};

// The engine counts listing pages by the operation that made them: a run that falls back from a denied
// DescribeImages to ListImages shows both.
struct ListingCalls {
  std::uint64_t list_images = 0;
  std::uint64_t describe_images = 0;
};
ListingCalls listing_calls(const ecr::EmptyReport& r) { return {r.list_calls, r.describe_calls}; }

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
  if (!a.dry_run) v["bytes_reclaimed"] = static_cast<Json::UInt64>(r.bytes_deleted);
  v["remaining"] = static_cast<Json::UInt64>(r.remaining);
  if (r.possibly_deleted > 0) v["possibly_deleted"] = static_cast<Json::UInt64>(r.possibly_deleted);
  const ListingCalls listing = listing_calls(r);
  Json::Value calls(Json::objectValue);
  calls["ListImages"] = static_cast<Json::UInt64>(listing.list_images);
  calls["DescribeImages"] = static_cast<Json::UInt64>(listing.describe_images);
  calls["BatchDeleteImage"] = static_cast<Json::UInt64>(r.delete_calls);
  v["calls"] = calls;
  v["listed_with"] = r.ordered_by_media_type ? "DescribeImages" : "ListImages";
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
    out << "Deleted " << r.deleted << " images";
    // ListImages gives no sizes: only a DescribeImages listing knows what was reclaimed.
    if (r.ordered_by_media_type) out << " (" << r.bytes_deleted << " bytes)";
    out << " from '" << a.repository << "'";
    out << (r.complete ? "; the repository is empty.\n" : ".\n");
    if (r.remaining > 0) out << r.remaining << " images remain.\n";
    if (r.possibly_deleted > 0)
      out << r.possibly_deleted << " more were in a call cut at the deadline and may or may not be deleted.\n";
  }
  for (const auto& f : r.failures) out << "  failed: " << f << '\n';
  const ListingCalls listing = listing_calls(r);
  out << "Calls: " << listing.describe_images << " DescribeImages, " << listing.list_images << " ListImages, "
      << r.delete_calls << " BatchDeleteImage; " << r.retries << " retries, " << r.throttled << " throttled; " << std::fixed
      << std::setprecision(1) << static_cast<double>(r.elapsed.count()) / 1000.0 << " s\n";
}

class EmptyVerb final : public CliVerb {
 public:
  EmptyVerb() = default;
  CLI::App* add_to(CLI::App& app) override {
    auto* cmd = app.add_subcommand("empty", "Delete every image of a repository (by digest, indexes first)");
    cmd->add_option("REPOSITORY", a_.repository, "Repository name")->required();
    cmd->add_option("--registry-id", a_.registry_id, "Registry (account id) that owns the repository");
    cmd->add_flag("--dry-run", a_.dry_run, "Print the plan; delete nothing");
    cmd->add_option("--concurrency", a_.concurrency, "Maximum BatchDeleteImage calls in flight")
        ->check(CLI::Range(1, 64));
    add_common_options(*cmd, common_);
    cmd->footer(std::string(kEmptyFooter) + "\n" + kExitCodesHelp);
    return cmd;
  }
  int run(AwsSession& session, CliContext& io) override;

 private:
  EmptyArgs a_;
};

int EmptyVerb::run(AwsSession& session, CliContext& io) {
  const EmptyArgs& a = a_;
  if (auto valid = check_repository_argument(a.repository); !valid) {
    return io.fail("empty", valid.error().message, kCliExitUsage);
  }
  if (!a.registry_id.empty()) {
    if (auto valid = cfn::validate_registry_id(a.registry_id); !valid) {
      return io.fail("empty", "invalid --registry-id '" + a.registry_id + "': " + valid.error().message, kCliExitUsage);
    }
  }
  const bool json = output(session) == OutputFormat::json;
  Logger logger = session.logger().with([&] {
    Json::Value f(Json::objectValue);
    f["repository"] = a.repository;
    return f;
  }());
  auto ecr_aws = session.client(aws::kEcr);
  if (!ecr_aws) return io.fail("empty", ecr_aws.error().describe(), kCliExitFailed);
  ecr::EcrClient ecr(**ecr_aws);
  ecr::EmptyOptions options;
  options.repository = a.repository;
  if (!a.registry_id.empty()) options.registry_id = a.registry_id;
  options.dry_run = a.dry_run;
  // The plan a person or a script asked for is the whole plan, not a sample.
  if (a.dry_run) options.max_planned_samples = std::numeric_limits<std::size_t>::max();
  options.max_concurrency = a.concurrency;
  const Clock& clock = session.clock();
  ProgressTracker tracker(clock.monotonic());
  ProgressLine line(io.err, clock, "images");
  if (io.progress) {
    options.on_progress = [&](const ecr::EmptyProgress& p) {
      tracker.update(p, clock.monotonic());
      line.update(tracker.deleted(), tracker.total());
    };
    options.progress_interval = std::chrono::milliseconds(500);
  }
  auto report = ecr::empty_repository(ecr, options, clock, session.sleeper(), session.random(), logger);
  line.finish();
  if (!report) {
    if (json) {
      Json::Value v(Json::objectValue);
      v["repository"] = a.repository;
      v["ok"] = false;
      v["error"] = report.error().describe();
      io.out << to_compact_json(v) << '\n';
    }
    return io.fail("empty", report.error().describe(), kCliExitFailed);
  }
  const bool ok = !report->repository_missing && (a.dry_run || report->complete);
  if (json) {
    io.out << to_compact_json(report_json(a, *report, ok)) << '\n';
  } else {
    print_text(io.out, a, *report);
  }
  return ok ? kCliExitOk : kCliExitFailed;
}

// `completion bash|zsh|fish`: calls no AWS, so it carries no common options.
class CompletionVerb final : public CliVerb {
 public:
  explicit CompletionVerb(const CLI::App& root) : root_(&root) {}
  CLI::App* add_to(CLI::App& app) override {
    auto* cmd = app.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
    std::vector<std::string> shells(std::begin(kCompletionShells), std::end(kCompletionShells));
    cmd->add_option("SHELL", shell_, "bash, zsh or fish")->required()->check(CLI::IsMember(shells))->type_name(
        "bash|zsh|fish");
    cmd->footer(
        "Install: bash: source <(ecr-sweeper completion bash)   (or save it in ~/.local/share/bash-completion/"
        "completions/ecr-sweeper)\n"
        "         zsh:  ecr-sweeper completion zsh > \"${fpath[1]}/_ecr-sweeper\"\n"
        "         fish: ecr-sweeper completion fish > ~/.config/fish/completions/ecr-sweeper.fish\n" +
        std::string(kExitCodesHelp));
    return cmd;
  }
  int run(AwsSession&, CliContext& io) override {
    io.out << completion_script(completion_tree(*root_), shell_);
    return kCliExitOk;
  }

 private:
  const CLI::App* root_;
  std::string shell_;
};

bool is_verb_name(const CLI::App& app, const std::string& word) {
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (!sub->get_name().empty() && sub->check_name(word)) return true;
  }
  return false;
}

std::string verb_names(const CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (!sub->get_name().empty()) names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  return names;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, const Environment& env, CliIo io) {
  CLI::App app{"ecr-sweeper: keeps Amazon ECR clean. The same binary is the Lambda bootstrap of the "
               "Custom::EmptyEcrRepository CloudFormation resource.",
               "ecr-sweeper"};
  app.footer(std::string(kExitCodesHelp) +
             "\nEnvironment: AWS_REGION/AWS_DEFAULT_REGION, AWS_PROFILE, AWS_ENDPOINT_URL[_<SERVICE>], "
             "AWS_DEFAULT_OUTPUT, NO_COLOR,\nECRS_LOG_LEVEL (default warn); credentials from the SDK default chain.");
  app.set_version_flag("--version", version_string());
  app.require_subcommand(1);
  // Every verb, `empty` and `completion` included, is a CliVerb; the others come from their modes' folders
  // through the registry.
  std::vector<std::unique_ptr<CliVerb>> verbs;
  verbs.push_back(std::make_unique<EmptyVerb>());
  for (auto& v : make_cli_verbs()) verbs.push_back(std::move(v));
  verbs.push_back(std::make_unique<CompletionVerb>(app));
  std::vector<CLI::App*> verb_apps;
  for (auto& verb : verbs) verb_apps.push_back(verb->add_to(app));

  // CLI11 reports an unknown first word as "A subcommand is required"; name it instead.
  if (args.size() > 1 && !args[1].empty() && args[1][0] != '-' && !is_verb_name(app, args[1])) {
    io.err << "ecr-sweeper: unknown verb '" << args[1] << "' (verbs: " << verb_names(app)
           << "); see ecr-sweeper --help\n";
    return kCliExitUsage;
  }
  std::vector<std::string> rev(args.rbegin(), args.rend());
  if (!rev.empty()) rev.pop_back();  // program name
  std::ostringstream cli_out, cli_err;
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e, cli_out, cli_err);
    io.out << cli_out.str();
    io.err << cli_err.str();
    return rc == 0 ? kCliExitOk : kCliExitUsage;
  }
  for (std::size_t i = 0; i < verbs.size(); ++i) {
    if (verb_apps[i] == nullptr || !verb_apps[i]->parsed()) continue;
    const CommonOptions& common = verbs[i]->common_options();
    const Terminal terminal = terminal_for(io.progress, common, env);
    // On a terminal a person reads the log: one sentence per retry or error. JSON lines with --debug, when
    // stderr is a file or pipe (a CI log a machine may parse), or when the caller brings its own sink.
    StderrSink json_sink(io.err);
    ReadableLogSink readable_sink(io.err, terminal.color);
    const bool readable = io.log_sink == nullptr && terminal.stderr_tty && !common.debug;
    LogSink& sink = io.log_sink != nullptr ? *io.log_sink : readable ? static_cast<LogSink&>(readable_sink) : json_sink;
    SystemClock clock;
    RealSleeper sleeper;
    SystemRandom random;
    Logger logger(sink, clock, common.log_level(env));
    AwsSession session(env, clock, sleeper, random, logger, common.session());
    CliContext ctx{io.out, io.err, terminal.progress, &sink, &common, &env, terminal,
                   readable ? &readable_sink : nullptr};
    return verbs[i]->run(session, ctx);
  }
  return kCliExitUsage;
}

}  // namespace ecrs::handler
