#include "ecrs/lifecycle/policy_validator.hpp"

#include "ecrs/common/json.hpp"

#include <json/reader.h>
#include <json/value.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <set>
#include <utility>

namespace ecrs::lifecycle {
namespace {

// The members [LPX]'s template allows at each level; anything else is rejected.
constexpr std::array<std::string_view, 1> kPolicyKeys{"rules"};
constexpr std::array<std::string_view, 4> kRuleKeys{"rulePriority", "description", "selection", "action"};
constexpr std::array<std::string_view, 7> kSelectionKeys{"tagStatus",    "tagPatternList", "tagPrefixList", "storageClass",
                                                         "countType",    "countUnit",      "countNumber"};
constexpr std::array<std::string_view, 2> kActionKeys{"type", "targetStorageClass"};
// [LPP] countUnit: "Specify a count unit of days".
constexpr std::string_view kCountUnitDays = "days";

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& keys, std::string_view k) {
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}

template <std::size_t N>
std::string join(const std::array<std::string_view, N>& keys) {
  std::string out;
  for (auto k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

// Characters as ECR counts them (code points), not bytes.
std::size_t count_code_points(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string trim_trailing(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool parse_strict(std::string_view text, bool reject_dup_keys, Json::Value& out, std::string& errs) {
  Json::CharReaderBuilder b;
  Json::CharReaderBuilder::strictMode(&b.settings_);
  b["rejectDupKeys"] = reject_dup_keys;
  std::unique_ptr<Json::CharReader> reader(b.newCharReader());
  return reader->parse(text.data(), text.data() + text.size(), &out, &errs);
}

// JSON integers only: 1.0, 1e2 and "1" are not integers in the policy grammar.
bool is_json_integer(const Json::Value& v) { return v.type() == Json::intValue || v.type() == Json::uintValue; }

std::string_view json_type_name(const Json::Value& v) {
  switch (v.type()) {
    case Json::nullValue: return "null";
    case Json::intValue:
    case Json::uintValue: return "an integer";
    case Json::realValue: return "a non-integer number";
    case Json::stringValue: return "a string";
    case Json::booleanValue: return "a boolean";
    case Json::arrayValue: return "an array";
    case Json::objectValue: return "an object";
  }
  return "unknown";
}

// What one rule contributes to the cross-rule checks.
struct RuleFacts {
  std::size_t index = 0;
  std::optional<std::int64_t> priority;
  std::optional<TagStatus> tag_status;
  StorageClass storage_class = StorageClass::standard;
  bool uses_patterns = false;
  std::set<std::string> tag_filter;  // the prefixes or patterns, deduplicated
};

class Validator {
 public:
  ValidationReport run(std::string_view text) {
    check_size(text);
    Json::Value root;
    std::string errs;
    if (!parse_strict(text, false, root, errs)) {
      add(Severity::error, "InvalidJson", "", "the policy is not valid JSON: " + trim_trailing(errs));
      return std::move(report_);
    }
    Json::Value ignored;
    std::string dup_errs;
    if (!parse_strict(text, true, ignored, dup_errs)) {
      // jsoncpp keeps the last duplicate; ECR's parser may differ, so the author should remove the ambiguity.
      add(Severity::warning, "DuplicateKey", "", "the policy repeats a key: " + trim_trailing(dup_errs));
    }
    check_policy(root);
    return std::move(report_);
  }

 private:
  void add(Severity sev, std::string code, std::string path, std::string message) {
    report_.findings.push_back(Finding{sev, std::move(code), std::move(path), current_priority_, std::move(message)});
  }

  void check_size(std::string_view text) {
    const std::size_t chars = count_code_points(text);
    if (chars < kMinPolicyTextChars) {
      add(Severity::error, "PolicyTooShort", "",
          "the policy text has " + std::to_string(chars) + " characters; ECR requires at least " +
              std::to_string(kMinPolicyTextChars) + " (lifecyclePolicyText length constraint)");
    } else if (chars > kMaxPolicyTextChars) {
      add(Severity::error, "PolicyTooLong", "",
          "the policy text has " + std::to_string(chars) + " characters; ECR accepts at most " +
              std::to_string(kMaxPolicyTextChars) + " (lifecyclePolicyText length constraint)");
    }
  }

  template <std::size_t N>
  void check_unknown_keys(const Json::Value& obj, const std::string& path, const std::array<std::string_view, N>& keys,
                          std::string_view where) {
    for (const auto& name : obj.getMemberNames()) {
      if (!contains(keys, name)) {
        add(Severity::error, "UnknownField", path.empty() ? name : path + "." + name,
            "unknown field \"" + name + "\" in " + std::string(where) + "; ECR accepts only " + join(keys));
      }
    }
  }

  void check_policy(const Json::Value& root) {
    if (!root.isObject()) {
      add(Severity::error, "WrongType", "",
          "the policy must be a JSON object with a \"rules\" array, not " + std::string(json_type_name(root)));
      return;
    }
    check_unknown_keys(root, "", kPolicyKeys, "the policy");
    if (!root.isMember("rules")) {
      add(Severity::error, "MissingField", "rules", "the policy needs a \"rules\" array with at least one rule");
      return;
    }
    const Json::Value& rules = root["rules"];
    if (!rules.isArray()) {
      add(Severity::error, "WrongType", "rules", "\"rules\" must be an array, not " + std::string(json_type_name(rules)));
      return;
    }
    if (rules.empty()) {
      add(Severity::error, "EmptyRules", "rules", "\"rules\" is empty; a lifecycle policy has one or more rules");
      return;
    }
    std::vector<RuleFacts> facts;
    for (Json::ArrayIndex i = 0; i < rules.size(); ++i) {
      facts.push_back(check_rule(rules[i], i));
      current_priority_.reset();
    }
    check_across_rules(facts);
  }

  RuleFacts check_rule(const Json::Value& rule, std::size_t index) {
    const std::string path = "rules[" + std::to_string(index) + "]";
    RuleFacts f;
    f.index = index;
    if (!rule.isObject()) {
      add(Severity::error, "WrongType", path, "each rule must be an object, not " + std::string(json_type_name(rule)));
      return f;
    }
    // [LPP] rulePriority: integer, required; "must give them each a unique value". Read first so every later finding
    // for this rule names its priority.
    if (!rule.isMember("rulePriority")) {
      add(Severity::error, "MissingField", path + ".rulePriority", "the rule has no rulePriority (a positive integer)");
    } else if (const Json::Value& p = rule["rulePriority"]; !is_json_integer(p)) {
      add(Severity::error, "WrongType", path + ".rulePriority",
          "rulePriority must be an integer, not " + std::string(json_type_name(p)));
    } else if (!p.isInt() || p.asInt() < 1) {
      // ECR applies priority 1 first; 0, negatives and values past a 32-bit integer are not priorities.
      add(Severity::error, "InvalidRulePriority", path + ".rulePriority",
          "rulePriority must be an integer from 1 to 2147483647, got " + to_compact_json(p));
      if (p.isInt64()) current_priority_ = p.asInt64();
    } else {
      current_priority_ = p.asInt64();
    }
    f.priority = current_priority_;
    check_unknown_keys(rule, path, kRuleKeys, "a rule");

    if (rule.isMember("description") && !rule["description"].isString()) {
      add(Severity::error, "WrongType", path + ".description",
          "description must be a string, not " + std::string(json_type_name(rule["description"])));
    }

    std::optional<CountType> count_type;
    if (!rule.isMember("selection")) {
      add(Severity::error, "MissingField", path + ".selection",
          "the rule has no selection (tagStatus, countType, countNumber, ...)");
    } else if (!rule["selection"].isObject()) {
      add(Severity::error, "WrongType", path + ".selection",
          "selection must be an object, not " + std::string(json_type_name(rule["selection"])));
    } else {
      count_type = check_selection(rule["selection"], path + ".selection", f);
    }

    if (!rule.isMember("action")) {
      add(Severity::error, "MissingField", path + ".action", "the rule has no action (for example {\"type\": \"expire\"})");
    } else if (!rule["action"].isObject()) {
      add(Severity::error, "WrongType", path + ".action",
          "action must be an object, not " + std::string(json_type_name(rule["action"])));
    } else {
      check_action(rule["action"], path + ".action", count_type);
    }
    return f;
  }

  // Returns the list's entries when it is well-formed enough to compare across rules.
  std::set<std::string> check_tag_list(const Json::Value& list, const std::string& path, bool is_pattern) {
    std::set<std::string> entries;
    const std::string name = is_pattern ? "tagPatternList" : "tagPrefixList";
    if (!list.isArray()) {
      add(Severity::error, "WrongType", path,
          name + " must be an array of strings, not " + std::string(json_type_name(list)));
      return entries;
    }
    if (list.empty()) {
      add(Severity::error, "EmptyTagList", path, name + " is empty; list at least one " +
                                                      (is_pattern ? "tag pattern" : "tag prefix"));
      return entries;
    }
    for (Json::ArrayIndex i = 0; i < list.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      const Json::Value& v = list[i];
      if (!v.isString()) {
        add(Severity::error, "WrongType", item_path,
            name + " entries must be strings, not " + std::string(json_type_name(v)));
        continue;
      }
      const std::string s = v.asString();
      if (s.empty()) {
        add(Severity::warning, "EmptyTagFilter", item_path,
            "an empty " + std::string(is_pattern ? "pattern matches no tag" : "prefix matches every tagged image"));
      }
      const auto stars = std::count(s.begin(), s.end(), '*');
      if (is_pattern && stars > kMaxWildcardsPerPattern) {
        // [LPP] "["test*1*2*3*4*5*6"] is invalid".
        add(Severity::error, "WildcardLimit", item_path,
            "tag pattern \"" + s + "\" has " + std::to_string(stars) + " wildcards (*); ECR allows at most " +
                std::to_string(kMaxWildcardsPerPattern) + " per pattern");
      }
      if (!is_pattern && stars > 0) {
        add(Severity::warning, "LiteralAsteriskInPrefix", item_path,
            "tagPrefixList does not expand wildcards, so \"" + s +
                "\" only matches tags that literally start with it; use tagPatternList for wildcards");
      }
      if (!entries.insert(s).second) {
        add(Severity::warning, "DuplicateTagFilter", item_path, "\"" + s + "\" is listed twice in " + name);
      }
    }
    return entries;
  }

  std::optional<CountType> check_selection(const Json::Value& sel, const std::string& path, RuleFacts& f) {
    check_unknown_keys(sel, path, kSelectionKeys, "selection");

    // [LPP] tagStatus: required; tagged, untagged or any.
    if (!sel.isMember("tagStatus")) {
      add(Severity::error, "MissingField", path + ".tagStatus", "selection needs tagStatus: tagged, untagged or any");
    } else if (!sel["tagStatus"].isString()) {
      add(Severity::error, "WrongType", path + ".tagStatus",
          "tagStatus must be a string (tagged, untagged or any), not " + std::string(json_type_name(sel["tagStatus"])));
    } else if (auto ts = parse_tag_status(sel["tagStatus"].asString()); !ts) {
      add(Severity::error, "InvalidValue", path + ".tagStatus",
          "tagStatus \"" + sel["tagStatus"].asString() + "\" is not one of tagged, untagged, any");
    } else {
      f.tag_status = ts;
    }

    const bool has_prefixes = sel.isMember("tagPrefixList");
    const bool has_patterns = sel.isMember("tagPatternList");
    std::set<std::string> prefixes;
    std::set<std::string> patterns;
    if (has_prefixes) prefixes = check_tag_list(sel["tagPrefixList"], path + ".tagPrefixList", false);
    if (has_patterns) patterns = check_tag_list(sel["tagPatternList"], path + ".tagPatternList", true);
    if (f.tag_status == TagStatus::tagged) {
      // [LPP] "If you specify tagged, then you must also specify a tagPrefixList value or a tagPatternList value."
      // [LP] "A lifecycle policy rule may specify either tagPatternList or tagPrefixList, but not both."
      if (!has_prefixes && !has_patterns) {
        add(Severity::error, "MissingTagFilter", path,
            "a tagged rule needs tagPatternList (wildcards) or tagPrefixList to say which tags it selects");
      } else if (has_prefixes && has_patterns) {
        add(Severity::error, "BothTagLists", path + ".tagPrefixList",
            "a rule may use tagPatternList or tagPrefixList, not both; split it into two rules");
      }
      f.uses_patterns = has_patterns && !has_prefixes;
      f.tag_filter = f.uses_patterns ? std::move(patterns) : std::move(prefixes);
    } else if (f.tag_status) {
      // [LPP] untagged: "you must omit both tagPrefixList and tagPatternList"; [LP] "may only [be] used if the
      // tagStatus is tagged", which covers any as well.
      const std::string status(to_string(*f.tag_status));
      if (has_prefixes) {
        add(Severity::error, "TagListNotAllowed", path + ".tagPrefixList",
            "tagPrefixList is only allowed when tagStatus is tagged, not " + status);
      }
      if (has_patterns) {
        add(Severity::error, "TagListNotAllowed", path + ".tagPatternList",
            "tagPatternList is only allowed when tagStatus is tagged, not " + status);
      }
    }

    // [LPP] countType: required.
    std::optional<CountType> count_type;
    if (!sel.isMember("countType")) {
      add(Severity::error, "MissingField", path + ".countType",
          "selection needs countType: imageCountMoreThan, sinceImagePushed, sinceImagePulled or "
          "sinceImageTransitioned");
    } else if (!sel["countType"].isString() || !parse_count_type(sel["countType"].asString())) {
      add(Severity::error, "InvalidValue", path + ".countType",
          "countType must be imageCountMoreThan, sinceImagePushed, sinceImagePulled or sinceImageTransitioned");
    } else {
      count_type = parse_count_type(sel["countType"].asString());
    }

    // [LPP] countUnit: "Required: yes, only if countType is set to sinceImagePushed, sinceImagePulled, or
    // sinceImageTransitioned ... an error will occur if you specify a count unit when countType is any other value."
    if (sel.isMember("countUnit")) {
      const Json::Value& u = sel["countUnit"];
      if (count_type == CountType::image_count_more_than) {
        add(Severity::error, "CountUnitNotAllowed", path + ".countUnit",
            "countUnit is only allowed with the time-based count types (sinceImagePushed, sinceImagePulled, "
            "sinceImageTransitioned); remove it for imageCountMoreThan");
      } else if (!u.isString() || u.asString() != kCountUnitDays) {
        add(Severity::error, "InvalidValue", path + ".countUnit", "countUnit must be \"days\"");
      }
    } else if (count_type && is_time_based(*count_type)) {
      add(Severity::error, "MissingCountUnit", path + ".countUnit",
          "countType " + std::string(to_string(*count_type)) + " needs \"countUnit\": \"days\"");
    }

    // [LPP] countNumber: required; "positive integers (0 is not an accepted value)".
    if (!sel.isMember("countNumber")) {
      add(Severity::error, "MissingField", path + ".countNumber", "selection needs countNumber (a positive integer)");
    } else if (const Json::Value& n = sel["countNumber"]; !is_json_integer(n)) {
      add(Severity::error, "WrongType", path + ".countNumber",
          "countNumber must be a positive integer, not " + std::string(json_type_name(n)));
    } else if (!n.isInt() || n.asInt() < 1) {
      add(Severity::error, "CountNumberNotPositive", path + ".countNumber",
          "countNumber must be a positive integer (0 is not accepted)");
    } else if (count_type == CountType::since_image_transitioned && n.asInt64() < kMinArchiveDaysBeforeExpire) {
      // [LPX] "You cannot configure lifecycle policies that delete images that have been in archive for less than
      // 90 days."
      add(Severity::error, "ArchiveMinimumDuration", path + ".countNumber",
          "archived images must stay in archive at least " + std::to_string(kMinArchiveDaysBeforeExpire) +
              " days before a lifecycle rule can expire them; countNumber " + std::to_string(n.asInt64()) +
              " is too small");
    }

    // [LPP] storageClass: "Required: yes, if countType is sinceImageTransitioned ... the only supported value is
    // archive"; for the other count types "the only supported value is standard"; omitted means standard.
    if (sel.isMember("storageClass")) {
      const Json::Value& sc = sel["storageClass"];
      std::optional<StorageClass> cls;
      if (sc.isString()) cls = parse_storage_class(sc.asString());
      if (!cls) {
        add(Severity::error, "InvalidValue", path + ".storageClass", "storageClass must be \"standard\" or \"archive\"");
      } else {
        f.storage_class = *cls;
        if (count_type == CountType::since_image_transitioned && *cls != StorageClass::archive) {
          add(Severity::error, "StorageClassMismatch", path + ".storageClass",
              "countType sinceImageTransitioned selects archived images: storageClass must be \"archive\"");
        } else if (count_type && count_type != CountType::since_image_transitioned && *cls != StorageClass::standard) {
          add(Severity::error, "StorageClassMismatch", path + ".storageClass",
              "countType " + std::string(to_string(*count_type)) +
                  " only supports storageClass \"standard\"; use sinceImageTransitioned to select archived images");
        }
      }
    } else if (count_type == CountType::since_image_transitioned) {
      add(Severity::error, "MissingStorageClass", path + ".storageClass",
          "countType sinceImageTransitioned needs \"storageClass\": \"archive\"");
      f.storage_class = StorageClass::archive;
    }
    return count_type;
  }

  void check_action(const Json::Value& action, const std::string& path, std::optional<CountType> count_type) {
    check_unknown_keys(action, path, kActionKeys, "action");
    std::optional<ActionType> type;
    if (!action.isMember("type")) {
      add(Severity::error, "MissingField", path + ".type", "action needs type: expire or transition");
    } else if (!action["type"].isString() || !parse_action_type(action["type"].asString())) {
      add(Severity::error, "InvalidValue", path + ".type", "action type must be \"expire\" or \"transition\"");
    } else {
      type = parse_action_type(action["type"].asString());
    }
    // [LPP] targetStorageClass: "Required: yes, if type is transition"; "archive is the only supported value".
    if (action.isMember("targetStorageClass")) {
      const Json::Value& t = action["targetStorageClass"];
      if (type == ActionType::expire) {
        add(Severity::error, "TargetStorageClassNotAllowed", path + ".targetStorageClass",
            "targetStorageClass only applies to a transition action; remove it for expire");
      } else if (!t.isString() || t.asString() != "archive") {
        add(Severity::error, "InvalidValue", path + ".targetStorageClass",
            "targetStorageClass must be \"archive\" (the only storage class a rule can transition to)");
      }
    } else if (type == ActionType::transition) {
      add(Severity::error, "MissingField", path + ".targetStorageClass",
          "a transition action needs \"targetStorageClass\": \"archive\"");
    }
    // [LPX] "The sinceImagePulled count type must be used with the transition action. It cannot be used with the
    // expire action." and "The sinceImageTransitioned count type must be used with the expire action".
    if (type == ActionType::expire && count_type == CountType::since_image_pulled) {
      add(Severity::error, "ActionMismatch", path + ".type",
          "sinceImagePulled can only transition images to archive, not expire them; expire archived images with a "
          "second rule using sinceImageTransitioned");
    } else if (type == ActionType::transition && count_type == CountType::since_image_transitioned) {
      add(Severity::error, "ActionMismatch", path + ".type",
          "sinceImageTransitioned selects images already in archive; its action must be expire");
    }
  }

  void add_for_rule(const RuleFacts& f, std::string code, std::string path, std::string message) {
    current_priority_ = f.priority;
    add(Severity::error, std::move(code), std::move(path), std::move(message));
    current_priority_.reset();
  }

  void check_across_rules(const std::vector<RuleFacts>& facts) {
    // [LPP] "you must give them each a unique value for rulePriority".
    std::map<std::int64_t, std::size_t> first_with_priority;
    for (const auto& f : facts) {
      if (!f.priority) continue;
      auto [it, inserted] = first_with_priority.emplace(*f.priority, f.index);
      if (!inserted) {
        add_for_rule(f, "DuplicateRulePriority", "rules[" + std::to_string(f.index) + "].rulePriority",
                     "rulePriority " + std::to_string(*f.priority) + " is already used by rules[" +
                         std::to_string(it->second) + "]; each rule needs a unique rulePriority");
      }
    }

    // The remaining checks are per storage class: [LP] "Only one rule selecting a specific storage class is allowed
    // to select untagged images" and "The set of all rules selecting a specific storage class must contain a unique
    // set of prefixes". [LPP] says an `any` rule "must have the highest value for rulePriority"; AWS's own example
    // "Combining archive and expire rules" [LPX] has an `any` standard rule at priority 1 below an `any` archive rule
    // at 2, so that ordering constraint is also scoped to rules selecting the same storage class.
    std::vector<const RuleFacts*> ordered;
    for (const auto& f : facts) {
      if (f.priority && f.tag_status) ordered.push_back(&f);
    }
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const RuleFacts* a, const RuleFacts* b) { return *a->priority < *b->priority; });
    for (StorageClass cls : {StorageClass::standard, StorageClass::archive}) {
      const RuleFacts* highest = nullptr;
      const RuleFacts* first_untagged = nullptr;
      std::map<std::pair<bool, std::set<std::string>>, const RuleFacts*> tag_sets;
      for (const RuleFacts* f : ordered) {
        if (f->storage_class != cls) continue;
        highest = f;
        if (f->tag_status == TagStatus::untagged) {
          if (first_untagged) {
            add_for_rule(*f, "MultipleUntaggedRules", "rules[" + std::to_string(f->index) + "].selection.tagStatus",
                         "only one rule selecting " + std::string(to_string(cls)) +
                             " images may use tagStatus untagged; rules[" + std::to_string(first_untagged->index) +
                             "] (rulePriority " + std::to_string(*first_untagged->priority) + ") already does");
          } else {
            first_untagged = f;
          }
        }
        if (f->tag_status == TagStatus::tagged && !f->tag_filter.empty()) {
          auto [it, inserted] = tag_sets.emplace(std::make_pair(f->uses_patterns, f->tag_filter), f);
          if (!inserted) {
            const std::string list = f->uses_patterns ? "tagPatternList" : "tagPrefixList";
            add_for_rule(*f, "DuplicateTagFilter", "rules[" + std::to_string(f->index) + "].selection." + list,
                         "rules[" + std::to_string(it->second->index) + "] (rulePriority " +
                             std::to_string(*it->second->priority) + ") already selects the same " + list +
                             "; each rule selecting " + std::string(to_string(cls)) +
                             " images needs a unique set of tag filters");
          }
        }
      }
      for (const RuleFacts* f : ordered) {
        if (f->storage_class != cls || f->tag_status != TagStatus::any || f == highest) continue;
        add_for_rule(*f, "AnyRuleNotLast", "rules[" + std::to_string(f->index) + "].rulePriority",
                     "a rule with tagStatus any must have the highest rulePriority (be evaluated last) among rules "
                     "selecting " + std::string(to_string(cls)) + " images, but rules[" +
                         std::to_string(highest->index) + "] has rulePriority " + std::to_string(*highest->priority));
      }
    }
  }

  ValidationReport report_;
  std::optional<std::int64_t> current_priority_;
};

std::vector<std::string> read_strings(const Json::Value& list) {
  std::vector<std::string> out;
  for (const auto& v : list) out.push_back(v.asString());
  return out;
}

}  // namespace

std::string_view to_string(Severity s) { return s == Severity::error ? "error" : "warning"; }

bool ValidationReport::valid() const { return error_count() == 0; }

std::size_t ValidationReport::error_count() const {
  return static_cast<std::size_t>(std::count_if(findings.begin(), findings.end(),
                                                [](const Finding& f) { return f.severity == Severity::error; }));
}

std::string ValidationReport::describe() const {
  std::string out;
  for (const auto& f : findings) {
    out += std::string(to_string(f.severity)) + " " + (f.path.empty() ? "(policy)" : f.path);
    if (f.rule_priority) out += " (rulePriority " + std::to_string(*f.rule_priority) + ")";
    out += ": " + f.message + "\n";
  }
  return out;
}

ValidationReport validate_policy(std::string_view policy_text) { return Validator{}.run(policy_text); }

int exit_code(const ValidationReport& report) { return report.valid() ? 0 : kExitInvalidPolicy; }

Result<Policy> parse_policy(std::string_view policy_text) {
  ValidationReport report = validate_policy(policy_text);
  if (!report.valid()) {
    return make_error("InvalidLifecyclePolicy",
                      std::to_string(report.error_count()) + " error(s):\n" + report.describe());
  }
  Json::Value root;
  std::string errs;
  parse_strict(policy_text, false, root, errs);  // cannot fail: validation parsed the same text
  Policy policy;
  // A valid policy has the types checked above, so the as*() calls below cannot throw.
  for (const auto& r : root["rules"]) {
    const Json::Value& sel = r["selection"];
    Rule rule;
    rule.rule_priority = r["rulePriority"].asInt64();
    rule.description = r.get("description", "").asString();
    rule.tag_status = *parse_tag_status(sel["tagStatus"].asString());
    if (sel.isMember("tagPrefixList")) rule.tag_prefix_list = read_strings(sel["tagPrefixList"]);
    if (sel.isMember("tagPatternList")) rule.tag_pattern_list = read_strings(sel["tagPatternList"]);
    if (sel.isMember("storageClass")) rule.storage_class = *parse_storage_class(sel["storageClass"].asString());
    rule.count_type = *parse_count_type(sel["countType"].asString());
    rule.count_number = sel["countNumber"].asInt64();
    rule.action = *parse_action_type(r["action"]["type"].asString());
    if (r["action"].isMember("targetStorageClass")) {
      rule.target_storage_class = parse_storage_class(r["action"]["targetStorageClass"].asString());
    }
    policy.rules.push_back(std::move(rule));
  }
  std::sort(policy.rules.begin(), policy.rules.end(),
            [](const Rule& a, const Rule& b) { return a.rule_priority < b.rule_priority; });
  return policy;
}

}  // namespace ecrs::lifecycle
