#pragma once
// The shared config and credentials files (~/.aws/config, ~/.aws/credentials) as the SDKs read them
// (SDKREF file-format, file-location): `[name]` sections in credentials, `[profile name]` (or `[default]`),
// `[sso-session name]` and `[services name]` in config, `key = value` lines, '#' and ';' comments, indented
// lines continuing a nested block.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"

namespace ecrs::aws {

using Profile = std::map<std::string, std::string>;
using ProfileMap = std::map<std::string, Profile>;

// Parses INI text; `config_style` maps "[profile x]" to "x" and ignores other prefixed sections
// ("[sso-session x]", "[services x]").
ProfileMap parse_profiles(std::string_view text, bool config_style);

// Every section kind of a config file. A nested block ("ecr =\n  endpoint_url = X") is kept as "ecr.endpoint_url",
// which is how a [services x] section names its per-service settings.
struct ConfigFile {
  ProfileMap profiles;
  ProfileMap sso_sessions;
  ProfileMap services;
};
ConfigFile parse_config_file(std::string_view text);

struct SharedFiles {
  std::string credentials_path;  // AWS_SHARED_CREDENTIALS_FILE or $HOME/.aws/credentials
  std::string config_path;       // AWS_CONFIG_FILE or $HOME/.aws/config
  ProfileMap credentials;        // empty when the file does not exist
  ProfileMap config;
  ProfileMap sso_sessions;       // [sso-session x] of the config file
  ProfileMap services;           // [services x] of the config file
};

// AWS_PROFILE (then AWS_DEFAULT_PROFILE) or "default".
std::string active_profile(const Environment& env);
bool profile_explicitly_set(const Environment& env);
// An explicit choice (--profile) beats the environment, as in the AWS CLI.
std::string active_profile(const Environment& env, const std::optional<std::string>& explicit_profile);

// Reads both files; a missing file is empty, an unreadable existing file is an error.
Result<SharedFiles> load_shared_files(const Environment& env);

// Key from the profile in credentials first, then config.
std::optional<std::string> profile_value(const SharedFiles& files, const std::string& profile, const std::string& key);
bool has_profile(const SharedFiles& files, const std::string& profile);
// Both files' sections for `profile` merged, the credentials file winning (botocore's full_config).
Profile merged_profile(const SharedFiles& files, const std::string& profile);

// "true"/"false" in any case, as botocore's ensure_boolean reads config and environment values.
bool is_true(std::string_view value);

// One profile's settings as botocore's config store reads them: the environment variable first, then the key
// of the active profile. The files are loaded once.
class ConfigView {
 public:
  static Result<ConfigView> load(const Environment& env, const std::optional<std::string>& explicit_profile = {});
  const SharedFiles& files() const { return files_; }
  const std::string& profile() const { return profile_; }
  const Environment& env() const { return *env_; }
  // `env_var` (when non-empty and set) beats the profile's `key`.
  std::optional<std::string> get(const char* env_var, const std::string& key) const;
  std::optional<std::string> profile_get(const std::string& key) const { return profile_value(files_, profile_, key); }

 private:
  const Environment* env_ = nullptr;
  SharedFiles files_;
  std::string profile_;
};

}  // namespace ecrs::aws
