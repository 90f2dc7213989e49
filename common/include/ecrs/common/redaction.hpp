#pragma once
// One process-wide register of every credential value the process holds, and the redactor that blanks them
// from outward text. `Secret` registers its value on construction, so static, refreshed and assumed-role
// credentials are all covered without a call site remembering to. The logger applies it to every line; the
// edges that send text out of the process (the ResponseURL PUT body, the Runtime API /response and /error
// bodies) apply it to what they send. AWS error messages can quote a credential (InvalidSignatureException
// quotes the canonical request, whose x-amz-security-token header is the session token), and they travel in
// Error::describe() into every one of those.
#include <cstddef>
#include <string>
#include <string_view>

namespace ecrs {

// Values shorter than this are not registered: they would blank ordinary words, and no AWS key or token is
// this short (secret access keys are 40 characters, session tokens hundreds).
inline constexpr std::size_t kMinRedactedLength = 8;
// A warm process that refreshes credentials hourly registers a handful a day; the cap bounds a pathological
// caller. The oldest values go first: by then they have long expired.
inline constexpr std::size_t kMaxRegisteredSecrets = 4096;

// Thread-safe. Registering the same value twice keeps one copy.
void register_secret(std::string_view value);

// `text` with every registered value (and its JSON-escaped spelling) replaced by "***".
std::string redact_secrets(std::string text);

// How many values are registered (tests).
std::size_t registered_secret_count();

}  // namespace ecrs
