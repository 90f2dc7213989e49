#include "ecrs/cleanup/image_ref.hpp"

#include <array>
#include <vector>

namespace ecrs::cleanup {
namespace {

constexpr std::string_view kDefaultTag = "latest";  // Docker's default when a reference names no tag
constexpr std::size_t kAccountIdLength = 12;

// DNS suffixes after "<region>." per host family. IPv4 ("dkr.ecr", "dkr.ecr-fips"): the commercial, China, ISO,
// ISO-B, ISO-E, ISO-F and EU sovereign partitions. Dual-stack ("dkr-ecr", "dkr-ecr-fips"): on.aws (commercial
// and GovCloud), China's and the other partitions' dual-stack suffixes.
constexpr std::array<std::string_view, 7> kIpv4Suffixes{
    "amazonaws.com", "amazonaws.com.cn", "c2s.ic.gov", "sc2s.sgov.gov", "cloud.adc-e.uk", "csp.hci.ic.gov",
    "amazonaws.eu"};
constexpr std::array<std::string_view, 7> kDualStackSuffixes{
    "on.aws", "on.amazonwebservices.com.cn", "amazonwebservices.eu", "on.aws.ic.gov", "on.aws.scloud",
    "on.aws.hci.ic.gov", "on.adc-e.uk"};
// ECR Public's registries hold no private repository's images.
constexpr std::array<std::string_view, 2> kPublicHosts{"public.ecr.aws", "ecr-public.aws.com"};

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_region(std::string_view s) {
  if (s.size() < 4 || s.find('-') == std::string_view::npos) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string_view> split_labels(std::string_view host) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto dot = host.find('.', start);
    out.push_back(host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view s) {
  for (auto item : list) {
    if (item == s) return true;
  }
  return false;
}

// What the host says: account, region, and whether it is a known registry form (`exact`) or only ECR-like.
struct HostReading {
  bool ecr_like = false;
  bool exact = false;
  std::string account;
  std::string region;
};

HostReading read_host(std::string_view raw_host) {
  HostReading r;
  std::string host = lower(raw_host);
  if (const auto colon = host.find(':'); colon != std::string::npos) host.resize(colon);  // ":443"
  if (contains(kPublicHosts, host)) return r;
  const auto labels = split_labels(host);
  // The service part: "dkr.ecr" / "dkr.ecr-fips" (two labels) or "dkr-ecr" / "dkr-ecr-fips" (one label). A lone
  // "ecr-fips" is not a registry form but still ECR-like.
  std::size_t service_start = 0, service_end = 0;
  bool dual_stack = false, registry_form = false;
  for (std::size_t i = 0; i < labels.size() && service_end == 0; ++i) {
    if (labels[i] == "dkr" && i + 1 < labels.size() && (labels[i + 1] == "ecr" || labels[i + 1] == "ecr-fips")) {
      service_start = i;
      service_end = i + 2;
      registry_form = true;
    } else if (labels[i] == "dkr-ecr" || labels[i] == "dkr-ecr-fips") {
      service_start = i;
      service_end = i + 1;
      dual_stack = registry_form = true;
    } else if (labels[i] == "ecr-fips") {
      service_start = i;
      service_end = i + 1;
    }
  }
  if (service_end == 0) return r;
  r.ecr_like = true;
  if (service_start == 1 && labels[0].size() == kAccountIdLength && all_digits(labels[0])) {
    r.account = std::string(labels[0]);
  }
  if (service_end < labels.size() && is_region(labels[service_end])) r.region = std::string(labels[service_end]);
  std::string suffix;
  for (std::size_t i = service_end + 1; i < labels.size(); ++i) {
    if (!suffix.empty()) suffix += '.';
    suffix += labels[i];
  }
  const bool known_suffix = dual_stack ? contains(kDualStackSuffixes, suffix) : contains(kIpv4Suffixes, suffix);
  r.exact = registry_form && !r.account.empty() && !r.region.empty() && known_suffix;
  return r;
}

}  // namespace

std::optional<ImageRef> parse_image_ref(std::string_view uri) {
  const auto slash = uri.find('/');
  const std::string_view host = uri.substr(0, slash);
  // Docker reads the first component as a registry host only when it has a '.' or a ':' (or is localhost);
  // "team/app" is Docker Hub.
  if (host.find('.') == std::string_view::npos && host.find(':') == std::string_view::npos) return std::nullopt;
  const HostReading reading = read_host(host);
  if (!reading.ecr_like) return std::nullopt;
  ImageRef ref;
  ref.registry_id = reading.account;
  ref.region = reading.region;
  std::string_view rest = slash == std::string_view::npos ? std::string_view() : uri.substr(slash + 1);
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = lower(rest.substr(at + 1));  // ECR lists digests in lower-case hex
    rest = rest.substr(0, at);
  }
  // A ':' after the last '/' is a tag (a repository name cannot contain ':').
  const auto last_slash = rest.rfind('/');
  const auto colon = rest.find(':', last_slash == std::string_view::npos ? 0 : last_slash);
  if (colon != std::string_view::npos) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
  }
  ref.repository = std::string(rest);
  if (!reading.exact || ref.repository.empty()) {
    ref.unresolved = true;
    ref.text = std::string(uri);
    ref.tag.clear();
    ref.digest.clear();
    return ref;
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = std::string(kDefaultTag);
  return ref;
}

bool may_name(const ImageRef& unresolved, const RepositoryKey& key) {
  return (unresolved.registry_id.empty() || unresolved.registry_id == key.registry_id) &&
         (unresolved.region.empty() || unresolved.region == key.region) &&
         (unresolved.repository.empty() || unresolved.repository == key.repository);
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
