#include "ecrs/localaws/ecr_service.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <tuple>
#include <variant>
#include <string_view>

#include "ecr_model.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/lifecycle/evaluator.hpp"
#include "ecrs/lifecycle/policy_validator.hpp"
#include "ecrs/localaws/json_text.hpp"

namespace ecrs::localaws {
namespace {

// Defaults and limits from botocore's ECR model and the API reference.
constexpr int kDefaultMaxResults = 100;          // ListImages/DescribeImages/DescribeRepositories: "default 100"
constexpr std::size_t kMaxRepositoryTags = 50;   // TagList: "maximum of 50 tags" (CreateRepository, TagResource)
constexpr std::size_t kMaxRepositories = 10000;  // service quota: registered repositories per region
constexpr const char* kJsonContentType = "application/x-amz-json-1.1";
// Bytes reserved up front for a listing reply, per entry: a DescribeImages imageDetail with two tags is ~390 bytes
// and a ListImages imageId ~100, so a 1,000-entry page grows its string once or twice instead of twenty times.
constexpr std::size_t kImageDetailBytes = 400;
constexpr std::size_t kImageIdBytes = 100;

// BatchDeleteImage/BatchGetImage failure reasons as ECR words them.
constexpr const char* kReasonNotFound = "Requested image not found";
constexpr const char* kReasonMissing = "Invalid request parameters: both tag and digest cannot be null";
constexpr const char* kReasonBadDigest =
    "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'";
constexpr const char* kReasonBadTag =
    "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9_][a-zA-Z0-9._-]*'";
constexpr const char* kReasonTagMismatch = "Invalid request parameters: given tag does not map to the given digest";

EcrReply fail(std::string code, std::string message, int status = 400) {
  EcrReply r;
  r.status = status;
  r.error_code = code;
  r.body["__type"] = std::move(code);
  r.body["message"] = std::move(message);
  return r;
}

EcrReply ok(Json::Value body) {
  EcrReply r;
  r.body = body.isNull() ? Json::Value(Json::objectValue) : std::move(body);
  return r;
}

EcrReply ok(JsonText text) {
  EcrReply r;
  r.json = text.take();
  return r;
}

constexpr const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(const std::string& in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kB64[(acc << (6 - bits)) & 0x3F];
  while (out.size() % 4 != 0) out += '=';
  return out;
}

std::optional<std::string> base64_decode(const std::string& in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const char* p = std::strchr(kB64, c);
    if (p == nullptr || c == '\0') return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

// nextToken is opaque to clients: a versioned position ("after this key"), so a page boundary stays valid when
// images are deleted between pages (the key need not still exist).
std::string make_token(const std::string& kind, const std::string& a, const std::string& b = {}) {
  return base64_encode(kind + "\n" + a + "\n" + b);
}

std::optional<std::pair<std::string, std::string>> read_token(const std::string& kind, const std::string& token) {
  auto raw = base64_decode(token);
  if (!raw) return std::nullopt;
  const auto first = raw->find('\n');
  if (first == std::string::npos || raw->substr(0, first) != kind) return std::nullopt;
  const auto second = raw->find('\n', first + 1);
  if (second == std::string::npos) return std::nullopt;
  return std::make_pair(raw->substr(first + 1, second - first - 1), raw->substr(second + 1));
}

EcrReply bad_token() {
  return fail("InvalidParameterException",
              "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'");
}

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// kReasonBadDigest's '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+' as a scan: a std::regex match per id cost more than the rest
// of resolving it (BatchDeleteImage resolves 100 a call).
bool valid_digest(std::string_view d) {
  const auto colon = d.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == d.size()) return false;
  const auto algorithm_char = [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '+' || c == '.'; };
  return std::all_of(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(colon), algorithm_char) &&
         std::all_of(d.begin() + static_cast<std::ptrdiff_t>(colon) + 1, d.end(), is_hex);
}

// kReasonBadTag's '[a-zA-Z0-9_][a-zA-Z0-9._-]*'.
bool valid_tag(std::string_view t) {
  const auto tag_char = [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; };
  return !t.empty() && (is_alnum(t.front()) || t.front() == '_') && std::all_of(t.begin() + 1, t.end(), tag_char);
}

double epoch(std::chrono::system_clock::time_point t) { return to_epoch_seconds(t); }

// Repository creation templates: "Prefix" in service-2.json ("There is always an assumed / applied to the end of
// the prefix"; ROOT applies to repositories no other template covers). The longest matching prefix wins.
const CreationTemplate* template_for(const std::map<std::string, CreationTemplate>& templates,
                                     const std::string& repository, const std::string& applied) {
  const CreationTemplate* best = nullptr;
  std::size_t best_len = 0;
  const CreationTemplate* root = nullptr;
  for (const auto& [prefix, t] : templates) {
    bool applies = false;
    for (const auto& a : t.fields["appliedFor"]) applies = applies || a.asString() == applied;
    if (!applies) continue;
    if (prefix == "ROOT") {
      root = &t;
      continue;
    }
    std::string p = prefix;
    if (p.back() != '/') p += '/';
    if (repository.rfind(p, 0) == 0 && p.size() > best_len) {
      best = &t;
      best_len = p.size();
    }
  }
  return best != nullptr ? best : root;
}

class Ops {
 public:
  Ops(EcrState& state, const Clock& clock)
      : state_(state),
        clock_(clock),
        repos_(state.repositories_unlocked()),
        templates_(state.creation_templates_unlocked()) {}

  EcrReply run(const std::string& op, const Json::Value& in) {
    if (op == "CreateRepository") return create_repository(in);
    if (op == "DescribeRepositories") return describe_repositories(in);
    if (op == "DeleteRepository") return delete_repository(in);
    if (op == "ListImages") return list_images(in);
    if (op == "DescribeImages") return describe_images(in);
    if (op == "BatchGetImage") return batch_get_image(in);
    if (op == "BatchDeleteImage") return batch_delete_image(in);
    if (op == "PutImage") return put_image(in);
    if (op == "GetLifecyclePolicy" || op == "DeleteLifecyclePolicy") return lifecycle(in, op == "DeleteLifecyclePolicy");
    if (op == "PutLifecyclePolicy") return put_lifecycle_policy(in);
    if (op == "TagResource" || op == "UntagResource" || op == "ListTagsForResource") return tags(op, in);
    if (op == "SetRepositoryPolicy") return set_repository_policy(in);
    if (op == "GetRepositoryPolicy" || op == "DeleteRepositoryPolicy") {
      return repository_policy(in, op == "DeleteRepositoryPolicy");
    }
    if (op == "StartLifecyclePolicyPreview") return start_lifecycle_policy_preview(in);
    if (op == "GetLifecyclePolicyPreview") return get_lifecycle_policy_preview(in);
    if (op == "CreateRepositoryCreationTemplate") return create_template(in);
    if (op == "UpdateRepositoryCreationTemplate") return update_template(in);
    if (op == "DescribeRepositoryCreationTemplates") return describe_templates(in);
    if (op == "DeleteRepositoryCreationTemplate") return delete_template(in);
    return fail("UnknownOperationException", "");
  }

 private:
  std::string registry(const Json::Value& in) const {
    return get_string(in, "registryId").value_or(state_.account_id());
  }

  EcrReply repo_not_found(const std::string& name, const std::string& registry_id) const {
    return fail("RepositoryNotFoundException", "The repository with name '" + name +
                                                   "' does not exist in the registry with id '" + registry_id + "'");
  }

  // The repository named in the request, or the error to answer.
  std::variant<Repository*, EcrReply> find_repo(const Json::Value& in) {
    const std::string name = get_string(in, "repositoryName").value_or("");
    const std::string reg = registry(in);
    auto it = repos_.find(name);
    if (reg != state_.account_id() || it == repos_.end()) return repo_not_found(name, reg);
    return &it->second;
  }

  Json::Value repo_json(const Repository& r) const {
    Json::Value j;
    j["repositoryArn"] = repository_arn(state_.region(), state_.account_id(), r.name);
    j["registryId"] = state_.account_id();
    j["repositoryName"] = r.name;
    j["repositoryUri"] = repository_uri(state_.region(), state_.account_id(), r.name);
    j["createdAt"] = epoch(r.created_at);
    j["imageTagMutability"] = r.tag_mutability;
    j["imageScanningConfiguration"]["scanOnPush"] = r.scan_on_push;
    j["encryptionConfiguration"]["encryptionType"] = r.encryption_type;
    if (!r.kms_key.empty()) j["encryptionConfiguration"]["kmsKey"] = r.kms_key;
    return j;
  }

  static int max_results(const Json::Value& in) {
    return static_cast<int>(get_int(in, "maxResults").value_or(kDefaultMaxResults));
  }

  static std::string tag_status(const Json::Value& in) {
    if (!in.isMember("filter")) return "ANY";
    return get_string(in["filter"], "tagStatus").value_or("ANY");
  }

  // ECR has no archive here: every image is ACTIVE, so ARCHIVED/ACTIVATING filters select nothing.
  static bool status_selects_active(const Json::Value& in) {
    if (!in.isMember("filter")) return true;
    const std::string s = get_string(in["filter"], "imageStatus").value_or("ACTIVE");
    return s == "ACTIVE" || s == "ANY";
  }

  EcrReply create_repository(const Json::Value& in) {
    const std::string name = in["repositoryName"].asString();
    const std::string reg = registry(in);
    if (reg != state_.account_id()) return repo_not_found(name, reg);
    if (repos_.count(name) != 0) {
      return fail("RepositoryAlreadyExistsException",
                  "The repository with name '" + name + "' already exists in the registry with id '" + reg + "'");
    }
    if (repos_.size() >= kMaxRepositories) {
      return fail("LimitExceededException",
                  "The operation did not succeed because it would have exceeded a service limit for your account.");
    }
    if (in.isMember("tags") && in["tags"].size() > kMaxRepositoryTags) {
      return fail("TooManyTagsException", "The list of tags on the repository is over the limit. The maximum "
                                          "number of tags that can be applied to a repository is 50.");
    }
    Repository r;
    r.name = name;
    r.registry_id = reg;
    r.created_at = clock_.now();
    r.tag_mutability = get_string(in, "imageTagMutability").value_or("MUTABLE");
    if (in.isMember("imageScanningConfiguration")) {
      r.scan_on_push = get_bool(in["imageScanningConfiguration"], "scanOnPush").value_or(false);
    }
    if (in.isMember("encryptionConfiguration")) {
      r.encryption_type = get_string(in["encryptionConfiguration"], "encryptionType").value_or("AES256");
      r.kms_key = get_string(in["encryptionConfiguration"], "kmsKey").value_or("");
    }
    for (const auto& t : in.get("tags", Json::Value(Json::arrayValue))) r.tags[t["Key"].asString()] = t["Value"].asString();
    Json::Value out;
    out["repository"] = repo_json(r);
    repos_.emplace(name, std::move(r));
    return ok(out);
  }

  EcrReply describe_repositories(const Json::Value& in) {
    const std::string reg = registry(in);
    Json::Value out;
    out["repositories"] = Json::Value(Json::arrayValue);
    if (in.isMember("repositoryNames")) {
      for (const auto& n : in["repositoryNames"]) {
        auto it = repos_.find(n.asString());
        if (reg != state_.account_id() || it == repos_.end()) return repo_not_found(n.asString(), reg);
        out["repositories"].append(repo_json(it->second));
      }
      return ok(out);
    }
    if (reg != state_.account_id()) return ok(out);
    auto it = repos_.begin();
    if (auto token = get_string(in, "nextToken")) {
      auto pos = read_token("dr1", *token);
      if (!pos) return bad_token();
      it = repos_.upper_bound(pos->first);
    }
    const int limit = max_results(in);
    for (int n = 0; it != repos_.end() && n < limit; ++it, ++n) out["repositories"].append(repo_json(it->second));
    if (it != repos_.end()) {
      out["nextToken"] = make_token("dr1", std::prev(it)->first);
    }
    return ok(out);
  }

  EcrReply delete_repository(const Json::Value& in) {
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    Repository* r = std::get<Repository*>(found);
    if (!r->images.empty() && !get_bool(in, "force").value_or(false)) {
      return fail("RepositoryNotEmptyException", "The repository with name '" + r->name + "' in registry with id '" +
                                                     state_.account_id() +
                                                     "' cannot be deleted because it still contains images");
    }
    Json::Value out;
    out["repository"] = repo_json(*r);
    repos_.erase(r->name);
    return ok(out);
  }

  EcrReply list_images(const Json::Value& in) {
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    const Repository& r = *std::get<Repository*>(found);
    const std::string status = tag_status(in);
    const bool want_tagged = status != "UNTAGGED";
    const bool want_untagged = status != "TAGGED";
    std::string after_digest;
    std::string after_tag;
    bool have_after = false;
    if (auto token = get_string(in, "nextToken")) {
      auto pos = read_token("li1", *token);
      if (!pos) return bad_token();
      std::tie(after_digest, after_tag) = *pos;
      have_after = true;
    }
    const int limit = max_results(in);
    // Written under the state lock straight into the reply text: ~1 ms for 1,000 ids, where a Json::Value tree
    // of them took several (json_text.hpp).
    JsonText out(kImageIdBytes * std::min(static_cast<std::size_t>(limit), r.images.size()));
    out.begin_object().key("imageIds").begin_array();
    int listed = 0;
    std::string last_digest;  // assigned in place: the capacity is reused, no allocation per entry
    std::string last_tag;
    bool more = false;
    // One entry per (digest, tag) pair and one digest-only entry per untagged image, as ECR lists them; ordered by
    // (digest, tag) so the token is a position in that order. An untagged image's key has an empty tag.
    auto visit = [&](const std::string& digest, const std::string& tag) {
      if (have_after && std::tie(digest, tag) <= std::tie(after_digest, after_tag)) return true;
      if (listed == limit) {
        more = true;
        return false;
      }
      out.begin_object().member("imageDigest", digest);
      if (!tag.empty()) out.member("imageTag", tag);
      out.end_object();
      ++listed;
      last_digest = digest;
      last_tag = tag;
      return true;
    };
    if (status_selects_active(in)) {
      for (auto it = have_after ? r.images.lower_bound(after_digest) : r.images.begin(); it != r.images.end(); ++it) {
        const Image& image = it->second;
        bool go_on = true;
        if (image.tags.empty()) {
          if (want_untagged) go_on = visit(image.digest, "");
        } else if (want_tagged) {
          for (const auto& tag : image.tags) {
            if (!(go_on = visit(image.digest, tag))) break;
          }
        }
        if (!go_on) break;
      }
    }
    out.end_array();
    if (more) out.member("nextToken", make_token("li1", last_digest, last_tag));
    return ok(std::move(out.end_object()));
  }

  // One ImageDetail, members in jsoncpp's (sorted) order so the text is what the tree would have written.
  void image_detail(JsonText& out, const Repository& r, const Image& image) const {
    out.begin_object();
    if (!image.artifact_media_type.empty()) out.member("artifactMediaType", image.artifact_media_type);
    out.member("imageDigest", image.digest);
    out.member("imageManifestMediaType", image.manifest_media_type);
    out.key("imagePushedAt").number(epoch(image.pushed_at));
    out.key("imageSizeInBytes").number(image.size_bytes);
    out.member("imageStatus", "ACTIVE");
    if (!image.tags.empty()) {
      out.key("imageTags").begin_array();
      for (const auto& t : image.tags) out.string(t);
      out.end_array();
    }
    if (image.last_pull) out.key("lastRecordedPullTime").number(epoch(*image.last_pull));
    out.member("registryId", state_.account_id());
    out.member("repositoryName", r.name);
    if (!image.subject_digest.empty()) out.member("subjectManifestDigest", image.subject_digest);
    out.end_object();
  }

  struct Resolved {
    Image* image = nullptr;
    std::string failure_code;
    std::string failure_reason;
  };

  // Resolves one ImageIdentifier the way BatchDeleteImage/BatchGetImage judge it.
  static Resolved resolve(Repository& r, const Json::Value& id) {
    const auto digest = get_string(id, "imageDigest");
    const auto tag = get_string(id, "imageTag");
    if (!digest && !tag) return {nullptr, "MissingDigestAndTag", kReasonMissing};
    if (digest && !valid_digest(*digest)) return {nullptr, "InvalidImageDigest", kReasonBadDigest};
    if (tag && !valid_tag(*tag)) return {nullptr, "InvalidImageTag", kReasonBadTag};
    Image* by_tag = nullptr;
    if (tag) {
      if (auto t = r.tag_index.find(*tag); t != r.tag_index.end()) {
        if (auto it = r.images.find(t->second); it != r.images.end()) by_tag = &it->second;
      }
    }
    if (digest) {
      auto it = r.images.find(*digest);
      if (tag && by_tag != nullptr && (it == r.images.end() || by_tag != &it->second)) {
        return {nullptr, "ImageTagDoesNotMatchDigest", kReasonTagMismatch};
      }
      if (it == r.images.end() || (tag && by_tag == nullptr)) return {nullptr, "ImageNotFound", kReasonNotFound};
      return {&it->second, "", ""};
    }
    if (by_tag == nullptr) return {nullptr, "ImageNotFound", kReasonNotFound};
    return {by_tag, "", ""};
  }

  static Json::Value failure(const Json::Value& id, const Resolved& res) {
    Json::Value f;
    f["imageId"] = id;
    f["failureCode"] = res.failure_code;
    f["failureReason"] = res.failure_reason;
    return f;
  }

  EcrReply describe_images(const Json::Value& in) {
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    Repository& r = *std::get<Repository*>(found);
    if (in.isMember("imageIds")) {
      JsonText out(kImageDetailBytes * in["imageIds"].size());
      out.begin_object().key("imageDetails").begin_array();
      for (const auto& id : in["imageIds"]) {
        Resolved res = resolve(r, id);
        if (res.image == nullptr) {
          if (res.failure_code != "ImageNotFound" && res.failure_code != "ImageTagDoesNotMatchDigest") {
            return fail("InvalidParameterException", res.failure_reason);
          }
          return fail("ImageNotFoundException",
                      "The image with imageId {imageDigest:'" + get_string(id, "imageDigest").value_or("null") +
                          "', imageTag:'" + get_string(id, "imageTag").value_or("null") +
                          "'} does not exist within the repository with name '" + r.name +
                          "' in the registry with id '" + state_.account_id() + "'");
        }
        image_detail(out, r, *res.image);
      }
      return ok(std::move(out.end_array().end_object()));
    }
    const std::string status = tag_status(in);
    auto it = r.images.begin();
    if (auto token = get_string(in, "nextToken")) {
      auto pos = read_token("di1", *token);
      if (!pos) return bad_token();
      it = r.images.upper_bound(pos->first);
    }
    const int limit = max_results(in);
    // Written under the state lock straight into the reply text: ~1 ms for a 1,000-image page, where a
    // Json::Value tree of it took ~20 (json_text.hpp).
    JsonText out(kImageDetailBytes * std::min(static_cast<std::size_t>(limit), r.images.size()));
    out.begin_object().key("imageDetails").begin_array();
    int listed = 0;
    const Image* last = nullptr;
    bool more = false;
    for (; status_selects_active(in) && it != r.images.end(); ++it) {
      const Image& image = it->second;
      if ((status == "TAGGED" && image.tags.empty()) || (status == "UNTAGGED" && !image.tags.empty())) continue;
      if (listed == limit) {
        more = true;
        break;
      }
      image_detail(out, r, image);
      ++listed;
      last = &image;
    }
    out.end_array();
    if (more) out.member("nextToken", make_token("di1", last->digest));
    return ok(std::move(out.end_object()));
  }

  EcrReply batch_get_image(const Json::Value& in) {
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    Repository& r = *std::get<Repository*>(found);
    Json::Value out;
    out["images"] = Json::Value(Json::arrayValue);
    out["failures"] = Json::Value(Json::arrayValue);
    for (const auto& id : in["imageIds"]) {
      Resolved res = resolve(r, id);
      if (res.image == nullptr) {
        out["failures"].append(failure(id, res));
        continue;
      }
      // A pull by BatchGetImage is what ECR records as lastRecordedPullTime.
      res.image->last_pull = clock_.now();
      Json::Value image;
      image["registryId"] = state_.account_id();
      image["repositoryName"] = r.name;
      image["imageId"]["imageDigest"] = res.image->digest;
      if (auto tag = get_string(id, "imageTag")) image["imageId"]["imageTag"] = *tag;
      image["imageManifest"] = res.image->manifest;
      image["imageManifestMediaType"] = res.image->manifest_media_type;
      out["images"].append(image);
    }
    return ok(out);
  }

  // Digests of indexes in `r` that list `digest` as a child.
  static std::vector<std::string> referencing_indexes(const Repository& r, const std::string& digest) {
    std::vector<std::string> out;
    auto [first, last] = r.parents.equal_range(digest);
    for (auto p = first; p != last; ++p) out.push_back(p->second);
    return out;
  }

  // BatchDeleteImage is the emptying hot path (100 ids a call), so its reply is written as text like the listing
  // pages: the failures and the deleted ids in two arrays, joined in jsoncpp's member order at the end.
  EcrReply batch_delete_image(const Json::Value& in) {
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    Repository& r = *std::get<Repository*>(found);
    JsonText gone(kImageIdBytes * in["imageIds"].size());
    JsonText failures;
    gone.begin_array();
    failures.begin_array();
    auto failed = [&](const Json::Value& id, const std::string& code, const std::string& reason) {
      failures.begin_object().member("failureCode", code).member("failureReason", reason);
      failures.key("imageId").raw(to_compact_json(id)).end_object();
    };
    auto deleted = [&](const std::string& digest, const std::string* tag) {
      gone.begin_object().member("imageDigest", digest);
      if (tag != nullptr) gone.member("imageTag", *tag);
      gone.end_object();
    };
    // Ids are applied in order, so an index listed before its children frees them within the same call.
    for (const auto& id : in["imageIds"]) {
      Resolved res = resolve(r, id);
      if (res.image == nullptr) {
        failed(id, res.failure_code, res.failure_reason);
        continue;
      }
      Image& image = *res.image;
      if (!id.isMember("imageDigest")) {
        // Deleting a tag removes that tag; the image goes with its last tag (API_BatchDeleteImage), even when an
        // index references it (containers-roadmap#1567).
        const std::string tag = id["imageTag"].asString();
        deleted(image.digest, &tag);
        r.untag(tag);
        if (image.tags.empty()) r.erase_image(image.digest);
        continue;
      }
      if (auto parents = referencing_indexes(r, image.digest); !parents.empty()) {
        std::string list;
        for (const auto& p : parents) list += (list.empty() ? "" : ", ") + p;
        failed(id, "ImageReferencedByManifestList", "Requested image referenced by manifest list: [" + list + "]");
        continue;
      }
      if (image.tags.empty()) deleted(image.digest, nullptr);
      for (const auto& t : image.tags) deleted(image.digest, &t);
      r.erase_image(image.digest);
    }
    JsonText out(gone.str().size() + failures.str().size() + 32);
    out.begin_object().key("failures").raw(failures.end_array().str()).key("imageIds").raw(gone.end_array().str());
    return ok(std::move(out.end_object()));
  }

  EcrReply put_image(const Json::Value& in) {
    create_on_push(in);
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    Repository& r = *std::get<Repository*>(found);
    const std::string manifest = in["imageManifest"].asString();
    const std::string given_type = get_string(in, "imageManifestMediaType").value_or("");
    const std::string tag = get_string(in, "imageTag").value_or("");
    auto made = make_image(manifest, given_type);
    if (!made) return fail(made.error().code, made.error().message);
    Image image = std::move(*made);
    if (auto doc = parse_json(manifest); doc && !given_type.empty()) {
      const std::string own = get_string(*doc, "mediaType").value_or(given_type);
      if (own != given_type) {
        return fail("InvalidParameterException",
                    "Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: 'The media type of "
                    "the manifest does not match imageManifestMediaType'");
      }
    }
    if (auto digest = get_string(in, "imageDigest"); digest && *digest != image.digest) {
      return fail("ImageDigestDoesNotMatchException",
                  "The specified image digest does not match the digest that Amazon ECR calculated for the image.");
    }
    if (!tag.empty() && !valid_tag(tag)) {
      return fail("InvalidParameterException",
                  "Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular expression "
                  "'[a-zA-Z0-9_][a-zA-Z0-9._-]*''");
    }
    for (const auto& child : image.child_digests) {
      auto it = r.images.find(child);
      if (it == r.images.end()) {
        return fail("ReferencedImagesNotFoundException",
                    "The manifest list is referencing an image that does not exist: " + child);
      }
      // An index's imageSizeInBytes is its largest child's (ImageDetail.imageSizeInBytes in the model).
      image.size_bytes = std::max(image.size_bytes, it->second.size_bytes);
    }
    if (auto existing = r.images.find(image.digest); existing != r.images.end()) {
      if (tag.empty() || existing->second.tags.count(tag) != 0) {
        return fail("ImageAlreadyExistsException",
                    "Image with digest '" + image.digest + "'" + (tag.empty() ? "" : " and tag '" + tag + "'") +
                        " already exists in the repository with name '" + r.name + "' in registry with id '" +
                        state_.account_id() + "'");
      }
    }
    if (!tag.empty() && r.tag_mutability.rfind("IMMUTABLE", 0) == 0) {
      if (auto t = r.tag_index.find(tag); t != r.tag_index.end() && t->second != image.digest) {
        {
          return fail("ImageTagAlreadyExistsException",
                      "The image tag '" + tag + "' already exists in the '" + r.name +
                          "' repository and cannot be overwritten because the repository is immutable.");
        }
      }
    }
    image.pushed_at = clock_.now();
    Json::Value out;
    out["image"]["registryId"] = state_.account_id();
    out["image"]["repositoryName"] = r.name;
    out["image"]["imageId"]["imageDigest"] = image.digest;
    if (!tag.empty()) out["image"]["imageId"]["imageTag"] = tag;
    out["image"]["imageManifest"] = manifest;
    out["image"]["imageManifestMediaType"] = image.manifest_media_type;
    place_image(r, std::move(image), tag);
    return ok(out);
  }

  EcrReply lifecycle(const Json::Value& in, bool remove) {
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    Repository& r = *std::get<Repository*>(found);
    if (!r.lifecycle_policy) {
      return fail("LifecyclePolicyNotFoundException", "Lifecycle policy does not exist for the repository with name '" +
                                                          r.name + "' in the registry with id '" +
                                                          state_.account_id() + "'");
    }
    Json::Value out;
    out["registryId"] = state_.account_id();
    out["repositoryName"] = r.name;
    out["lifecyclePolicyText"] = *r.lifecycle_policy;
    if (remove) r.lifecycle_policy.reset();
    return ok(out);
  }

  EcrReply put_lifecycle_policy(const Json::Value& in) {
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    Repository& r = *std::get<Repository*>(found);
    const std::string text = in["lifecyclePolicyText"].asString();
    auto doc = parse_json(text);
    if (!doc || !doc->isObject() || !(*doc)["rules"].isArray() || (*doc)["rules"].empty()) {
      return fail("InvalidParameterException",
                  "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy "
                  "validation failure: the policy must be a JSON object with a non-empty \"rules\" array'");
    }
    r.lifecycle_policy = text;
    Json::Value out;
    out["registryId"] = state_.account_id();
    out["repositoryName"] = r.name;
    out["lifecyclePolicyText"] = text;
    return ok(out);
  }

  EcrReply tags(const std::string& op, const Json::Value& in) {
    const std::string arn = in["resourceArn"].asString();
    const std::string prefix = "arn:aws:ecr:" + state_.region() + ":" + state_.account_id() + ":repository/";
    if (arn.rfind("arn:aws:ecr:", 0) != 0 || arn.find(":repository/") == std::string::npos) {
      return fail("InvalidParameterException",
                  "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'");
    }
    const std::string name = arn.substr(arn.find(":repository/") + std::string(":repository/").size());
    auto it = repos_.find(name);
    if (arn.rfind(prefix, 0) != 0 || it == repos_.end()) return repo_not_found(name, state_.account_id());
    Repository& r = it->second;
    Json::Value out(Json::objectValue);
    if (op == "ListTagsForResource") {
      out["tags"] = Json::Value(Json::arrayValue);
      for (const auto& [k, v] : r.tags) {
        Json::Value t;
        t["Key"] = k;
        t["Value"] = v;
        out["tags"].append(t);
      }
    } else if (op == "TagResource") {
      auto merged = r.tags;
      for (const auto& t : in["tags"]) merged[t["Key"].asString()] = t["Value"].asString();
      if (merged.size() > kMaxRepositoryTags) {
        return fail("TooManyTagsException", "The list of tags on the repository is over the limit. The maximum "
                                            "number of tags that can be applied to a repository is 50.");
      }
      r.tags = std::move(merged);
    } else {
      for (const auto& k : in["tagKeys"]) r.tags.erase(k.asString());
    }
    return ok(out);
  }

  // Native create-on-push (Dec 2025): a push to a missing repository that a CREATE_ON_PUSH template covers creates
  // it with the template's settings (RepositoryCreationTemplate in service-2.json). PutImage stands in for the
  // push here; localaws has no registry (layer upload) API.
  void create_on_push(const Json::Value& in) {
    const std::string name = get_string(in, "repositoryName").value_or("");
    if (registry(in) != state_.account_id() || repos_.count(name) != 0) return;
    const CreationTemplate* t = template_for(templates_, name, "CREATE_ON_PUSH");
    if (t == nullptr) return;
    const Json::Value& f = t->fields;
    Repository r;
    r.name = name;
    r.registry_id = state_.account_id();
    r.created_at = clock_.now();
    r.tag_mutability = get_string(f, "imageTagMutability").value_or("MUTABLE");
    if (f["encryptionConfiguration"].isObject()) {
      r.encryption_type = get_string(f["encryptionConfiguration"], "encryptionType").value_or("AES256");
      r.kms_key = get_string(f["encryptionConfiguration"], "kmsKey").value_or("");
    }
    for (const auto& tag : f["resourceTags"]) r.tags[tag["Key"].asString()] = tag["Value"].asString();
    if (auto lp = get_string(f, "lifecyclePolicy"); lp && !lp->empty()) r.lifecycle_policy = *lp;
    if (auto rp = get_string(f, "repositoryPolicy"); rp && !rp->empty()) r.repository_policy = *rp;
    repos_.emplace(name, std::move(r));
  }

  EcrReply set_repository_policy(const Json::Value& in) {
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    Repository& r = *std::get<Repository*>(found);
    const std::string text = in["policyText"].asString();
    // ECR parses the policy as an IAM resource policy; we check only that it is a JSON object with a Statement.
    auto doc = parse_json(text);
    if (!doc || !doc->isObject() || !doc->isMember("Statement")) {
      return fail("InvalidParameterException",
                  "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy "
                  "provided'");
    }
    r.repository_policy = text;
    Json::Value out;
    out["registryId"] = state_.account_id();
    out["repositoryName"] = r.name;
    out["policyText"] = text;
    return ok(out);
  }

  EcrReply repository_policy(const Json::Value& in, bool remove) {
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    Repository& r = *std::get<Repository*>(found);
    if (!r.repository_policy) {
      return fail("RepositoryPolicyNotFoundException",
                  "Repository policy does not exist for the repository with name '" + r.name +
                      "' in the registry with id '" + state_.account_id() + "'");
    }
    Json::Value out;
    out["registryId"] = state_.account_id();
    out["repositoryName"] = r.name;
    out["policyText"] = *r.repository_policy;
    if (remove) r.repository_policy.reset();
    return ok(out);
  }

  // Evaluated at once with our lifecycle evaluator, so the preview is COMPLETE as soon as it starts (AWS reports
  // IN_PROGRESS first; clients poll GetLifecyclePolicyPreview until COMPLETE, which this answers on the first poll).
  EcrReply start_lifecycle_policy_preview(const Json::Value& in) {
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    Repository& r = *std::get<Repository*>(found);
    std::string text;
    if (auto given = get_string(in, "lifecyclePolicyText")) {
      text = *given;
    } else if (r.lifecycle_policy) {
      text = *r.lifecycle_policy;
    } else {
      return fail("LifecyclePolicyNotFoundException", "Lifecycle policy does not exist for the repository with name '" +
                                                          r.name + "' in the registry with id '" +
                                                          state_.account_id() + "'");
    }
    auto policy = lifecycle::parse_policy(text);
    if (!policy) {
      return fail("InvalidParameterException",
                  "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy "
                  "validation failure: " + policy.error().message + "'");
    }
    std::vector<lifecycle::Image> images;
    std::vector<const Image*> sources;
    auto to_ts = [](std::chrono::system_clock::time_point t) {
      return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
    };
    for (const auto& [digest, image] : r.images) {
      lifecycle::Image li;
      li.image_digest = digest;
      li.image_tags.assign(image.tags.begin(), image.tags.end());
      li.image_pushed_at = to_ts(image.pushed_at);
      if (image.last_pull) li.last_recorded_pull_time = to_ts(*image.last_pull);
      images.push_back(std::move(li));
      sources.push_back(&image);
    }
    const auto evaluation = lifecycle::evaluate_policy(*policy, images, to_ts(clock_.now()));
    LifecyclePreview preview;
    preview.lifecycle_policy_text = text;
    for (std::size_t i = 0; i < images.size(); ++i) {
      const auto& verdict = evaluation.verdicts[i];
      if (verdict.action == lifecycle::ImageAction::keep) continue;
      LifecyclePreviewResult pr;
      pr.image_digest = images[i].image_digest;
      pr.image_tags = images[i].image_tags;
      pr.image_pushed_at = epoch(sources[i]->pushed_at);
      pr.action = verdict.action == lifecycle::ImageAction::expire ? "EXPIRE" : "TRANSITION";
      pr.applied_rule_priority = verdict.rule_priority.value_or(0);
      preview.results.push_back(std::move(pr));
    }
    std::stable_sort(preview.results.begin(), preview.results.end(), [](const auto& a, const auto& b) {
      return std::tie(a.image_pushed_at, a.image_digest) < std::tie(b.image_pushed_at, b.image_digest);
    });
    r.lifecycle_preview = std::move(preview);
    Json::Value out;
    out["registryId"] = state_.account_id();
    out["repositoryName"] = r.name;
    out["lifecyclePolicyText"] = text;
    out["status"] = "COMPLETE";
    return ok(out);
  }

  EcrReply get_lifecycle_policy_preview(const Json::Value& in) {
    auto found = find_repo(in);
    if (auto* e = std::get_if<EcrReply>(&found)) return *e;
    Repository& r = *std::get<Repository*>(found);
    if (!r.lifecycle_preview) {
      return fail("LifecyclePolicyPreviewNotFoundException",
                  "There is no dry run for the repository with name '" + r.name + "' in the registry with id '" +
                      state_.account_id() + "'");
    }
    const LifecyclePreview& preview = *r.lifecycle_preview;
    const std::string status = tag_status(in);
    std::set<std::string> wanted_digests;
    std::set<std::string> wanted_tags;
    for (const auto& id : in["imageIds"]) {
      if (auto d = get_string(id, "imageDigest")) wanted_digests.insert(*d);
      if (auto t = get_string(id, "imageTag")) wanted_tags.insert(*t);
    }
    const bool by_ids = in.isMember("imageIds");
    if (by_ids && (in.isMember("nextToken") || in.isMember("maxResults"))) {
      return fail("InvalidParameterException",
                  "Invalid parameter at 'imageIds' failed to satisfy constraint: 'nextToken and maxResults cannot "
                  "be used with imageIds'");
    }
    std::size_t start = 0;
    if (auto token = get_string(in, "nextToken")) {
      auto pos = read_token("lp1", *token);
      if (!pos) return bad_token();
      const auto [end, ec] = std::from_chars(pos->first.data(), pos->first.data() + pos->first.size(), start);
      if (ec != std::errc() || end != pos->first.data() + pos->first.size()) return bad_token();
    }
    const int limit = max_results(in);
    Json::Value out;
    out["registryId"] = state_.account_id();
    out["repositoryName"] = r.name;
    out["lifecyclePolicyText"] = preview.lifecycle_policy_text;
    out["status"] = "COMPLETE";
    out["previewResults"] = Json::Value(Json::arrayValue);
    std::size_t expiring = 0;
    std::size_t transitioning = 0;
    for (const auto& pr : preview.results) (pr.action == "EXPIRE" ? expiring : transitioning) += 1;
    std::size_t i = start;
    for (; i < preview.results.size(); ++i) {
      const LifecyclePreviewResult& pr = preview.results[i];
      if ((status == "TAGGED" && pr.image_tags.empty()) || (status == "UNTAGGED" && !pr.image_tags.empty())) continue;
      if (by_ids) {
        bool hit = wanted_digests.count(pr.image_digest) != 0;
        for (const auto& t : pr.image_tags) hit = hit || wanted_tags.count(t) != 0;
        if (!hit) continue;
      }
      if (!by_ids && static_cast<int>(out["previewResults"].size()) == limit) break;
      Json::Value j;
      j["imageDigest"] = pr.image_digest;
      if (!pr.image_tags.empty()) {
        for (const auto& t : pr.image_tags) j["imageTags"].append(t);
      }
      j["imagePushedAt"] = pr.image_pushed_at;
      j["action"]["type"] = pr.action;
      if (pr.action == "TRANSITION") j["action"]["targetStorageClass"] = "ARCHIVE";
      j["appliedRulePriority"] = static_cast<Json::Int64>(pr.applied_rule_priority);
      j["storageClass"] = "STANDARD";
      out["previewResults"].append(j);
    }
    if (!by_ids && i < preview.results.size()) out["nextToken"] = make_token("lp1", std::to_string(i));
    out["summary"]["expiringImageTotalCount"] = static_cast<Json::UInt64>(expiring);
    if (transitioning > 0) out["summary"]["transitioningImageTotalCounts"]["ARCHIVE"] = static_cast<Json::UInt64>(transitioning);
    return ok(out);
  }

  Json::Value template_json(const CreationTemplate& t) const {
    Json::Value j = t.fields;
    j["createdAt"] = epoch(t.created_at);
    j["updatedAt"] = epoch(t.updated_at);
    if (!j.isMember("imageTagMutability")) j["imageTagMutability"] = "MUTABLE";
    if (!j.isMember("encryptionConfiguration")) j["encryptionConfiguration"]["encryptionType"] = "AES256";
    return j;
  }

  // Settings a template stores: every input member but the key.
  static std::optional<EcrReply> check_template_settings(const Json::Value& in) {
    if (auto lp = get_string(in, "lifecyclePolicy"); lp && !lp->empty()) {
      if (auto policy = lifecycle::parse_policy(*lp); !policy) {
        return fail("InvalidParameterException",
                    "Invalid parameter at 'lifecyclePolicy' failed to satisfy constraint: 'Lifecycle policy "
                    "validation failure: " + policy.error().message + "'");
      }
    }
    if (in.isMember("appliedFor") && in["appliedFor"].empty()) {
      return fail("InvalidParameterException",
                  "Invalid parameter at 'appliedFor' failed to satisfy constraint: 'Member must have length greater "
                  "than or equal to 1'");
    }
    return std::nullopt;
  }

  static std::string normalise_prefix(std::string prefix) {
    if (prefix != "ROOT" && !prefix.empty() && prefix.back() == '/') prefix.pop_back();
    return prefix;
  }

  EcrReply template_reply(const CreationTemplate& t) const {
    Json::Value out;
    out["registryId"] = state_.account_id();
    out["repositoryCreationTemplate"] = template_json(t);
    return ok(out);
  }

  EcrReply template_not_found(const std::string& prefix) const {
    return fail("TemplateNotFoundException", "The specified repository creation template with prefix '" + prefix +
                                                 "' does not exist in the registry with id '" + state_.account_id() +
                                                 "'");
  }

  EcrReply create_template(const Json::Value& in) {
    const std::string prefix = normalise_prefix(in["prefix"].asString());
    if (templates_.count(prefix) != 0) {
      return fail("TemplateAlreadyExistsException", "The repository creation template with prefix '" + prefix +
                                                        "' already exists in the registry with id '" +
                                                        state_.account_id() + "'");
    }
    if (auto e = check_template_settings(in)) return *e;
    CreationTemplate t;
    t.fields = in;
    t.fields["prefix"] = prefix;
    t.created_at = t.updated_at = clock_.now();
    auto& stored = templates_[prefix] = std::move(t);
    return template_reply(stored);
  }

  EcrReply update_template(const Json::Value& in) {
    const std::string prefix = normalise_prefix(in["prefix"].asString());
    auto it = templates_.find(prefix);
    if (it == templates_.end()) return template_not_found(prefix);
    if (auto e = check_template_settings(in)) return *e;
    // Members given replace the stored ones; members left out keep their value.
    for (const auto& name : in.getMemberNames()) it->second.fields[name] = in[name];
    it->second.fields["prefix"] = prefix;
    it->second.updated_at = clock_.now();
    return template_reply(it->second);
  }

  EcrReply describe_templates(const Json::Value& in) {
    Json::Value out;
    out["registryId"] = state_.account_id();
    out["repositoryCreationTemplates"] = Json::Value(Json::arrayValue);
    if (in.isMember("prefixes")) {
      for (const auto& p : in["prefixes"]) {
        auto it = templates_.find(normalise_prefix(p.asString()));
        if (it != templates_.end()) out["repositoryCreationTemplates"].append(template_json(it->second));
      }
      return ok(out);
    }
    auto it = templates_.begin();
    if (auto token = get_string(in, "nextToken")) {
      auto pos = read_token("rt1", *token);
      if (!pos) return bad_token();
      it = templates_.upper_bound(pos->first);
    }
    const int limit = max_results(in);
    for (int n = 0; it != templates_.end() && n < limit; ++it, ++n) {
      out["repositoryCreationTemplates"].append(template_json(it->second));
    }
    if (it != templates_.end()) out["nextToken"] = make_token("rt1", std::prev(it)->first);
    return ok(out);
  }

  EcrReply delete_template(const Json::Value& in) {
    const std::string prefix = normalise_prefix(in["prefix"].asString());
    auto it = templates_.find(prefix);
    if (it == templates_.end()) return template_not_found(prefix);
    EcrReply reply = template_reply(it->second);
    templates_.erase(it);
    return reply;
  }

  EcrState& state_;
  const Clock& clock_;
  std::map<std::string, Repository>& repos_;
  std::map<std::string, CreationTemplate>& templates_;
};

HttpResponse to_http(EcrReply reply, const std::string& request_id) {
  HttpResponse res;
  res.status = reply.status;
  res.headers.emplace_back("x-amzn-RequestId", request_id);
  res.headers.emplace_back("Content-Type", kJsonContentType);
  if (!reply.error_code.empty()) res.headers.emplace_back("x-amzn-ErrorType", reply.error_code);
  res.body = reply.json.empty() ? to_compact_json(reply.body) : std::move(reply.json);
  return res;
}

}  // namespace

std::string make_request_id(Random& random) {
  char buf[96];
  auto word = [&](int bits) {
    return static_cast<unsigned long long>(random.uniform01() * static_cast<double>(1ULL << bits));
  };
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-%04llx-%012llx", word(32), word(16), word(12),
                0x8000ULL | word(14), word(48));
  return buf;
}

// What ECR answers a role whose policy lacks the action: HTTP 400, AccessDeniedException, and IAM's sentence naming
// the principal, the action and the repository ARN (as seen in the field: "User: arn:aws:sts::...:assumed-role/R/S
// is not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:...:repository/NAME because no
// identity-based policy allows the ecr:DescribeImages action").
EcrReply EcrService::access_denied(const std::string& operation, const Json::Value& input) const {
  const std::string account = get_string(input, "registryId").value_or(state_.account_id());
  const std::string name = get_string(input, "repositoryName").value_or("*");
  const std::string resource =
      name == "*" ? "*" : repository_arn(state_.region(), account, name);
  const std::string action = "ecr:" + operation;
  return fail("AccessDeniedException", "User: arn:aws:sts::" + state_.account_id() +
                                           ":assumed-role/ecr-sweeper/localaws is not authorized to perform: " +
                                           action + " on resource: " + resource +
                                           " because no identity-based policy allows the " + action + " action");
}

EcrService::EcrService(EcrState& state, VerifierOptions auth, FaultInjector& faults, Metrics& metrics,
                       const Clock& clock, Random& request_ids, DelayedResponder delayed)
    : state_(state),
      auth_(std::move(auth)),
      faults_(faults),
      metrics_(metrics),
      clock_(clock),
      request_ids_(request_ids),
      delayed_(std::move(delayed)) {}

EcrReply EcrService::call(const std::string& operation, const Json::Value& input) {
  EcrReply reply = serve(operation, input);
  if (!reply.json.empty()) {
    auto parsed = parse_json(reply.json, operation);
    if (!parsed) return fail("InternalFailure", "localaws wrote invalid JSON: " + parsed.error().message, 500);
    reply.body = std::move(*parsed);
  }
  return reply;
}

EcrReply EcrService::serve(const std::string& operation, const Json::Value& input) {
  const EcrModel& model = EcrModel::instance();
  if (!model.has_operation(operation)) {
    return fail("UnknownOperationException", "");
  }
  const Json::Value in = input.isNull() ? Json::Value(Json::objectValue) : input;
  if (auto invalid = model.validate(operation, in)) return fail(invalid->code, invalid->message);
  std::lock_guard lock(state_.mutex());
  return Ops(state_, clock_).run(operation, in);
}

bool EcrService::handle(const HttpRequest& req, const Responder& respond) {
  const std::string target = req.header("X-Amz-Target");
  if (req.method != "POST" || req.path != "/" || target.rfind(kEcrTargetPrefix, 0) != 0) return false;
  const std::string operation = target.substr(std::string(kEcrTargetPrefix).size());
  const std::string request_id = make_request_id(request_ids_);
  // Injected latency is the call's whole latency, counted from here: a reply leaves L after its request arrived,
  // or when it is ready if serving took longer. Added after serving instead, a 1,000-entry page would take L plus
  // its own 5-18 ms, and "L per call" (the bench's lower bound) would not describe the server it runs against.
  const auto arrived = std::chrono::steady_clock::now();
  metrics_.begin();
  auto finish = [this, operation, request_id, respond, arrived](EcrReply reply) {
    const int status = reply.status;
    std::string code = reply.error_code;
    HttpResponse res = to_http(std::move(reply), request_id);
    // The call stays in flight until its reply leaves, so injected latency shows up as concurrency.
    Responder counted = [this, operation, status, code = std::move(code), respond](HttpResponse r) {
      metrics_.end(operation, status, code);
      respond(std::move(r));
    };
    const auto latency = faults_.latency(operation);
    if (latency.count() > 0 && delayed_) {
      delayed_(arrived + latency, std::move(counted), std::move(res));
    } else {
      counted(std::move(res));
    }
  };
  if (auto denied = verify_sigv4(req, auth_, clock_.now())) {
    finish(fail(denied->error_code, denied->message, 403));
    return true;
  }
  if (!EcrModel::instance().has_operation(operation)) {
    finish(fail("UnknownOperationException", ""));
    return true;
  }
  Json::Value input(Json::objectValue);
  if (!req.body.empty()) {
    auto parsed = parse_json(req.body, operation);
    if (!parsed || !parsed->isObject()) {
      finish(fail("SerializationException", "Start of structure or map found where not expected."));
      return true;
    }
    input = std::move(*parsed);
  }
  if (faults_.denied(operation)) {
    finish(access_denied(operation, input));
    return true;
  }
  if (auto fault = faults_.decide(operation)) {
    finish(fail(fault->error_code, fault->message, fault->http_status));
    return true;
  }
  EcrReply reply = serve(operation, input);
  if (reply.error_code.empty()) {
    for (const auto& hook : faults_.hooks(operation)) hook(input, state_);
  }
  finish(std::move(reply));
  return true;
}

}  // namespace ecrs::localaws
