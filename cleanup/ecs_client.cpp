#include "ecrs/cleanup/ecs_client.hpp"

#include "ecrs/cleanup/decode.hpp"

namespace ecrs::cleanup {

using detail::array_member;
using detail::opt_string;

Result<Json::Value> EcsClient::call(std::string_view op, const Json::Value& input, const std::string& subject) {
  return call_with(policy_, subject, [&](const aws::CallOptions& options) {
    return aws_->json_call(kEcsTargetPrefix, op, input, options, "1.1");
  });
}

namespace {

Result<EcsPage> decode_page(const Json::Value& body, const char* member, const char* shape) {
  EcsPage page;
  ECRS_CLEANUP_TRY(arns, detail::string_list(body, member, shape));
  page.arns = std::move(arns);
  ECRS_CLEANUP_TRY(token, opt_string(body, "nextToken", shape));
  if (!token.empty()) page.next_token = token;
  return page;
}

}  // namespace

Result<EcsPage> EcsClient::list_clusters(const std::optional<std::string>& next_token) {
  Json::Value in(Json::objectValue);
  in["maxResults"] = kMaxEcsListResults;
  if (next_token) in["nextToken"] = *next_token;
  ECRS_CLEANUP_TRY(body, call("ListClusters", in, ""));
  return decode_page(body, "clusterArns", "ListClustersResponse");
}

Result<EcsPage> EcsClient::list_services(const std::string& cluster, const std::optional<std::string>& next_token) {
  Json::Value in(Json::objectValue);
  in["cluster"] = cluster;
  in["maxResults"] = kMaxEcsListResults;
  if (next_token) in["nextToken"] = *next_token;
  ECRS_CLEANUP_TRY(body, call("ListServices", in, "cluster=" + cluster));
  return decode_page(body, "serviceArns", "ListServicesResponse");
}

Result<EcsPage> EcsClient::list_tasks(const std::string& cluster, const std::optional<std::string>& next_token,
                                      const std::string& desired_status) {
  Json::Value in(Json::objectValue);
  in["cluster"] = cluster;
  in["maxResults"] = kMaxEcsListResults;
  in["desiredStatus"] = desired_status;
  if (next_token) in["nextToken"] = *next_token;
  ECRS_CLEANUP_TRY(body, call("ListTasks", in, "cluster=" + cluster));
  return decode_page(body, "taskArns", "ListTasksResponse");
}

Result<std::vector<EcsService>> decode_describe_services(const Json::Value& body) {
  std::vector<EcsService> out;
  ECRS_CLEANUP_TRY(services, array_member(body, "services", "DescribeServicesResponse"));
  for (const auto& s : services) {
    EcsService svc;
    ECRS_CLEANUP_TRY(arn, opt_string(s, "serviceArn", "Service"));
    ECRS_CLEANUP_TRY(name, opt_string(s, "serviceName", "Service"));
    ECRS_CLEANUP_TRY(td, opt_string(s, "taskDefinition", "Service"));
    svc.service_arn = arn;
    svc.service_name = name;
    svc.task_definition = td;
    if (s.isMember("desiredCount")) {
      if (!s["desiredCount"].isInt()) return detail::invalid("Service.desiredCount is not an integer");
      svc.desired_count = s["desiredCount"].asInt();
    }
    ECRS_CLEANUP_TRY(deployments, array_member(s, "deployments", "Service"));
    for (const auto& d : deployments) {
      EcsDeployment dep;
      ECRS_CLEANUP_TRY(id, opt_string(d, "id", "Deployment"));
      ECRS_CLEANUP_TRY(status, opt_string(d, "status", "Deployment"));
      ECRS_CLEANUP_TRY(dtd, opt_string(d, "taskDefinition", "Deployment"));
      dep.id = id;
      dep.status = status;
      dep.task_definition = dtd;
      svc.deployments.push_back(std::move(dep));
    }
    out.push_back(std::move(svc));
  }
  return out;
}

Result<std::vector<EcsTask>> decode_describe_tasks(const Json::Value& body) {
  std::vector<EcsTask> out;
  ECRS_CLEANUP_TRY(tasks, array_member(body, "tasks", "DescribeTasksResponse"));
  for (const auto& t : tasks) {
    EcsTask task;
    ECRS_CLEANUP_TRY(arn, opt_string(t, "taskArn", "Task"));
    ECRS_CLEANUP_TRY(td, opt_string(t, "taskDefinitionArn", "Task"));
    ECRS_CLEANUP_TRY(status, opt_string(t, "lastStatus", "Task"));
    task.task_arn = arn;
    task.task_definition_arn = td;
    task.last_status = status;
    ECRS_CLEANUP_TRY(containers, array_member(t, "containers", "Task"));
    for (const auto& c : containers) {
      EcsContainer ct;
      ECRS_CLEANUP_TRY(name, opt_string(c, "name", "Container"));
      ECRS_CLEANUP_TRY(image, opt_string(c, "image", "Container"));
      ECRS_CLEANUP_TRY(digest, opt_string(c, "imageDigest", "Container"));
      ct.name = name;
      ct.image = image;
      ct.image_digest = digest;
      task.containers.push_back(std::move(ct));
    }
    out.push_back(std::move(task));
  }
  return out;
}

Result<std::vector<EcsService>> EcsClient::describe_services(const std::string& cluster,
                                                             const std::vector<std::string>& services) {
  Json::Value in(Json::objectValue);
  in["cluster"] = cluster;
  in["services"] = Json::Value(Json::arrayValue);
  for (const auto& s : services) in["services"].append(s);
  ECRS_CLEANUP_TRY(body, call("DescribeServices", in, "cluster=" + cluster));
  return decode_describe_services(body);
}

Result<std::vector<EcsTask>> EcsClient::describe_tasks(const std::string& cluster,
                                                       const std::vector<std::string>& tasks) {
  Json::Value in(Json::objectValue);
  in["cluster"] = cluster;
  in["tasks"] = Json::Value(Json::arrayValue);
  for (const auto& t : tasks) in["tasks"].append(t);
  ECRS_CLEANUP_TRY(body, call("DescribeTasks", in, "cluster=" + cluster));
  return decode_describe_tasks(body);
}

Result<EcsTaskDefinition> EcsClient::describe_task_definition(const std::string& task_definition) {
  Json::Value in(Json::objectValue);
  in["taskDefinition"] = task_definition;
  ECRS_CLEANUP_TRY(body, call("DescribeTaskDefinition", in, "taskDefinition=" + task_definition));
  EcsTaskDefinition out;
  const Json::Value& td = body["taskDefinition"];
  if (!td.isObject()) return detail::invalid("DescribeTaskDefinitionResponse.taskDefinition is missing");
  ECRS_CLEANUP_TRY(arn, opt_string(td, "taskDefinitionArn", "TaskDefinition"));
  out.task_definition_arn = arn;
  ECRS_CLEANUP_TRY(defs, array_member(td, "containerDefinitions", "TaskDefinition"));
  for (const auto& c : defs) {
    ECRS_CLEANUP_TRY(name, opt_string(c, "name", "ContainerDefinition"));
    ECRS_CLEANUP_TRY(image, opt_string(c, "image", "ContainerDefinition"));
    out.container_definitions.push_back({name, image});
  }
  return out;
}

}  // namespace ecrs::cleanup
