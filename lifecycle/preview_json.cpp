#include "ecrs/lifecycle/preview_json.hpp"

#include <algorithm>
#include <utility>

#include "ecrs/common/json.hpp"

namespace ecrs::lifecycle {
namespace {

Json::Value entries_to_json(const std::vector<PreviewEntry>& entries) {
  Json::Value out(Json::arrayValue);
  for (const auto& e : entries) {
    Json::Value item(Json::objectValue);
    item["imageDigest"] = e.image_digest;
    Json::Value tags(Json::arrayValue);
    for (const auto& t : e.image_tags) tags.append(t);
    item["imageTags"] = std::move(tags);
    item["rulePriority"] = static_cast<Json::Int64>(e.rule_priority);
    item["inUse"] = e.in_use;
    out.append(std::move(item));
  }
  return out;
}

}  // namespace

RepositoryPreview make_repository_preview(std::string repository_name, std::span<const Image> images,
                                          const Evaluation& evaluation) {
  RepositoryPreview out;
  out.repository_name = std::move(repository_name);
  std::vector<std::size_t> order(std::min(images.size(), evaluation.verdicts.size()));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (images[a].image_pushed_at != images[b].image_pushed_at) {
      return images[a].image_pushed_at < images[b].image_pushed_at;
    }
    return images[a].image_digest < images[b].image_digest;
  });
  for (std::size_t i : order) {
    const ImageVerdict& v = evaluation.verdicts[i];
    if (v.action == ImageAction::keep) continue;
    PreviewEntry e{images[i].image_digest, images[i].image_tags, v.rule_priority.value_or(0), false};
    (v.action == ImageAction::expire ? out.expire : out.transition).push_back(std::move(e));
  }
  out.kept = order.size() - out.expire.size();
  return out;
}

std::size_t mark_in_use(RepositoryPreview& preview, const std::set<std::string>& in_use_digests) {
  std::size_t flagged = 0;
  for (auto* list : {&preview.expire, &preview.transition}) {
    for (auto& e : *list) {
      e.in_use = in_use_digests.count(e.image_digest) > 0;
      if (e.in_use) ++flagged;
    }
  }
  return flagged;
}

Json::Value preview_to_json_value(std::span<const RepositoryPreview> repositories) {
  Json::Value repos(Json::arrayValue);
  for (const auto& r : repositories) {
    Json::Value item(Json::objectValue);
    item["repositoryName"] = r.repository_name;
    item["expire"] = entries_to_json(r.expire);
    item["transition"] = entries_to_json(r.transition);
    item["kept"] = static_cast<Json::UInt64>(r.kept);
    repos.append(std::move(item));
  }
  Json::Value root(Json::objectValue);
  root["repositories"] = std::move(repos);
  return root;
}

std::string preview_to_json(std::span<const RepositoryPreview> repositories) {
  return to_compact_json(preview_to_json_value(repositories));
}

}  // namespace ecrs::lifecycle
