#pragma once
// Region and endpoint resolution from ONE rule table (endpoints.cpp): partitions by region prefix, services by
// endpoint prefix, overrides as the SDKs apply them (SDKREF feature-ss-endpoints; lambda-runtime.md §5).
#include <optional>
#include <string>
#include <string_view>

#include "ecrs/aws/shared_config.hpp"
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
// IAM Identity Center's portal (GetRoleCredentials): host portal.sso.<region>, signing name awsssoportal.
inline constexpr ServiceInfo kSso{"SSO", "portal.sso", "awsssoportal"};

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
Result<std::string> resolve_region(std::optional<std::string> cli_region, const ConfigView& config);

// botocore's order (args.py _compute_configured_endpoint_url, configprovider.py ConfiguredEndpointProvider):
// explicit_url (--endpoint-url) > AWS_ENDPOINT_URL_<SERVICE_ID> > AWS_ENDPOINT_URL > the profile's
// [services X] section `<service> = endpoint_url = ...` > the profile's endpoint_url > the rule table.
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or ignore_configured_endpoint_urls = true in the profile) disables
// every configured URL but the explicit one. A profile naming a [services] section that does not exist is an error.
Result<Endpoint> resolve_endpoint(const ServiceInfo& service, std::string_view region, const ConfigView& config,
                                  std::optional<std::string> explicit_url = {});
// The same with the active profile of `env` (files read on every call).
Result<Endpoint> resolve_endpoint(const ServiceInfo& service, std::string_view region, const Environment& env,
                                  std::optional<std::string> explicit_url = {});

// The configured URL for `service` and where it came from ("AWS_ENDPOINT_URL_ECR", "profile dev services
// section local", ...), or nullopt for the rule table's endpoint.
struct ConfiguredEndpoint {
  std::string url;
  std::string source;
};
Result<std::optional<ConfiguredEndpoint>> configured_endpoint_url(const ServiceInfo& service, const ConfigView& config,
                                                                  std::optional<std::string> explicit_url = {});

// "AWS_ENDPOINT_URL_" + service_id upper-cased with spaces as '_' ("ECR PUBLIC" -> AWS_ENDPOINT_URL_ECR_PUBLIC).
std::string endpoint_env_var(const ServiceInfo& service);
// The key inside a [services] section: service_id lower-cased, spaces as '_' ("ECR PUBLIC" -> ecr_public).
std::string services_section_key(const ServiceInfo& service);

}  // namespace ecrs::aws
