// The process-wide redactor: every Secret registers itself, and outward text (a log line, an error message
// quoted into a response) comes out without it.
#include "ecrs/common/redaction.hpp"

#include <gtest/gtest.h>

#include "ecrs/common/json.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/secret.hpp"

namespace ecrs {
namespace {

TEST(Redaction, ASecretIsKnownToTheRedactorFromTheMomentItIsMade) {
  const std::string token = "FwoGZXIvYXdzEXAMPLE/session+token==redaction-test-1";
  const std::string message = "The Canonical String for this request should have been\n'POST\n/\n\nx-amz-security-token:" +
                              token + "\n'";
  EXPECT_NE(redact_secrets(message).find(token), std::string::npos) << "not registered yet";
  const Secret secret(token);  // as a credential provider makes it: nobody calls register_secret
  const std::string out = redact_secrets(message);
  EXPECT_EQ(out.find(token), std::string::npos) << out;
  EXPECT_NE(out.find("x-amz-security-token:***"), std::string::npos) << out;
}

TEST(Redaction, CoversTheJsonEscapedSpellingAndEveryLogLine) {
  const std::string value = "key\"with\\quotes-redaction-test-2";
  const Secret secret(value);
  Json::Value doc(Json::objectValue);
  doc["Reason"] = "AWS said: " + value;
  const std::string body = redact_secrets(to_compact_json(doc));
  EXPECT_EQ(body.find("with\\\\quotes"), std::string::npos) << body;
  EXPECT_TRUE(parse_json(body)) << "still a JSON document: " << body;

  CaptureSink sink;
  FakeClock clock;
  Logger log(sink, clock);  // a logger nobody told about the secret
  log.error("call failed", [&] {
    Json::Value f(Json::objectValue);
    f["error"] = "quoted " + value;
    return f;
  }());
  ASSERT_EQ(sink.lines().size(), 1u);
  EXPECT_EQ(sink.lines()[0].find("quotes-redaction-test-2"), std::string::npos) << sink.lines()[0];
}

TEST(Redaction, ShortValuesAreNotRegisteredAndDuplicatesAreKeptOnce) {
  const std::size_t before = registered_secret_count();
  const Secret a("short");
  EXPECT_EQ(registered_secret_count(), before);
  EXPECT_EQ(redact_secrets("a short word"), "a short word");
  const Secret b("redaction-test-3-long-enough");
  const Secret c("redaction-test-3-long-enough");
  EXPECT_EQ(registered_secret_count(), before + 1);
}

}  // namespace
}  // namespace ecrs
