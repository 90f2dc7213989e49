// The pure parts of the clean mode: settings from the environment, the event's shape, the reply and the text plan.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <sstream>

#include "ecrs/aws/retry.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/handler/clean_mode.hpp"

namespace ecrs::handler::clean {
namespace {

// An account id in an ARN is exactly 12 digits (IAM identifiers reference, "ARN formats").
constexpr std::size_t kAccountIdDigits = 12;
// Entries vary in size (names, sample digests): aim a tenth under the budget so one cut usually suffices.
constexpr double kReplyCutMargin = 0.9;

std::string lower(std::string_view text) {
  std::string s(text);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Error invalid(const char* variable, const std::string& value, const std::string& expected) {
  Error e;
  e.code = kInvalidSetting;
  e.message = std::string(variable) + "='" + value + "': expected " + expected;
  e.context = "scheduled cleanup settings";
  return e;
}

std::string digest_hex(const std::string& digest, std::size_t hex_chars) {
  const auto colon = digest.find(':');
  const std::size_t end = (colon == std::string::npos ? 0 : colon + 1) + hex_chars;
  return digest.size() > end ? digest.substr(0, end) : digest;
}

std::string pushed(const std::optional<double>& epoch_seconds) {
  if (!epoch_seconds) return "-";
  const auto t = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(*epoch_seconds)));
  return format_timestamp(t);
}

std::string join(const std::vector<std::string>& items, const char* sep, const char* empty) {
  if (items.empty()) return empty;
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : sep) + i;
  return s;
}

}  // namespace

std::optional<bool> parse_strict_bool(std::string_view text) {
  const std::string s = lower(text);
  if (s == "true") return true;
  if (s == "false") return false;
  return std::nullopt;
}

std::optional<int> parse_keep(std::string_view text) {
  if (text.empty() || text.size() > std::to_string(kMaxKeep).size()) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > kMaxKeep) return std::nullopt;
  return value;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

bool is_region_name(std::string_view text) {
  if (text.empty() || text.front() == '-' || text.back() == '-' || text.find('-') == std::string_view::npos) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool is_role_arn(std::string_view text) {
  // arn:aws:iam::123456789012:role/name, partitions aws, aws-cn, aws-us-gov...
  constexpr std::string_view kPrefix = "arn:";
  if (text.substr(0, kPrefix.size()) != kPrefix) return false;
  text.remove_prefix(kPrefix.size());
  const auto colon = text.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  text.remove_prefix(colon + 1);
  constexpr std::string_view kIam = "iam::";
  if (text.substr(0, kIam.size()) != kIam) return false;
  text.remove_prefix(kIam.size());
  if (text.size() < kAccountIdDigits + 1) return false;
  for (std::size_t i = 0; i < kAccountIdDigits; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  text.remove_prefix(kAccountIdDigits);
  constexpr std::string_view kRole = ":role/";
  return text.substr(0, kRole.size()) == kRole && text.size() > kRole.size();
}

bool is_scheduled_event(const Json::Value& event) {
  if (!event.isObject()) return false;
  return get_string(event, "source") == std::optional<std::string>("aws.events") &&
         get_string(event, "detail-type") == std::optional<std::string>("Scheduled Event");
}

Result<cleanup::CleanupOptions> options_from_env(const Environment& env, const std::string& home_region) {
  cleanup::CleanupOptions options;
  options.home_region = home_region;
  options.apply = false;
  if (auto v = env.get(kDryRunVar); v && !v->empty()) {
    auto b = parse_strict_bool(*v);
    if (!b) return invalid(kDryRunVar, *v, "true or false (unset means true: nothing is deleted)");
    options.apply = !*b;
  }
  if (auto v = env.get(kKeepCountVar); v && !v->empty()) {
    auto n = parse_keep(*v);
    if (!n) return invalid(kKeepCountVar, *v, "a whole number of images from 0 to " + std::to_string(kMaxKeep));
    options.rules.keep_count = *n;
  }
  if (auto v = env.get(kKeepDaysVar); v && !v->empty()) {
    auto n = parse_keep(*v);
    if (!n) return invalid(kKeepDaysVar, *v, "a whole number of days from 0 to " + std::to_string(kMaxKeep));
    options.rules.keep_days = *n;
  }
  // Unset or empty keeps the defaults (latest, release-*): an empty CloudFormation parameter must not quietly
  // stop protecting release tags.
  if (auto v = env.get(kKeepTagsVar); v && !split_list(*v).empty()) options.rules.keep_tag_patterns = split_list(*v);
  if (auto v = env.get(kRepositoriesVar); v) options.repository_patterns = split_list(*v);
  if (auto v = env.get(kRegionsVar); v && !split_list(*v).empty()) {
    const auto regions = split_list(*v);
    if (regions.size() == 1 && lower(regions.front()) == kAllRegions) {
      options.all_regions = true;
    } else {
      for (const auto& r : regions) {
        if (!is_region_name(r)) {
          return invalid(kRegionsVar, *v, "comma-separated region names (us-east-1,eu-west-1) or \"all\"");
        }
      }
      options.regions = regions;
    }
  }
  if (home_region.empty()) {
    Error e;
    e.code = kInvalidSetting;
    e.message = "no home region: set AWS_REGION (Lambda sets it) or REGIONS";
    return e;
  }
  return options;
}

cleanup::ClientFactory session_factory(AwsSession& session) {
  return [&session](const aws::ServiceInfo& service, const std::string& region,
                    std::shared_ptr<aws::CredentialsProvider> credentials) {
    return session.client(service, region, std::move(credentials));
  };
}

std::string scheduled_reply(const cleanup::CleanupReport& report) {
  Json::Value doc = cleanup::report_to_json(report, /*compact=*/true);
  std::string text = to_compact_json(doc);
  if (text.size() <= kMaxReplyBytes) return text;
  // Too many repositories: keep as many entries as fit (their size varies little), say how many were cut.
  Json::Value& repos = doc["repositories"];
  const Json::ArrayIndex total = repos.size();
  Json::ArrayIndex keep = total;
  while (keep > 0 && text.size() > kMaxReplyBytes) {
    keep = static_cast<Json::ArrayIndex>(static_cast<double>(keep) * kMaxReplyBytes / text.size() * kReplyCutMargin);
    Json::Value cut(Json::arrayValue);
    for (Json::ArrayIndex i = 0; i < keep; ++i) cut.append(repos[i]);
    Json::Value trial = doc;
    trial["repositories"] = cut;
    trial["truncated"]["repositories_left_out"] = static_cast<Json::UInt64>(total - keep);
    trial["truncated"]["why"] = "reply kept under " + std::to_string(kMaxReplyBytes) + " bytes; see the log lines";
    text = to_compact_json(trial);
  }
  return text;
}

std::string report_to_text(const cleanup::CleanupReport& report, bool verbose) {
  // Digests in text lines keep 12 hex characters, as `docker images` shortens ids; JSON has them whole.
  constexpr std::size_t kShortDigestHex = 12;
  std::ostringstream os;
  os << (report.applied ? "APPLIED" : "DRY RUN (nothing deleted; --apply deletes the images marked remove)")
     << "\nregions: " << join(report.regions, ",", "-") << "\nin use scanned: " << join(report.scopes, ",", "-")
     << " (" << report.in_use_references << " references)\n";
  for (const auto& r : report.repositories) {
    const auto& p = r.plan;
    os << "repository " << p.key.region << '/' << p.key.repository << " registry=" << p.key.registry_id
       << " selected=\"" << r.selected_because << "\" remove=" << p.remove.size() << " keep=" << p.keep.size()
       << " in_use=" << cleanup::count_in_use(p) << " bytes_reclaimed=" << p.bytes_reclaimed << " ("
       << cleanup::human_bytes(p.bytes_reclaimed) << ")" << (r.finished ? "" : " finished=false") << '\n';
    auto line = [&](const char* action, const cleanup::ImageDecision& d) {
      os << "  " << action << ' ' << digest_hex(d.image_digest, kShortDigestHex)
         << " tags=" << join(d.image_tags, ",", "<untagged>") << " pushed=" << pushed(d.image_pushed_at)
         << " bytes=" << d.image_size_in_bytes << " why=\"" << join(d.reasons, "; ", "") << "\"\n";
    };
    if (verbose) {
      for (const auto& d : p.remove) line("remove", d);
      for (const auto& d : p.keep) line("keep", d);
    }
    if (report.applied) {
      os << "  result deleted=" << r.deleted << " spared=" << r.spared.size()
         << " failed=" << r.failures.size() << '\n';
      for (const auto& f : r.failures) os << "  failure " << f << '\n';
      if (verbose) {
        for (const auto& s : r.spared) os << "  spared " << s << " (in use or kept at the re-check before delete)\n";
      }
    }
  }
  os << "total: repositories=" << report.repositories.size() << " remove=" << report.planned_deletions
     << " bytes_reclaimed=" << report.planned_bytes;
  if (report.applied) os << " deleted=" << report.deleted;
  if (report.next_repository && !report.complete) {
    os << "\nstopped at the deadline; next: " << report.next_repository->region << '/'
       << report.next_repository->repository;
  }
  os << "\nnot covered by the in-use scan:";
  for (const char* n : cleanup::kNotCovered) os << ' ' << n << ';';
  os << '\n';
  return os.str();
}

void apply_session_settings(AwsSession& session, cleanup::CleanupOptions& options) {
  // A malformed AWS_MAX_ATTEMPTS already failed the session's own clients; the default is the safe reading here.
  if (auto attempts = aws::max_attempts_from_env(session.env())) options.max_attempts = *attempts;
  options.sleeper = &session.sleeper();
  options.random = &session.random();
}

}  // namespace ecrs::handler::clean
