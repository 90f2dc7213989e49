#include "ecrs/cfn/response.hpp"

#include <gtest/gtest.h>

#include "ecrs/cfn/physical_id.hpp"
#include "ecrs/common/json.hpp"
#include "event_fixture.hpp"

namespace ecrs::cfn {
namespace {

using testing::kResponseUrl;
using testing::kSignature;
using testing::make_event;
using testing::props;

CustomResourceRequest request(const std::string& type, const std::string& physical_id = {}) {
  auto r = parse_request(make_event(type, props({{"RepositoryName", "web"}}), physical_id,
                                    type == "Update" ? props({{"RepositoryName", "web"}}) : Json::Value()));
  EXPECT_TRUE(r) << r.error().describe();
  return *r;
}

// Parses the body and checks what CloudFormation requires of every response.
Json::Value parse_valid(const std::string& body) {
  EXPECT_LE(body.size(), kMaxResponseBodyBytes);
  EXPECT_EQ(sanitize_utf8(body), body) << "body is not valid UTF-8";
  auto doc = parse_json(body, "response");
  EXPECT_TRUE(doc) << doc.error().describe();
  if (!doc) return {};
  EXPECT_TRUE(doc->isObject());
  const std::string status = (*doc)["Status"].asString();
  EXPECT_TRUE(status == "SUCCESS" || status == "FAILED") << status;
  if (status == "FAILED") {
    EXPECT_FALSE((*doc)["Reason"].asString().empty());
  }
  EXPECT_FALSE((*doc)["PhysicalResourceId"].asString().empty());
  EXPECT_LE((*doc)["PhysicalResourceId"].asString().size(), kMaxPhysicalResourceIdBytes);
  EXPECT_EQ((*doc)["StackId"].asString(), testing::kStackId);
  EXPECT_EQ((*doc)["RequestId"].asString(), testing::kRequestId);
  EXPECT_EQ((*doc)["LogicalResourceId"].asString(), "RepoCleaner");
  EXPECT_EQ(body.find(kSignature), std::string::npos);
  EXPECT_EQ(body.find("AKIAIOSFODNN7EXAMPLE"), std::string::npos);
  return *doc;
}

TEST(CustomResourceResponse, PhysicalIdFollowsTheRequestType) {
  struct Row {
    const char* name;
    std::string type;
    std::string request_id;
    CustomResourceOutcome outcome;
    std::string want;
  };
  const std::string web = "ecr-sweeper:default:web", api = "ecr-sweeper:default:api";
  const std::string marker = "ecr-sweeper:CREATE_FAILED:RepoCleaner";
  const std::vector<Row> rows = {
      {"Create success uses the derived id", "Create", "", CustomResourceOutcome::success(web), web},
      {"Create failure uses the marker, not the derived id", "Create", "", CustomResourceOutcome::failure("no repo", web), marker},
      {"Create failure without id uses the marker", "Create", "", CustomResourceOutcome::failure("bad"), marker},
      {"Create success without id never sends an empty one", "Create", "", CustomResourceOutcome::success(""), marker},
      {"Update success with a new id replaces", "Update", web, CustomResourceOutcome::success(api), api},
      {"Update success without id echoes", "Update", web, CustomResourceOutcome::success(""), web},
      {"Update failure echoes the old id", "Update", web, CustomResourceOutcome::failure("bad", api), web},
      {"Delete echoes whatever the outcome says", "Delete", web, CustomResourceOutcome::success(api), web},
      {"Delete failure echoes", "Delete", web, CustomResourceOutcome::failure("stuck"), web},
      {"Delete of the marker echoes the marker", "Delete", marker, CustomResourceOutcome::success(""), marker},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    auto doc = parse_valid(build_response(row.outcome, request(row.type, row.request_id)));
    EXPECT_EQ(doc["PhysicalResourceId"].asString(), row.want);
    EXPECT_EQ(doc["Status"].asString(), to_string(row.outcome.status));
  }
}

TEST(CustomResourceResponse, UnknownRequestTypeIsAnsweredFailedWithAReadableReason) {
  auto event = make_event("Destroy");
  auto parsed = parse_request(event);
  ASSERT_FALSE(parsed);
  auto target = parse_response_target(event);
  ASSERT_TRUE(target);
  auto doc = parse_valid(build_response(CustomResourceOutcome::failure(parsed.error().message), *target));
  EXPECT_EQ(doc["Status"].asString(), "FAILED");
  EXPECT_EQ(doc["Reason"].asString(), "RequestType 'Destroy' is not one of Create, Update, Delete");
  EXPECT_EQ(doc["PhysicalResourceId"].asString(), "ecr-sweeper:CREATE_FAILED:RepoCleaner");
}

TEST(CustomResourceResponse, FailedWithoutReasonGetsOne) {
  auto doc = parse_valid(build_response(CustomResourceOutcome::failure(""), request("Delete", "x")));
  EXPECT_NE(doc["Reason"].asString().find("CloudWatch Logs"), std::string::npos);
}

TEST(CustomResourceResponse, SuccessOmitsEmptyReasonAndCarriesDataAndNoEcho) {
  auto out = CustomResourceOutcome::success("ecr-sweeper:default:web");
  out.data["RepositoryName"] = "web";
  out.data["ImagesDeleted"] = "250";
  auto doc = parse_valid(build_response(out, request("Create")));
  EXPECT_FALSE(doc.isMember("Reason"));
  EXPECT_FALSE(doc.isMember("NoEcho"));
  EXPECT_EQ(doc["Data"]["ImagesDeleted"].asString(), "250");
  out.no_echo = true;
  EXPECT_TRUE(parse_valid(build_response(out, request("Create")))["NoEcho"].asBool());
}

TEST(CustomResourceResponse, LongReasonsAreCutInTheMiddleToFitFourKilobytes) {
  struct Row {
    const char* name;
    std::string unit;  // repeated to make the Reason
    std::size_t repeat;
  };
  const std::vector<Row> rows = {
      {"ASCII", "x", 10000},
      {"two-byte", "\xc3\xa9", 5000},             // é
      {"three-byte", "\xe2\x82\xac", 4000},       // €
      {"four-byte", "\xf0\x9f\x90\xb3", 3000},    // 🐳
      {"mixed", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb3", 1500},
      {"escapes grow six-fold", std::string("\x01\"\\", 3), 3000},
      {"just over", "y", 4000},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    std::string reason = "START:";
    for (std::size_t i = 0; i < row.repeat; ++i) reason += row.unit;
    reason += ":END";
    const std::string body = build_response(CustomResourceOutcome::failure(reason), request("Delete", "ecr-sweeper:default:web"));
    auto doc = parse_valid(body);
    const std::string got = doc["Reason"].asString();
    EXPECT_EQ(got.rfind("START:", 0), 0u);
    EXPECT_TRUE(got.ends_with(":END"));
    EXPECT_NE(got.find(" ... "), std::string::npos);
    EXPECT_LT(got.size(), reason.size());
    EXPECT_EQ(doc["PhysicalResourceId"].asString(), "ecr-sweeper:default:web");
    // Not cut more than needed: the body ends within a few characters of the limit.
    EXPECT_GT(body.size(), kMaxResponseBodyBytes - 32) << body.size();
  }
}

TEST(CustomResourceResponse, ReasonThatFitsIsKeptWhole) {
  const std::string reason(3000, 'r');
  auto doc = parse_valid(build_response(CustomResourceOutcome::failure(reason), request("Delete", "x")));
  EXPECT_EQ(doc["Reason"].asString(), reason);
}

TEST(CustomResourceResponse, DataIsDroppedOnlyWhenAShortReasonStillDoesNotFit) {
  auto small = CustomResourceOutcome::failure(std::string(8000, 'r'));
  small.data["Images"] = "12";
  auto doc = parse_valid(build_response(small, request("Delete", "x")));
  EXPECT_EQ(doc["Data"]["Images"].asString(), "12");

  auto big = CustomResourceOutcome::success("ecr-sweeper:default:web", "done");
  big.data["Plan"] = std::string(5000, 'p');
  doc = parse_valid(build_response(big, request("Create")));
  EXPECT_FALSE(doc.isMember("Data"));
  EXPECT_EQ(doc["Reason"].asString(), "done");

  auto both = CustomResourceOutcome::failure(std::string(8000, 'r'));
  both.data["Plan"] = std::string(3900, 'p');
  doc = parse_valid(build_response(both, request("Delete", "x")));
  EXPECT_FALSE(doc.isMember("Data"));
  EXPECT_GT(doc["Reason"].asString().size(), 3000u);
}

TEST(CustomResourceResponse, ReasonNeverCarriesTheResponseUrlQuery) {
  const std::string decoded_signature = "Q2FuIHlvdSBzZWUgbWU/IHRoaXMgaXMgYSBzaWduYXR1cmU=";  // kSignature percent-decoded
  const std::vector<std::string> reasons = {
      "PUT " + kResponseUrl + " failed",
      "query was " + kResponseUrl.substr(kResponseUrl.find('?') + 1),
      std::string("signature ") + kSignature + " rejected",
      "decoded: " + decoded_signature,
      std::string(6000, 'z') + kResponseUrl,
  };
  for (const auto& reason : reasons) {
    SCOPED_TRACE(reason.substr(0, 40));
    const std::string body = build_response(CustomResourceOutcome::failure(reason), request("Delete", "x"));
    parse_valid(body);
    EXPECT_EQ(body.find("Signature="), std::string::npos);
    EXPECT_EQ(body.find(decoded_signature), std::string::npos);
    EXPECT_EQ(body.find("AWSAccessKeyId"), std::string::npos);
  }
  auto doc = parse_valid(build_response(CustomResourceOutcome::failure(reasons[0]), request("Delete", "x")));
  EXPECT_NE(doc["Reason"].asString().find("s3.amazonaws.com/"), std::string::npos) << "the URL's path stays for context";
}

TEST(CustomResourceResponse, InvalidUtf8InReasonBecomesValidJson) {
  const std::string reason = std::string("bad \xff\xfe bytes \xc3 cut \xed\xa0\x80 surrogate \xc0\xaf overlong ok \xc3\xa9");
  auto doc = parse_valid(build_response(CustomResourceOutcome::failure(reason), request("Delete", "x")));
  EXPECT_EQ(doc["Reason"].asString(), "bad ?? bytes ? cut ??? surrogate ?? overlong ok \xc3\xa9");
}

TEST(Utf8, TruncateMiddleNeverSplitsASequence) {
  struct Row {
    std::string in;
    std::size_t max;
    std::string want;
  };
  const std::string euro = "\xe2\x82\xac";
  const std::vector<Row> rows = {
      {"short", 10, "short"},
      {"abcdefghijklmnop", 11, "abc ... nop"},
      {"abcdefghijklmnop", 12, "abcd ... nop"},
      {euro + euro + euro + euro + euro + euro, 13, euro + " ... " + euro},
      {euro + euro + euro + euro + euro + euro, 16, euro + euro + " ... " + euro},
      {euro + euro + euro, 4, euro},
      {euro + euro + euro, 2, ""},
      {"abc", 0, ""},
  };
  for (const auto& row : rows) {
    auto got = truncate_middle_utf8(row.in, row.max);
    EXPECT_EQ(got, row.want) << row.in << " @" << row.max;
    EXPECT_LE(got.size(), row.max);
    EXPECT_EQ(sanitize_utf8(got), got);
  }
}

TEST(Utf8, ScrubWithoutQueryLeavesTextAlone) {
  EXPECT_EQ(scrub_response_url("see http://x/y", "http://x/y"), "see http://x/y");
  EXPECT_EQ(scrub_response_url("anything", ""), "anything");
  EXPECT_EQ(scrub_response_url("u=http://h/p?X-Amz-Signature=abcdef0123456789 end", "http://h/p?X-Amz-Signature=abcdef0123456789"),
            "u=http://h/p?*** end");
}

}  // namespace
}  // namespace ecrs::cfn
