#include "ecrs/cleanup/image_ref.hpp"

#include <vector>

namespace ecrs::cleanup {
namespace {

constexpr std::string_view kDkrEcr = ".dkr.ecr.";
constexpr std::string_view kDefaultTag = "latest";  // Docker's default when a reference names no tag
constexpr std::size_t kAccountIdLength = 12;

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::optional<ImageRef> parse_image_ref(std::string_view uri) {
  const auto slash = uri.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view host = uri.substr(0, slash);
  std::string_view rest = uri.substr(slash + 1);
  const auto dkr = host.find(kDkrEcr);
  if (dkr == std::string_view::npos) return std::nullopt;
  ImageRef ref;
  const std::string_view account = host.substr(0, dkr);
  if (account.size() != kAccountIdLength || !all_digits(account)) return std::nullopt;
  ref.registry_id = std::string(account);
  std::string_view after = host.substr(dkr + kDkrEcr.size());  // "<region>.amazonaws.com[.cn]" (or -fips)
  const auto dot = after.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  ref.region = std::string(after.substr(0, dot));
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
  }
  // A ':' after the last '/' is a tag (a repository name cannot contain ':').
  const auto last_slash = rest.rfind('/');
  const auto colon = rest.find(':', last_slash == std::string_view::npos ? 0 : last_slash);
  if (colon != std::string_view::npos) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return std::nullopt;
  ref.repository = std::string(rest);
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = std::string(kDefaultTag);
  return ref;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point: linear in practice, no recursion on hostile patterns.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace ecrs::cleanup
