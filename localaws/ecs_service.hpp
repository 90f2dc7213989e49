#pragma once
// Amazon ECS, awsJson1.1 (X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>): ListClusters, ListServices,
// DescribeServices, ListTasks, DescribeTasks, DescribeTaskDefinition over the account's World.
#include "aws_protocols.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/localaws/world.hpp"

namespace ecrs::localaws {

class EcsService : public Service {
 public:
  EcsService(Worlds& worlds, Principals& principals, const Clock& clock)
      : worlds_(worlds), principals_(principals), clock_(clock) {}
  bool handle(const HttpRequest& req, const Responder& respond) override;

 private:
  Worlds& worlds_;
  Principals& principals_;
  const Clock& clock_;
};

}  // namespace ecrs::localaws
