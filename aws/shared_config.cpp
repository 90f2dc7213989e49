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

Result<std::string> read_text(const std::string& path) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return std::string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("InvalidConfiguration", "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

enum class SectionKind { profile, sso_session, services, ignored };

// Splits "[prefix name]" for the config file; the credentials file has bare names only.
std::pair<SectionKind, std::string> classify_section(std::string_view name, bool config_style) {
  if (!config_style) return {SectionKind::profile, std::string(name)};
  for (auto [prefix, kind] : {std::pair<std::string_view, SectionKind>{"profile", SectionKind::profile},
                              {"sso-session", SectionKind::sso_session},
                              {"services", SectionKind::services}}) {
    if (name.starts_with(prefix) && name.size() > prefix.size() && (name[prefix.size()] == ' ' || name[prefix.size()] == '\t'))
      return {kind, std::string(trim(name.substr(prefix.size())))};
  }
  // [default] is the one bare name a config file may use; other bare names are ignored by the SDKs.
  if (name == "default") return {SectionKind::profile, "default"};
  return {SectionKind::ignored, ""};
}

ConfigFile parse(std::string_view text, bool config_style) {
  ConfigFile out;
  Profile* current = nullptr;
  std::string nested;  // "s3 =\n  max_concurrent_requests = 10": the parent key of indented sub-keys
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      nested.clear();
      current = nullptr;
      auto close = line.find(']');
      if (close == std::string_view::npos) continue;
      auto [kind, name] = classify_section(trim(line.substr(1, close - 1)), config_style);
      if (kind == SectionKind::profile) current = &out.profiles[name];
      if (kind == SectionKind::sso_session) current = &out.sso_sessions[name];
      if (kind == SectionKind::services) current = &out.services[name];
      continue;
    }
    if (current == nullptr) continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(trim(line.substr(0, eq)));
    std::string_view value = trim(line.substr(eq + 1));
    // Inline comments need whitespace before them (SDKREF file-format).
    for (std::string_view marker : {" #", "\t#", " ;", "\t;"})
      if (auto c = value.find(marker); c != std::string_view::npos) value = trim(value.substr(0, c));
    if (indented && !nested.empty()) {
      (*current)[nested + "." + key] = std::string(value);
      continue;
    }
    if (value.empty()) {
      nested = key;
      continue;
    }
    nested.clear();
    (*current)[key] = std::string(value);
  }
  return out;
}

// Nested keys ("s3.addressing_style") are sub-settings, never profile keys such as aws_access_key_id.
ProfileMap without_nested(ProfileMap m) {
  for (auto& [name, profile] : m)
    std::erase_if(profile, [](const auto& kv) { return kv.first.find('.') != std::string::npos; });
  return m;
}

}  // namespace

ProfileMap parse_profiles(std::string_view text, bool config_style) {
  return without_nested(parse(text, config_style).profiles);
}

ConfigFile parse_config_file(std::string_view text) {
  ConfigFile f = parse(text, true);
  f.profiles = without_nested(std::move(f.profiles));
  f.sso_sessions = without_nested(std::move(f.sso_sessions));
  return f;
}

std::string active_profile(const Environment& env) { return active_profile(env, std::nullopt); }

std::string active_profile(const Environment& env, const std::optional<std::string>& explicit_profile) {
  if (explicit_profile && !explicit_profile->empty()) return *explicit_profile;
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
  auto creds = read_text(files.credentials_path);
  if (!creds) return creds.error();
  auto config = read_text(files.config_path);
  if (!config) return config.error();
  files.credentials = parse_profiles(*creds, false);
  ConfigFile parsed = parse_config_file(*config);
  files.config = std::move(parsed.profiles);
  files.sso_sessions = std::move(parsed.sso_sessions);
  files.services = std::move(parsed.services);
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

bool has_profile(const SharedFiles& files, const std::string& profile) {
  return files.credentials.count(profile) != 0 || files.config.count(profile) != 0;
}

Profile merged_profile(const SharedFiles& files, const std::string& profile) {
  Profile out;
  if (auto it = files.config.find(profile); it != files.config.end()) out = it->second;
  if (auto it = files.credentials.find(profile); it != files.credentials.end())
    for (const auto& [k, v] : it->second) out[k] = v;
  return out;
}

bool is_true(std::string_view value) {
  return value.size() == 4 && (value[0] == 't' || value[0] == 'T') && (value[1] == 'r' || value[1] == 'R') &&
         (value[2] == 'u' || value[2] == 'U') && (value[3] == 'e' || value[3] == 'E');
}

Result<ConfigView> ConfigView::load(const Environment& env, const std::optional<std::string>& explicit_profile) {
  auto files = load_shared_files(env);
  if (!files) return files.error();
  ConfigView view;
  view.env_ = &env;
  view.files_ = std::move(*files);
  view.profile_ = active_profile(env, explicit_profile);
  return view;
}

std::optional<std::string> ConfigView::get(const char* env_var, const std::string& key) const {
  if (env_var != nullptr && *env_var != '\0')
    if (auto v = env_->get(env_var); v && !v->empty()) return v;
  return profile_get(key);
}

}  // namespace ecrs::aws
