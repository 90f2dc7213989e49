#pragma once
// AWS App Runner, awsJson1.0 (X-Amz-Target: AppRunner.<Op>): ListServices, DescribeService.
#include "aws_protocols.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/localaws/world.hpp"

namespace ecrs::localaws {

class AppRunnerService : public Service {
 public:
  AppRunnerService(Worlds& worlds, Principals& principals, const Clock& clock)
      : worlds_(worlds), principals_(principals), clock_(clock) {}
  bool handle(const HttpRequest& req, const Responder& respond) override;

 private:
  Worlds& worlds_;
  Principals& principals_;
  const Clock& clock_;
};

}  // namespace ecrs::localaws
