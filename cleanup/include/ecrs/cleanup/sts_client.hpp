#pragma once
// STS over the query protocol (Version 2011-06-15): who we are, and credentials for another account's role.
#include <chrono>
#include <memory>
#include <string>

#include "ecrs/aws/client.hpp"
#include "ecrs/cleanup/call_policy.hpp"
#include "ecrs/aws/credentials.hpp"
#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

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
  // `policy` (optional, must outlive the client): deadline and throttling patience for every call.
  explicit StsClient(aws::AwsClient& aws, const CallPolicy* policy = nullptr) : aws_(&aws), policy_(policy) {}
  Result<CallerIdentity> get_caller_identity();

 private:
  aws::AwsClient* aws_;
  const CallPolicy* policy_;
};

// THE one place where scheduled cleanup (clean --assume-role) and the sweep task turn a role ARN into
// credentials: an aws::AssumeRoleProvider, which assumes the role on first use and again inside botocore's
// refresh windows (aws::kAdvisoryRefresh before each Expiration), so a run longer than one session never signs
// with an expired token. `sts` and `clock` must outlive it.
std::shared_ptr<aws::CredentialsProvider> assume_role_provider(aws::AwsClient& sts, std::string role_arn,
                                                               std::string role_session_name, const Clock& clock);

// "arn:aws:iam::<account>:role/<name>" -> account; "" when the ARN does not parse.
std::string account_of_arn(const std::string& arn);

}  // namespace ecrs::cleanup
