#pragma once
// EC2 DescribeRegions over the query protocol (Version 2016-11-15): the regions enabled for the account
// (AllRegions=false, the default, omits opted-out regions; EC2 API reference DescribeRegions).
#include <string>
#include <string_view>
#include <vector>

#include "ecrs/aws/client.hpp"
#include "ecrs/common/result.hpp"

namespace ecrs::cleanup {

inline constexpr const char* kEc2Version = "2016-11-15";

class Ec2Client {
 public:
  explicit Ec2Client(aws::AwsClient& aws) : aws_(&aws) {}
  Result<std::vector<std::string>> describe_regions();

 private:
  aws::AwsClient* aws_;
};

// Every <regionName> in a DescribeRegionsResponse, in order.
std::vector<std::string> parse_region_names(std::string_view xml);

}  // namespace ecrs::cleanup
