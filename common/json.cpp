#include "ecrs/common/json.hpp"

#include <json/reader.h>
#include <json/writer.h>

#include <memory>

namespace ecrs {

Result<Json::Value> parse_json(std::string_view text, std::string_view context) {
  Json::CharReaderBuilder b;
  b["collectComments"] = false;
  b["failIfExtra"] = true;
  b["rejectDupKeys"] = false;
  std::unique_ptr<Json::CharReader> reader(b.newCharReader());
  Json::Value out;
  std::string errs;
  if (text.empty() || !reader->parse(text.data(), text.data() + text.size(), &out, &errs)) {
    std::string msg = text.empty() ? "empty document" : errs;
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return make_error("InvalidJson", msg, std::string(context));
  }
  return out;
}

std::string to_compact_json(const Json::Value& v) {
  Json::StreamWriterBuilder b;
  b["indentation"] = "";
  b["emitUTF8"] = true;
  return Json::writeString(b, v);
}

const char* json_type_name(const Json::Value& v) {
  switch (v.type()) {
    case Json::nullValue: return "null";
    case Json::intValue:
    case Json::uintValue:
    case Json::realValue: return "a number";
    case Json::stringValue: return "a string";
    case Json::booleanValue: return "a boolean";
    case Json::arrayValue: return "a list";
    case Json::objectValue: return "an object";
  }
  return "an unknown type";
}

std::optional<std::string> get_string(const Json::Value& obj, const char* key) {
  if (!obj.isObject()) return std::nullopt;
  const Json::Value& v = obj[key];
  if (!v.isString()) return std::nullopt;
  return v.asString();
}

std::optional<std::int64_t> get_int(const Json::Value& obj, const char* key) {
  if (!obj.isObject()) return std::nullopt;
  const Json::Value& v = obj[key];
  // jsoncpp's isInt64 holds for integers in range and for whole doubles in range (2.0, 1e3); a fraction, a
  // double past int64 (1e300: casting it is undefined behaviour) or a uint64 above INT64_MAX is no integer.
  if (v.isInt64()) return v.asInt64();
  return std::nullopt;
}

std::optional<double> get_number(const Json::Value& obj, const char* key) {
  if (!obj.isObject()) return std::nullopt;
  const Json::Value& v = obj[key];
  if (!v.isNumeric()) return std::nullopt;
  return v.asDouble();
}

std::optional<bool> get_bool(const Json::Value& obj, const char* key) {
  if (!obj.isObject()) return std::nullopt;
  const Json::Value& v = obj[key];
  if (!v.isBool()) return std::nullopt;
  return v.asBool();
}

}  // namespace ecrs
