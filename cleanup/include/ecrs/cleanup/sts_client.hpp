#pragma once
// STS over the query protocol (Version 2011-06-15): who we are, and credentials for another account's role.
#include <memory>
#include <string>

#include "ecrs/aws/client.hpp"
#include "ecrs/aws/credentials.hpp"
#include "ecrs/common/result.hpp"

namespace ecrs::cleanup {

inline constexpr const char* kStsVersion = "2011-06-15";
// AssumeRole DurationSeconds default (STS API reference: 900 s minimum, 3600 s default).
inline constexpr int kAssumeRoleDurationSeconds = 3600;

struct CallerIdentity {
  std::string account;
  std::string arn;
};

class StsClient {
 public:
  explicit StsClient(aws::AwsClient& aws) : aws_(&aws) {}
  Result<CallerIdentity> get_caller_identity();
  // Temporary credentials for `role_arn`; the account is the role ARN's fifth field.
  Result<sigv4::Credentials> assume_role(const std::string& role_arn, const std::string& role_session_name);

 private:
  aws::AwsClient* aws_;
};

// "arn:aws:iam::<account>:role/<name>" -> account; "" when the ARN does not parse.
std::string account_of_arn(const std::string& arn);

}  // namespace ecrs::cleanup
