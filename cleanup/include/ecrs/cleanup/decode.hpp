#pragma once
// Small helpers for decoding service replies: a member of the wrong type is an InvalidResponse Error naming it,
// never a jsoncpp exception.
#include <json/value.h>

#include <optional>
#include <string>
#include <vector>

#include "ecrs/common/result.hpp"

namespace ecrs::cleanup::detail {

// "" when absent; an Error when present but not a string.
Result<std::string> opt_string(const Json::Value& obj, const char* key, const char* shape);
// [] when absent; an Error when present but not an array of strings.
Result<std::vector<std::string>> string_list(const Json::Value& obj, const char* key, const char* shape);
// The array member (or an empty array when absent); an Error when present but not an array.
Result<Json::Value> array_member(const Json::Value& obj, const char* key, const char* shape);
Error invalid(const std::string& what);

}  // namespace ecrs::cleanup::detail

// `auto var = *expr` or return its Error from the enclosing function (which returns a Result).
#define ECRS_CLEANUP_TRY(var, expr)               \
  auto var##_result = (expr);                     \
  if (!var##_result) return var##_result.error(); \
  auto var = std::move(*var##_result)
