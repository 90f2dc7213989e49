#pragma once
// The services that answer from the per-account Worlds (what runs images, which regions exist) and authenticate
// through Principals, so a key STS issued reads its own account's World. They differ only in their handle().
#include "aws_protocols.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/localaws/world.hpp"

namespace ecrs::localaws {

class WorldService : public Service {
 public:
  WorldService(Worlds& worlds, Principals& principals, const Clock& clock)
      : worlds_(worlds), principals_(principals), clock_(clock) {}

 protected:
  Worlds& worlds_;
  Principals& principals_;
  const Clock& clock_;
};

// AWS App Runner, awsJson1.0 (X-Amz-Target: AppRunner.<Op>): ListServices, DescribeService.
class AppRunnerService final : public WorldService {
 public:
  using WorldService::WorldService;
  bool handle(const HttpRequest& req, const Responder& respond) override;
};

// Amazon EC2 DescribeRegions, query protocol (POST / form, Version 2016-11-15): the enabled regions of Worlds.
class Ec2Service final : public WorldService {
 public:
  using WorldService::WorldService;
  bool handle(const HttpRequest& req, const Responder& respond) override;
};

// Amazon ECS, awsJson1.1 (X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>): ListClusters, ListServices,
// DescribeServices, ListTasks, DescribeTasks, DescribeTaskDefinition over the account's World.
class EcsService final : public WorldService {
 public:
  using WorldService::WorldService;
  bool handle(const HttpRequest& req, const Responder& respond) override;
};

// Lambda management, restJson1 under /2015-03-31/functions: ListFunctions, ListVersionsByFunction, ListAliases,
// GetFunction. The Runtime API service (runtime_api.cpp) answers .../{name}/invocations and is asked first.
class LambdaService final : public WorldService {
 public:
  using WorldService::WorldService;
  bool handle(const HttpRequest& req, const Responder& respond) override;
};

// AWS STS, query protocol (POST / form, Version 2011-06-15): GetCallerIdentity and AssumeRole. AssumeRole hands
// out temporary keys for the role ARN's account; the other services then read that account's World.
class StsService final : public WorldService {
 public:
  using WorldService::WorldService;
  bool handle(const HttpRequest& req, const Responder& respond) override;
};

}  // namespace ecrs::localaws
