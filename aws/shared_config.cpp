#include "ecrs/aws/shared_config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ecrs::aws {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Result<ProfileMap> read_file(const std::string& path, bool config_style) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return ProfileMap{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("InvalidConfiguration", "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_profiles(ss.str(), config_style);
}

}  // namespace

ProfileMap parse_profiles(std::string_view text, bool config_style) {
  ProfileMap out;
  Profile* current = nullptr;
  bool in_nested = false;  // "s3 =\n  max_concurrent_requests = 10": sub-keys are not profile keys
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      in_nested = false;
      current = nullptr;
      auto close = line.find(']');
      if (close == std::string_view::npos) continue;
      std::string_view name = trim(line.substr(1, close - 1));
      if (config_style) {
        if (name.starts_with("profile ") || name.starts_with("profile\t")) {
          name = trim(name.substr(8));
        } else if (name != "default") {
          continue;  // [sso-session x], [services x], or a bare name the SDKs ignore in config
        }
      }
      current = &out[std::string(name)];
      continue;
    }
    if (current == nullptr) continue;
    if (indented && in_nested) continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(trim(line.substr(0, eq)));
    std::string_view value = trim(line.substr(eq + 1));
    // Inline comments need whitespace before them (SDKREF file-format).
    for (std::string_view marker : {" #", "\t#", " ;", "\t;"})
      if (auto c = value.find(marker); c != std::string_view::npos) value = trim(value.substr(0, c));
    in_nested = value.empty();
    if (!in_nested) (*current)[key] = std::string(value);
  }
  return out;
}

std::string active_profile(const Environment& env) {
  for (const char* var : {"AWS_PROFILE", "AWS_DEFAULT_PROFILE"})
    if (auto v = env.get(var); v && !v->empty()) return *v;
  return "default";
}

bool profile_explicitly_set(const Environment& env) {
  for (const char* var : {"AWS_PROFILE", "AWS_DEFAULT_PROFILE"})
    if (auto v = env.get(var); v && !v->empty()) return true;
  return false;
}

Result<SharedFiles> load_shared_files(const Environment& env) {
  SharedFiles files;
  auto home = env.get("HOME");
  auto in_home = [&](const char* rel) { return home && !home->empty() ? *home + "/.aws/" + rel : std::string(); };
  auto creds_env = env.get("AWS_SHARED_CREDENTIALS_FILE");
  auto config_env = env.get("AWS_CONFIG_FILE");
  files.credentials_path = creds_env && !creds_env->empty() ? *creds_env : in_home("credentials");
  files.config_path = config_env && !config_env->empty() ? *config_env : in_home("config");
  auto creds = read_file(files.credentials_path, false);
  if (!creds) return creds.error();
  auto config = read_file(files.config_path, true);
  if (!config) return config.error();
  files.credentials = std::move(*creds);
  files.config = std::move(*config);
  return files;
}

std::optional<std::string> profile_value(const SharedFiles& files, const std::string& profile, const std::string& key) {
  for (const ProfileMap* m : {&files.credentials, &files.config}) {
    auto p = m->find(profile);
    if (p == m->end()) continue;
    auto v = p->second.find(key);
    if (v != p->second.end()) return v->second;
  }
  return std::nullopt;
}

}  // namespace ecrs::aws
