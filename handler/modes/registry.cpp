// The one list of event modes and CLI verbs beyond `empty` and the custom resource (see modes.hpp).
#include "ecrs/handler/modes.hpp"

namespace ecrs::handler {

std::vector<std::unique_ptr<EventMode>> make_event_modes(AwsSession& /*session*/) {
  std::vector<std::unique_ptr<EventMode>> modes;
  return modes;
}

std::vector<std::unique_ptr<CliVerb>> make_cli_verbs() {
  std::vector<std::unique_ptr<CliVerb>> verbs;
  return verbs;
}

}  // namespace ecrs::handler
