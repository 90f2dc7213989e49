#include "ecrs/cfn/properties.hpp"
#include "ecrs/common/json.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace ecrs::cfn {
namespace {

constexpr const char* kContext = "Custom::EmptyEcrRepository properties";

// Properties CloudFormation adds itself (CFNUG/crpg-ref-requests; ServiceTimeout since 2024, gh:aws/aws-cdk#30911).
constexpr std::array<const char*, 2> kCloudFormationProperties = {"ServiceToken", "ServiceTimeout"};
constexpr std::array<const char*, 3> kOurProperties = {kRepositoryNameProperty, kRegistryIdProperty, kDryRunProperty};

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

Error invalid(std::string message) { return make_error("InvalidProperty", std::move(message), kContext); }

// Checks one '/'-separated component against [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*; `offset` makes positions
// in messages refer to the whole name (1-based).
Result<void> validate_component(std::string_view name, std::string_view part, std::size_t offset) {
  const std::string quoted = "RepositoryName '" + std::string(name) + "'";
  if (part.empty()) {
    return invalid(quoted + " has an empty path component at position " + std::to_string(offset + 1) +
                   ": it may not start or end with '/' or contain '//'");
  }
  if (!is_lower_alnum(part.front()) || !is_lower_alnum(part.back())) {
    const bool at_start = !is_lower_alnum(part.front());
    return invalid(quoted + ": each '/'-separated part must start and end with a lowercase letter or digit; '" +
                   std::string(part) + "' " + (at_start ? "starts" : "ends") + " with '" +
                   std::string(1, at_start ? part.front() : part.back()) + "'");
  }
  std::size_t i = 0;
  while (i < part.size()) {
    if (is_lower_alnum(part[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < part.size() && !is_lower_alnum(part[j])) ++j;
    std::string_view sep = part.substr(i, j - i);
    const bool dashes = std::all_of(sep.begin(), sep.end(), [](char c) { return c == '-'; });
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) {
      return invalid(quoted + " has separator '" + std::string(sep) + "' at position " +
                     std::to_string(offset + i + 1) +
                     ": between letters or digits ECR allows one '.', one or two '_', or a run of '-'");
    }
    i = j;
  }
  return {};
}

}  // namespace

Result<void> validate_repository_name(std::string_view name) {
  const std::string quoted = "RepositoryName '" + std::string(name) + "'";
  if (name.size() < kMinRepositoryNameLength || name.size() > kMaxRepositoryNameLength) {
    // Long names are cut in the message: the Reason has a size budget.
    const std::string shown = name.size() > 64 ? "RepositoryName '" + std::string(name.substr(0, 64)) + "...'" : quoted;
    return invalid(shown + " is " + std::to_string(name.size()) + " characters long; ECR requires " +
                   std::to_string(kMinRepositoryNameLength) + " to " + std::to_string(kMaxRepositoryNameLength));
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (is_lower_alnum(c) || c == '.' || c == '_' || c == '-' || c == '/') continue;
    std::string shown = (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
                            ? "a non-printable or non-ASCII byte"
                            : "'" + std::string(1, c) + "'";
    std::string hint = (c >= 'A' && c <= 'Z') ? " (names are lowercase)" : "";
    return invalid(quoted + " has " + shown + " at position " + std::to_string(i + 1) +
                   "; ECR allows lowercase letters, digits, '.', '_', '-' and '/'" + hint);
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = name.find('/', start);
    const std::string_view part = name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (auto r = validate_component(name, part, start); !r) return r;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

Result<void> validate_registry_id(std::string_view id) {
  const bool digits = std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (id.size() != kRegistryIdLength || !digits) {
    return invalid("RegistryId '" + std::string(id.substr(0, 64)) + "' must be a 12-digit AWS account id");
  }
  return {};
}

Result<bool> parse_bool_property(const Json::Value& properties, const char* name, bool default_value) {
  if (!properties.isObject() || !properties.isMember(name)) return default_value;
  const Json::Value& v = properties[name];
  if (v.isBool()) return v.asBool();
  if (v.isString()) {
    std::string s = v.asString();
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (s == "true") return true;
    if (s == "false") return false;
    const std::string shown = v.asString().size() > 32 ? v.asString().substr(0, 32) + "..." : v.asString();
    return invalid(std::string(name) + " must be \"true\" or \"false\", got \"" + shown + "\"");
  }
  return invalid(std::string(name) + " must be \"true\" or \"false\", got " + json_type_name(v));
}

Result<EmptyEcrRepositoryProperties> parse_properties(const Json::Value& props,
                                                      const std::optional<std::string>& default_repository_name,
                                                      UnknownProperties unknown) {
  if (!props.isNull() && !props.isObject()) {
    return invalid(std::string("ResourceProperties must be an object, got ") + json_type_name(props));
  }
  if (unknown == UnknownProperties::reject && props.isObject()) {
    for (const auto& key : props.getMemberNames()) {
      auto is = [&](const char* k) { return key == k; };
      if (std::any_of(kOurProperties.begin(), kOurProperties.end(), is) ||
          std::any_of(kCloudFormationProperties.begin(), kCloudFormationProperties.end(), is)) {
        continue;
      }
      return invalid("unknown property '" + key.substr(0, 64) + "'; " + kResourceType + " takes RepositoryName, " +
                     "RegistryId and DryRun");
    }
  }

  EmptyEcrRepositoryProperties out;
  const Json::Value name = props.isObject() ? props[kRepositoryNameProperty] : Json::Value();
  if (!name.isNull() && !name.isString()) {
    return invalid(std::string("RepositoryName must be a string, got ") + json_type_name(name));
  }
  if (name.isString() && !name.asString().empty()) {
    out.repository_name = name.asString();
  } else if (default_repository_name && !default_repository_name->empty()) {
    out.repository_name = *default_repository_name;
    out.repository_name_from_environment = true;
  } else {
    return make_error("MissingProperty",
                      std::string("RepositoryName is required: set it in the resource's Properties or set ") +
                          kRepositoryNameEnvVar + " in the function's environment",
                      kContext);
  }
  if (auto r = validate_repository_name(out.repository_name); !r) {
    Error e = r.error();
    if (out.repository_name_from_environment) e.message += " (from " + std::string(kRepositoryNameEnvVar) + ")";
    return e;
  }

  const Json::Value registry = props.isObject() ? props[kRegistryIdProperty] : Json::Value();
  if (!registry.isNull()) {
    if (!registry.isString()) {
      // A JSON number would lose an account id's leading zeros.
      return invalid(std::string("RegistryId must be a string of 12 digits, got ") + json_type_name(registry));
    }
    // "" is what Fn::If yields for "no registry" in many templates: treat it as absent.
    if (!registry.asString().empty()) {
      if (auto r = validate_registry_id(registry.asString()); !r) return r.error();
      out.registry_id = registry.asString();
    }
  }

  auto dry_run = parse_bool_property(props, kDryRunProperty, false);
  if (!dry_run) return dry_run.error();
  out.dry_run = *dry_run;
  return out;
}

}  // namespace ecrs::cfn
