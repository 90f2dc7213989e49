#include "ecrs/common/result.hpp"

#include <gtest/gtest.h>

#include "ecrs/common/json.hpp"

namespace ecrs {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return make_error("OddNumber", "cannot halve " + std::to_string(n), "half");
  return n / 2;
}

TEST(Result, CarriesAValueOrAnError) {
  auto ok = half(8);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 4);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "OddNumber");
  EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(Result, DescribeNamesContextCodeStatusAndRequestId) {
  Error e = make_error("ThrottlingException", "Rate exceeded", "BatchDeleteImage repository=web");
  e.http_status = 400;
  e.request_id = "abc-123";
  EXPECT_EQ(e.describe(), "BatchDeleteImage repository=web: ThrottlingException: Rate exceeded (HTTP 400, request id abc-123)");
}

TEST(Json, TruncatedDocumentIsAnErrorWithContext) {
  auto r = parse_json("{\"a\": [1, 2", "ListImages response");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "InvalidJson");
  EXPECT_EQ(r.error().context, "ListImages response");
  EXPECT_FALSE(parse_json(""));
  EXPECT_FALSE(parse_json("{} trailing"));
}

TEST(Json, TypedReadsNeverThrow) {
  auto v = parse_json(R"({"s":"x","n":3,"b":true,"o":{}})");
  ASSERT_TRUE(v);
  EXPECT_EQ(get_string(*v, "s"), "x");
  EXPECT_EQ(get_string(*v, "n"), std::nullopt);
  EXPECT_EQ(get_int(*v, "n"), 3);
  EXPECT_EQ(get_bool(*v, "b"), true);
  EXPECT_EQ(get_int(*v, "missing"), std::nullopt);
  EXPECT_EQ(get_string(Json::Value("not an object"), "s"), std::nullopt);
}

}  // namespace
}  // namespace ecrs
