#pragma once
// The ECS calls the in-use scan needs, awsJson1.1 (botocore/data/ecs/2014-11-13/service-2.json: targetPrefix
// AmazonEC2ContainerServiceV20141113). Members keep the model's names in snake_case.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/aws/client.hpp"
#include "ecrs/cleanup/call_policy.hpp"
#include "ecrs/common/result.hpp"

namespace ecrs::cleanup {

inline constexpr std::string_view kEcsTargetPrefix = "AmazonEC2ContainerServiceV20141113";
// DescribeServices: "You may specify up to 10 services to describe" (ECS API reference, services member).
inline constexpr std::size_t kMaxDescribeServices = 10;
// DescribeTasks: "A list of up to 100 task IDs or full ARN entries" (ECS API reference, tasks member).
inline constexpr std::size_t kMaxDescribeTasks = 100;
// ListClusters/ListServices/ListTasks maxResults upper bound (ECS API reference).
inline constexpr int kMaxEcsListResults = 100;

struct EcsPage {
  std::vector<std::string> arns;
  std::optional<std::string> next_token;
};

struct EcsDeployment {  // shape Deployment
  std::string id;
  std::string status;  // PRIMARY | ACTIVE | INACTIVE
  std::string task_definition;
};
struct EcsService {  // shape Service
  std::string service_arn;
  std::string service_name;
  int desired_count = 0;
  std::string task_definition;
  std::vector<EcsDeployment> deployments;
};
struct EcsContainer {  // shape Container
  std::string name;
  std::string image;
  std::string image_digest;  // the digest the agent resolved when the task started
};
struct EcsTask {  // shape Task
  std::string task_arn;
  std::string task_definition_arn;
  std::string last_status;
  std::vector<EcsContainer> containers;
};
struct EcsContainerDefinition {
  std::string name;
  std::string image;
};
struct EcsTaskDefinition {
  std::string task_definition_arn;
  std::vector<EcsContainerDefinition> container_definitions;
};

class EcsClient {
 public:
  // `policy` (optional, must outlive the client): deadline and throttling patience for every call.
  explicit EcsClient(aws::AwsClient& aws, const CallPolicy* policy = nullptr) : aws_(&aws), policy_(policy) {}
  Result<EcsPage> list_clusters(const std::optional<std::string>& next_token);
  Result<EcsPage> list_services(const std::string& cluster, const std::optional<std::string>& next_token);
  // desired_status RUNNING (the default) or STOPPED.
  Result<EcsPage> list_tasks(const std::string& cluster, const std::optional<std::string>& next_token,
                             const std::string& desired_status = "RUNNING");
  Result<std::vector<EcsService>> describe_services(const std::string& cluster, const std::vector<std::string>& services);
  Result<std::vector<EcsTask>> describe_tasks(const std::string& cluster, const std::vector<std::string>& tasks);
  Result<EcsTaskDefinition> describe_task_definition(const std::string& task_definition);

 private:
  Result<Json::Value> call(std::string_view op, const Json::Value& input, const std::string& subject);
  aws::AwsClient* aws_;
  const CallPolicy* policy_;
};

// Pure decoders (tests).
Result<std::vector<EcsService>> decode_describe_services(const Json::Value& body);
Result<std::vector<EcsTask>> decode_describe_tasks(const Json::Value& body);

}  // namespace ecrs::cleanup
