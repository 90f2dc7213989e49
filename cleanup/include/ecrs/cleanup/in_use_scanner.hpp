#pragma once
// Builds the in-use set of one account in one region: ECS running tasks (each container's image and the digest
// the agent resolved), every ECS service (desired count 0 included) with every deployment's task definition
// (PRIMARY, ACTIVE and any other still listed: a rollback target), Lambda functions of PackageType Image
// (every published version, $LATEST and the versions aliases route to, weighted aliases included) and App
// Runner image services. Any error fails the scan: a partial in-use set could delete a running image.
// Not yet covered (named in every report): EKS, EventBridge Scheduler / ECS scheduled tasks, AWS Batch.
#include <string>
#include <vector>

#include "ecrs/cleanup/apprunner_client.hpp"
#include "ecrs/cleanup/ecs_client.hpp"
#include "ecrs/cleanup/lambda_client.hpp"
#include "ecrs/cleanup/selection_planner.hpp"
#include "ecrs/common/log.hpp"

namespace ecrs::cleanup {

inline constexpr const char* kNotCovered[] = {"EKS", "EventBridge Scheduler", "ECS scheduled tasks", "AWS Batch"};

struct ScanCounts {
  int clusters = 0, services = 0, tasks = 0, task_definitions = 0, functions = 0, function_versions = 0,
      apprunner_services = 0;
};

struct ScanResult {
  std::vector<InUseRef> refs;
  ScanCounts counts;
};

struct ScanClients {
  EcsClient* ecs = nullptr;              // null: not scanned
  LambdaClient* lambda = nullptr;
  AppRunnerClient* apprunner = nullptr;
  std::string label;                     // "123456789012/us-east-1", prefixed to each user
};

Result<ScanResult> scan_in_use(const ScanClients& clients, Logger& logger);

}  // namespace ecrs::cleanup
