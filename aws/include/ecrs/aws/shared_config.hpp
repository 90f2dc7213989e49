#pragma once
// The shared config and credentials files (~/.aws/config, ~/.aws/credentials) as the SDKs read them
// (SDKREF file-format, file-location): `[name]` sections in credentials, `[profile name]` (or `[default]`) in
// config, `key = value` lines, '#' and ';' comments, indented lines continuing a nested block.
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

struct SharedFiles {
  std::string credentials_path;  // AWS_SHARED_CREDENTIALS_FILE or $HOME/.aws/credentials
  std::string config_path;       // AWS_CONFIG_FILE or $HOME/.aws/config
  ProfileMap credentials;        // empty when the file does not exist
  ProfileMap config;
};

// AWS_PROFILE (then AWS_DEFAULT_PROFILE) or "default".
std::string active_profile(const Environment& env);
bool profile_explicitly_set(const Environment& env);

// Reads both files; a missing file is empty, an unreadable existing file is an error.
Result<SharedFiles> load_shared_files(const Environment& env);

// Key from the profile in credentials first, then config.
std::optional<std::string> profile_value(const SharedFiles& files, const std::string& profile, const std::string& key);

}  // namespace ecrs::aws
