#pragma once
// Region and endpoint resolution from ONE rule table (endpoints.cpp): partitions by region prefix, services by
// endpoint prefix, overrides as the SDKs apply them (SDKREF feature-ss-endpoints; lambda-runtime.md §5).
#include <optional>
#include <string>
#include <string_view>

#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::aws {

struct ServiceInfo {
  std::string_view service_id;       // botocore serviceId: AWS_ENDPOINT_URL_<upper, spaces -> _>
  std::string_view endpoint_prefix;  // host label: "api.ecr"
  std::string_view signing_name;     // SigV4 service: "ecr"
  bool global = false;               // one endpoint per partition (Organizations)
};

// From botocore's service-2.json metadata (serviceId, endpointPrefix, signingName).
inline constexpr ServiceInfo kEcr{"ECR", "api.ecr", "ecr"};
inline constexpr ServiceInfo kLambda{"Lambda", "lambda", "lambda"};
inline constexpr ServiceInfo kSts{"STS", "sts", "sts"};
inline constexpr ServiceInfo kEcs{"ECS", "ecs", "ecs"};
inline constexpr ServiceInfo kAppRunner{"AppRunner", "apprunner", "apprunner"};
inline constexpr ServiceInfo kS3{"S3", "s3", "s3"};
inline constexpr ServiceInfo kOrganizations{"Organizations", "organizations", "organizations", true};
inline constexpr ServiceInfo kEc2{"EC2", "ec2", "ec2"};
inline constexpr ServiceInfo kCloudFormation{"CloudFormation", "cloudformation", "cloudformation"};

struct Endpoint {
  std::string url;             // scheme://host[:port][/base path], no trailing slash
  std::string signing_region;
  std::string signing_name;
};

// Region names are lowercase letters, digits and single hyphens ("us-east-1", "cn-north-1"): checked before
// a region reaches a hostname.
bool is_valid_region(std::string_view region);

// --region, then AWS_REGION, AWS_DEFAULT_REGION, then `region` of the active profile in the config file.
Result<std::string> resolve_region(std::optional<std::string> cli_region, const Environment& env);

// explicit_url > AWS_ENDPOINT_URL_<SERVICE_ID> > AWS_ENDPOINT_URL > the rule table.
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true disables the two environment overrides.
Result<Endpoint> resolve_endpoint(const ServiceInfo& service, std::string_view region, const Environment& env,
                                  std::optional<std::string> explicit_url = {});

// "AWS_ENDPOINT_URL_" + service_id upper-cased with spaces as '_' ("ECR PUBLIC" -> AWS_ENDPOINT_URL_ECR_PUBLIC).
std::string endpoint_env_var(const ServiceInfo& service);

}  // namespace ecrs::aws
