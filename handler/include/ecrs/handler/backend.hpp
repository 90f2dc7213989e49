#pragma once
// The I/O the custom-resource flow needs, behind one seam: the real implementation talks to ECR and Lambda
// through aws::AwsClient; the flow itself only decides and reports.
#include <optional>
#include <string>

#include "ecrs/common/result.hpp"
#include "ecrs/ecr/executor.hpp"

namespace ecrs::handler {

class SweeperBackend {
 public:
  virtual ~SweeperBackend() = default;
  // true when DescribeRepositories finds it, false on RepositoryNotFoundException, an Error otherwise.
  virtual Result<bool> repository_exists(const std::string& repository, const std::optional<std::string>& registry_id) = 0;
  virtual Result<ecr::EmptyReport> empty_repository(const ecr::EmptyOptions& options) = 0;
  // Lambda Invoke with InvocationType=Event (asynchronous): 202 expected.
  virtual Result<void> invoke_async(const std::string& function_arn, const std::string& payload) = 0;
};

}  // namespace ecrs::handler
