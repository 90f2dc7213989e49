#include "ecrs/localaws/ecr_state.hpp"

#include <algorithm>
#include <cmath>

#include "ecrs/common/json.hpp"
#include "ecrs/sigv4/signer.hpp"

namespace ecrs::localaws {
namespace {

const SystemClock& system_clock_instance() {
  static const SystemClock clock;
  return clock;
}

std::int64_t member_size(const Json::Value& v) {
  if (!v.isObject()) return 0;
  return get_int(v, "size").value_or(0);
}

Json::Value string_array(const auto& items) {
  Json::Value out(Json::arrayValue);
  for (const auto& s : items) out.append(s);
  return out;
}

}  // namespace

bool is_index_media_type(const std::string& media_type) {
  return media_type == kDockerManifestList || media_type == kOciIndex;
}

Result<Image> make_image(const std::string& manifest, const std::string& media_type) {
  auto parsed = parse_json(manifest, "imageManifest");
  if (!parsed || !parsed->isObject()) {
    return make_error("InvalidParameterException",
                      "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Invalid JSON syntax'");
  }
  const Json::Value& doc = *parsed;
  Image image;
  image.digest = "sha256:" + sigv4::sha256_hex(manifest);
  image.manifest = manifest;
  image.manifest_media_type = media_type;
  if (image.manifest_media_type.empty()) image.manifest_media_type = get_string(doc, "mediaType").value_or("");
  if (image.manifest_media_type.empty()) {
    // A schema-2 document without mediaType: ECR's registry treats a "manifests" array as a list.
    image.manifest_media_type = doc.isMember("manifests") ? kOciIndex : kDockerManifestV2;
  }
  if (doc.isMember("manifests") && doc["manifests"].isArray()) {
    for (const auto& m : doc["manifests"]) {
      if (auto d = get_string(m, "digest")) image.child_digests.push_back(*d);
    }
  }
  if (doc.isMember("subject")) image.subject_digest = get_string(doc["subject"], "digest").value_or("");
  if (auto artifact = get_string(doc, "artifactType")) {
    image.artifact_media_type = *artifact;
  } else if (doc.isMember("config")) {
    image.artifact_media_type = get_string(doc["config"], "mediaType").value_or("");
  }
  image.size_bytes = member_size(doc.get("config", Json::Value()));
  if (doc.isMember("layers") && doc["layers"].isArray()) {
    for (const auto& layer : doc["layers"]) image.size_bytes += member_size(layer);
  }
  return image;
}

std::string Repository::untag(const std::string& tag) {
  auto t = tag_index.find(tag);
  if (t == tag_index.end()) return {};
  std::string digest = t->second;
  tag_index.erase(t);
  if (auto it = images.find(digest); it != images.end()) it->second.tags.erase(tag);
  return digest;
}

void Repository::erase_image(const std::string& digest) {
  auto it = images.find(digest);
  if (it == images.end()) return;
  for (const auto& tag : it->second.tags) tag_index.erase(tag);
  for (const auto& child : it->second.child_digests) {
    auto [first, last] = parents.equal_range(child);
    for (auto p = first; p != last; ++p) {
      if (p->second == digest) {
        parents.erase(p);
        break;
      }
    }
  }
  images.erase(it);
}

void place_image(Repository& repo, Image image, const std::string& tag) {
  if (!tag.empty()) {
    if (auto t = repo.tag_index.find(tag); t != repo.tag_index.end() && t->second != image.digest) repo.untag(tag);
    repo.tag_index[tag] = image.digest;
  }
  auto it = repo.images.find(image.digest);
  if (it == repo.images.end()) {
    image.tags.clear();
    if (!tag.empty()) image.tags.insert(tag);
    for (const auto& child : image.child_digests) repo.parents.emplace(child, image.digest);
    repo.images.emplace(image.digest, std::move(image));
  } else if (!tag.empty()) {
    it->second.tags.insert(tag);
  }
}

std::string repository_arn(const std::string& region, const std::string& account_id, const std::string& name) {
  return "arn:aws:ecr:" + region + ":" + account_id + ":repository/" + name;
}

std::string repository_uri(const std::string& region, const std::string& account_id, const std::string& name) {
  return account_id + ".dkr.ecr." + region + ".amazonaws.com/" + name;
}

double to_epoch_seconds(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return static_cast<double>(ms) / 1000.0;
}

std::chrono::system_clock::time_point from_epoch_seconds(double s) {
  return std::chrono::system_clock::time_point{
      std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(s * 1000.0)))};
}

EcrState::EcrState(std::string account_id, std::string region, const Clock* clock)
    : account_id_(std::move(account_id)),
      region_(std::move(region)),
      clock_(clock != nullptr ? clock : &system_clock_instance()) {}

bool EcrState::create_repository(const std::string& name) {
  std::lock_guard lock(mu_);
  if (repos_.count(name) != 0) return false;
  Repository repo;
  repo.name = name;
  repo.registry_id = account_id_;
  repo.created_at = clock_->now();
  repos_.emplace(name, std::move(repo));
  return true;
}

bool EcrState::delete_repository(const std::string& name) {
  std::lock_guard lock(mu_);
  return repos_.erase(name) != 0;
}

std::string EcrState::put_manifest_locked(const std::string& repo, const std::string& manifest,
                                          const std::string& media_type, const std::string& tag,
                                          std::optional<std::chrono::system_clock::time_point> pushed_at) {
  auto image = make_image(manifest, media_type);
  if (!image) return {};
  auto [it, created] = repos_.try_emplace(repo);
  if (created) {
    it->second.name = repo;
    it->second.registry_id = account_id_;
    it->second.created_at = clock_->now();
  }
  Repository& r = it->second;
  for (const auto& child : image->child_digests) {
    if (r.images.count(child) == 0) return {};
  }
  if (!image->child_digests.empty()) {
    for (const auto& child : image->child_digests) {
      image->size_bytes = std::max(image->size_bytes, r.images.at(child).size_bytes);
    }
  }
  image->pushed_at = pushed_at.value_or(clock_->now());
  std::string digest = image->digest;
  place_image(r, std::move(*image), tag);
  return digest;
}

std::string EcrState::put_image(const std::string& repo, const std::string& tag,
                                std::optional<std::chrono::system_clock::time_point> pushed_at) {
  std::lock_guard lock(mu_);
  const auto n = ++counter_;
  // A docker schema-2 manifest whose config digest is unique per call, so every seeded image has its own digest.
  Json::Value m;
  m["schemaVersion"] = 2;
  m["mediaType"] = kDockerManifestV2;
  m["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json";
  m["config"]["size"] = 1469;
  m["config"]["digest"] = "sha256:" + sigv4::sha256_hex("config-" + std::to_string(n) + "-" + repo);
  Json::Value layer;
  layer["mediaType"] = "application/vnd.docker.image.rootfs.diff.tar.gzip";
  layer["size"] = static_cast<Json::Int64>(1024 * (1 + n % 97));
  layer["digest"] = "sha256:" + sigv4::sha256_hex("layer-" + std::to_string(n) + "-" + repo);
  m["layers"].append(layer);
  return put_manifest_locked(repo, to_compact_json(m), kDockerManifestV2, tag, pushed_at);
}

std::string EcrState::put_index(const std::string& repo, const std::vector<std::string>& children,
                                const std::string& tag) {
  std::lock_guard lock(mu_);
  ++counter_;
  Json::Value m;
  m["schemaVersion"] = 2;
  m["mediaType"] = kOciIndex;
  m["manifests"] = Json::Value(Json::arrayValue);
  int i = 0;
  for (const auto& child : children) {
    Json::Value entry;
    entry["mediaType"] = kOciManifest;
    entry["digest"] = child;
    entry["size"] = 1000 + i;
    entry["platform"]["architecture"] = i % 2 == 0 ? "amd64" : "arm64";
    entry["platform"]["os"] = "linux";
    m["manifests"].append(entry);
    ++i;
  }
  m["annotations"]["localaws.seed"] = std::to_string(counter_);
  return put_manifest_locked(repo, to_compact_json(m), kOciIndex, tag, std::nullopt);
}

std::string EcrState::put_manifest(const std::string& repo, const std::string& manifest,
                                   const std::string& media_type, const std::string& tag) {
  std::lock_guard lock(mu_);
  return put_manifest_locked(repo, manifest, media_type, tag, std::nullopt);
}

std::string EcrState::put_referrer(const std::string& repo, const std::string& subject_digest) {
  std::lock_guard lock(mu_);
  const auto n = ++counter_;
  Json::Value m;
  m["schemaVersion"] = 2;
  m["mediaType"] = kOciManifest;
  m["artifactType"] = "application/vnd.dev.cosign.artifact.sig.v1+json";
  m["config"]["mediaType"] = "application/vnd.oci.empty.v1+json";
  m["config"]["size"] = 2;
  m["config"]["digest"] = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
  Json::Value layer;
  layer["mediaType"] = "application/vnd.dev.cosign.simplesigning.v1+json";
  layer["size"] = 250;
  layer["digest"] = "sha256:" + sigv4::sha256_hex("sig-" + std::to_string(n));
  m["layers"].append(layer);
  m["subject"]["mediaType"] = kOciManifest;
  m["subject"]["digest"] = subject_digest;
  m["subject"]["size"] = 500;
  return put_manifest_locked(repo, to_compact_json(m), kOciManifest, "", std::nullopt);
}

bool EcrState::has_repository(const std::string& name) const {
  std::lock_guard lock(mu_);
  return repos_.count(name) != 0;
}

std::size_t EcrState::image_count(const std::string& repo) const {
  std::lock_guard lock(mu_);
  auto it = repos_.find(repo);
  return it == repos_.end() ? 0 : it->second.images.size();
}

std::size_t EcrState::tag_count(const std::string& repo) const {
  std::lock_guard lock(mu_);
  auto it = repos_.find(repo);
  if (it == repos_.end()) return 0;
  std::size_t n = 0;
  for (const auto& [d, image] : it->second.images) n += image.tags.size();
  return n;
}

std::vector<std::string> EcrState::repositories() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, r] : repos_) out.push_back(name);
  return out;
}

std::optional<Repository> EcrState::repository(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = repos_.find(name);
  if (it == repos_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> EcrState::creation_template_prefixes() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [prefix, t] : templates_) out.push_back(prefix);
  return out;
}

std::optional<CreationTemplate> EcrState::creation_template(const std::string& prefix) const {
  std::lock_guard lock(mu_);
  auto it = templates_.find(prefix);
  if (it == templates_.end()) return std::nullopt;
  return it->second;
}

Json::Value EcrState::to_json() const {
  std::lock_guard lock(mu_);
  Json::Value out;
  out["account_id"] = account_id_;
  out["region"] = region_;
  out["repositories"] = Json::Value(Json::arrayValue);
  for (const auto& [name, r] : repos_) {
    Json::Value jr;
    jr["name"] = name;
    jr["created_at"] = to_epoch_seconds(r.created_at);
    jr["tag_mutability"] = r.tag_mutability;
    jr["scan_on_push"] = r.scan_on_push;
    jr["encryption_type"] = r.encryption_type;
    jr["kms_key"] = r.kms_key;
    jr["tags"] = Json::Value(Json::objectValue);
    for (const auto& [k, v] : r.tags) jr["tags"][k] = v;
    if (r.lifecycle_policy) jr["lifecycle_policy"] = *r.lifecycle_policy;
    if (r.repository_policy) jr["repository_policy"] = *r.repository_policy;
    jr["images"] = Json::Value(Json::arrayValue);
    for (const auto& [digest, image] : r.images) {
      Json::Value ji;
      ji["digest"] = digest;
      ji["tags"] = string_array(image.tags);
      ji["manifest"] = image.manifest;
      ji["manifest_media_type"] = image.manifest_media_type;
      ji["artifact_media_type"] = image.artifact_media_type;
      ji["child_digests"] = string_array(image.child_digests);
      ji["subject_digest"] = image.subject_digest;
      ji["size_bytes"] = static_cast<Json::Int64>(image.size_bytes);
      ji["pushed_at"] = to_epoch_seconds(image.pushed_at);
      if (image.last_pull) ji["last_pull"] = to_epoch_seconds(*image.last_pull);
      jr["images"].append(ji);
    }
    out["repositories"].append(jr);
  }
  out["repository_creation_templates"] = Json::Value(Json::arrayValue);
  for (const auto& [prefix, t] : templates_) {
    Json::Value jt;
    jt["fields"] = t.fields;
    jt["created_at"] = to_epoch_seconds(t.created_at);
    jt["updated_at"] = to_epoch_seconds(t.updated_at);
    out["repository_creation_templates"].append(jt);
  }
  return out;
}

Result<void> EcrState::load_json(const Json::Value& v) {
  if (!v.isObject() || !v["repositories"].isArray()) {
    return make_error("InvalidState", "state file: expected an object with a \"repositories\" array");
  }
  std::map<std::string, Repository> loaded;
  for (const auto& jr : v["repositories"]) {
    Repository r;
    r.name = get_string(jr, "name").value_or("");
    if (r.name.empty()) return make_error("InvalidState", "state file: a repository has no name");
    r.registry_id = account_id_;
    r.created_at = from_epoch_seconds(get_number(jr, "created_at").value_or(0));
    r.tag_mutability = get_string(jr, "tag_mutability").value_or("MUTABLE");
    r.scan_on_push = get_bool(jr, "scan_on_push").value_or(false);
    r.encryption_type = get_string(jr, "encryption_type").value_or("AES256");
    r.kms_key = get_string(jr, "kms_key").value_or("");
    if (jr["tags"].isObject()) {
      for (const auto& k : jr["tags"].getMemberNames()) r.tags[k] = get_string(jr["tags"], k.c_str()).value_or("");
    }
    if (auto p = get_string(jr, "lifecycle_policy")) r.lifecycle_policy = *p;
    if (auto p = get_string(jr, "repository_policy")) r.repository_policy = *p;
    if (jr["images"].isArray()) {
      for (const auto& ji : jr["images"]) {
        Image image;
        image.manifest = get_string(ji, "manifest").value_or("");
        image.digest = "sha256:" + sigv4::sha256_hex(image.manifest);
        if (get_string(ji, "digest").value_or("") != image.digest) {
          return make_error("InvalidState", "state file: image digest does not match its manifest in " + r.name);
        }
        if (ji["tags"].isArray()) {
          for (const auto& t : ji["tags"]) if (t.isString()) image.tags.insert(t.asString());
        }
        if (ji["child_digests"].isArray()) {
          for (const auto& c : ji["child_digests"]) if (c.isString()) image.child_digests.push_back(c.asString());
        }
        image.manifest_media_type = get_string(ji, "manifest_media_type").value_or(kDockerManifestV2);
        image.artifact_media_type = get_string(ji, "artifact_media_type").value_or("");
        image.subject_digest = get_string(ji, "subject_digest").value_or("");
        image.size_bytes = get_int(ji, "size_bytes").value_or(0);
        image.pushed_at = from_epoch_seconds(get_number(ji, "pushed_at").value_or(0));
        if (auto lp = get_number(ji, "last_pull")) image.last_pull = from_epoch_seconds(*lp);
        for (const auto& tag : image.tags) r.tag_index[tag] = image.digest;
        for (const auto& child : image.child_digests) r.parents.emplace(child, image.digest);
        r.images.emplace(image.digest, std::move(image));
      }
    }
    loaded.emplace(r.name, std::move(r));
  }
  std::map<std::string, CreationTemplate> templates;
  const Json::Value& jts = v["repository_creation_templates"];
  if (!jts.isNull() && !jts.isArray()) {
    return make_error("InvalidState", "state file: \"repository_creation_templates\" is not an array");
  }
  for (const auto& jt : jts) {
    const Json::Value& fields = jt.isObject() ? jt["fields"] : Json::Value::nullSingleton();
    const auto prefix = fields.isObject() ? get_string(fields, "prefix") : std::nullopt;
    if (!prefix || prefix->empty()) {
      return make_error("InvalidState", "state file: a repository creation template has no prefix");
    }
    CreationTemplate t;
    t.fields = fields;
    t.created_at = from_epoch_seconds(get_number(jt, "created_at").value_or(0));
    t.updated_at = from_epoch_seconds(get_number(jt, "updated_at").value_or(0));
    templates.emplace(*prefix, std::move(t));
  }
  std::lock_guard lock(mu_);
  repos_ = std::move(loaded);
  templates_ = std::move(templates);
  return {};
}

}  // namespace ecrs::localaws
