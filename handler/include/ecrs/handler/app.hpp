#pragma once
// The two faces of the one binary: the Lambda custom runtime (`bootstrap`) and the CLI (`ecr-sweeper`). main()
// only picks one; tests call the same functions in-process with their own environment and log sink.
#include <atomic>
#include <ostream>
#include <string>
#include <vector>

#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::handler {

// Exit codes of the CLI (documented in --help).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// ECRS_LOG_LEVEL: debug|info|warn|error (default `fallback`); anything else falls back too.
LogLevel log_level_from_env(const Environment& env, LogLevel fallback);
// The Lambda runtime's level: AWS_LAMBDA_LOG_LEVEL (ApplicationLogLevel: TRACE..FATAL), else ECRS_LOG_LEVEL,
// else info.
LogLevel lambda_log_level(const Environment& env);

// "ecr-sweeper <version> (<git revision>)".
std::string version_string();

// True when the binary should serve the Runtime API: AWS_LAMBDA_RUNTIME_API is set and either argv[0] is
// named `bootstrap` or no arguments were given.
bool should_run_lambda(const std::vector<std::string>& args, const Environment& env);

// The runtime loop with real transport, credentials and clock, logs to `sink`. Returns when the Runtime API
// goes away (1) or `stop` is set and /next returns (0).
int run_lambda(const Environment& env, LogSink& sink, const std::atomic<bool>* stop = nullptr);

struct CliIo {
  std::ostream& out;
  std::ostream& err;
  bool progress = false;  // stderr is a terminal: show an overwriting progress line
  LogSink* log_sink = nullptr;  // JSON log lines (default: stderr, level warn)
};

// `args` as argv (args[0] = program name).
int run_cli(const std::vector<std::string>& args, const Environment& env, CliIo io);

}  // namespace ecrs::handler
