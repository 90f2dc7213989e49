#pragma once
// Amazon EC2 DescribeRegions, query protocol (POST / form, Version 2016-11-15): the enabled regions of Worlds.
#include "aws_protocols.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/localaws/world.hpp"

namespace ecrs::localaws {

class Ec2Service : public Service {
 public:
  Ec2Service(Worlds& worlds, Principals& principals, const Clock& clock)
      : worlds_(worlds), principals_(principals), clock_(clock) {}
  bool handle(const HttpRequest& req, const Responder& respond) override;

 private:
  Worlds& worlds_;
  Principals& principals_;
  const Clock& clock_;
};

}  // namespace ecrs::localaws
