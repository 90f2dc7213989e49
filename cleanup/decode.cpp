#include "ecrs/cleanup/decode.hpp"

namespace ecrs::cleanup::detail {

Error invalid(const std::string& what) { return make_error("InvalidResponse", what); }

Result<std::string> opt_string(const Json::Value& obj, const char* key, const char* shape) {
  if (!obj.isObject() || !obj.isMember(key) || obj[key].isNull()) return std::string();
  if (!obj[key].isString()) return invalid(std::string(shape) + "." + key + " is not a string");
  return obj[key].asString();
}

Result<std::vector<std::string>> string_list(const Json::Value& obj, const char* key, const char* shape) {
  std::vector<std::string> out;
  if (!obj.isObject() || !obj.isMember(key) || obj[key].isNull()) return out;
  if (!obj[key].isArray()) return invalid(std::string(shape) + "." + key + " is not a list");
  for (const auto& v : obj[key]) {
    if (!v.isString()) return invalid(std::string(shape) + "." + key + " holds a non-string");
    out.push_back(v.asString());
  }
  return out;
}

Result<Json::Value> array_member(const Json::Value& obj, const char* key, const char* shape) {
  if (!obj.isObject() || !obj.isMember(key) || obj[key].isNull()) return Json::Value(Json::arrayValue);
  if (!obj[key].isArray()) return invalid(std::string(shape) + "." + key + " is not a list");
  return obj[key];
}

}  // namespace ecrs::cleanup::detail
