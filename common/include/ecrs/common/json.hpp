#pragma once
// JSON at the decode boundary: jsoncpp throws on type mismatches, so parsing and typed reads go through
// helpers that turn every surprise into an Error naming what was wrong.
#include <json/value.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ecrs/common/result.hpp"

namespace ecrs {

// Parses one JSON document; an empty or truncated body is an error with `context` attached.
Result<Json::Value> parse_json(std::string_view text, std::string_view context = {});

// Compact one-line JSON (UTF-8 kept as is) for logs and wire bodies.
std::string to_compact_json(const Json::Value& v);

// "a string", "a number", "a list", ... for messages that say what a field was instead of what it should be.
const char* json_type_name(const Json::Value& v);

// Typed reads that never throw: nullopt when the member is absent or of another type.
std::optional<std::string> get_string(const Json::Value& obj, const char* key);
std::optional<std::int64_t> get_int(const Json::Value& obj, const char* key);
std::optional<double> get_number(const Json::Value& obj, const char* key);
std::optional<bool> get_bool(const Json::Value& obj, const char* key);

}  // namespace ecrs
