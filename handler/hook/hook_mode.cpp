#include "ecrs/handler/hook_mode.hpp"

#include "ecrs/cfn/hook.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "ecrs/handler/hook_flow.hpp"

namespace ecrs::handler {
namespace {

// Clients are built on the first hook request, not at start-up: most invocations of the function are other modes.
class HookMode final : public EventMode {
 public:
  explicit HookMode(AwsSession& session) : session_(&session) {}
  const char* name() const override { return "hook"; }
  bool accepts(const Json::Value& event) const override { return cfn::looks_like_hook_request(event); }

  Result<std::string> handle(const Json::Value& event, const InvocationInfo& info) override {
    if (!flow_) {
      auto config = hook_flow_config_from_env(session_->env());
      if (!config) return hook_failure(event, config.error());
      auto ecr_aws = session_->client(aws::kEcr);
      if (!ecr_aws) return hook_failure(event, ecr_aws.error());
      auto cfn_aws = session_->client(aws::kCloudFormation);
      if (!cfn_aws) return hook_failure(event, cfn_aws.error());
      if (auto r = session_->register_redactions(); !r) {
        session_->logger().warn("credentials not available yet", Json::Value(r.error().describe()));
      }
      ecr_ = std::make_unique<ecr::EcrClient>(**ecr_aws);
      stacks_ = std::make_unique<CloudFormationStackResolver>(**cfn_aws);
      flow_ = std::make_unique<HookFlow>(*ecr_, stacks_.get(), *config, session_->clock(), session_->sleeper(),
                                         session_->random(), session_->logger());
    }
    return flow_->handle(event, info.deadline, info.metrics);
  }

 private:
  // A configuration problem is still answered in the Hooks shape, so the stack event says what is wrong.
  static std::string hook_failure(const Json::Value& event, const Error& error) {
    auto r = cfn::HookResponse::failed(cfn::HookErrorCode::InternalFailure,
                                       "ecr-sweeper is misconfigured: " + error.describe());
    return cfn::build_hook_response(r, event.isObject() && event["clientRequestToken"].isString()
                                           ? event["clientRequestToken"].asString()
                                           : std::string());
  }

  AwsSession* session_;
  std::unique_ptr<ecr::EcrClient> ecr_;
  std::unique_ptr<CloudFormationStackResolver> stacks_;
  std::unique_ptr<HookFlow> flow_;
};

}  // namespace

std::unique_ptr<EventMode> make_hook_mode(AwsSession& session) { return std::make_unique<HookMode>(session); }

}  // namespace ecrs::handler
