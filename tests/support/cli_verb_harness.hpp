#pragma once
// One CliVerb in process, as the binary runs it: an AwsSession on a MapEnvironment pointed at one emulator
// (static test credentials, no credential files, no IMDS), a real clock, sleeper and random source, a CaptureSink
// for the log lines, and the verb parsed by CLI11 the way handler/cli.cpp's run_cli does (--help and parse
// errors through CLI::App::exit: exit 0 for help, 2 for usage). Header-only; link ecrs::cli_verb_harness.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/handler/modes.hpp"

namespace ecrs::test_support {

inline constexpr const char* kLocalRegion = "us-east-1";  // localaws serves one region

// What the CLI sees when every service is the emulator at `endpoint`; `extra` adds or overrides variables.
inline std::map<std::string, std::string> local_cli_env(const std::string& endpoint,
                                                        const std::map<std::string, std::string>& extra = {}) {
  std::map<std::string, std::string> env{{"AWS_ENDPOINT_URL", endpoint},
                                         {"AWS_REGION", kLocalRegion},
                                         {"AWS_ACCESS_KEY_ID", "test"},
                                         {"AWS_SECRET_ACCESS_KEY", "test"},
                                         {"AWS_EC2_METADATA_DISABLED", "true"},
                                         {"AWS_CONFIG_FILE", "/nonexistent/ecrs-config"},
                                         {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ecrs-credentials"}};
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

struct VerbRun {
  int rc = -1;
  std::string out;
  std::string err;
};

class CliVerbHarness {
 public:
  explicit CliVerbHarness(std::map<std::string, std::string> env, LogLevel level = LogLevel::debug)
      : env_(std::move(env)), logger_(sink_, clock_, level), session_(env_, clock_, sleeper_, random_, logger_) {}
  CliVerbHarness(const CliVerbHarness&) = delete;
  CliVerbHarness& operator=(const CliVerbHarness&) = delete;

  handler::AwsSession& session() { return session_; }
  CaptureSink& sink() { return sink_; }

  // `ecr-sweeper ARGS...` with only `verb` registered; args start at the verb's own name ("clean", "lifecycle").
  VerbRun run(handler::CliVerb& verb, std::vector<std::string> args) {
    CLI::App app("ecr-sweeper");
    CLI::App* sub = verb.add_to(app);
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11's vector form, as run_cli calls it
    VerbRun r;
    try {
      app.parse(reversed);
    } catch (const CLI::ParseError& e) {
      std::ostringstream out, err;
      r.rc = app.exit(e, out, err) == 0 ? 0 : 2;
      r.out = out.str();
      r.err = err.str();
      return r;
    }
    if (sub == nullptr || !sub->parsed()) {
      ADD_FAILURE() << "the verb's subcommand was not chosen by the arguments";
      return r;
    }
    std::ostringstream out, err;
    handler::CliContext io{out, err, false, &sink_};
    r.rc = verb.run(session_, io);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

 private:
  MapEnvironment env_;
  SystemClock clock_;
  RealSleeper sleeper_;
  SystemRandom random_;
  CaptureSink sink_;
  Logger logger_;
  handler::AwsSession session_;
};

}  // namespace ecrs::test_support
