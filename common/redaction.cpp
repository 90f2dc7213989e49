#include "ecrs/common/redaction.hpp"

#include <deque>
#include <mutex>
#include <shared_mutex>

#include "ecrs/common/json.hpp"

namespace ecrs {
namespace {

struct Registry {
  std::shared_mutex mu;
  std::deque<std::string> values;  // each value, then its JSON-escaped spelling when that differs
};

Registry& registry() {
  // Leaked on purpose: Secrets in other statics may be destroyed (and logs written) after any static here.
  static Registry* r = new Registry;  // NOLINT: process lifetime
  return *r;
}

void replace_all(std::string& s, const std::string& needle) {
  static constexpr std::string_view kMask = "***";
  if (needle.empty()) return;
  for (std::size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + kMask.size())) {
    s.replace(pos, needle.size(), kMask);
  }
}

// The value as it appears inside a JSON string (jsoncpp escapes '"', '\\', controls and, in some builds, '/').
std::string json_escaped(std::string_view value) {
  std::string quoted = to_compact_json(Json::Value(std::string(value)));
  return quoted.size() >= 2 ? quoted.substr(1, quoted.size() - 2) : std::string(value);
}

}  // namespace

void register_secret(std::string_view value) {
  if (value.size() < kMinRedactedLength) return;
  auto& r = registry();
  std::unique_lock lock(r.mu);
  for (const auto& v : r.values) {
    if (v == value) return;
  }
  r.values.emplace_back(value);
  if (std::string escaped = json_escaped(value); escaped != value) r.values.push_back(std::move(escaped));
  while (r.values.size() > kMaxRegisteredSecrets) r.values.pop_front();
}

std::string redact_secrets(std::string text) {
  auto& r = registry();
  std::shared_lock lock(r.mu);
  for (const auto& v : r.values) replace_all(text, v);
  return text;
}

std::size_t registered_secret_count() {
  auto& r = registry();
  std::shared_lock lock(r.mu);
  return r.values.size();
}

}  // namespace ecrs
