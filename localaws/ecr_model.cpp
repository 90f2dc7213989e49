#include "ecr_model.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "ecrs/common/json.hpp"

namespace ecrs::localaws {
namespace {

constexpr const char* kModelJson =
#include "ecr_model.inc"
    ;

std::string constraint_error(const std::string& path, const std::string& constraint) {
  return "Invalid parameter at '" + path + "' failed to satisfy constraint: '" + constraint + "'";
}

}  // namespace

namespace {

// The model compiled once into linked shapes: validating by looking up shape names and members in the model's
// Json::Value on every call cost a quarter of a 100-id BatchDeleteImage.
struct ModelShape {
  enum class Kind { structure, list, map, string, integer, boolean, timestamp, other };
  Kind kind = Kind::other;
  std::string type;  // the model's word, for SerializationException's message
  std::vector<std::string> required;
  std::map<std::string, const ModelShape*, std::less<>> members;
  const ModelShape* element = nullptr;  // a list's member, a map's value
  std::optional<std::int64_t> min, max;
  std::string min_text, max_text;  // as the model writes them, for the messages
  std::vector<std::string> enum_values;
  std::string enum_text;  // "A, B, C"
  std::optional<std::regex> pattern;
  std::string pattern_text;
};

ModelShape::Kind model_kind(const std::string& type) {
  if (type == "structure") return ModelShape::Kind::structure;
  if (type == "list") return ModelShape::Kind::list;
  if (type == "map") return ModelShape::Kind::map;
  if (type == "string") return ModelShape::Kind::string;
  if (type == "integer" || type == "long") return ModelShape::Kind::integer;
  if (type == "boolean") return ModelShape::Kind::boolean;
  if (type == "timestamp") return ModelShape::Kind::timestamp;
  return ModelShape::Kind::other;
}

// Where a value sits in the input ("imageIds.3.imageTag"), spelled out only when an error names it.
struct InputPath {
  const InputPath* parent = nullptr;
  std::string_view member;  // empty for a list element
  std::size_t element = 0;  // 1-based position in a list

  std::string str() const {
    std::string own = member.empty() ? std::to_string(element) : std::string(member);
    if (parent == nullptr) return own;
    std::string up = parent->str();
    return up.empty() ? own : up + "." + own;
  }
};

}  // namespace

struct EcrModel::Impl {
  std::map<std::string, ModelShape> shapes;  // by name; nodes stay put, so ModelShape pointers stay valid
  std::map<std::string, const ModelShape*> operations;  // input shape of each operation
  std::size_t pattern_count = 0;

  std::optional<Error> check(const ModelShape& shape, const Json::Value& v, const InputPath* path) const {
    auto where = [&] { return path == nullptr ? std::string() : path->str(); };
    auto wrong_type = [&]() -> std::optional<Error> {
      return make_error("SerializationException", "Unexpected value type for '" + where() + "': expected " + shape.type);
    };
    auto length_error = [&](bool low, const std::string& bound) -> std::optional<Error> {
      return make_error("InvalidParameterException",
                        constraint_error(where(), std::string("Member must have length ") +
                                                      (low ? "greater" : "less") + " than or equal to " + bound));
    };
    switch (shape.kind) {
      case ModelShape::Kind::structure: {
        if (!v.isObject()) return wrong_type();
        for (const auto& name : shape.required) {
          const Json::Value* member = v.find(name.data(), name.data() + name.size());
          if (member == nullptr || member->isNull()) {
            const InputPath at{path, name};
            return make_error("InvalidParameterException", constraint_error(at.str(), "Member must not be null"));
          }
        }
        for (auto it = v.begin(); it != v.end(); ++it) {
          // Unknown members are ignored, as AWS's JSON protocol ignores them.
          const char* end = nullptr;
          const char* begin = it.memberName(&end);
          const std::string_view name(begin, static_cast<std::size_t>(end - begin));
          auto m = shape.members.find(name);
          if (m == shape.members.end() || it->isNull()) continue;
          const InputPath at{path, name};
          if (auto e = check(*m->second, *it, &at)) return e;
        }
        return std::nullopt;
      }
      case ModelShape::Kind::list: {
        if (!v.isArray()) return wrong_type();
        if (shape.min && v.size() < static_cast<std::uint64_t>(*shape.min)) return length_error(true, shape.min_text);
        if (shape.max && v.size() > static_cast<std::uint64_t>(*shape.max)) return length_error(false, shape.max_text);
        for (Json::ArrayIndex i = 0; i < v.size(); ++i) {
          const InputPath at{path, {}, i + 1};
          if (auto e = check(*shape.element, v[i], &at)) return e;
        }
        return std::nullopt;
      }
      case ModelShape::Kind::map: {
        if (!v.isObject()) return wrong_type();
        for (auto it = v.begin(); it != v.end(); ++it) {
          const char* end = nullptr;
          const char* begin = it.memberName(&end);
          const InputPath at{path, std::string_view(begin, static_cast<std::size_t>(end - begin))};
          if (auto e = check(*shape.element, *it, &at)) return e;
        }
        return std::nullopt;
      }
      case ModelShape::Kind::string: {
        if (!v.isString()) return wrong_type();
        const char* begin = nullptr;
        const char* end = nullptr;
        v.getString(&begin, &end);
        const std::string_view s(begin, static_cast<std::size_t>(end - begin));
        if (shape.min && s.size() < static_cast<std::uint64_t>(*shape.min)) return length_error(true, shape.min_text);
        if (shape.max && s.size() > static_cast<std::uint64_t>(*shape.max)) return length_error(false, shape.max_text);
        if (!shape.enum_values.empty() &&
            std::find(shape.enum_values.begin(), shape.enum_values.end(), s) == shape.enum_values.end()) {
          return make_error("InvalidParameterException",
                            constraint_error(where(), "Member must satisfy enum value set: [" + shape.enum_text + "]"));
        }
        if (shape.pattern && !std::regex_match(begin, end, *shape.pattern)) {
          return make_error("InvalidParameterException",
                            constraint_error(where(), "Member must satisfy regular expression pattern: " +
                                                          shape.pattern_text));
        }
        return std::nullopt;
      }
      case ModelShape::Kind::integer: {
        if (!v.isIntegral()) return wrong_type();
        const auto n = v.asInt64();
        if (shape.min && n < *shape.min) {
          return make_error("InvalidParameterException",
                            constraint_error(where(), "Member must have value greater than or equal to " + shape.min_text));
        }
        if (shape.max && n > *shape.max) {
          return make_error("InvalidParameterException",
                            constraint_error(where(), "Member must have value less than or equal to " + shape.max_text));
        }
        return std::nullopt;
      }
      case ModelShape::Kind::boolean: return v.isBool() ? std::nullopt : wrong_type();
      case ModelShape::Kind::timestamp: return v.isNumeric() ? std::nullopt : wrong_type();
      case ModelShape::Kind::other: return std::nullopt;
    }
    return std::nullopt;
  }
};

EcrModel::EcrModel() : impl_(std::make_shared<Impl>()) {
  auto parsed = parse_json(kModelJson, "ecr_model.inc");
  if (!parsed) throw std::logic_error("localaws: the generated ECR model does not parse");
  const Json::Value& model = *parsed;
  const Json::Value& shapes = model["shapes"];
  for (const auto& name : shapes.getMemberNames()) impl_->shapes[name];
  auto shape_named = [&](const Json::Value& name) -> const ModelShape* {
    auto it = impl_->shapes.find(name.asString());
    if (it == impl_->shapes.end()) throw std::logic_error("localaws: the ECR model names no shape " + name.asString());
    return &it->second;
  };
  for (auto& [name, shape] : impl_->shapes) {
    const Json::Value& j = shapes[name];
    shape.type = j["type"].asString();
    shape.kind = model_kind(shape.type);
    for (const auto& r : j["required"]) shape.required.push_back(r.asString());
    for (const auto& member : j["members"].getMemberNames()) shape.members[member] = shape_named(j["members"][member]);
    if (j.isMember("member")) shape.element = shape_named(j["member"]);
    if (j.isMember("value")) shape.element = shape_named(j["value"]);
    if ((shape.kind == ModelShape::Kind::list || shape.kind == ModelShape::Kind::map) && shape.element == nullptr) {
      throw std::logic_error("localaws: the ECR model's " + name + " has no element shape");
    }
    if (j.isMember("min")) {
      shape.min = j["min"].asInt64();
      shape.min_text = j["min"].asString();
    }
    if (j.isMember("max")) {
      shape.max = j["max"].asInt64();
      shape.max_text = j["max"].asString();
    }
    for (const auto& e : j["enum"]) {
      shape.enum_values.push_back(e.asString());
      shape.enum_text += (shape.enum_text.empty() ? "" : ", ") + e.asString();
    }
    if (j.isMember("pattern")) {
      shape.pattern_text = j["pattern"].asString();
      std::string pattern = shape.pattern_text;
      // botocore's patterns are whole-value (Java) patterns; some carry their own anchors.
      if (!pattern.empty() && pattern.front() == '^') pattern.erase(0, 1);
      if (!pattern.empty() && pattern.back() == '$') pattern.pop_back();
      shape.pattern.emplace(pattern, std::regex::ECMAScript | std::regex::optimize);
      ++impl_->pattern_count;
    }
  }
  for (const auto& op : model["operations"].getMemberNames()) {
    impl_->operations[op] = shape_named(model["operations"][op]);
  }
}

const EcrModel& EcrModel::instance() {
  static const EcrModel model;
  return model;
}

bool EcrModel::has_operation(const std::string& operation) const { return impl_->operations.count(operation) != 0; }

std::optional<Error> EcrModel::validate(const std::string& operation, const Json::Value& input) const {
  auto op = impl_->operations.find(operation);
  if (op == impl_->operations.end()) return make_error("UnknownOperationException", "");
  return impl_->check(*op->second, input, nullptr);
}

std::size_t EcrModel::pattern_count() const { return impl_->pattern_count; }

}  // namespace ecrs::localaws
