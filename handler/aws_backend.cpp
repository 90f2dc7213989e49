#include "ecrs/handler/aws_backend.hpp"

namespace ecrs::handler {

std::string lambda_invoke_path(const std::string& function_name_or_arn) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = kLambdaInvokePathPrefix;
  for (unsigned char c : function_name_or_arn) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out + kLambdaInvokePathSuffix;
}

Result<bool> AwsBackend::repository_exists(const std::string& repository,
                                           const std::optional<std::string>& registry_id) {
  ecr::DescribeRepositoriesRequest req;
  req.registry_id = registry_id;
  req.repository_names = {repository};
  auto r = ecr_->describe_repositories(req);
  if (!r) {
    if (r.error().code == "RepositoryNotFoundException") return false;
    return r.error();
  }
  return !r->repositories.empty();
}

Result<ecr::EmptyReport> AwsBackend::empty_repository(const ecr::EmptyOptions& options) {
  Logger log = *logger_;
  return ecr::empty_repository(*ecr_, options, *clock_, *sleeper_, *random_, log);
}

Result<void> AwsBackend::invoke_async(const std::string& function_arn, const std::string& payload) {
  aws::CallOptions options;
  options.context = "InvocationType=Event";
  // InvocationType=Event: Lambda queues the event and answers 202 at once (API_Invoke).
  auto r = lambda_->rest_call("POST", lambda_invoke_path(function_arn), payload,
                              {{"X-Amz-Invocation-Type", "Event"}, {"Content-Type", "application/json"}}, options, "Invoke");
  if (!r) return r.error();
  return {};
}

}  // namespace ecrs::handler
