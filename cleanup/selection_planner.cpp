#include "ecrs/cleanup/selection_planner.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace ecrs::cleanup {

InUseIndex::InUseIndex(const std::vector<InUseRef>& refs) {
  for (const auto& r : refs) add(r);
}

void InUseIndex::add(InUseRef ref) {
  if (ref.ref.unresolved) {
    unresolved_.push_back(std::move(ref));
    ++count_;
    return;
  }
  RepositoryKey key{ref.ref.registry_id, ref.ref.region, ref.ref.repository};
  by_repo_[key].push_back(std::move(ref));
  ++count_;
}

const std::vector<InUseRef>& InUseIndex::for_repository(const RepositoryKey& key) const {
  static const std::vector<InUseRef> kNone;
  auto it = by_repo_.find(key);
  return it == by_repo_.end() ? kNone : it->second;
}

std::vector<const InUseRef*> InUseIndex::unresolved_for(const RepositoryKey& key) const {
  std::vector<const InUseRef*> out;
  for (const auto& r : unresolved_) {
    if (may_name(r.ref, key)) out.push_back(&r);
  }
  return out;
}

std::string unresolved_keep_reason(const InUseRef& use) {
  const std::string scope = use.ref.repository.empty() ? "every repository it may name kept" : "whole repository kept";
  return "in use by " + use.user + " (unrecognised ECR reference " + use.ref.text + ": " + scope + ")";
}

namespace {

enum class Role { plain, index, child, referrer };

struct Work {
  const ecr::ImageDetail* image = nullptr;
  Role role = Role::plain;
  std::vector<std::string> keep_reasons;
  bool decided = false;
};

bool has_tags(const ecr::ImageDetail& d) { return !d.image_tags.empty(); }

std::string short_digest(const std::string& digest) {
  constexpr std::size_t kShown = 19;  // "sha256:" + 12 hex, as `docker images --digests` abbreviates
  return digest.size() > kShown ? digest.substr(0, kShown) : digest;
}

}  // namespace

RepositoryPlan plan_repository(const RepositoryListing& listing, const Rules& rules, const InUseIndex& in_use,
                               double now_epoch_seconds) {
  RepositoryPlan plan;
  plan.key = listing.key;
  plan.rules = rules;

  std::map<std::string, Work> work;  // by digest
  std::map<std::string, std::string> tag_to_digest;
  for (const auto& img : listing.images) {
    Work w;
    w.image = &img;
    if (ecr::is_index_media_type(img.image_manifest_media_type) || !img.child_digests.empty()) w.role = Role::index;
    work[img.image_digest] = w;
    for (const auto& t : img.image_tags) tag_to_digest[t] = img.image_digest;
  }
  // Parents: child -> indexes listing it; subjects: referrer -> subject.
  std::multimap<std::string, std::string> parents;
  for (const auto& img : listing.images) {
    for (const auto& c : img.child_digests) {
      if (work.count(c) && c != img.image_digest) {
        parents.emplace(c, img.image_digest);
        if (work[c].role == Role::plain) work[c].role = Role::child;
      }
    }
  }
  for (auto& [digest, w] : work) {
    const auto& subject = w.image->subject_manifest_digest;
    if (!subject.empty() && subject != digest && work.count(subject)) w.role = Role::referrer;
  }

  // In use: digests first (what runs), then tags resolved against this listing.
  for (const auto& use : in_use.for_repository(listing.key)) {
    std::string digest = use.ref.digest;
    std::string how = "digest";
    if (digest.empty()) {
      auto it = tag_to_digest.find(use.ref.tag);
      if (it == tag_to_digest.end()) continue;  // the tag names nothing here now; a running digest is its own ref
      digest = it->second;
      how = "tag " + use.ref.tag;
    }
    auto it = work.find(digest);
    if (it == work.end()) continue;
    it->second.keep_reasons.push_back("in use by " + use.user + " (" + how + ")");
  }
  // A reference we could not read might name any image here: it keeps them all rather than being dropped.
  for (const InUseRef* use : in_use.unresolved_for(listing.key)) {
    const std::string why = unresolved_keep_reason(*use);
    for (auto& [digest, w] : work) w.keep_reasons.push_back(why);
  }

  // Rules over top-level images (plain and indexes): "newest" counts digests.
  std::vector<Work*> top;
  for (auto& [digest, w] : work) {
    if (w.role == Role::plain || w.role == Role::index) top.push_back(&w);
  }
  std::sort(top.begin(), top.end(), [](const Work* a, const Work* b) {
    const double ta = a->image->image_pushed_at.value_or(0), tb = b->image->image_pushed_at.value_or(0);
    if (ta != tb) return ta > tb;
    return a->image->image_digest < b->image->image_digest;
  });
  const double cutoff = now_epoch_seconds - rules.keep_days * kSecondsPerDay;
  for (std::size_t i = 0; i < top.size() && static_cast<long long>(i) < rules.keep_count; ++i) {
    top[i]->keep_reasons.push_back("rule: newest " + std::to_string(rules.keep_count));
  }
  // Age and tag rules hold for every image, children and referrers included (a tagged child is pulled by tag).
  for (auto& [digest, w] : work) {
    // No push time is read as "just pushed": an image we cannot date is never old enough to delete.
    if (!w.image->image_pushed_at || *w.image->image_pushed_at >= cutoff) {
      w.keep_reasons.push_back("rule: pushed within " + std::to_string(rules.keep_days) + " days");
    }
    for (const auto& tag : w.image->image_tags) {
      for (const auto& pattern : rules.keep_tag_patterns) {
        if (glob_match(pattern, tag)) w.keep_reasons.push_back("rule: tag " + tag + " matches " + pattern);
      }
    }
  }

  // Propagation to children and referrers until nothing changes (an index may itself be a referrer's subject).
  auto kept = [&](const std::string& d) { return !work[d].keep_reasons.empty(); };
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto& [digest, w] : work) {
      if (!w.keep_reasons.empty()) continue;
      auto range = parents.equal_range(digest);
      for (auto p = range.first; p != range.second; ++p) {
        if (kept(p->second)) {
          w.keep_reasons.push_back("child of kept index " + short_digest(p->second));
          changed = true;
          break;
        }
      }
      if (!w.keep_reasons.empty()) continue;
      const auto& subject = w.image->subject_manifest_digest;
      if (w.role == Role::referrer && kept(subject)) {
        w.keep_reasons.push_back("referrer of kept image " + short_digest(subject));
        changed = true;
      }
    }
  }

  auto decision = [](const Work& w) {
    ImageDecision d;
    d.image_digest = w.image->image_digest;
    d.image_tags = w.image->image_tags;
    d.image_pushed_at = w.image->image_pushed_at;
    d.image_size_in_bytes = w.image->image_size_in_bytes.value_or(0);
    d.reasons = w.keep_reasons;
    return d;
  };
  struct Removal {
    int phase;
    int group;
    double pushed;
    ImageDecision d;
  };
  std::vector<Removal> removals;
  for (auto& [digest, w] : work) {
    if (!w.keep_reasons.empty()) {
      plan.keep.push_back(decision(w));
      continue;
    }
    ImageDecision d = decision(w);
    int phase = 1, group = 0;
    switch (w.role) {
      case Role::referrer: phase = 0; group = 0; d.reasons = {"referrer of a removed image"}; break;
      case Role::index: phase = 0; group = 1; d.reasons = {"index, unused and kept by no rule"}; break;
      case Role::child: phase = 2; group = 0; d.reasons = {"child of removed indexes only"}; break;
      case Role::plain:
        group = has_tags(*w.image) ? 1 : 0;
        d.reasons = {has_tags(*w.image) ? "tagged, unused and kept by no rule"
                                        : "untagged, older than " + std::to_string(rules.keep_days) + " days"};
        break;
    }
    removals.push_back({phase, group, w.image->image_pushed_at.value_or(0), std::move(d)});
  }
  std::sort(removals.begin(), removals.end(), [](const Removal& a, const Removal& b) {
    if (a.phase != b.phase) return a.phase < b.phase;
    if (a.group != b.group) return a.group < b.group;
    if (a.pushed != b.pushed) return a.pushed < b.pushed;
    return a.d.image_digest < b.d.image_digest;
  });
  for (auto& r : removals) {
    plan.bytes_reclaimed += r.d.image_size_in_bytes;
    plan.remove_phase.push_back(r.phase);
    plan.remove.push_back(std::move(r.d));
  }
  std::sort(plan.keep.begin(), plan.keep.end(), [](const ImageDecision& a, const ImageDecision& b) {
    const double ta = a.image_pushed_at.value_or(0), tb = b.image_pushed_at.value_or(0);
    return ta != tb ? ta > tb : a.image_digest < b.image_digest;
  });
  return plan;
}

namespace {

std::optional<int> parse_non_negative(const std::string& s) {
  int v = 0;
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || ptr != end || v < 0) return std::nullopt;
  return v;
}

bool is_true(const std::string& v) {
  std::string lower;
  for (char c : v) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return lower == "true";
}

}  // namespace

Selection select_repository(const std::string& repository_name, const std::map<std::string, std::string>& tags,
                            const std::vector<std::string>& name_patterns, const Rules& base) {
  Selection s;
  s.rules = base;
  for (const char* key : {kEnabledTag, kBoxCleanerEnabledTag}) {
    auto it = tags.find(key);
    if (it != tags.end() && is_true(it->second)) {
      s.selected = true;
      s.why = std::string("tag ") + key + "=" + it->second;
      break;
    }
  }
  if (!s.selected) {
    for (const auto& p : name_patterns) {
      if (glob_match(p, repository_name)) {
        s.selected = true;
        s.why = "name matches " + p;
        break;
      }
    }
  }
  // Our tag wins over the seed's when both are set; a malformed value keeps the base (never loosens the rule).
  for (const char* key : {kBoxCleanerKeepDaysTag, kKeepDaysTag}) {
    auto it = tags.find(key);
    if (it == tags.end()) continue;
    if (auto v = parse_non_negative(it->second)) s.rules.keep_days = *v;
  }
  if (auto it = tags.find(kKeepCountTag); it != tags.end()) {
    if (auto v = parse_non_negative(it->second)) s.rules.keep_count = *v;
  }
  return s;
}

}  // namespace ecrs::cleanup
