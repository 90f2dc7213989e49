#include "ecr_model.hpp"

#include <map>
#include <memory>
#include <regex>
#include <stdexcept>

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

struct EcrModel::Impl {
  Json::Value model;
  std::map<std::string, std::regex> patterns;

  std::optional<Error> check(const std::string& shape_name, const Json::Value& v, const std::string& path) const {
    const Json::Value& shape = model["shapes"][shape_name];
    const std::string type = shape["type"].asString();
    auto wrong_type = [&]() -> std::optional<Error> {
      return make_error("SerializationException", "Unexpected value type for '" + path + "': expected " + type);
    };
    if (type == "structure") {
      if (!v.isObject()) return wrong_type();
      for (const auto& req : shape["required"]) {
        const std::string name = req.asString();
        if (!v.isMember(name) || v[name].isNull()) {
          return make_error("InvalidParameterException",
                            constraint_error(path.empty() ? name : path + "." + name, "Member must not be null"));
        }
      }
      for (const auto& name : v.getMemberNames()) {
        // Unknown members are ignored, as AWS's JSON protocol ignores them.
        if (!shape["members"].isMember(name) || v[name].isNull()) continue;
        if (auto e = check(shape["members"][name].asString(), v[name], path.empty() ? name : path + "." + name)) {
          return e;
        }
      }
      return std::nullopt;
    }
    if (type == "list") {
      if (!v.isArray()) return wrong_type();
      if (shape.isMember("min") && v.size() < shape["min"].asUInt()) {
        return make_error("InvalidParameterException",
                          constraint_error(path, "Member must have length greater than or equal to " +
                                                     shape["min"].asString()));
      }
      if (shape.isMember("max") && v.size() > shape["max"].asUInt()) {
        return make_error("InvalidParameterException",
                          constraint_error(path, "Member must have length less than or equal to " +
                                                     shape["max"].asString()));
      }
      for (Json::ArrayIndex i = 0; i < v.size(); ++i) {
        if (auto e = check(shape["member"].asString(), v[i], path + "." + std::to_string(i + 1))) return e;
      }
      return std::nullopt;
    }
    if (type == "map") {
      if (!v.isObject()) return wrong_type();
      for (const auto& name : v.getMemberNames()) {
        if (auto e = check(shape["value"].asString(), v[name], path + "." + name)) return e;
      }
      return std::nullopt;
    }
    if (type == "string") {
      if (!v.isString()) return wrong_type();
      const std::string s = v.asString();
      if (shape.isMember("min") && s.size() < shape["min"].asUInt()) {
        return make_error("InvalidParameterException",
                          constraint_error(path, "Member must have length greater than or equal to " +
                                                     shape["min"].asString()));
      }
      if (shape.isMember("max") && s.size() > shape["max"].asUInt()) {
        return make_error("InvalidParameterException",
                          constraint_error(path, "Member must have length less than or equal to " +
                                                     shape["max"].asString()));
      }
      if (shape.isMember("enum")) {
        bool found = false;
        std::string set;
        for (const auto& e : shape["enum"]) {
          found = found || e.asString() == s;
          set += (set.empty() ? "" : ", ") + e.asString();
        }
        if (!found) {
          return make_error("InvalidParameterException",
                            constraint_error(path, "Member must satisfy enum value set: [" + set + "]"));
        }
      }
      if (auto p = patterns.find(shape_name); p != patterns.end() && !std::regex_match(s, p->second)) {
        return make_error("InvalidParameterException",
                          constraint_error(path, "Member must satisfy regular expression pattern: " +
                                                     shape["pattern"].asString()));
      }
      return std::nullopt;
    }
    if (type == "integer" || type == "long") {
      if (!v.isIntegral()) return wrong_type();
      const auto n = v.asInt64();
      if (shape.isMember("min") && n < shape["min"].asInt64()) {
        return make_error("InvalidParameterException",
                          constraint_error(path, "Member must have value greater than or equal to " +
                                                     shape["min"].asString()));
      }
      if (shape.isMember("max") && n > shape["max"].asInt64()) {
        return make_error("InvalidParameterException",
                          constraint_error(path, "Member must have value less than or equal to " +
                                                     shape["max"].asString()));
      }
      return std::nullopt;
    }
    if (type == "boolean") return v.isBool() ? std::nullopt : wrong_type();
    if (type == "timestamp") return v.isNumeric() ? std::nullopt : wrong_type();
    return std::nullopt;
  }
};

EcrModel::EcrModel() : impl_(std::make_shared<Impl>()) {
  auto parsed = parse_json(kModelJson, "ecr_model.inc");
  if (!parsed) throw std::logic_error("localaws: the generated ECR model does not parse");
  impl_->model = std::move(*parsed);
  const Json::Value& shapes = impl_->model["shapes"];
  for (const auto& name : shapes.getMemberNames()) {
    if (!shapes[name].isMember("pattern")) continue;
    std::string pattern = shapes[name]["pattern"].asString();
    // botocore's patterns are whole-value (Java) patterns; some carry their own anchors.
    if (!pattern.empty() && pattern.front() == '^') pattern.erase(0, 1);
    if (!pattern.empty() && pattern.back() == '$') pattern.pop_back();
    impl_->patterns.emplace(name, std::regex(pattern, std::regex::ECMAScript | std::regex::optimize));
  }
}

const EcrModel& EcrModel::instance() {
  static const EcrModel model;
  return model;
}

bool EcrModel::has_operation(const std::string& operation) const {
  return impl_->model["operations"].isMember(operation);
}

std::optional<Error> EcrModel::validate(const std::string& operation, const Json::Value& input) const {
  if (!has_operation(operation)) return make_error("UnknownOperationException", "");
  return impl_->check(impl_->model["operations"][operation].asString(), input, "");
}

std::size_t EcrModel::pattern_count() const { return impl_->patterns.size(); }

}  // namespace ecrs::localaws
