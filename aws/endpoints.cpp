#include "ecrs/aws/endpoints.hpp"

#include <array>
#include <cctype>

#include "ecrs/aws/http.hpp"
#include "ecrs/aws/shared_config.hpp"

namespace ecrs::aws {
namespace {

// The one rule table: a region belongs to the first partition whose prefix it starts with (botocore
// data/partitions.json regionRegex, simplified to the prefixes they encode); the last row is the default.
struct Partition {
  std::string_view name;
  std::string_view region_prefix;
  std::string_view dns_suffix;
  std::string_view global_region;  // where a partition-global service (Organizations) lives and signs
};

constexpr std::array<Partition, 5> kPartitions = {{
    {"aws-cn", "cn-", "amazonaws.com.cn", "cn-northwest-1"},
    {"aws-us-gov", "us-gov-", "amazonaws.com", "us-gov-west-1"},
    {"aws-iso-b", "us-isob-", "sc2s.sgov.gov", "us-isob-east-1"},
    {"aws-iso", "us-iso-", "c2s.ic.gov", "us-iso-east-1"},
    {"aws", "", "amazonaws.com", "us-east-1"},
}};

constexpr std::size_t kMaxRegionLength = 64;  // region names are short; a DNS label is at most 63 octets

const Partition& partition_for(std::string_view region) {
  for (const auto& p : kPartitions)
    if (region.starts_with(p.region_prefix)) return p;
  return kPartitions.back();
}

Result<std::string> validated_override(const std::string& url, std::string_view source) {
  auto parsed = parse_url(url);
  if (!parsed)
    return make_error("InvalidConfiguration", std::string(source) + " is not a valid endpoint URL: " + parsed.error().message);
  std::string out = url;
  while (out.size() > parsed->origin().size() && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace

bool is_valid_region(std::string_view region) {
  if (region.empty() || region.size() > kMaxRegionLength) return false;
  if (region.front() == '-' || region.back() == '-') return false;
  char prev = 0;
  for (char c : region) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && prev == '-')) return false;
    prev = c;
  }
  return true;
}

Result<std::string> resolve_region(std::optional<std::string> cli_region, const Environment& env) {
  if (cli_region && !cli_region->empty()) return resolve_region(std::move(cli_region), ConfigView{});
  auto config = ConfigView::load(env);
  if (!config) return config.error();
  return resolve_region(std::move(cli_region), *config);
}

Result<std::string> resolve_region(std::optional<std::string> cli_region, const ConfigView& config) {
  auto check = [](std::string region, std::string_view source) -> Result<std::string> {
    if (!is_valid_region(region))
      return make_error("InvalidRegion", "region from " + std::string(source) + " is not a valid region name: \"" +
                                             region + "\"");
    return region;
  };
  if (cli_region && !cli_region->empty()) return check(*cli_region, "--region");
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"})
    if (auto v = config.env().get(var); v && !v->empty()) return check(*v, var);
  const auto& files = config.files();
  const std::string& profile = config.profile();
  if (auto it = files.config.find(profile); it != files.config.end()) {
    if (auto r = it->second.find("region"); r != it->second.end() && !r->second.empty())
      return check(r->second, "profile " + profile + " in " + files.config_path);
  }
  return make_error("NoRegion", "no AWS region: pass --region or set AWS_REGION, AWS_DEFAULT_REGION or `region` in profile " +
                                    profile + " of " + (files.config_path.empty() ? "~/.aws/config" : files.config_path));
}

std::string endpoint_env_var(const ServiceInfo& service) {
  std::string out = "AWS_ENDPOINT_URL_";
  for (char c : service.service_id)
    out += c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string services_section_key(const ServiceInfo& service) {
  std::string out;
  for (char c : service.service_id)
    out += c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<std::optional<ConfiguredEndpoint>> configured_endpoint_url(const ServiceInfo& service, const ConfigView& config,
                                                                  std::optional<std::string> explicit_url) {
  using Found = std::optional<ConfiguredEndpoint>;
  if (explicit_url && !explicit_url->empty()) return Found(ConfiguredEndpoint{*explicit_url, "--endpoint-url"});
  if (auto ignore = config.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "ignore_configured_endpoint_urls");
      ignore && is_true(*ignore))
    return Found();
  const std::string per_service = endpoint_env_var(service);
  if (auto v = config.env().get(per_service); v && !v->empty()) return Found(ConfiguredEndpoint{*v, per_service});
  if (auto v = config.env().get("AWS_ENDPOINT_URL"); v && !v->empty())
    return Found(ConfiguredEndpoint{*v, "AWS_ENDPOINT_URL"});
  const std::string where = "profile " + config.profile();
  if (auto section = config.profile_get("services")) {
    auto it = config.files().services.find(*section);
    if (it == config.files().services.end())
      return make_error("InvalidConfiguration", where + " uses the services section \"" + *section +
                                                    "\", which does not exist in " + config.files().config_path);
    if (auto url = it->second.find(services_section_key(service) + ".endpoint_url");
        url != it->second.end() && !url->second.empty())
      return Found(ConfiguredEndpoint{url->second, where + " [services " + *section + "] " + services_section_key(service)});
  }
  if (auto v = config.profile_get("endpoint_url"); v && !v->empty())
    return Found(ConfiguredEndpoint{*v, where + " endpoint_url"});
  return Found();
}

Result<Endpoint> resolve_endpoint(const ServiceInfo& service, std::string_view region, const Environment& env,
                                  std::optional<std::string> explicit_url) {
  auto config = ConfigView::load(env);
  if (!config) return config.error();
  return resolve_endpoint(service, region, *config, std::move(explicit_url));
}

Result<Endpoint> resolve_endpoint(const ServiceInfo& service, std::string_view region, const ConfigView& config,
                                  std::optional<std::string> explicit_url) {
  if (!is_valid_region(region))
    return make_error("InvalidRegion", "not a valid region name: \"" + std::string(region) + "\"");
  const Partition& partition = partition_for(region);
  Endpoint ep;
  ep.signing_name = std::string(service.signing_name);
  ep.signing_region = service.global ? std::string(partition.global_region) : std::string(region);
  auto configured = configured_endpoint_url(service, config, std::move(explicit_url));
  if (!configured) return configured.error();
  if (*configured) {
    auto url = validated_override((*configured)->url, (*configured)->source);
    if (!url) return url.error();
    ep.url = *url;
    return ep;
  }
  std::string host_region = service.global ? std::string(partition.global_region) : std::string(region);
  ep.url = "https://" + std::string(service.endpoint_prefix) + "." + host_region + "." + std::string(partition.dns_suffix);
  return ep;
}

}  // namespace ecrs::aws
