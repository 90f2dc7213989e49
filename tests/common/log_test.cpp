#include "ecrs/common/log.hpp"

#include <gtest/gtest.h>

#include "ecrs/common/json.hpp"

namespace ecrs {
namespace {

TEST(Logger, WritesOneJsonObjectPerLineWithContext) {
  CaptureSink sink;
  FakeClock clock(std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123)));
  Logger log(sink, clock);
  Json::Value base;
  base["request_id"] = "r-1";
  Logger child = log.with(base);
  Json::Value f;
  f["deleted"] = 42;
  child.info("batch done", f);
  auto lines = sink.lines();
  ASSERT_EQ(lines.size(), 1u);
  auto v = parse_json(lines[0]);
  ASSERT_TRUE(v) << lines[0];
  EXPECT_EQ((*v)["msg"].asString(), "batch done");
  EXPECT_EQ((*v)["level"].asString(), "info");
  EXPECT_EQ((*v)["request_id"].asString(), "r-1");
  EXPECT_EQ((*v)["deleted"].asInt(), 42);
  EXPECT_EQ((*v)["ts"].asString(), "2023-11-14T22:13:20.123Z");
}

TEST(Logger, RedactsRegisteredSecretsWhereverTheyAppear) {
  CaptureSink sink;
  FakeClock clock;
  Logger log(sink, clock);
  log.add_redaction("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  Logger child = log.with(Json::Value(Json::objectValue));
  Json::Value f;
  f["oops"] = "key=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  child.error("leak attempt", f);
  ASSERT_EQ(sink.lines().size(), 1u);
  EXPECT_EQ(sink.lines()[0].find("EXAMPLEKEY"), std::string::npos) << sink.lines()[0];
  EXPECT_NE(sink.lines()[0].find("***"), std::string::npos);
}

TEST(Logger, DropsLinesBelowTheMinimumLevel) {
  CaptureSink sink;
  FakeClock clock;
  Logger log(sink, clock, LogLevel::warn);
  log.info("quiet");
  log.warn("loud");
  EXPECT_EQ(sink.lines().size(), 1u);
}

TEST(RedactUrl, BlanksTheWholeQueryString) {
  EXPECT_EQ(redact_url("https://b.s3.amazonaws.com/arn%3Aaws%3A/x?AWSAccessKeyId=AKID&Expires=1&Signature=abc%2B"),
            "https://b.s3.amazonaws.com/arn%3Aaws%3A/x?***");
  EXPECT_EQ(redact_url("https://h/p?X-Amz-Signature=s&X-Amz-Security-Token=t"), "https://h/p?***");
  EXPECT_EQ(redact_url("https://h/p"), "https://h/p");
}

}  // namespace
}  // namespace ecrs
