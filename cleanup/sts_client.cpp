#include "ecrs/cleanup/sts_client.hpp"

#include "ecrs/aws/xml.hpp"
#include "ecrs/cleanup/decode.hpp"

namespace ecrs::cleanup {

Result<CallerIdentity> StsClient::get_caller_identity() {
  ECRS_CLEANUP_TRY(xml, aws_->query_call("GetCallerIdentity", {}, kStsVersion));
  CallerIdentity id;
  auto account = aws::xml_text(xml, "Account");
  if (!account) return detail::invalid("GetCallerIdentityResponse has no Account");
  id.account = *account;
  id.arn = aws::xml_text(xml, "Arn").value_or("");
  return id;
}

Result<sigv4::Credentials> StsClient::assume_role(const std::string& role_arn, const std::string& role_session_name) {
  aws::CallOptions options;
  options.context = "role=" + role_arn;
  ECRS_CLEANUP_TRY(xml, aws_->query_call("AssumeRole",
                                         {{"RoleArn", role_arn},
                                          {"RoleSessionName", role_session_name},
                                          {"DurationSeconds", std::to_string(kAssumeRoleDurationSeconds)}},
                                         kStsVersion, options));
  auto key = aws::xml_text(xml, "AccessKeyId");
  auto secret = aws::xml_text(xml, "SecretAccessKey");
  auto token = aws::xml_text(xml, "SessionToken");
  if (!key || !secret || !token) return detail::invalid("AssumeRoleResponse has no Credentials");
  sigv4::Credentials creds;
  creds.access_key_id = *key;
  creds.secret_access_key = Secret(*secret);
  creds.session_token = Secret(*token);
  return creds;
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
