#include "ecrs/ecr/deletion_planner.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <unordered_map>

namespace ecrs::ecr {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// OCI image-spec descriptor.md: digest := algorithm ":" encoded; algorithm := component (separator component)*
// with component [a-z0-9]+ and separator [+._-]; encoded := [a-zA-Z0-9=_-]+. ECR digests are sha256:<64 hex>,
// but a stricter check would turn a future algorithm into a refusal to delete.
bool is_oci_digest(std::string_view d) {
  auto colon = d.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == d.size()) return false;
  std::string_view algorithm = d.substr(0, colon);
  std::string_view encoded = d.substr(colon + 1);
  bool prev_separator = true;  // the first character must start a component
  for (char c : algorithm) {
    if (is_lower_alnum(c)) {
      prev_separator = false;
    } else if (c == '+' || c == '.' || c == '_' || c == '-') {
      if (prev_separator) return false;
      prev_separator = true;
    } else {
      return false;
    }
  }
  if (prev_separator) return false;
  return std::all_of(encoded.begin(), encoded.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '=' || c == '_' ||
           c == '-';
  });
}

struct Node {
  PlannedImage image;
  std::vector<std::size_t> successors;  // nodes that must wait for this one
  std::size_t pending = 0;              // predecessors not yet placed in a wave
  bool placed = false;
};

}  // namespace

std::string_view to_string(ImageRole role) {
  switch (role) {
    case ImageRole::image: return "image";
    case ImageRole::index: return "index";
    case ImageRole::referrer: return "referrer";
  }
  return "image";
}

std::string_view to_string(DeleteFailureDisposition d) {
  switch (d) {
    case DeleteFailureDisposition::already_gone: return "already_gone";
    case DeleteFailureDisposition::retry_next_pass: return "retry_next_pass";
    case DeleteFailureDisposition::retry: return "retry";
    case DeleteFailureDisposition::permanent: return "permanent";
  }
  return "permanent";
}

std::size_t DeletionPlan::batch_count() const {
  std::size_t n = 0;
  for (const auto& w : waves) n += w.batches.size();
  return n;
}

std::size_t DeletionPlan::tag_count() const {
  std::size_t n = 0;
  for (const auto& i : images) n += i.image_tags.size();
  return n;
}

ImageRelations relations_from_details(std::span<const ImageDetail> details) {
  ImageRelations r;
  for (const auto& d : details) {
    if (d.image_digest.empty()) continue;
    if (!d.child_digests.empty() || is_index_media_type(d.image_manifest_media_type)) {
      auto& children = r.index_children[d.image_digest];
      children.insert(children.end(), d.child_digests.begin(), d.child_digests.end());
    }
    if (!d.subject_manifest_digest.empty()) r.subject_of[d.image_digest] = d.subject_manifest_digest;
  }
  return r;
}

DeletionPlan plan_deletion(std::span<const ImageId> listing, const ImageRelations& relations, std::size_t max_batch) {
  max_batch = std::clamp<std::size_t>(max_batch, 1, kMaxBatchDeleteIds);
  DeletionPlan plan;
  std::vector<Node> nodes;
  std::unordered_map<std::string, std::size_t> by_digest;
  by_digest.reserve(listing.size());

  for (const auto& id : listing) {
    if (id.image_digest.empty()) {
      // Deleting by tag would only untag (BatchDeleteImage docs), so an entry without a digest is reported.
      plan.invalid.push_back({id, "no imageDigest" + (id.image_tag.empty() ? std::string{} : " for tag '" + id.image_tag + "'") +
                                      ": images are deleted by digest, never by tag"});
      continue;
    }
    if (!is_oci_digest(id.image_digest)) {
      plan.invalid.push_back({id, "imageDigest '" + id.image_digest + "' is not an OCI digest (algorithm:encoded)"});
      continue;
    }
    auto [it, inserted] = by_digest.try_emplace(id.image_digest, nodes.size());
    if (inserted) {
      Node n;
      n.image.image_digest = id.image_digest;
      nodes.push_back(std::move(n));
    }
    auto& tags = nodes[it->second].image.image_tags;
    if (!id.image_tag.empty() && std::find(tags.begin(), tags.end(), id.image_tag) == tags.end()) {
      tags.push_back(id.image_tag);
    }
  }

  // Edges point from what goes first to what must wait. An index whose children are unknown (listed as an
  // index with no manifests read) goes before every plain image: the barrier node stands for "all of them",
  // keeping the edge count linear.
  const std::size_t barrier = nodes.size();
  bool need_barrier = false;
  nodes.emplace_back();
  auto add_edge = [&](std::size_t from, std::size_t to) {
    if (from == to) return;
    nodes[from].successors.push_back(to);
    ++nodes[to].pending;
  };
  for (const auto& [digest, children] : relations.index_children) {
    auto it = by_digest.find(digest);
    if (it == by_digest.end()) continue;
    nodes[it->second].image.role = ImageRole::index;
    if (children.empty()) {
      add_edge(it->second, barrier);
      need_barrier = true;
    }
    for (const auto& child : children) {
      if (auto c = by_digest.find(child); c != by_digest.end()) add_edge(it->second, c->second);
    }
  }
  for (const auto& [digest, subject] : relations.subject_of) {
    auto it = by_digest.find(digest);
    if (it == by_digest.end()) continue;
    if (nodes[it->second].image.role == ImageRole::image) nodes[it->second].image.role = ImageRole::referrer;
    if (auto s = by_digest.find(subject); s != by_digest.end()) add_edge(it->second, s->second);
  }
  if (need_barrier) {
    for (std::size_t i = 0; i < barrier; ++i) {
      if (nodes[i].image.role == ImageRole::image) add_edge(barrier, i);
    }
  }

  // Kahn's algorithm by layers: a node's wave is the longest chain of predecessors above it. Within a wave,
  // listing order is kept so the plan is deterministic for a given listing.
  std::vector<std::vector<std::size_t>> layers;
  std::vector<std::size_t> current;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].pending == 0) current.push_back(i);
  }
  std::size_t placed = 0;
  while (!current.empty()) {
    std::vector<std::size_t> next;
    for (std::size_t i : current) {
      nodes[i].placed = true;
      ++placed;
      for (std::size_t s : nodes[i].successors) {
        if (--nodes[s].pending == 0) next.push_back(s);
      }
    }
    layers.push_back(std::move(current));
    std::sort(next.begin(), next.end());
    current = std::move(next);
  }
  if (placed < nodes.size()) {
    std::vector<std::size_t> rest;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (!nodes[i].placed && i != barrier) {
        rest.push_back(i);
        plan.cycle_digests.push_back(nodes[i].image.image_digest);
      }
    }
    layers.push_back(std::move(rest));
  }

  plan.images.reserve(barrier);
  for (auto& layer : layers) {
    DeletionWave wave;
    const std::size_t wave_index = plan.waves.size();
    for (std::size_t i : layer) {
      if (i == barrier) continue;
      if (wave.batches.empty() || wave.batches.back().image_ids.size() == max_batch) wave.batches.emplace_back();
      wave.batches.back().image_ids.push_back(ImageId{nodes[i].image.image_digest, {}});
      nodes[i].image.wave = wave_index;
      plan.images.push_back(std::move(nodes[i].image));
    }
    if (!wave.batches.empty()) plan.waves.push_back(std::move(wave));  // the barrier alone makes no wave
  }
  return plan;
}

DeletionPlan plan_deletion(std::span<const ImageDetail> details, std::size_t max_batch) {
  std::vector<ImageId> listing;
  listing.reserve(details.size());
  for (const auto& d : details) {
    if (d.image_tags.empty()) {
      listing.push_back({d.image_digest, {}});
    } else {
      for (const auto& t : d.image_tags) listing.push_back({d.image_digest, t});
    }
  }
  return plan_deletion(listing, relations_from_details(details), max_batch);
}

DeleteFailureDisposition classify_delete_failure(std::string_view code) {
  if (code == "ImageNotFound") return DeleteFailureDisposition::already_gone;
  if (code == "ImageReferencedByManifestList") return DeleteFailureDisposition::retry_next_pass;
  // Pull-through-cache upstream registries throttling or briefly down: the same call can succeed later.
  if (code == "UpstreamTooManyRequests" || code == "UpstreamUnavailable") return DeleteFailureDisposition::retry;
  // InvalidImageDigest, InvalidImageTag, ImageTagDoesNotMatchDigest, MissingDigestAndTag, KmsError,
  // UpstreamAccessDenied, ImageInaccessible, and anything newer than botocore 1.43's enum.
  return DeleteFailureDisposition::permanent;
}

}  // namespace ecrs::ecr
