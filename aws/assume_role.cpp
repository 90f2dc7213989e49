#include "ecrs/aws/assume_role.hpp"

#include "credential_util.hpp"
#include "ecrs/aws/xml.hpp"

namespace ecrs::aws {
namespace {

std::string default_session_name(const Clock& clock) {
  return "ecr-sweeper-" +
         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
}

}  // namespace

Result<sigv4::Credentials> parse_assume_role_response(std::string_view xml, const std::string& context) {
  auto akid = xml_text(xml, "AccessKeyId");
  auto secret = xml_text(xml, "SecretAccessKey");
  auto token = xml_text(xml, "SessionToken");
  if (!akid || !secret || !token || akid->empty() || secret->empty())
    return detail::failed("the reply lacks AccessKeyId, SecretAccessKey or SessionToken", context);
  sigv4::Credentials c;
  c.access_key_id = *akid;
  c.secret_access_key = Secret(*secret);
  c.session_token = Secret(*token);
  if (auto expiration = xml_text(xml, "Expiration")) {
    c.expiration = parse_iso8601(*expiration);
    if (!c.expiration) return detail::failed("the reply has an unreadable Expiration \"" + *expiration + "\"", context);
  }
  return c;
}

// One AssumeRole call per credentials(); the CachingCredentialsProvider around it decides when.
class AssumeRoleProvider::Fetcher final : public CredentialsProvider {
 public:
  Fetcher(AwsClient& sts, const AssumeRoleParams& params, const Clock& clock, CredentialsProvider* source)
      : sts_(sts), params_(params), clock_(clock), source_(source) {}

  Result<sigv4::Credentials> credentials() override {
    const std::string context = "AssumeRole role=" + params_.role_arn + (params_.origin.empty() ? "" : " (" + params_.origin + ")");
    if (params_.mfa_serial)
      return detail::failed("the role needs an MFA code (mfa_serial " + *params_.mfa_serial +
                                ") and ecr-sweeper cannot prompt for one; use credentials that already passed MFA "
                                "(e.g. `aws sts get-session-token` into environment variables, or credential_process)",
                            context);
    if (source_ != nullptr) {
      // The source's own "not configured" must stop the chain here: the profile asked for it explicitly.
      auto probe = source_->credentials();
      if (!probe) {
        Error e = std::move(probe).error();
        if (e.code == kCredentialsNotConfigured)
          return detail::failed("the source credentials are not available: " + e.message, context);
        e.context = context + (e.context.empty() ? "" : ": " + e.context);
        return e;
      }
    }
    std::vector<std::pair<std::string, std::string>> form = {
        {"RoleArn", params_.role_arn},
        {"RoleSessionName", params_.role_session_name.empty() ? default_session_name(clock_) : params_.role_session_name}};
    if (params_.duration_seconds) form.emplace_back("DurationSeconds", std::to_string(*params_.duration_seconds));
    if (params_.external_id) form.emplace_back("ExternalId", *params_.external_id);
    CallOptions options;
    options.context = "role=" + params_.role_arn;
    auto xml = sts_.query_call("AssumeRole", form, kStsApiVersion, options);
    if (!xml) return xml.error();
    return parse_assume_role_response(*xml, context);
  }

 private:
  AwsClient& sts_;
  const AssumeRoleParams& params_;
  const Clock& clock_;
  CredentialsProvider* source_;
};

AssumeRoleProvider::AssumeRoleProvider(AwsClient& sts, AssumeRoleParams params, const Clock& clock, Logger* logger)
    : params_(std::move(params)) {
  cache_ = std::make_unique<CachingCredentialsProvider>(std::make_unique<Fetcher>(sts, params_, clock, nullptr), clock,
                                                        logger);
}

AssumeRoleProvider::AssumeRoleProvider(std::shared_ptr<CredentialsProvider> source, Endpoint sts_endpoint,
                                       AssumeRoleParams params, const CredentialContext& ctx, int max_attempts)
    : params_(std::move(params)), source_(std::move(source)), retry_(std::make_unique<RetryStrategy>(max_attempts)) {
  AwsContext aws{ctx.transport, *source_, ctx.clock, ctx.sleeper, ctx.random, *retry_, ctx.logger};
  owned_sts_ = std::make_unique<AwsClient>(aws, std::move(sts_endpoint));
  cache_ = std::make_unique<CachingCredentialsProvider>(
      std::make_unique<Fetcher>(*owned_sts_, params_, ctx.clock, source_.get()), ctx.clock, ctx.logger);
}

AssumeRoleProvider::~AssumeRoleProvider() = default;

Result<sigv4::Credentials> AssumeRoleProvider::credentials() { return cache_->credentials(); }

std::string AssumeRoleProvider::identity() const {
  std::string id = "assume-role:" + params_.role_arn;
  if (!params_.role_session_name.empty()) id += "|session=" + params_.role_session_name;
  if (source_) id += "|source=" + source_->identity();
  return id;
}

}  // namespace ecrs::aws
