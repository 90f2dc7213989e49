#pragma once
// Custom::EmptyEcrRepository: from one CloudFormation request to exactly one response PUT (issue 5, "Resource
// contract"). cfn/ decides what a request asks for; this class does it through a SweeperBackend, keeps the
// watchdog, continues in a fresh invocation when time runs out, and answers. It never throws.
#include <json/value.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ecrs/aws/transport.hpp"
#include "ecrs/cfn/continuation.hpp"
#include "ecrs/cfn/properties.hpp"
#include "ecrs/cfn/request.hpp"
#include "ecrs/ecr/executor.hpp"
#include "ecrs/cfn/response.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/handler/backend.hpp"
#include "ecrs/handler/request_ledger.hpp"
#include "ecrs/handler/response_sender.hpp"
#include "ecrs/handler/runtime_client.hpp"

namespace ecrs::handler {

struct InvocationMetrics;  // modes.hpp

// Time kept back from the work for the answer: kReserveFraction of the invocation's time, at least
// kMinDeadlineReserve and at most what the PUT policy can use (worst_case_duration). The floor is sized from the
// calls, not a fixed multi-second reserve, so Lambda's default 3 s timeout still gets work done: half of it lets
// a call started just before the work stops finish (an ECR round trip from Lambda is tens of milliseconds; each
// call's timeout is cut to that point), the other half carries one response PUT (S3, ~100 ms) and the
// Runtime API's /response.
inline constexpr std::chrono::milliseconds kMinDeadlineReserve{800};
inline constexpr double kReserveFraction = 0.10;
// Kept back from the PUT's retries for the /response POST that must follow it (a local HTTP call).
inline constexpr std::chrono::milliseconds kRuntimeReplyMargin{200};

struct FlowConfig {
  int max_invocations = cfn::kDefaultMaxInvocations;  // ECRS_MAX_INVOCATIONS
  int concurrency = ecr::kDefaultConcurrency;         // ECRS_CONCURRENCY
  std::optional<std::string> default_repository_name;  // ECR_REPOSITORY_NAME
  PutPolicy put_policy;
  std::chrono::milliseconds min_reserve = kMinDeadlineReserve;
  double reserve_fraction = kReserveFraction;
};

// Reads ECRS_MAX_INVOCATIONS, ECRS_CONCURRENCY and ECR_REPOSITORY_NAME; an unparsable number is an error naming
// the variable.
Result<FlowConfig> flow_config_from_env(const Environment& env);

// What the runtime loop tells the Runtime API afterwards.
struct RuntimeReply {
  bool is_error = false;   // POST /error (only when CloudFormation could not be answered)
  std::string error_type;  // for /error
  std::string body;        // /response body, or the error message
};

// When to stop working so the answer still goes out: budget (executor's deadline), hard (watchdog fires).
struct Budget {
  std::optional<std::chrono::system_clock::time_point> work_until;
  std::optional<std::chrono::system_clock::time_point> calls_until;  // no ECR call in flight after this
  std::optional<std::chrono::system_clock::time_point> abandon_at;
  std::optional<std::chrono::system_clock::time_point> deadline;
};
Budget compute_budget(std::optional<std::chrono::system_clock::time_point> deadline,
                      std::chrono::system_clock::time_point now, const FlowConfig& config);

class CustomResourceFlow {
 public:
  CustomResourceFlow(SweeperBackend& backend, aws::Transport& put_transport, FlowConfig config, const Clock& clock,
                     Sleeper& sleeper, Random& random, Logger& logger);
  ~CustomResourceFlow();  // joins workers the watchdog gave up on
  CustomResourceFlow(const CustomResourceFlow&) = delete;
  CustomResourceFlow& operator=(const CustomResourceFlow&) = delete;

  // `event` looks like a custom-resource request (cfn::looks_like_custom_resource). `metrics`, when given, gets
  // the repository and what a Delete did, for the invocation's EMF record.
  RuntimeReply handle(const Json::Value& event, const Invocation& invocation,
                      InvocationMetrics* metrics = nullptr) noexcept;

  const RequestLedger& ledger() const { return ledger_; }

 private:
  RuntimeReply handle_request(const Json::Value& event, const Invocation& invocation, const cfn::ResponseTarget& target,
                              Logger& log, InvocationMetrics& metrics);
  cfn::CustomResourceOutcome run_delete(const Json::Value& event, const cfn::CustomResourceRequest& request,
                                        const cfn::EmptyEcrRepositoryProperties& props, const Invocation& invocation,
                                        Logger& log, bool& continued, InvocationMetrics& metrics);
  cfn::CustomResourceOutcome run_check(const cfn::EmptyEcrRepositoryProperties& props, const std::string& id,
                                       Logger& log);
  Result<ecr::EmptyReport> run_with_watchdog(const ecr::EmptyOptions& options, const Budget& budget, Logger& log,
                                             bool& abandoned);
  RuntimeReply answer(const cfn::CustomResourceOutcome& outcome, const cfn::ResponseTarget& target,
                      const std::optional<std::chrono::system_clock::time_point>& deadline, const std::string& base_key,
                      int invocation_number, Logger& log);

  SweeperBackend* backend_;
  aws::Transport* put_transport_;
  FlowConfig config_;
  const Clock* clock_;
  Sleeper* sleeper_;
  Random* random_;
  Logger* logger_;
  RequestLedger ledger_;
  std::vector<std::thread> abandoned_;
};

}  // namespace ecrs::handler
