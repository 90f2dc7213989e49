#pragma once
// Plug-in points of the one binary. Every job it does — the custom resource, the stack-deletion hook, scheduled
// cleanup, create-on-push, an organisation sweep task — is an EventMode that the runtime loop offers each event
// to (first match wins, by shape), and every CLI verb is a CliVerb. A mode lives in its own folder
// (handler/<mode>/) and is listed once in handler/modes/registry.cpp, so modes never edit each other's files.
#include <json/value.h>

#include <chrono>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ecrs/handler/aws_session.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace CLI {
class App;
}

namespace ecrs::handler {

// What the Runtime API said about one invocation.
struct InvocationInfo {
  std::string request_id;
  std::chrono::system_clock::time_point deadline;  // Lambda-Runtime-Deadline-Ms
  std::string function_arn;                         // Lambda-Runtime-Invoked-Function-Arn
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
  bool progress = false;  // stderr is a terminal
  LogSink* log_sink = nullptr;
};

class CliVerb {
 public:
  virtual ~CliVerb() = default;
  // Adds the subcommand (and its options, bound to members) to `app`; returns it so the dispatcher can ask
  // whether it was chosen.
  virtual CLI::App* add_to(CLI::App& app) = 0;
  // Runs after parsing when the subcommand was chosen. Exit codes: 0 ok, 1 failed, 2 usage.
  virtual int run(AwsSession& session, CliContext& io) = 0;
};

// The registry (handler/modes/registry.cpp). Event modes are offered each event in this order BEFORE the
// Custom::EmptyEcrRepository flow, which takes any custom-resource event no mode claimed (a template may name the
// type Custom::Anything). A mode for another custom resource therefore accepts only its own ResourceType.
std::vector<std::unique_ptr<EventMode>> make_event_modes(AwsSession& session);
std::vector<std::unique_ptr<CliVerb>> make_cli_verbs();

}  // namespace ecrs::handler
