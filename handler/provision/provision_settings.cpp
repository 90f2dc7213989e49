// Pure parts of create-on-push: the name globs, the REPO_* settings and the CloudTrail event's reading.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <sstream>

#include "ecrs/common/json.hpp"
#include "ecrs/handler/provision_mode.hpp"
#include "ecrs/lifecycle/policy_validator.hpp"

namespace ecrs::handler {
namespace {

// The repository push APIs, in push order (ECR API reference, "Amazon ECR registry API"): the first to name a
// missing repository records RepositoryNotFoundException; docker retries, so later ones may follow.
const char* const kPushEvents[] = {"InitiateLayerUpload", "BatchCheckLayerAvailability", "UploadLayerPart",
                                   "CompleteLayerUpload", "PutImage"};
constexpr const char* kEcrEventSource = "ecr.amazonaws.com";
constexpr const char* kEcrEventBridgeSource = "aws.ecr";
constexpr const char* kCloudTrailDetailType = "AWS API Call via CloudTrail";
constexpr const char* kNotFound = "RepositoryNotFoundException";

// KmsKeyForRepositoryCreationTemplate's pattern in service-2.json: a key ARN (not an alias), so the same value is
// valid for CreateRepository and for a creation template.
const std::regex& kms_key_pattern() {
  static const std::regex re("arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-z0-9-]+");
  return re;
}

Error config_error(const std::string& key, const std::string& message) {
  return make_error(std::string(kConfigError), key + ": " + message, "create-on-push settings");
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> split_patterns(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    if (std::string p = trim(text.substr(start, comma - start)); !p.empty()) out.push_back(std::move(p));
    start = comma + 1;
  }
  return out;
}

// A value that may be given as JSON text (environment, or a string in the file) or as native JSON (the file).
Result<Json::Value> as_json(const std::string& key, const Json::Value& v) {
  if (!v.isString()) return v;
  auto parsed = parse_json(v.asString(), key);
  if (!parsed) return config_error(key, "not valid JSON: " + parsed.error().message);
  return *parsed;
}

Result<std::vector<std::string>> patterns_of(const std::string& key, const Json::Value& v) {
  if (v.isString()) return split_patterns(v.asString());
  if (!v.isArray()) return config_error(key, "expected a comma-separated string or a list of patterns");
  std::vector<std::string> out;
  for (const auto& p : v) {
    if (!p.isString()) return config_error(key, "every pattern must be a string");
    if (std::string t = trim(p.asString()); !t.empty()) out.push_back(std::move(t));
  }
  return out;
}

bool glob_at(std::string_view p, std::string_view n) {
  while (!p.empty()) {
    if (p.substr(0, 2) == "**") {
      p.remove_prefix(2);
      for (std::size_t i = 0; i <= n.size(); ++i) {
        if (glob_at(p, n.substr(i))) return true;
      }
      return false;
    }
    if (p.front() == '*') {
      p.remove_prefix(1);
      for (std::size_t i = 0; i <= n.size(); ++i) {
        if (glob_at(p, n.substr(i))) return true;
        if (i < n.size() && n[i] == '/') return false;
      }
      return false;
    }
    if (n.empty() || p.front() != n.front()) return false;
    p.remove_prefix(1);
    n.remove_prefix(1);
  }
  return n.empty();
}

const Json::Value* member(const Json::Value& obj, const char* key) {
  if (!obj.isObject()) return nullptr;
  const Json::Value* v = obj.find(key, key + std::char_traits<char>::length(key));
  return (v == nullptr || v->isNull()) ? nullptr : v;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view name) { return glob_at(pattern, name); }

std::optional<bool> parse_bool(std::string_view text) {
  std::string t = trim(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  return std::nullopt;
}

bool RepositorySettings::allows(std::string_view repository_name) const {
  const auto hit = [&](const std::vector<std::string>& list) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& p) { return glob_match(p, repository_name); });
  };
  if (!allow.empty() && !hit(allow)) return false;
  return !hit(deny);
}

ecr::CreateRepositoryRequest RepositorySettings::create_request(const std::string& repository_name) const {
  ecr::CreateRepositoryRequest r;
  r.repository_name = repository_name;
  r.image_tag_mutability = image_tag_mutability;
  r.scan_on_push = scan_on_push;
  ecr::EncryptionConfiguration enc;
  if (kms_key) {
    enc.encryption_type = "KMS";
    enc.kms_key = *kms_key;
  }
  r.encryption_configuration = enc;
  for (const auto& [k, v] : tags) r.tags.push_back(ecr::Tag{k, v});
  return r;
}

ecr::RepositoryCreationTemplate RepositorySettings::creation_template(
    const std::string& prefix, const std::optional<std::string>& custom_role_arn) const {
  ecr::RepositoryCreationTemplate t;
  t.prefix = prefix;
  t.description = "ecr-sweeper create-on-push settings";
  t.applied_for = {std::string(ecr::kAppliedForCreateOnPush)};
  t.image_tag_mutability = image_tag_mutability;
  ecr::EncryptionConfiguration enc;
  if (kms_key) {
    enc.encryption_type = "KMS";
    enc.kms_key = *kms_key;
  }
  t.encryption_configuration = enc;
  for (const auto& [k, v] : tags) t.resource_tags.push_back(ecr::Tag{k, v});
  t.lifecycle_policy = lifecycle_policy;
  t.repository_policy = repository_policy;
  t.custom_role_arn = custom_role_arn;
  return t;
}

Result<RepositorySettings> settings_from_json(const Json::Value& config, RepositorySettings s) {
  if (!config.isObject()) return config_error("REPO_CONFIG_FILE", "expected a JSON object with REPO_* keys");
  for (const auto& key : config.getMemberNames()) {
    const Json::Value& v = config[key];
    if (key == "REPO_TAG_MUTABILITY") {
      if (!v.isString() || (v.asString() != "MUTABLE" && v.asString() != "IMMUTABLE")) {
        return config_error(key, "expected MUTABLE or IMMUTABLE");
      }
      s.image_tag_mutability = v.asString();
    } else if (key == "REPO_SCAN_ON_PUSH") {
      std::optional<bool> b = v.isBool() ? std::optional<bool>(v.asBool())
                                         : (v.isString() ? parse_bool(v.asString()) : std::nullopt);
      if (!b) return config_error(key, "expected true or false");
      s.scan_on_push = *b;
    } else if (key == "REPO_KMS_KEY") {
      if (!v.isString()) return config_error(key, "expected a KMS key ARN");
      const std::string k = trim(v.asString());
      if (k.empty()) {
        s.kms_key.reset();
      } else if (!std::regex_match(k, kms_key_pattern())) {
        return config_error(key, "expected a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), got '" + k + "'");
      } else {
        s.kms_key = k;
      }
    } else if (key == "REPO_TAGS") {
      auto tags = as_json(key, v);
      if (!tags) return tags.error();
      if (!tags->isObject()) return config_error(key, "expected a JSON object of tag keys to string values");
      s.tags.clear();
      for (const auto& k : tags->getMemberNames()) {
        if (!(*tags)[k].isString()) return config_error(key, "the value of tag '" + k + "' is not a string");
        s.tags[k] = (*tags)[k].asString();
      }
    } else if (key == "REPO_LIFECYCLE_POLICY" || key == "REPO_POLICY") {
      std::string text;
      if (v.isString()) {
        text = v.asString();
      } else if (v.isObject()) {
        text = to_compact_json(v);
      } else {
        return config_error(key, "expected policy JSON");
      }
      if (trim(text).empty()) {
        (key == "REPO_POLICY" ? s.repository_policy : s.lifecycle_policy).reset();
        continue;
      }
      if (key == "REPO_LIFECYCLE_POLICY") {
        const auto report = lifecycle::validate_policy(text);
        if (!report.valid()) return config_error(key, "invalid lifecycle policy: " + report.describe());
        s.lifecycle_policy = text;
      } else {
        auto doc = parse_json(text, key);
        if (!doc || !doc->isObject() || !doc->isMember("Statement")) {
          return config_error(key, "expected a JSON IAM policy with a Statement");
        }
        s.repository_policy = text;
      }
    } else if (key == "REPO_ALLOW" || key == "REPO_DENY") {
      auto list = patterns_of(key, v);
      if (!list) return list.error();
      (key == "REPO_ALLOW" ? s.allow : s.deny) = std::move(*list);
    } else if (key.rfind("REPO_", 0) == 0) {
      return config_error(key, "unknown setting");
    }
  }
  s.tags[std::string(kSweeperTagKey)] = std::string(kSweeperTagValue);
  if (s.tags.size() > ecr::kMaxResourceTags) {
    return config_error("REPO_TAGS", "at most " + std::to_string(ecr::kMaxResourceTags - 1) +
                                         " tags (ECR allows 50 and ecr-sweeper adds one)");
  }
  return s;
}

Result<RepositorySettings> load_settings(const Environment& env) {
  RepositorySettings s;
  if (auto path = env.get("REPO_CONFIG_FILE"); path && !path->empty()) {
    std::ifstream in(*path);
    if (!in) return config_error("REPO_CONFIG_FILE", "cannot read " + *path);
    std::stringstream text;
    text << in.rdbuf();
    auto doc = parse_json(text.str(), *path);
    if (!doc) return config_error("REPO_CONFIG_FILE", doc.error().message);
    auto from_file = settings_from_json(*doc, s);
    if (!from_file) return from_file.error();
    s = std::move(*from_file);
  }
  Json::Value overrides(Json::objectValue);
  for (const char* key : {"REPO_TAG_MUTABILITY", "REPO_SCAN_ON_PUSH", "REPO_KMS_KEY", "REPO_TAGS",
                          "REPO_LIFECYCLE_POLICY", "REPO_POLICY", "REPO_ALLOW", "REPO_DENY"}) {
    if (auto v = env.get(key)) overrides[key] = *v;
  }
  return settings_from_json(overrides, std::move(s));
}

bool is_cloudtrail_event(const Json::Value& event) {
  return event.isObject() && get_string(event, "detail-type").value_or("") == kCloudTrailDetailType;
}

bool is_ecr_cloudtrail_event(const Json::Value& event) {
  return is_cloudtrail_event(event) && get_string(event, "source").value_or("") == kEcrEventBridgeSource;
}

EventDecision decide_event(const Json::Value& event) {
  EventDecision d;
  d.push.account = get_string(event, "account").value_or("");
  d.push.region = get_string(event, "region").value_or("");
  const Json::Value* detail = member(event, "detail");
  if (detail == nullptr || !detail->isObject()) {
    d.kind = EventKind::malformed;
    d.reason = "the event has no detail object";
    return d;
  }
  d.push.event_name = get_string(*detail, "eventName").value_or("");
  d.push.event_id = get_string(*detail, "eventID").value_or("");
  d.push.source_ip = get_string(*detail, "sourceIPAddress").value_or("");
  if (const Json::Value* who = member(*detail, "userIdentity")) {
    d.push.pusher = get_string(*who, "arn").value_or(get_string(*who, "principalId").value_or(
        get_string(*who, "type").value_or("")));
  }
  const std::string source = get_string(event, "source").value_or("");
  const std::string event_source = get_string(*detail, "eventSource").value_or("");
  if (source != kEcrEventBridgeSource || event_source != kEcrEventSource) {
    d.reason = "source " + source + " / eventSource " + event_source + " is not ECR";
    return d;
  }
  const auto code = get_string(*detail, "errorCode");
  if (!code || *code != kNotFound) {
    d.reason = code ? "errorCode " + *code : "the call succeeded";
    return d;
  }
  if (std::find(std::begin(kPushEvents), std::end(kPushEvents), d.push.event_name) == std::end(kPushEvents)) {
    d.reason = "eventName " + d.push.event_name + " is not a push";
    return d;
  }
  const Json::Value* params = member(*detail, "requestParameters");
  const auto name = params != nullptr ? get_string(*params, "repositoryName") : std::nullopt;
  if (!name || name->empty()) {
    d.kind = EventKind::malformed;
    d.reason = "detail.requestParameters.repositoryName is missing";
    return d;
  }
  d.push.repository_name = *name;
  if (d.push.account.empty()) {
    d.kind = EventKind::malformed;
    d.reason = "the event has no account";
    return d;
  }
  // A push to another account's registry: that account's own rule sees it; we can create only in ours.
  if (auto registry = get_string(*params, "registryId"); registry && *registry != d.push.account) {
    d.reason = "registryId " + *registry + " is another account's registry";
    return d;
  }
  d.kind = EventKind::create;
  return d;
}

std::string_view to_string(EnsureStatus s) {
  switch (s) {
    case EnsureStatus::created: return "created";
    case EnsureStatus::exists: return "exists";
    case EnsureStatus::denied: return "denied";
    case EnsureStatus::incomplete: break;
  }
  return "incomplete";
}

}  // namespace ecrs::handler
