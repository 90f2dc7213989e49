#include "ecrs/lifecycle/evaluator.hpp"

#include <algorithm>
#include <numeric>

namespace ecrs::lifecycle {
namespace {

// [LPP] countUnit "days": a day is 24 hours; ECR does not document calendar days or time zones.
constexpr std::chrono::milliseconds kDay = std::chrono::hours(24);

// [LP] "If an image was archived and then restored at any point in the past, the image's last_activated_at is used
// instead of pushed_at_time."
Timestamp effective_pushed_at(const Image& image) { return image.last_activated_at.value_or(image.image_pushed_at); }

// [LP] sinceImagePulled: last_recorded_pulltime; never pulled: pushed_at_time; restored and not pulled since:
// last_activated_at.
Timestamp pulled_reference(const Image& image) {
  if (image.last_activated_at &&
      (!image.last_recorded_pull_time || *image.last_recorded_pull_time < *image.last_activated_at)) {
    return *image.last_activated_at;
  }
  return image.last_recorded_pull_time.value_or(image.image_pushed_at);
}

bool has_prefix(std::string_view tag, std::string_view prefix) { return tag.substr(0, prefix.size()) == prefix; }

// [LP] "An image is successfully matched if all of the tags in the tagPatternList or tagPrefixList value are matched
// against any of the image's tags."
template <typename Match>
bool every_filter_matches_some_tag(const std::vector<std::string>& filters, const std::vector<std::string>& tags,
                                   Match match) {
  return std::all_of(filters.begin(), filters.end(), [&](const std::string& filter) {
    return std::any_of(tags.begin(), tags.end(), [&](const std::string& tag) { return match(filter, tag); });
  });
}

// Newer first: imageCountMoreThan keeps the first countNumber. ECR documents no order for equal push times; the
// digest breaks the tie so the preview does not depend on listing order.
bool newer_first(const Image& a, const Image& b) {
  const Timestamp ta = effective_pushed_at(a);
  const Timestamp tb = effective_pushed_at(b);
  if (ta != tb) return ta > tb;
  return a.image_digest > b.image_digest;
}

// The images this rule would act on if nothing shielded them, by index into `images`.
std::vector<std::size_t> rule_candidates(const Rule& rule, std::span<const Image> images,
                                         const std::vector<std::size_t>& selected, Timestamp now) {
  std::vector<std::size_t> out;
  if (rule.count_type == CountType::image_count_more_than) {
    // [LP] "images are sorted from youngest to oldest based on pushed_at_time and then all images greater than the
    // specified count are expired".
    std::vector<std::size_t> order = selected;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return newer_first(images[a], images[b]); });
    const auto keep = static_cast<std::size_t>(std::max<std::int64_t>(rule.count_number, 0));
    if (order.size() > keep) out.assign(order.begin() + static_cast<std::ptrdiff_t>(keep), order.end());
    return out;
  }
  const std::chrono::milliseconds max_age = kDay * rule.count_number;
  for (std::size_t i : selected) {
    const Image& image = images[i];
    std::optional<Timestamp> reference;
    switch (rule.count_type) {
      case CountType::since_image_pushed: reference = effective_pushed_at(image); break;
      case CountType::since_image_pulled: reference = pulled_reference(image); break;
      // [LP] "all archived images whose last_archived_at is older than ..."; without that time, nothing to measure.
      case CountType::since_image_transitioned: reference = image.last_archived_at; break;
      case CountType::image_count_more_than: break;
    }
    // "older than N days" is strict: [LPX] keeps the untagged image pushed 1 day ago under a 1-day rule.
    if (reference && now - *reference > max_age) out.push_back(i);
  }
  return out;
}

}  // namespace

std::string_view to_string(ImageAction a) {
  switch (a) {
    case ImageAction::keep: return "keep";
    case ImageAction::expire: return "expire";
    case ImageAction::transition: return "transition";
  }
  return "keep";
}

bool matches_tag_pattern(std::string_view pattern, std::string_view tag) {
  // Greedy glob with one backtrack point (the last `*`): linear in practice for ≤4 wildcards.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, star_t = 0;
  while (t < tag.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (p < pattern.size() && pattern[p] == tag[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool rule_selects(const Rule& rule, const Image& image) {
  // [LPP] storageClass: "The rule will only select images of this storage class."
  if (image.storage_class != rule.storage_class) return false;
  switch (rule.tag_status) {
    case TagStatus::any: return true;
    case TagStatus::untagged: return image.image_tags.empty();
    case TagStatus::tagged:
      if (image.image_tags.empty()) return false;
      if (!rule.tag_pattern_list.empty()) {
        return every_filter_matches_some_tag(rule.tag_pattern_list, image.image_tags, matches_tag_pattern);
      }
      return every_filter_matches_some_tag(rule.tag_prefix_list, image.image_tags,
                                           [](std::string_view prefix, std::string_view tag) {
                                             return has_prefix(tag, prefix);
                                           });
  }
  return false;
}

Evaluation evaluate_policy(const Policy& policy, std::span<const Image> images, Timestamp now) {
  Evaluation result;
  result.verdicts.resize(images.size());
  // Set once a higher-priority rule's selection matched the image: lower rules can no longer act on it.
  std::vector<bool> shielded(images.size(), false);

  std::vector<const Rule*> rules;
  for (const Rule& r : policy.rules) rules.push_back(&r);
  std::stable_sort(rules.begin(), rules.end(),
                   [](const Rule* a, const Rule* b) { return a->rule_priority < b->rule_priority; });

  for (const Rule* rule : rules) {
    std::vector<std::size_t> selected;
    for (std::size_t i = 0; i < images.size(); ++i) {
      if (rule_selects(*rule, images[i])) selected.push_back(i);
    }
    for (std::size_t i : rule_candidates(*rule, images, selected, now)) {
      if (shielded[i]) continue;
      result.verdicts[i].action = rule->action == ActionType::transition ? ImageAction::transition : ImageAction::expire;
      result.verdicts[i].rule_priority = rule->rule_priority;
    }
    for (std::size_t i : selected) shielded[i] = true;
  }

  for (const auto& v : result.verdicts) {
    switch (v.action) {
      case ImageAction::keep: ++result.kept; break;
      case ImageAction::expire: ++result.expired; break;
      case ImageAction::transition: ++result.transitioned; break;
    }
  }
  return result;
}

}  // namespace ecrs::lifecycle
