#pragma once
// AWS CloudFormation, query protocol (POST / form, Version 2010-05-15, SigV4 service "cloudformation"):
// DescribeStackResource over CloudFormationStacks. Replies follow botocore's cloudformation service-2.json
// (DescribeStackResourceResult/StackResourceDetail); failures are the XML ErrorResponse AWS sends.
#include "aws_protocols.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/localaws/cloudformation_stacks.hpp"

namespace ecrs::localaws {

class CloudFormationService : public Service {
 public:
  CloudFormationService(CloudFormationStacks& stacks, Principals& principals, std::string region, const Clock& clock,
                        Random& request_ids)
      : stacks_(stacks), principals_(principals), region_(std::move(region)), clock_(clock),
        request_ids_(request_ids) {}
  bool handle(const HttpRequest& req, const Responder& respond) override;

 private:
  CloudFormationStacks& stacks_;
  Principals& principals_;
  std::string region_;
  const Clock& clock_;
  Random& request_ids_;
};

}  // namespace ecrs::localaws
