#pragma once
// Reading a bootstrap's stdout in tests: JSON log lines by msg, and the CloudWatch embedded-metric records
// (the lines with an `_aws` member), each in the order written. A line that is not a JSON object fails the test.
#include <gtest/gtest.h>
#include <json/value.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "ecrs/common/json.hpp"

namespace ecrs::test_support {

inline std::vector<Json::Value> json_lines(const std::string& out) {
  std::vector<Json::Value> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto v = parse_json(line);
    EXPECT_TRUE(v && v->isObject()) << line;
    if (v && v->isObject()) lines.push_back(std::move(*v));
  }
  return lines;
}

// The log lines whose msg is `msg`.
inline std::vector<Json::Value> log_records(const std::string& out, const std::string& msg) {
  std::vector<Json::Value> records;
  for (auto& v : json_lines(out)) {
    if (v["msg"].asString() == msg) records.push_back(std::move(v));
  }
  return records;
}

inline std::vector<Json::Value> emf_records(const std::string& out) {
  std::vector<Json::Value> records;
  for (auto& v : json_lines(out)) {
    if (v.isMember("_aws")) records.push_back(std::move(v));
  }
  return records;
}

// A numeric member summed over records (a missing member counts 0).
inline std::uint64_t sum_field(const std::vector<Json::Value>& records, const char* field) {
  std::uint64_t n = 0;
  for (const auto& r : records) n += r[field].asUInt64();
  return n;
}

}  // namespace ecrs::test_support
