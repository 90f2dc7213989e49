#pragma once
// EC2 DescribeRegions over the query protocol (Version 2016-11-15): the regions enabled for the account
// (AllRegions=false, the default, omits opted-out regions; EC2 API reference DescribeRegions).
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/aws/client.hpp"
#include "ecrs/cleanup/call_policy.hpp"
#include "ecrs/common/result.hpp"

namespace ecrs::cleanup {

inline constexpr const char* kEc2Version = "2016-11-15";

class Ec2Client {
 public:
  // `policy` (optional, must outlive the client): deadline and throttling patience for every call.
  explicit Ec2Client(aws::AwsClient& aws, const CallPolicy* policy = nullptr) : aws_(&aws), policy_(policy) {}
  Result<std::vector<std::string>> describe_regions();

 private:
  aws::AwsClient* aws_;
  const CallPolicy* policy_;
};

// Every <regionName> in a DescribeRegionsResponse, in order.
std::vector<std::string> parse_region_names(std::string_view xml);

}  // namespace ecrs::cleanup
