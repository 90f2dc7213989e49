// `ecr-sweeper lifecycle validate|preview|apply` (issue 9). Exit codes (cli_options.hpp): 0 ok, 1 a call failed,
// 2 usage or an invalid policy (lifecycle::kExitInvalidPolicy), or a change refused because nobody could confirm
// it, 3 --fail-on-in-use found an image in use, 4 some repositories failed and the others were done.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "ecrs/cleanup/image_ref.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/handler/cli_options.hpp"
#include "ecrs/handler/lifecycle_in_use.hpp"
#include "ecrs/handler/lifecycle_mode.hpp"
#include "ecrs/handler/progress_bar.hpp"
#include "ecrs/lifecycle/policy_validator.hpp"

namespace ecrs::handler {
namespace {

constexpr int kExitOk = kCliExitOk;
constexpr int kExitFailed = kCliExitFailed;
constexpr int kExitUsage = kCliExitUsage;
constexpr const char* kVerb = "lifecycle";
// Digests are shown as sha256: plus this many hex characters in text output (as `docker images` shortens ids).
constexpr std::size_t kShortDigestHex = 12;

std::optional<bool> terminal_confirm(std::ostream& out, const std::string& question) {
  if (::isatty(STDIN_FILENO) == 0) return std::nullopt;
  out << question << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) return false;
  return line == "y" || line == "Y" || line == "yes";
}

// 3 when some repositories failed while others were done, 1 when none was done.
int failed_or_partial(std::size_t failed, std::size_t done) {
  if (failed == 0) return kExitOk;
  return done > 0 ? kCliExitPartial : kExitFailed;
}

std::string short_digest(const std::string& digest) {
  const auto colon = digest.find(':');
  const std::size_t keep = (colon == std::string::npos ? 0 : colon + 1) + kShortDigestHex;
  return digest.size() > keep ? digest.substr(0, keep) : digest;
}

std::string join_tags(const std::vector<std::string>& tags) {
  if (tags.empty()) return "<untagged>";
  std::string s;
  for (const auto& t : tags) s += (s.empty() ? "" : ",") + t;
  return s;
}

constexpr const char* kPreviewFooter = R"(Images in use: before evaluating, preview scans the account, in the current region, for what
runs images, as `ecr-sweeper clean` does: ECS running tasks (each container's image and the digest it
resolved), ECS services (desired count 0 too) with every deployment's task definition (PRIMARY, ACTIVE,
rollback), Lambda functions of package type Image (every published version, $LATEST and alias targets)
and App Runner image services. Tags are resolved to digests against each repository's listing. An image
the policy would expire that something uses is flagged: "IN USE" in text, "inUse": true in JSON.
NOT covered: EKS / Kubernetes pods, EventBridge Scheduler and ECS scheduled tasks, AWS Batch.
The scan calls sts:GetCallerIdentity, ecs:ListClusters/ListServices/DescribeServices/ListTasks/
DescribeTasks/DescribeTaskDefinition, lambda:ListFunctions/ListVersionsByFunction/ListAliases/GetFunction
and apprunner:ListServices/DescribeService. If any call fails, preview stops with exit 1 naming the
call; --no-in-use skips the scan (then nothing is flagged). --fail-on-in-use exits 3 when an image the
policy would expire is in use, so CI can stop there.

--output json prints one object (docs/schemas/lifecycle-preview.schema.json):
  {"repositories": [{"repositoryName": ..., "expire": [{"imageDigest": ..., "imageTags": [...],
   "rulePriority": N, "inUse": bool}], "transition": [...], "kept": N}]}
--output table (the default on a terminal) aligns one row per image.)";

Json::Value validation_json(const lifecycle::ValidationReport& report) {
  Json::Value doc(Json::objectValue);
  doc["valid"] = report.valid();
  doc["errors"] = static_cast<Json::UInt64>(report.error_count());
  doc["warnings"] = static_cast<Json::UInt64>(report.findings.size() - report.error_count());
  Json::Value list(Json::arrayValue);
  for (const auto& f : report.findings) {
    Json::Value v(Json::objectValue);
    v["severity"] = std::string(lifecycle::to_string(f.severity));
    v["code"] = f.code;
    v["path"] = f.path;
    v["rulePriority"] = f.rule_priority ? Json::Value(static_cast<Json::Int64>(*f.rule_priority)) : Json::Value();
    v["message"] = f.message;
    list.append(v);
  }
  doc["findings"] = list;
  return doc;
}

void print_findings(std::ostream& os, const lifecycle::ValidationReport& report) {
  for (const auto& f : report.findings) {
    os << lifecycle::to_string(f.severity) << ' ' << (f.path.empty() ? "<policy>" : f.path);
    if (f.rule_priority) os << " (rulePriority " << *f.rule_priority << ')';
    os << " [" << f.code << "]: " << f.message << '\n';
  }
}

class LifecycleVerb final : public CliVerb {
 public:
  explicit LifecycleVerb(LifecycleVerbOptions options) : options_(std::move(options)) {
    if (!options_.confirm) options_.confirm = terminal_confirm;
  }

  CLI::App* add_to(CLI::App& app) override {
    root_ = app.add_subcommand("lifecycle", "Validate, preview and apply an ECR lifecycle policy across repositories");
    root_->require_subcommand(1);
    root_->footer(kExitCodesHelp);

    validate_ = root_->add_subcommand("validate", "Check a policy as PutLifecyclePolicy would (exit 2 when invalid)");
    validate_->add_option("policy", policy_path_, "Policy JSON file")->required();
    add_output_option(*validate_, common_);
    validate_->footer(std::string("--output json: docs/schemas/lifecycle-validate.schema.json\n") + kExitCodesHelp);

    preview_ = root_->add_subcommand("preview", "Show what the policy would expire in each matching repository");
    preview_->add_option("policy", policy_path_, "Policy JSON file")->required();
    add_selection(*preview_);
    preview_->add_flag("--remote", remote_, "Also run ECR's StartLifecyclePolicyPreview and diff it against ours");
    preview_->add_flag("--no-in-use", no_in_use_,
                       "Skip the in-use scan (for credentials without ECS/Lambda/App Runner read access)");
    preview_->add_flag("--fail-on-in-use", fail_on_in_use_, "Exit 4 when an image the policy would expire is in use");
    add_common_options(*preview_, common_, {.table = true});
    preview_->footer(std::string(kPreviewFooter) + "\n" + kExitCodesHelp);

    apply_ = root_->add_subcommand("apply", "Put the policy on every matching repository (diff, confirm, apply)");
    apply_->add_option("policy", policy_path_, "Policy JSON file")->required();
    add_selection(*apply_);
    apply_->add_flag("--yes,-y", yes_, "Apply without asking");
    add_common_options(*apply_, common_);
    apply_->footer(std::string("--output json: docs/schemas/lifecycle-apply.schema.json (with --output json, apply "
                               "needs --yes: stdout is the document)\n"
                               "On a terminal a progress line on stderr counts repositories read, then applied, of "
                               "the total, with rate and ETA\n(not with --no-color, NO_COLOR or --debug).\n") +
                   kExitCodesHelp);
    return root_;
  }

  int run(AwsSession& session, CliContext& io) override {
    format_ = output(session);
    auto text = read_text_file(policy_path_);
    if (!text) return io.fail(kVerb, "policy file: " + text.error().message, kExitUsage);
    const auto report = lifecycle::validate_policy(*text);
    if (validate_->parsed()) {
      if (format_ == OutputFormat::json) {
        io.out << to_compact_json(validation_json(report)) << '\n';
        return lifecycle::exit_code(report);
      }
      print_findings(io.out, report);
      io.out << (report.valid() ? "valid" : "invalid") << ": " << report.error_count() << " error(s), "
             << (report.findings.size() - report.error_count()) << " warning(s)\n";
      return lifecycle::exit_code(report);
    }
    if (!report.valid()) {
      io.err << "ecr-sweeper: the policy is invalid:\n";
      print_findings(io.err, report);
      return lifecycle::exit_code(report);
    }
    if (repos_.empty() && tag_.empty()) {
      io.err << "ecr-sweeper: name repositories with --repos PATTERN... and/or --tag KEY=VALUE\n";
      return kExitUsage;
    }
    RepositorySelector selector;
    selector.patterns = repos_.empty() ? std::vector<std::string>{"*"} : repos_;
    if (!tag_.empty()) {
      const auto eq = tag_.find('=');
      if (eq == std::string::npos || eq == 0) {
        io.err << "ecr-sweeper: --tag takes KEY=VALUE, got '" << tag_ << "'\n";
        return kExitUsage;
      }
      selector.tag = std::make_pair(tag_.substr(0, eq), tag_.substr(eq + 1));
    }
    auto client = session.client(aws::kEcr);
    if (!client) {
      io.err << "ecr-sweeper: " << client.error().describe() << '\n';
      return kExitFailed;
    }
    ecr::EcrClient ecr(**client);
    auto repositories = select_repositories(ecr, selector, concurrency_);
    if (!repositories) {
      io.err << "ecr-sweeper: " << repositories.error().describe() << '\n';
      return kExitFailed;
    }
    // A typo in a pattern must not read as "nothing to do".
    for (const auto& pattern : repos_) {
      bool matched = false;
      for (const auto& name : *repositories) matched = matched || cleanup::glob_match(pattern, name);
      if (!matched) io.warn(kVerb, "--repos '" + pattern + "' matches no repository");
    }
    const bool table = format_ == OutputFormat::table ||
                       (!output_chosen(session) && options_.table.value_or(::isatty(STDOUT_FILENO) != 0));
    if (preview_->parsed()) return run_preview(session, **client, *text, *repositories, table, io);
    return run_apply(**client, *text, *repositories, session.clock(), io);
  }

 private:
  void add_selection(CLI::App& cmd) {
    cmd.add_option("--repos", repos_, "Repository name patterns (* and ?); quote them from the shell");
    cmd.add_option("--tag", tag_, "Only repositories carrying this resource tag (KEY=VALUE)");
    cmd.add_option("--concurrency", concurrency_, "Repositories worked on at once")
        ->check(CLI::Range(1, kMaxLifecycleConcurrency));
  }

  int run_preview(AwsSession& session, aws::AwsClient& client, const std::string& text,
                  const std::vector<std::string>& repositories, bool table, CliContext& io) {
    auto policy = lifecycle::parse_policy(text);
    if (!policy) {
      io.err << "ecr-sweeper: " << policy.error().describe() << '\n';
      return kExitUsage;
    }
    // The scan comes first and is all or nothing: unflagged output from a half-finished scan would read as
    // "nothing in use".
    InUseLookup in_use = options_.in_use;
    std::string in_use_note;
    if (no_in_use_) {
      in_use = nullptr;
      in_use_note = "in use: not scanned (--no-in-use); images in use are not flagged";
    } else if (!in_use) {
      auto scanned = scan_lifecycle_in_use(session);
      if (!scanned) {
        io.err << "ecr-sweeper: the in-use scan failed, nothing was previewed: " << scanned.error().describe()
               << "\n(pass --no-in-use to preview without flagging images in use)\n";
        return kExitFailed;
      }
      in_use_note = describe_scan(*scanned);
      in_use = make_in_use_lookup(std::make_shared<const LifecycleInUse>(std::move(*scanned)));
    }
    ecr::EcrClient ecr(client);
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(session.clock().now());
    auto results = preview_repositories(ecr, *policy, repositories, now, in_use, concurrency_);

    int rc = kExitOk;
    std::size_t failed_repositories = 0;
    std::vector<lifecycle::RepositoryPreview> previews;
    for (const auto& r : results) {
      if (r.error) {
        io.err << "ecr-sweeper: " << r.repository_name << ": " << r.error->describe() << '\n';
        ++failed_repositories;
        rc = kExitFailed;
      } else {
        previews.push_back(*r.preview);
      }
    }
    std::vector<std::optional<std::vector<PreviewDifference>>> diffs(previews.size());
    if (remote_) {
      ecr::LifecycleClient lc(client);
      std::vector<std::optional<Error>> errors(previews.size());
      run_bounded(previews.size(), concurrency_, [&](std::size_t i) {
        auto remote = remote_preview(lc, previews[i].repository_name, text, session.sleeper(), options_.remote);
        if (!remote) {
          errors[i] = remote.error();
          return;
        }
        diffs[i] = diff_previews(previews[i], *remote);
      });
      for (std::size_t i = 0; i < errors.size(); ++i) {
        if (!errors[i]) continue;
        io.err << "ecr-sweeper: " << previews[i].repository_name << ": remote preview: " << errors[i]->describe()
               << '\n';
        rc = kExitFailed;
      }
    }

    if (failed_repositories > 0 && rc == kExitFailed) rc = failed_or_partial(failed_repositories, previews.size());
    std::size_t in_use_count = 0;
    for (const auto& p : previews) {
      for (const auto& e : p.expire) in_use_count += e.in_use ? 1 : 0;
    }
    // The check asked for: after the output, and never hiding a failure.
    const auto flagged = [&](int code) { return code == kExitOk && fail_on_in_use_ && in_use_count > 0 ? kCliExitFlagged : code; };
    if (format_ == OutputFormat::json) {
      Json::Value doc = lifecycle::preview_to_json_value(previews);
      if (remote_) {
        for (Json::ArrayIndex i = 0; i < doc["repositories"].size(); ++i) {
          if (!diffs[i]) continue;
          Json::Value list(Json::arrayValue);
          for (const auto& d : *diffs[i]) {
            Json::Value v(Json::objectValue);
            v["imageDigest"] = d.image_digest;
            v["localRule"] = d.local_rule ? Json::Value(static_cast<Json::Int64>(*d.local_rule)) : Json::Value();
            v["remoteRule"] = d.remote_rule ? Json::Value(static_cast<Json::Int64>(*d.remote_rule)) : Json::Value();
            list.append(v);
          }
          doc["repositories"][i]["remoteDiff"] = list;
        }
      }
      io.out << to_compact_json(doc) << '\n';
      // stdout stays the documented document; a script's log still learns that inUse was not looked at.
      if (no_in_use_) io.err << "ecr-sweeper: " << in_use_note << '\n';
      return flagged(rc);
    }

    std::map<std::int64_t, std::string> why;  // rulePriority -> description, to say why an image goes
    for (const auto& rule : policy->rules) why[rule.rule_priority] = rule.description;
    auto reason = [&](std::int64_t priority) {
      std::string s = "rule " + std::to_string(priority);
      if (auto it = why.find(priority); it != why.end() && !it->second.empty()) s += " (" + it->second + ")";
      return s;
    };
    std::size_t total_expire = 0, total_in_use = 0;
    if (table) {
      io.out << std::left << std::setw(32) << "REPOSITORY" << std::setw(20) << "IMAGE" << std::setw(24) << "TAGS"
             << std::setw(8) << "IN USE" << "WHY\n";
    }
    for (std::size_t i = 0; i < previews.size(); ++i) {
      const auto& p = previews[i];
      total_expire += p.expire.size();
      if (!table) io.out << p.repository_name << ": " << p.expire.size() << " to expire, " << p.kept << " kept\n";
      for (const auto& e : p.expire) {
        if (e.in_use) ++total_in_use;
        if (table) {
          io.out << std::left << std::setw(32) << p.repository_name << std::setw(20) << short_digest(e.image_digest)
                 << std::setw(24) << join_tags(e.image_tags) << std::setw(8) << (e.in_use ? "YES" : "-")
                 << reason(e.rule_priority) << '\n';
        } else {
          io.out << "  expire " << e.image_digest << ' ' << join_tags(e.image_tags) << " by "
                 << reason(e.rule_priority) << (e.in_use ? "  IN USE" : "") << '\n';
        }
      }
      if (diffs[i]) {
        if (diffs[i]->empty()) {
          io.out << "  remote: ECR's preview agrees\n";
        } else {
          for (const auto& d : *diffs[i]) {
            io.out << "  remote differs: " << d.image_digest << " local "
                   << (d.local_rule ? "expire by rule " + std::to_string(*d.local_rule) : std::string("keep"))
                   << ", ECR "
                   << (d.remote_rule ? "expire by rule " + std::to_string(*d.remote_rule) : std::string("keep"))
                   << '\n';
          }
        }
      }
    }
    io.out << previews.size() << " repositories, " << total_expire << " images would expire";
    if (total_in_use > 0) io.out << ", " << total_in_use << " of them IN USE";
    io.out << '\n';
    if (!in_use_note.empty()) io.out << in_use_note << '\n';
    return flagged(rc);
  }

  int run_apply(aws::AwsClient& client, const std::string& text, const std::vector<std::string>& repositories,
                const Clock& clock, CliContext& io) {
    const bool json = format_ == OutputFormat::json;
    // With --output json stdout is the document alone; the diff and the question go to stderr.
    std::ostream& human = json ? io.err : io.out;
    ecr::LifecycleClient lc(client);
    // On a terminal, one progress line per phase: reading every repository's policy, then putting the changes.
    std::optional<ProgressLine> reading;
    std::atomic<std::uint64_t> read{0};
    ItemDone on_read;
    if (io.progress) {
      reading.emplace(io.err, clock, "repositories read");
      on_read = [&] { reading->update(++read, repositories.size()); };
    }
    auto items = plan_apply(lc, text, repositories, std::nullopt, concurrency_, {}, on_read);
    if (reading) reading->finish();
    // Hundreds of repositories usually share a handful of current policies: show each distinct diff once.
    std::map<std::string, std::vector<std::string>> by_diff;
    const std::string wanted = pretty_policy(text);
    std::size_t changes = 0, unchanged = 0, failed = 0;
    for (const auto& item : items) {
      if (item.error) {
        ++failed;
        io.err << "ecr-sweeper: " << item.repository_name << ": " << item.error->describe() << '\n';
        continue;
      }
      if (item.change == PolicyChange::unchanged) {
        ++unchanged;
        continue;
      }
      ++changes;
      const std::string before = item.current_text ? pretty_policy(*item.current_text) : std::string();
      by_diff[diff_lines(before, wanted)].push_back(item.repository_name);
    }
    for (const auto& [diff, names] : by_diff) {
      human << names.size() << " repositories (" << names.front() << (names.size() > 1 ? ", ..." : "") << "):\n"
            << diff;
    }
    human << changes << " to change, " << unchanged << " unchanged, " << failed << " failed to read\n";
    if (changes > 0 && !yes_) {
      auto answer = options_.confirm(human, "Apply the policy to " + std::to_string(changes) + " repositories? [y/N] ");
      if (!answer) {
        io.err << "ecr-sweeper: refusing to change " << changes
               << " repositories without confirmation: stdin is not a terminal; pass --yes\n";
        return kExitUsage;
      }
      if (!*answer) {
        human << "Nothing applied.\n";
        return kExitFailed;
      }
    }
    if (changes > 0) {
      std::optional<ProgressLine> applying;
      std::atomic<std::uint64_t> put{0};
      ItemDone on_put;
      if (io.progress) {
        applying.emplace(io.err, clock, "repositories applied");
        on_put = [&] { applying->update(++put, changes); };
      }
      execute_apply(lc, text, items, std::nullopt, concurrency_, {}, on_put);
    }
    std::size_t applied = 0;
    Json::Value list(Json::arrayValue);
    for (const auto& item : items) {
      Json::Value v(Json::objectValue);
      v["repositoryName"] = item.repository_name;
      v["change"] = std::string(to_string(item.change));
      v["applied"] = item.applied;
      if (item.error) v["error"] = item.error->describe();
      list.append(v);
      if (item.applied) {
        ++applied;
        if (!json) io.out << item.repository_name << ": " << (item.change == PolicyChange::create ? "created" : "updated") << '\n';
      } else if (item.error) {
        if (!json) io.out << item.repository_name << ": FAILED " << item.error->describe() << '\n';
      } else if (!json && changes > 0) {
        io.out << item.repository_name << ": unchanged\n";
      }
    }
    failed = items.size() - applied - unchanged;
    if (json) {
      Json::Value doc(Json::objectValue);
      doc["repositories"] = list;
      doc["applied"] = static_cast<Json::UInt64>(applied);
      doc["unchanged"] = static_cast<Json::UInt64>(unchanged);
      doc["failed"] = static_cast<Json::UInt64>(failed);
      io.out << to_compact_json(doc) << '\n';
    } else if (changes > 0) {
      io.out << applied << " applied, " << unchanged << " unchanged, " << failed << " failed\n";
    }
    return failed_or_partial(failed, applied + unchanged);
  }

  LifecycleVerbOptions options_;
  CLI::App* root_ = nullptr;
  CLI::App* validate_ = nullptr;
  CLI::App* preview_ = nullptr;
  CLI::App* apply_ = nullptr;
  std::string policy_path_;
  std::vector<std::string> repos_;
  std::string tag_;
  OutputFormat format_ = OutputFormat::text;
  bool fail_on_in_use_ = false;
  bool remote_ = false;
  bool no_in_use_ = false;
  bool yes_ = false;
  int concurrency_ = kDefaultLifecycleConcurrency;
};

}  // namespace

std::unique_ptr<CliVerb> make_lifecycle_verb() { return make_lifecycle_verb(LifecycleVerbOptions{}); }
std::unique_ptr<CliVerb> make_lifecycle_verb(LifecycleVerbOptions options) {
  return std::make_unique<LifecycleVerb>(std::move(options));
}

}  // namespace ecrs::handler
