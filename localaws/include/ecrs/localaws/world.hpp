#pragma once
// What runs in the emulated accounts: ECS clusters (services with deployments, tasks, task definitions), Lambda
// functions (versions, aliases) and App Runner services. Tests seed it directly; the ECS, Lambda and App Runner
// services read it. One World per account: STS AssumeRole hands out credentials for another account's World.
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ecrs::localaws {

struct EcsContainerDefinitionSpec {
  std::string name;
  std::string image;
};
struct EcsTaskDefinitionSpec {
  std::string family;
  int revision = 1;
  std::vector<EcsContainerDefinitionSpec> containers;
};
struct EcsDeploymentSpec {
  std::string id;
  std::string status;           // PRIMARY | ACTIVE | INACTIVE
  std::string task_definition;  // "family:revision"
};
struct EcsServiceSpec {
  std::string name;
  int desired_count = 1;
  std::vector<EcsDeploymentSpec> deployments;  // the PRIMARY one is the service's taskDefinition
};
struct EcsContainerSpec {
  std::string name;
  std::string image;
  std::string image_digest;
};
struct EcsTaskSpec {
  std::string id;
  std::string task_definition;  // "family:revision"
  std::string last_status = "RUNNING";
  std::string desired_status = "RUNNING";
  std::vector<EcsContainerSpec> containers;
};
struct EcsClusterSpec {
  std::vector<EcsServiceSpec> services;
  std::vector<EcsTaskSpec> tasks;
};
struct LambdaVersionSpec {
  std::string version;  // "$LATEST", "1", ...
  std::string image_uri;
  std::string resolved_image_uri;
};
struct LambdaFunctionSpec {
  std::string package_type = "Image";
  std::vector<LambdaVersionSpec> versions;
  std::map<std::string, std::string> aliases;                         // alias -> version
  std::map<std::string, std::map<std::string, double>> alias_weights;  // alias -> additional version -> weight
};
struct AppRunnerServiceSpec {
  std::string name;
  std::string image_identifier;
  std::string image_repository_type = "ECR";
};

struct World {
  std::map<std::string, EcsClusterSpec> clusters;                 // by cluster name
  std::map<std::string, EcsTaskDefinitionSpec> task_definitions;  // by "family:revision"
  std::map<std::string, LambdaFunctionSpec> functions;            // by function name
  std::vector<AppRunnerServiceSpec> apprunner_services;
};

// Every account's World, and the credentials that reach each account (the main keys, and any AssumeRole gave).
class Worlds {
 public:
  Worlds(std::string main_account, std::string region) : main_(std::move(main_account)), region_(std::move(region)) {}
  std::mutex& mutex() const { return mu_; }
  // Locked by the caller (or before serving starts).
  World& world(const std::string& account) { return worlds_[account]; }
  const std::string& main_account() const { return main_; }
  const std::string& region() const { return region_; }
  std::vector<std::string> enabled_regions{"us-east-1", "us-west-2", "eu-west-1"};

 private:
  std::string main_;
  std::string region_;
  mutable std::mutex mu_;
  std::map<std::string, World> worlds_;
};

}  // namespace ecrs::localaws
