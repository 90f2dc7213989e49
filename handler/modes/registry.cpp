// The one list of event modes and CLI verbs beyond `empty` and the custom resource (see modes.hpp). Each mode's
// folder attaches its sources and include directory to ecrs_handler (handler/<mode>/<mode>.cmake); a mode whose
// header is not there yet is simply absent, so the tree builds at every step.
#include "ecrs/handler/modes.hpp"

#if __has_include("ecrs/handler/hook_mode.hpp")
#include "ecrs/handler/hook_mode.hpp"
#define ECRS_HAVE_HOOK_MODE 1
#endif
#if __has_include("ecrs/handler/lifecycle_mode.hpp")
#include "ecrs/handler/lifecycle_mode.hpp"
#define ECRS_HAVE_LIFECYCLE_MODE 1
#endif
#if __has_include("ecrs/handler/provision_mode.hpp")
#include "ecrs/handler/provision_mode.hpp"
#define ECRS_HAVE_PROVISION_MODE 1
#endif
#if __has_include("ecrs/handler/sweep_mode.hpp")
#include "ecrs/handler/sweep_mode.hpp"
#define ECRS_HAVE_SWEEP_MODE 1
#endif
#if __has_include("ecrs/handler/clean_mode.hpp")
#include "ecrs/handler/clean_mode.hpp"
#define ECRS_HAVE_CLEAN_MODE 1
#endif

namespace ecrs::handler {

namespace {
template <typename T>
void add(std::vector<std::unique_ptr<T>>& list, std::unique_ptr<T> item) {
  if (item) list.push_back(std::move(item));
}
}  // namespace

std::vector<std::unique_ptr<EventMode>> make_event_modes([[maybe_unused]] AwsSession& session) {
  std::vector<std::unique_ptr<EventMode>> modes;
#ifdef ECRS_HAVE_HOOK_MODE
  add(modes, make_hook_mode(session));  // CloudFormation Lambda Hook requests
#endif
#ifdef ECRS_HAVE_LIFECYCLE_MODE
  add(modes, make_lifecycle_resource_mode(session));  // Custom::EcrLifecyclePolicy only
#endif
#ifdef ECRS_HAVE_PROVISION_MODE
  add(modes, make_provision_event_mode(session));  // EventBridge CloudTrail events (create on push)
#endif
#ifdef ECRS_HAVE_SWEEP_MODE
  add(modes, make_sweep_mode(session));  // Step Functions Distributed Map items: {"ecrSweeper": {...}}
#endif
#ifdef ECRS_HAVE_CLEAN_MODE
  add(modes, make_clean_event_mode(session));  // EventBridge scheduled events and sweep tasks
#endif
  return modes;
}

std::vector<std::unique_ptr<CliVerb>> make_cli_verbs() {
  std::vector<std::unique_ptr<CliVerb>> verbs;
#ifdef ECRS_HAVE_CLEAN_MODE
  add(verbs, make_clean_verb());
#endif
#ifdef ECRS_HAVE_LIFECYCLE_MODE
  add(verbs, make_lifecycle_verb());
#endif
#ifdef ECRS_HAVE_PROVISION_MODE
  add(verbs, make_repo_verb());
#endif
  return verbs;
}

}  // namespace ecrs::handler
