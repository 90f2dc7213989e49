#include "ecrs/cleanup/sts_client.hpp"

#include <utility>

#include "ecrs/aws/assume_role.hpp"
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

std::shared_ptr<aws::CredentialsProvider> assume_role_provider(aws::AwsClient& sts, std::string role_arn,
                                                               std::string role_session_name, const Clock& clock) {
  aws::AssumeRoleParams params;
  params.role_arn = std::move(role_arn);
  params.role_session_name = std::move(role_session_name);
  params.duration_seconds = kAssumeRoleDurationSeconds;
  params.origin = "--assume-role";
  return std::make_shared<aws::AssumeRoleProvider>(sts, std::move(params), clock);
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
