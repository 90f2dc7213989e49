#include "ecrs/cfn/physical_id.hpp"

#include <algorithm>

namespace ecrs::cfn {
namespace {

constexpr std::string_view kUnknownLogicalId = "unknown";

// Cuts at a UTF-8 boundary so the id stays valid JSON text.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

std::string physical_resource_id(const std::optional<std::string>& registry_id, std::string_view repository_name) {
  std::string id(kPhysicalIdPrefix);
  id += registry_id && !registry_id->empty() ? std::string_view(*registry_id) : kDefaultRegistryLabel;
  id += ':';
  // A validated name is ≤256 bytes, so this never cuts one; the bound guards callers that skipped validation.
  id += utf8_prefix(repository_name, kMaxPhysicalResourceIdBytes - std::min(id.size(), kMaxPhysicalResourceIdBytes));
  return id;
}

std::string create_failed_id(std::string_view logical_resource_id) {
  std::string id(kPhysicalIdPrefix);
  id += kCreateFailedLabel;
  id += ':';
  std::string_view logical = logical_resource_id.empty() ? kUnknownLogicalId : logical_resource_id;
  id += utf8_prefix(logical, kMaxPhysicalResourceIdBytes - id.size());
  return id;
}

bool is_create_failed_id(std::string_view id) {
  if (!id.starts_with(kPhysicalIdPrefix)) return false;
  id.remove_prefix(kPhysicalIdPrefix.size());
  if (!id.starts_with(kCreateFailedLabel)) return false;
  id.remove_prefix(kCreateFailedLabel.size());
  return id.empty() || id.front() == ':';
}

std::optional<RepositoryRef> parse_physical_resource_id(std::string_view id) {
  if (!id.starts_with(kPhysicalIdPrefix) || is_create_failed_id(id)) return std::nullopt;
  id.remove_prefix(kPhysicalIdPrefix.size());
  const auto colon = id.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == id.size()) return std::nullopt;
  RepositoryRef ref;
  std::string_view registry = id.substr(0, colon);
  if (registry != kDefaultRegistryLabel) ref.registry_id = std::string(registry);
  ref.repository_name = std::string(id.substr(colon + 1));
  return ref;
}

}  // namespace ecrs::cfn
