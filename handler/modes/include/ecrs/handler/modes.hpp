#pragma once
// Plug-in points of the one binary. Every job it does — the custom resource, the stack-deletion hook, scheduled
// cleanup, create-on-push, an organisation sweep task — is an EventMode that the runtime loop offers each event
// to (first match wins, by shape), and every CLI verb is a CliVerb. A mode lives in its own folder
// (handler/<mode>/) and is listed once in handler/modes/registry.cpp, so modes never edit each other's files.
#include <json/value.h>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ecrs/handler/aws_session.hpp"
#include "ecrs/handler/cli_options.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace CLI {
class App;
}

namespace ecrs::handler {

// What one invocation did, for the CloudWatch embedded-metric record the runtime loop writes after every
// invocation (emf.hpp). A mode fills what it knows; what it leaves alone is reported as zero.
struct InvocationMetrics {
  std::string repository;  // the one repository the invocation was about; empty when many or none
  std::uint64_t images_deleted = 0;
  std::uint64_t images_planned = 0;  // would be deleted (dry run) or planned before deleting
  std::int64_t bytes_reclaimed = 0;
  std::uint64_t throttled_calls = 0;
  std::uint64_t continuations = 0;  // the work was handed to a fresh invocation
  std::uint64_t failures = 0;       // images or repositories that failed; the loop adds 1 for an /error reply
  // Set by the runtime loop from the invoked function's ARN: a dimension, so a stack's alarm counts its own
  // function's failures, not those of every function of the mode in the account and region.
  std::string function_name;
};

// What the Runtime API said about one invocation.
struct InvocationInfo {
  std::string request_id;
  std::chrono::system_clock::time_point deadline;  // Lambda-Runtime-Deadline-Ms
  std::string function_arn;                         // Lambda-Runtime-Invoked-Function-Arn
  InvocationMetrics* metrics = nullptr;             // set by the runtime loop; null in tests that need none
};

class EventMode {
 public:
  virtual ~EventMode() = default;
  virtual const char* name() const = 0;
  // Recognises the event by its shape; must not do I/O.
  virtual bool accepts(const Json::Value& event) const = 0;
  // The document posted to /response, or an Error posted to /error (Lambda then retries an async event:
  // return an Error only when a retry could help). Must not throw.
  virtual Result<std::string> handle(const Json::Value& event, const InvocationInfo& info) = 0;
};

struct CliContext {
  std::ostream& out;
  std::ostream& err;
  bool progress = false;  // stderr is a terminal that takes a progress bar (not NO_COLOR, not --debug)
  LogSink* log_sink = nullptr;
  // What the verb's common option group parsed (cli_options.hpp) and what the terminal allows; run_cli fills
  // both, tests that build a CliContext by hand get the defaults.
  const CommonOptions* common = nullptr;
  const Environment* env = nullptr;
  Terminal terminal{};
  const ReadableLogSink* readable = nullptr;  // set when log lines are rendered for a person

  // "ecr-sweeper VERB: error: MESSAGE" on stderr, unless the readable log already showed it; returns `code`.
  int fail(std::string_view verb, std::string_view message, int code) const;
  void warn(std::string_view verb, std::string_view message) const;
};

class CliVerb {
 public:
  virtual ~CliVerb() = default;
  // Adds the subcommand (and its options, bound to members) to `app`; returns it so the dispatcher can ask
  // whether it was chosen.
  virtual CLI::App* add_to(CLI::App& app) = 0;
  // Runs after parsing when the subcommand was chosen, with a session built from the common options. Exit
  // codes: kCliExit* (cli_options.hpp).
  virtual int run(AwsSession& session, CliContext& io) = 0;

  // The verb's common option group, bound by add_common_options(*cmd, common_, spec) in add_to.
  const CommonOptions& common_options() const { return common_; }

 protected:
  // --output, else AWS_DEFAULT_OUTPUT, else `fallback`: from the verb's own group, so a verb run by a test harness
  // that builds its own CliContext formats as the binary would.
  OutputFormat output(const AwsSession& session, OutputFormat fallback = OutputFormat::text) const {
    return common_.output_format(session.env(), fallback);
  }
  bool output_chosen(const AwsSession& session) const { return common_.output_chosen(session.env()); }

  CommonOptions common_;
};

// The registry (handler/modes/registry.cpp). Event modes are offered each event in this order BEFORE the
// Custom::EmptyEcrRepository flow, which takes any custom-resource event no mode claimed (a template may name the
// type Custom::Anything). A mode for another custom resource therefore accepts only its own ResourceType.
std::vector<std::unique_ptr<EventMode>> make_event_modes(AwsSession& session);
std::vector<std::unique_ptr<CliVerb>> make_cli_verbs();

}  // namespace ecrs::handler
