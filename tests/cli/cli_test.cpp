// What every verb shares, through run_cli in process (the binary's own entry point) on LocalAws: the common option
// group, exit codes and footers, unknown verbs, repository-name and file errors, log lines a person reads, the
// progress bar, completion scripts and the EMF record.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ecrs/common/json.hpp"
#include "ecrs/handler/app.hpp"
#include "ecrs/handler/cli_options.hpp"
#include "ecrs/handler/completion.hpp"
#include "ecrs/handler/emf.hpp"
#include "ecrs/handler/progress_bar.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "support/run_command.hpp"

namespace ecrs::handler {
namespace {

using Vars = std::map<std::string, std::string>;

struct CliRun {
  int rc = -1;
  std::string out;
  std::string err;
};

// `ecr-sweeper ARGS...` in process; `tty` pretends stderr is a terminal. Log lines go where the binary sends them.
CliRun cli(std::vector<std::string> args, const Vars& vars = {}, bool tty = false) {
  args.insert(args.begin(), "ecr-sweeper");
  MapEnvironment env(vars);
  std::ostringstream out, err;
  CliRun r;
  r.rc = run_cli(args, env, CliIo{out, err, tty, nullptr});
  r.out = out.str();
  r.err = err.str();
  return r;
}

Vars local_env(const std::string& endpoint) {
  return {{"AWS_ENDPOINT_URL", endpoint},
          {"AWS_REGION", "us-east-1"},
          {"AWS_ACCESS_KEY_ID", "test"},
          {"AWS_SECRET_ACCESS_KEY", "test"},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_CONFIG_FILE", "/nonexistent/ecrs-config"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ecrs-credentials"}};
}

struct Local {
  localaws::LocalAws aws;
  Local() { aws.start(); }
  Vars env(const Vars& extra = {}) {
    Vars v = local_env(aws.endpoint());
    for (const auto& [k, val] : extra) v[k] = val;
    return v;
  }
  void seed(const std::string& repo, int images) {
    aws.ecr().create_repository(repo);
    for (int i = 0; i < images; ++i) aws.ecr().put_image(repo, "t" + std::to_string(i));
  }
};

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

// Every subcommand that calls AWS, as a path of words.
const std::vector<std::vector<std::string>> kAwsVerbs = {
    {"empty"}, {"lifecycle", "preview"}, {"lifecycle", "apply"}, {"repo", "ensure"}, {"repo", "template", "apply"}};
const char* const kCommonFlags[] = {"--region", "--profile", "--endpoint-url", "--output", "--debug", "--no-color"};

void expect_common_group(const std::vector<std::string>& path) {
  auto args = path;
  args.push_back("--help");
  auto r = cli(args);
  std::string name;
  for (const auto& w : path) name += w + " ";
  EXPECT_EQ(r.rc, 0) << name << r.err;
  EXPECT_NE(r.out.find(std::string("[Option Group: ") + kCommonOptionsGroup + "]"), std::string::npos)
      << name << "has no common option group:\n" << r.out;
  for (const char* flag : kCommonFlags) EXPECT_NE(r.out.find(flag), std::string::npos) << name << flag;
  EXPECT_NE(r.out.find("Exit codes: 0 done; 1 "), std::string::npos) << name << r.out;
  EXPECT_NE(r.out.find("4 partial"), std::string::npos) << name << r.out;
}

TEST(CommonOptions, EveryVerbThatCallsAwsShowsTheGroupAndTheExitCodesInHelp) {
  for (const auto& path : kAwsVerbs) expect_common_group(path);
}

// `clean` belongs to the cleanup engineer; it carries the group once CleanVerb calls add_common_options (see the
// lead's report). Until then this case fails on purpose, naming the missing flags.
TEST(CommonOptions, CleanShowsTheGroupInHelp) { expect_common_group({"clean"}); }

TEST(CommonOptions, EachVerbHasItsOwnFooterNotEmptys) {
  for (const std::vector<std::string>& path :
       std::vector<std::vector<std::string>>{{"lifecycle"}, {"lifecycle", "validate"}, {"lifecycle", "preview"},
                                             {"repo"}, {"repo", "ensure"}, {"completion"}}) {
    auto args = path;
    args.push_back("--help");
    auto r = cli(args);
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.out.find("--dry-run prints the plan"), std::string::npos) << path.front() << ":\n" << r.out;
    EXPECT_NE(r.out.find("Exit codes: 0 done"), std::string::npos) << path.front() << ":\n" << r.out;
  }
}

TEST(CommonOptions, FlagsFillTheSessionOptionsAndTheFlagBeatsTheEnvironment) {
  CLI::App app("t");
  CommonOptions common;
  add_common_options(app, common);
  std::vector<std::string> args{"http://127.0.0.1:9", "--endpoint-url", "dev", "--profile", "eu-west-1", "--region"};
  app.parse(args);
  const SessionOptions s = common.session();
  EXPECT_EQ(s.region, std::optional<std::string>("eu-west-1"));
  EXPECT_EQ(s.profile, std::optional<std::string>("dev"));
  EXPECT_EQ(s.endpoint_url, std::optional<std::string>("http://127.0.0.1:9"));

  MapEnvironment env(Vars{{"AWS_REGION", "us-east-1"}, {"AWS_CONFIG_FILE", "/nonexistent"}});
  SystemClock clock;
  RealSleeper sleeper;
  SystemRandom random;
  CaptureSink sink;
  Logger logger(sink, clock);
  AwsSession flagged(env, clock, sleeper, random, logger, s);
  EXPECT_EQ(flagged.region().value_or(""), "eu-west-1");
  AwsSession unflagged(env, clock, sleeper, random, logger, CommonOptions{}.session());
  EXPECT_EQ(unflagged.region().value_or(""), "us-east-1");
}

TEST(CommonOptions, ABadRegionOrOutputIsAUsageError) {
  auto region = cli({"empty", "web", "--region", "Not A Region"});
  EXPECT_EQ(region.rc, 2);
  EXPECT_NE(region.err.find("not a region name"), std::string::npos) << region.err;
  auto table = cli({"empty", "web", "--output", "table"});
  EXPECT_EQ(table.rc, 2) << "empty prints no table";
  auto twice = cli({"empty", "web", "--region", "us-east-1", "--region", "eu-west-1"});
  EXPECT_EQ(twice.rc, 2);
}

TEST(CommonOptions, OutputFlagBeatsAwsDefaultOutputWhichBeatsText) {
  Local l;
  l.seed("web", 3);
  auto by_env = cli({"empty", "web", "--dry-run"}, l.env({{"AWS_DEFAULT_OUTPUT", "json"}}));
  ASSERT_EQ(by_env.rc, 0) << by_env.err;
  auto doc = parse_json(by_env.out);
  ASSERT_TRUE(doc) << by_env.out;
  EXPECT_EQ((*doc)["would_delete"].asUInt64(), 3u);
  auto by_flag = cli({"empty", "web", "--dry-run", "--output", "text"}, l.env({{"AWS_DEFAULT_OUTPUT", "json"}}));
  EXPECT_NE(by_flag.out.find("3 images would be deleted"), std::string::npos) << by_flag.out;
  // A format this verb lacks (table) does not apply: text.
  auto lacks = cli({"empty", "web", "--dry-run"}, l.env({{"AWS_DEFAULT_OUTPUT", "table"}}));
  EXPECT_NE(lacks.out.find("3 images would be deleted"), std::string::npos) << lacks.out;
}

// The AWS CLI's order for the format: --output, AWS_DEFAULT_OUTPUT, then `output` in the active profile of
// ~/.aws/config (the default profile, AWS_PROFILE or --profile).
TEST(CommonOptions, TheProfilesOutputSettingComesAfterTheFlagAndTheEnvironment) {
  Local l;
  l.seed("web", 2);
  const auto config = std::filesystem::temp_directory_path() / ("ecrs-output-config-" + std::to_string(::getpid()));
  // An explicit --profile drops the environment's keys, as botocore does: the profile brings its own.
  std::ofstream(config) << "[default]\noutput = json\n[profile plain]\noutput = text\naws_access_key_id = test\n"
                           "aws_secret_access_key = test\n";
  const Vars env = l.env({{"AWS_CONFIG_FILE", config.string()}});
  auto is_json = [](const CliRun& r) { return parse_json(r.out).has_value(); };
  const auto by_profile = cli({"empty", "web", "--dry-run"}, env);
  ASSERT_EQ(by_profile.rc, 0) << by_profile.err;
  EXPECT_TRUE(is_json(by_profile)) << by_profile.out;
  const auto named = cli({"empty", "web", "--dry-run", "--profile", "plain"}, env);
  EXPECT_NE(named.out.find("2 images would be deleted"), std::string::npos) << named.out << named.err;
  Vars by_env_vars = env;
  by_env_vars["AWS_DEFAULT_OUTPUT"] = "text";
  const auto by_env = cli({"empty", "web", "--dry-run"}, by_env_vars);
  EXPECT_NE(by_env.out.find("2 images would be deleted"), std::string::npos) << by_env.out;
  const auto by_flag = cli({"empty", "web", "--dry-run", "--profile", "plain", "--output", "json"}, env);
  EXPECT_TRUE(is_json(by_flag)) << by_flag.out;
  std::filesystem::remove(config);
}

TEST(CommonOptions, DebugWritesJsonDebugLinesOnStderrAndNothingSecret) {
  Local l;
  l.seed("web", 2);
  auto quiet = cli({"empty", "web", "--dry-run"}, l.env({{"AWS_SECRET_ACCESS_KEY", "test"}}));
  EXPECT_EQ(quiet.err.find("\"level\":\"debug\""), std::string::npos) << quiet.err;
  auto debug = cli({"empty", "web", "--dry-run", "--debug"}, l.env(), /*tty=*/true);
  ASSERT_EQ(debug.rc, 0) << debug.err;
  EXPECT_GT(count(debug.err, "\"level\":\"debug\""), 0u) << debug.err;
  std::istringstream lines(debug.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    EXPECT_TRUE(parse_json(line).has_value()) << "not a JSON line under --debug: " << line;
  }
}

TEST(Exits, AnUnknownVerbIsNamed) {
  auto r = cli({"purge"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("unknown verb 'purge'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("A subcommand is required"), std::string::npos) << r.err;
}

TEST(Exits, EveryVerbRefusesABadRepositoryNameTheSameWay) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"empty", "Bad_Name!"}, {"repo", "ensure", "Bad_Name!"}}) {
    auto r = cli(args, local_env("http://127.0.0.1:9"));
    EXPECT_EQ(r.rc, 2) << args.front() << r.err;
    EXPECT_NE(r.err.find("invalid repository name 'Bad_Name!'"), std::string::npos) << args.front() << r.err;
  }
}

TEST(Exits, FileErrorsSayWhy) {
  const auto dir = std::filesystem::temp_directory_path();
  auto as_dir = cli({"lifecycle", "validate", dir.string()});
  EXPECT_EQ(as_dir.rc, 2);
  EXPECT_NE(as_dir.err.find("is a directory"), std::string::npos) << as_dir.err;
  EXPECT_EQ(as_dir.err.find("PolicyTooShort"), std::string::npos) << as_dir.err;
  auto missing = cli({"lifecycle", "validate", (dir / "ecrs-no-such-policy.json").string()});
  EXPECT_EQ(missing.rc, 2);
  EXPECT_NE(missing.err.find("No such file or directory"), std::string::npos) << missing.err;
}

TEST(Exits, LifecycleValidateAndApplyPrintJsonDocuments) {
  Local l;
  l.seed("web", 2);
  const auto policy = std::filesystem::temp_directory_path() / "ecrs-cli-test-policy.json";
  std::ofstream(policy) << R"({"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]})";
  auto v = cli({"lifecycle", "validate", policy.string(), "--output", "json"});
  ASSERT_EQ(v.rc, 0) << v.err;
  auto vdoc = parse_json(v.out);
  ASSERT_TRUE(vdoc) << v.out;
  EXPECT_TRUE((*vdoc)["valid"].asBool());
  auto a = cli({"lifecycle", "apply", policy.string(), "--repos", "web", "nomatch-*", "--yes", "--output", "json"},
               l.env());
  ASSERT_EQ(a.rc, 0) << a.err;
  auto adoc = parse_json(a.out);
  ASSERT_TRUE(adoc) << a.out;
  EXPECT_EQ((*adoc)["applied"].asUInt64(), 1u);
  EXPECT_NE(a.err.find("--repos 'nomatch-*' matches no repository"), std::string::npos) << a.err;
}

TEST(Terminal, OnATerminalAnErrorIsOneReadableLineNotJson) {
  Local l;
  l.seed("web", 2);
  // BatchDeleteImage: a denied DescribeImages or ListImages is only a fallback for the engine, a denied delete is not.
  l.aws.add_fault({"BatchDeleteImage", 1, 400, "AccessDeniedException", "not allowed here"});
  auto r = cli({"empty", "web"}, l.env(), /*tty=*/true);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err.find("{\""), std::string::npos) << "a JSON line on a terminal:\n" << r.err;
  EXPECT_EQ(count(r.err, "not allowed here"), 1u) << r.err;
  // Piped: JSON log lines, as a CI log parser expects.
  l.aws.add_fault({"BatchDeleteImage", 1, 400, "AccessDeniedException", "not allowed here"});
  auto piped = cli({"empty", "web"}, l.env());
  EXPECT_NE(piped.err.find("{\""), std::string::npos) << piped.err;
}

TEST(Terminal, ARetryRendersAsOneSentence) {
  const std::string line =
      R"({"ts":"2026-01-01T00:00:00.000Z","level":"warn","msg":"retrying AWS call","repository":"web","op":"ListImages repository=web","attempt":1,"code":"ThrottlingException","http_status":400,"request_id":"r","delay_ms":40})";
  EXPECT_EQ(render_log_line(line, false),
            "warning: retrying AWS call [web]: ListImages repository=web (ThrottlingException, HTTP 400, attempt 1, "
            "next in 40 ms)");
  EXPECT_EQ(render_log_line(R"({"level":"info","msg":"deleting"})", false), "");
  EXPECT_NE(render_log_line(R"({"level":"error","msg":"x"})", true).find("\x1b[31m"), std::string::npos);
}

TEST(Terminal, ColorAndProgressOnlyOnATerminalWithoutNoColor) {
  CommonOptions plain;
  MapEnvironment none;
  EXPECT_TRUE(terminal_for(true, plain, none).color);
  EXPECT_TRUE(terminal_for(true, plain, none).progress);
  EXPECT_FALSE(terminal_for(false, plain, none).color);
  EXPECT_FALSE(terminal_for(true, plain, MapEnvironment(Vars{{"NO_COLOR", "1"}})).progress);
  EXPECT_TRUE(terminal_for(true, plain, MapEnvironment(Vars{{"NO_COLOR", ""}})).color) << "NO_COLOR set but empty";
  CommonOptions no_color;
  no_color.no_color = true;
  EXPECT_FALSE(terminal_for(true, no_color, none).color);
  CommonOptions debug;
  debug.debug = true;
  EXPECT_FALSE(terminal_for(true, debug, none).progress);
}

TEST(ProgressBar, ShowsTotalPercentageRateAndEta) {
  using namespace std::chrono_literals;
  const std::chrono::steady_clock::time_point t0{};
  ProgressTracker t(t0);
  t.update({0, 1000, 0, 0, 8}, t0 + 1s);
  EXPECT_EQ(t.total(), 1000u);
  EXPECT_FALSE(t.rate());
  t.update({250, 1000, 3, 0, 8}, t0 + 5s);
  EXPECT_DOUBLE_EQ(*t.rate(), 50.0);
  EXPECT_DOUBLE_EQ(*t.eta_seconds(), 15.0);
  EXPECT_EQ(t.render(), "[######..................]  25%  250/1000 images  50/s  ETA 15s");
  // A second listing pass (images pushed meanwhile) lists what is left: the total grows, it does not reset.
  t.update({1000, 0, 10, 0, 8}, t0 + 20s);
  t.update({1000, 40, 10, 0, 8}, t0 + 21s);
  EXPECT_EQ(t.total(), 1040u);
  EXPECT_NE(t.render().find("1000/1040"), std::string::npos) << t.render();
}

// One renderer for every verb: images for empty and clean --apply, repositories for lifecycle apply, where a
// rate of a few per second keeps a decimal; an unknown total (still listing) shows no percentage and no ETA.
TEST(ProgressBar, OneRendererForImagesAndRepositories) {
  using namespace std::chrono_literals;
  EXPECT_EQ(render_progress(3, 10, "repositories applied", 2s),
            "[#######.................]  30%  3/10 repositories applied  1.5/s  ETA 5s");
  EXPECT_EQ(render_progress(250, 0, "images", 5s), "[........................]   ?%  250 images  50/s");
}

TEST(ProgressBar, DurationsReadAsMinutesAndHours) {
  EXPECT_EQ(format_duration(9.4), "9s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}

std::string completion_file(const std::string& shell) {
  auto r = cli({"completion", shell});
  EXPECT_EQ(r.rc, 0) << r.err;
  const auto path = std::filesystem::temp_directory_path() / ("ecrs-completion-" + std::to_string(::getpid()) + "." + shell);
  std::ofstream(path) << r.out;
  return path.string();
}

// COMPREPLY after the words typed so far (the last one is the word being completed).
std::string bash_complete(const std::string& script, const std::string& words) {
  const std::string cmd = "bash -c 'source " + script + "; COMP_WORDS=(" + words +
                          "); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _ecr_sweeper; echo \"${COMPREPLY[*]}\"'";
  return test_support::run_command(cmd).output;
}

TEST(Completion, TheBashScriptParsesAndCompletesVerbsSubcommandsAndValues) {
  const std::string script = completion_file("bash");
  auto syntax = test_support::run_command("bash -n " + script);
  EXPECT_EQ(syntax.status, 0) << syntax.output;
  const std::string verbs = bash_complete(script, "ecr-sweeper \"\"");
  for (const char* v : {"empty", "clean", "lifecycle", "repo", "completion"}) {
    EXPECT_NE(verbs.find(v), std::string::npos) << v << " not completed: " << verbs;
  }
  EXPECT_EQ(bash_complete(script, "ecr-sweeper li"), "lifecycle\n");
  EXPECT_EQ(bash_complete(script, "ecr-sweeper lifecycle \"\""), "validate preview apply\n");
  EXPECT_EQ(bash_complete(script, "ecr-sweeper lifecycle preview --output \"\""), "text json table\n");
  EXPECT_EQ(bash_complete(script, "ecr-sweeper empty web --output \"\""), "text json\n");
  EXPECT_NE(bash_complete(script, "ecr-sweeper empty --re").find("--region"), std::string::npos);
  EXPECT_EQ(bash_complete(script, "ecr-sweeper completion \"\""), "bash zsh fish\n");
  std::filesystem::remove(script);
}

// fish expands a command substitution only outside quotes, so `test "(f)" = ''` compared the literal text and no
// completion ever showed; zsh, with the script saved in $fpath, runs the file as the completion function on the
// first TAB, which must complete too, not only register. (tests/cli/shells_test.py drives both shells on a pty.)
TEST(Completion, FishConditionsCallTheFunctionAndZshCompletesOnItsFirstAutoload) {
  const std::string fish = cli({"completion", "fish"}).out;
  EXPECT_EQ(fish.find("\"("), std::string::npos) << "a command substitution inside double quotes:\n" << fish;
  EXPECT_NE(fish.find(R"(-n '__ecr_sweeper_at '\''lifecycle preview'\''')"), std::string::npos) << fish;
  const std::string zsh = cli({"completion", "zsh"}).out;
  EXPECT_NE(zsh.find("if (( ${+compstate} )); then _bash_complete -o default -F _ecr_sweeper; fi\n"),
            std::string::npos)
      << zsh;
  EXPECT_EQ(zsh.find("local cur prev path"), std::string::npos) << "path is tied to PATH in zsh";
  // An option group's own help flag is not offered twice.
  const std::string script = completion_file("bash");
  EXPECT_EQ(bash_complete(script, "ecr-sweeper empty --he"), "--help\n");
  std::filesystem::remove(script);
}

TEST(Completion, ZshAndFishScriptsNameEveryVerb) {
  for (const char* shell : {"zsh", "fish"}) {
    auto r = cli({"completion", shell});
    EXPECT_EQ(r.rc, 0);
    for (const char* v : {"empty", "clean", "lifecycle", "repo"}) {
      EXPECT_NE(r.out.find(std::string("'") + v + "'"), std::string::npos) << shell << " lacks " << v;
    }
  }
  EXPECT_EQ(cli({"completion", "tcsh"}).rc, 2);
}

TEST(Emf, ARecordCarriesTheSpecsRequiredMembers) {
  InvocationMetrics m;
  m.repository = "web";
  m.images_deleted = 7;
  const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  const Json::Value r = emf_record("create-on-push", m, std::chrono::milliseconds(42), now);
  EXPECT_EQ(r["_aws"]["Timestamp"].asInt64(), 1700000000123);
  const Json::Value& d = r["_aws"]["CloudWatchMetrics"][0];
  EXPECT_EQ(d["Namespace"].asString(), "ecr-sweeper");
  EXPECT_EQ(d["Dimensions"].size(), 2u);
  EXPECT_EQ(r["Repository"].asString(), "web");
  EXPECT_EQ(r["ImagesDeleted"].asUInt64(), 7u);
  EXPECT_EQ(r["DurationMs"].asInt64(), 42);
  for (const auto& metric : d["Metrics"]) EXPECT_TRUE(r.isMember(metric["Name"].asString())) << metric["Name"].asString();
  InvocationMetrics none;
  const Json::Value bare = emf_record("invalid-event", none, std::chrono::milliseconds(1), now);
  EXPECT_EQ(bare["_aws"]["CloudWatchMetrics"][0]["Dimensions"].size(), 1u) << "no Repository dimension";
  EXPECT_FALSE(bare.isMember("Repository"));
}

}  // namespace
}  // namespace ecrs::handler

namespace ecrs::handler {
namespace {

// A plain-http endpoint on another host is refused before anything is sent, and the refusal names the opt-in.
TEST(CommonOptions, APlainHttpEndpointOnAnotherHostIsRefusedAndNamesTheOptIn) {
  const auto r = cli({"empty", "web", "--endpoint-url", "http://localstack.example:4566"},
                     local_env("http://127.0.0.1:9"));
  EXPECT_EQ(r.rc, kCliExitFailed) << r.out << r.err;
  EXPECT_NE(r.err.find("--allow-insecure-http"), std::string::npos) << r.err;
}

// The dry-run plan a person or a script asked for is complete, past the executor's sample of 100 (issue #20).
TEST(Exits, EmptyDryRunJsonListsEveryPlannedDigest) {
  Local local;
  local.seed("web", 150);
  const auto r = cli({"empty", "web", "--dry-run", "--output", "json"}, local.env());
  ASSERT_EQ(r.rc, kCliExitOk) << r.out << r.err;
  auto doc = parse_json(r.out);
  ASSERT_TRUE(doc) << r.out;
  EXPECT_EQ((*doc)["would_delete"].asUInt64(), 150u) << r.out;
  EXPECT_EQ((*doc)["planned"].size(), 150u) << r.out;
  EXPECT_EQ(local.aws.ecr().repository("web")->images.size(), 150u) << "a dry run deletes nothing";
}

std::uint64_t repository_bytes(localaws::LocalAws& aws, const std::string& repo) {
  std::uint64_t bytes = 0;
  const auto snapshot = aws.ecr().repository(repo);
  EXPECT_TRUE(snapshot.has_value()) << repo;
  if (snapshot) {
    for (const auto& [digest, image] : snapshot->images) bytes += static_cast<std::uint64_t>(image.size_bytes);
  }
  return bytes;
}

// What `empty` reclaimed is imageSizeInBytes summed over the images it deleted (plain images: an index's size
// repeats its largest child's), in the JSON document and the text summary; a dry run reclaims nothing.
TEST(Exits, EmptyReportsTheBytesOfTheImagesItDeleted) {
  Local local;
  local.seed("web", 230);
  local.seed("api", 40);
  const std::uint64_t web_bytes = repository_bytes(local.aws, "web");
  const std::uint64_t api_bytes = repository_bytes(local.aws, "api");
  ASSERT_GT(web_bytes, 0u);
  const auto dry = cli({"empty", "web", "--dry-run", "--output", "json"}, local.env());
  ASSERT_EQ(dry.rc, kCliExitOk) << dry.err;
  auto dry_doc = parse_json(dry.out);
  ASSERT_TRUE(dry_doc) << dry.out;
  EXPECT_FALSE(dry_doc->isMember("bytes_reclaimed")) << dry.out;
  const auto r = cli({"empty", "web", "--output", "json"}, local.env());
  ASSERT_EQ(r.rc, kCliExitOk) << r.err;
  auto doc = parse_json(r.out);
  ASSERT_TRUE(doc) << r.out;
  EXPECT_EQ((*doc)["deleted"].asUInt64(), 230u) << r.out;
  EXPECT_EQ((*doc)["bytes_reclaimed"].asUInt64(), web_bytes) << r.out;
  const auto text = cli({"empty", "api"}, local.env());
  ASSERT_EQ(text.rc, kCliExitOk) << text.err;
  EXPECT_NE(text.out.find("Deleted 40 images (" + std::to_string(api_bytes) + " bytes) from 'api'"), std::string::npos)
      << text.out;
}

TEST(CommonOptions, AllowInsecureHttpReachesTheSession) {
  CommonOptions common;
  EXPECT_FALSE(common.session().allow_insecure_http);
  common.allow_insecure_http = true;
  EXPECT_TRUE(common.session().allow_insecure_http);
}

}  // namespace
}  // namespace ecrs::handler
