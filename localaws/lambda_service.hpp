#pragma once
// Lambda management, restJson1 under /2015-03-31/functions: ListFunctions, ListVersionsByFunction, ListAliases,
// GetFunction. The Runtime API service (runtime_api.cpp) answers .../{name}/invocations and is asked first.
#include "aws_protocols.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/localaws/world.hpp"

namespace ecrs::localaws {

class LambdaService : public Service {
 public:
  LambdaService(Worlds& worlds, Principals& principals, const Clock& clock)
      : worlds_(worlds), principals_(principals), clock_(clock) {}
  bool handle(const HttpRequest& req, const Responder& respond) override;

 private:
  Worlds& worlds_;
  Principals& principals_;
  const Clock& clock_;
};

}  // namespace ecrs::localaws
