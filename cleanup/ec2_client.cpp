#include "ecrs/cleanup/ec2_client.hpp"

#include "ecrs/aws/xml.hpp"
#include "ecrs/cleanup/decode.hpp"

namespace ecrs::cleanup {

std::vector<std::string> parse_region_names(std::string_view xml) {
  constexpr std::string_view kOpen = "<regionName>", kClose = "</regionName>";
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = xml.find(kOpen, pos)) != std::string_view::npos) {
    pos += kOpen.size();
    const auto end = xml.find(kClose, pos);
    if (end == std::string_view::npos) break;
    out.push_back(aws::xml_unescape(xml.substr(pos, end - pos)));
    pos = end + kClose.size();
  }
  return out;
}

Result<std::vector<std::string>> Ec2Client::describe_regions() {
  ECRS_CLEANUP_TRY(xml, call_with(policy_, "", [&](const aws::CallOptions& options) {
                     return aws_->query_call("DescribeRegions", {}, kEc2Version, options);
                   }));
  auto regions = parse_region_names(xml);
  if (regions.empty()) return detail::invalid("DescribeRegionsResponse lists no region");
  return regions;
}

}  // namespace ecrs::cleanup
