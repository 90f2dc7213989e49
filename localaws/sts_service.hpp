#pragma once
// AWS STS, query protocol (POST / form, Version 2011-06-15): GetCallerIdentity and AssumeRole. AssumeRole hands
// out temporary keys for the role ARN's account; the other services then read that account's World.
#include "aws_protocols.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/localaws/world.hpp"

namespace ecrs::localaws {

class StsService : public Service {
 public:
  StsService(Worlds& worlds, Principals& principals, const Clock& clock)
      : worlds_(worlds), principals_(principals), clock_(clock) {}
  bool handle(const HttpRequest& req, const Responder& respond) override;

 private:
  Worlds& worlds_;
  Principals& principals_;
  const Clock& clock_;
};

}  // namespace ecrs::localaws
