#include "ecrs/cleanup/sts_client.hpp"

#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "ecrs/aws/xml.hpp"
#include "ecrs/cleanup/decode.hpp"

namespace ecrs::cleanup {

Result<CallerIdentity> StsClient::get_caller_identity() {
  ECRS_CLEANUP_TRY(xml, call_with(policy_, "", [&](const aws::CallOptions& options) {
                     return aws_->query_call("GetCallerIdentity", {}, kStsVersion, options);
                   }));
  CallerIdentity id;
  auto account = aws::xml_text(xml, "Account");
  if (!account) return detail::invalid("GetCallerIdentityResponse has no Account");
  id.account = *account;
  id.arn = aws::xml_text(xml, "Arn").value_or("");
  return id;
}

Result<sigv4::Credentials> StsClient::assume_role(const std::string& role_arn, const std::string& role_session_name) {
  const std::vector<std::pair<std::string, std::string>> params{
      {"RoleArn", role_arn},
      {"RoleSessionName", role_session_name},
      {"DurationSeconds", std::to_string(kAssumeRoleDurationSeconds)}};
  ECRS_CLEANUP_TRY(xml, call_with(policy_, "role=" + role_arn, [&](const aws::CallOptions& options) {
                     return aws_->query_call("AssumeRole", params, kStsVersion, options);
                   }));
  auto key = aws::xml_text(xml, "AccessKeyId");
  auto secret = aws::xml_text(xml, "SecretAccessKey");
  auto token = aws::xml_text(xml, "SessionToken");
  if (!key || !secret || !token) return detail::invalid("AssumeRoleResponse has no Credentials");
  sigv4::Credentials creds;
  creds.access_key_id = *key;
  creds.secret_access_key = Secret(*secret);
  creds.session_token = Secret(*token);
  if (auto expiration = aws::xml_text(xml, "Expiration")) creds.expiration = aws::parse_iso8601(*expiration);
  return creds;
}

namespace {

class AssumedRoleProvider final : public aws::CredentialsProvider {
 public:
  AssumedRoleProvider(aws::AwsClient& sts, std::string role_arn, std::string session_name, const Clock& clock)
      : sts_(&sts), role_arn_(std::move(role_arn)), session_name_(std::move(session_name)), clock_(&clock) {}

  Result<sigv4::Credentials> credentials() override {
    std::lock_guard lock(mu_);
    const auto now = clock_->now();
    if (cached_ && cached_->expiration && *cached_->expiration - kAssumedRoleRefreshMargin > now) return *cached_;
    StsClient sts(*sts_);
    auto fresh = sts.assume_role(role_arn_, session_name_);
    if (!fresh) return fresh.error();
    // STS always sends Expiration; without one, assume the duration we asked for.
    if (!fresh->expiration) fresh->expiration = now + std::chrono::seconds(kAssumeRoleDurationSeconds);
    cached_ = std::move(*fresh);
    return *cached_;
  }

 private:
  aws::AwsClient* sts_;
  std::string role_arn_;
  std::string session_name_;
  const Clock* clock_;
  std::mutex mu_;
  std::optional<sigv4::Credentials> cached_;
};

}  // namespace

std::shared_ptr<aws::CredentialsProvider> assume_role_provider(aws::AwsClient& sts, std::string role_arn,
                                                               std::string role_session_name, const Clock& clock) {
  return std::make_shared<AssumedRoleProvider>(sts, std::move(role_arn), std::move(role_session_name), clock);
}

std::string account_of_arn(const std::string& arn) {
  // arn:partition:service:region:account:resource
  std::size_t pos = 0;
  for (int field = 0; field < 4; ++field) {
    pos = arn.find(':', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  const auto end = arn.find(':', pos);
  return end == std::string::npos ? "" : arn.substr(pos, end - pos);
}

}  // namespace ecrs::cleanup
