#pragma once
// Helpers shared by the credential sources' .cpp files (not part of the aws layer's interface).
#include <optional>
#include <string>

#include "ecrs/common/result.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::aws::detail {

// kCredentialsNotConfigured: the chain moves on.
Error not_configured(std::string why);
// Configured but failed: the chain stops here.
Error failed(std::string why, std::string source);
std::optional<std::string> non_empty(const Environment& env, const char* name);
// The file's text without trailing whitespace (tokens, token files).
Result<std::string> read_small_file(const std::string& path);
bool has_line_break(std::string_view s);
// credential_process (Version 1 JSON on stdout); errors never quote the output.
Result<sigv4::Credentials> run_credential_process(const std::string& command, const std::string& profile);

}  // namespace ecrs::aws::detail
