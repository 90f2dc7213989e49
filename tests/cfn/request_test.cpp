#include "ecrs/cfn/request.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "ecrs/cfn/continuation.hpp"
#include "ecrs/cfn/physical_id.hpp"
#include "event_fixture.hpp"

namespace ecrs::cfn {
namespace {

using testing::kResponseUrl;
using testing::kSignature;
using testing::make_event;
using testing::props;

TEST(CustomResourceRequest, ParsesEveryFieldOfAnUpdate) {
  auto event = make_event("Update", props({{"RepositoryName", "web"}}), "ecr-sweeper:default:web",
                          props({{"RepositoryName", "old"}}));
  auto r = parse_request(event);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->request_type, RequestType::Update);
  EXPECT_EQ(r->response_url, kResponseUrl);
  EXPECT_EQ(r->stack_id, testing::kStackId);
  EXPECT_EQ(r->request_id, testing::kRequestId);
  EXPECT_EQ(r->resource_type, "Custom::EmptyEcrRepository");
  EXPECT_EQ(r->logical_resource_id, "RepoCleaner");
  EXPECT_EQ(r->physical_resource_id, "ecr-sweeper:default:web");
  EXPECT_EQ(r->resource_properties["RepositoryName"].asString(), "web");
  EXPECT_EQ(r->old_resource_properties["RepositoryName"].asString(), "old");
  EXPECT_EQ(r->service_token, testing::kServiceToken);
  EXPECT_FALSE(r->continuation.has_value());
}

TEST(CustomResourceRequest, RejectsMalformedEventsWithAMessageNamingTheField) {
  struct Row {
    const char* name;
    Json::Value event;
    const char* code;
    const char* message_has;
  };
  auto without = [](const char* key) {
    auto e = make_event("Delete", props({{"RepositoryName", "web"}}), "id");
    e.removeMember(key);
    return e;
  };
  auto with = [](const char* key, Json::Value v) {
    auto e = make_event("Delete", props({{"RepositoryName", "web"}}), "id");
    e[key] = std::move(v);
    return e;
  };
  const std::vector<Row> rows = {
      {"unknown RequestType", make_event("Destroy"), "InvalidRequestType", "'Destroy' is not one of Create, Update, Delete"},
      {"lower-case RequestType", make_event("delete"), "InvalidRequestType", "'delete'"},
      {"numeric RequestType", with("RequestType", 3), "InvalidRequestType", "got a number"},
      {"no ResponseURL", without("ResponseURL"), "InvalidEvent", "ResponseURL is missing"},
      {"no StackId", without("StackId"), "InvalidEvent", "StackId is missing"},
      {"empty RequestId", with("RequestId", ""), "InvalidEvent", "RequestId is empty"},
      {"no LogicalResourceId", without("LogicalResourceId"), "InvalidEvent", "LogicalResourceId is missing"},
      {"Delete without PhysicalResourceId", without("PhysicalResourceId"), "InvalidEvent", "PhysicalResourceId"},
      {"properties as a string", with("ResourceProperties", "web"), "InvalidEvent", "ResourceProperties must be an object"},
      {"continuation not an object", with(kContinuationField, 2), "InvalidContinuation", "must be an object"},
      {"not an object", Json::Value(Json::arrayValue), "InvalidEvent", "must be a JSON object"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    auto r = parse_request(row.event);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, row.code);
    EXPECT_NE(r.error().message.find(row.message_has), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().describe().find(kSignature), std::string::npos);
  }
}

TEST(CustomResourceRequest, UnknownRequestTypeStillYieldsATargetToAnswerFailed) {
  auto event = make_event("Destroy", {}, "ecr-sweeper:default:web");
  EXPECT_TRUE(looks_like_custom_resource(event));
  auto t = parse_response_target(event);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->response_url, kResponseUrl);
  EXPECT_EQ(t->logical_resource_id, "RepoCleaner");
  EXPECT_EQ(t->physical_resource_id, "ecr-sweeper:default:web");
  EXPECT_FALSE(t->request_type.has_value());
}

TEST(CustomResourceRequest, ShapeDetectionTellsCustomResourcesFromOtherEvents) {
  EXPECT_TRUE(looks_like_custom_resource(make_event("Create")));
  EXPECT_TRUE(looks_like_custom_resource(make_event("Bogus")));
  EXPECT_TRUE(looks_like_custom_resource(with_continuation(make_event("Delete"), Continuation{2, 10, "t"})));
  auto missing_url = make_event("Create");
  missing_url.removeMember("ResponseURL");
  EXPECT_FALSE(looks_like_custom_resource(missing_url));
  Json::Value cli(Json::objectValue);
  cli["repository"] = "web";
  EXPECT_FALSE(looks_like_custom_resource(cli));
  EXPECT_FALSE(looks_like_custom_resource(Json::Value("Create")));
  EXPECT_FALSE(looks_like_custom_resource(Json::Value()));
}

TEST(CustomResourceRequest, DedupKeyIsStackAndRequestAndSeparatesContinuations) {
  auto first = parse_request(make_event("Delete", props({{"RepositoryName", "web"}}), "id"));
  auto again = parse_request(make_event("Delete", props({{"RepositoryName", "web"}}), "id"));
  auto cont = parse_request(with_continuation(make_event("Delete", props({{"RepositoryName", "web"}}), "id"),
                                              Continuation{1, 500, "2026-01-01T00:00:00.000Z"}));
  ASSERT_TRUE(first && again && cont);
  EXPECT_EQ(dedup_key(*first), dedup_key(*again));
  EXPECT_NE(dedup_key(*first), dedup_key(*cont));
  EXPECT_NE(dedup_key(*first).find(testing::kStackId), std::string::npos);
  EXPECT_NE(dedup_key(*first).find(testing::kRequestId), std::string::npos);
  auto other = make_event("Delete", props({{"RepositoryName", "web"}}), "id");
  other["RequestId"] = "another";
  EXPECT_NE(dedup_key(*parse_request(other)), dedup_key(*first));
}

TEST(Continuation, RoundTripsThroughTheEventAndCountsUp) {
  auto event = make_event("Delete", props({{"RepositoryName", "web"}}), "id");
  EXPECT_FALSE(has_continuation(event));
  auto none = read_continuation(event);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  Continuation c1 = next_continuation(std::nullopt, 1200, "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(c1, (Continuation{1, 1200, "2026-01-01T00:00:00.000Z"}));
  auto event1 = with_continuation(event, c1);
  EXPECT_TRUE(has_continuation(event1));
  EXPECT_EQ(event1["ResponseURL"].asString(), kResponseUrl);  // the original event travels on, byte for byte
  auto read1 = read_continuation(event1);
  ASSERT_TRUE(read1 && read1->has_value());
  EXPECT_EQ(**read1, c1);

  Continuation c2 = next_continuation(**read1, 800, "ignored: the chain keeps its start");
  EXPECT_EQ(c2, (Continuation{2, 2000, "2026-01-01T00:00:00.000Z"}));
  auto event2 = with_continuation(event1, c2);  // replaces, not nests
  EXPECT_EQ(event2[kContinuationField]["invocation"].asInt(), 2);
  auto req = parse_request(event2);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->continuation, c2);
}

TEST(Continuation, MalformedFieldsAreErrors) {
  for (const char* bad : {R"({"invocation":0,"deleted_so_far":0})", R"({"invocation":"1","deleted_so_far":0})",
                          R"({"invocation":1})", R"({"invocation":1,"deleted_so_far":-5})"}) {
    auto event = make_event("Delete");
    event[kContinuationField] = *parse_json(bad);
    auto r = read_continuation(event);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "InvalidContinuation");
  }
}

TEST(Continuation, NumbersMustBeWholeAndInRange) {
  // Each of these was accepted before: a fraction truncated, a huge double cast to int64 (undefined behaviour),
  // a uint64 past INT64_MAX, an invocation up to INT_MAX that the next step incremented past it.
  for (const char* bad : {R"({"invocation":1.5,"deleted_so_far":0})", R"({"invocation":1,"deleted_so_far":2.5})",
                          R"({"invocation":1,"deleted_so_far":1e300})", R"({"invocation":1e300,"deleted_so_far":0})",
                          R"({"invocation":1,"deleted_so_far":18446744073709551615})",
                          R"({"invocation":-1e300,"deleted_so_far":0})", R"({"invocation":2147483647,"deleted_so_far":0})",
                          R"({"invocation":3601,"deleted_so_far":0})"}) {
    auto event = make_event("Delete");
    event[kContinuationField] = *parse_json(bad);
    auto r = read_continuation(event);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "InvalidContinuation") << bad;
  }
  for (const char* good : {R"({"invocation":2.0,"deleted_so_far":1e3})", R"({"invocation":3600,"deleted_so_far":0})"}) {
    auto event = make_event("Delete");
    event[kContinuationField] = *parse_json(good);
    auto r = read_continuation(event);
    ASSERT_TRUE(r && r->has_value()) << good;
  }
}

TEST(Continuation, CountsSaturateAndTheLimitHoldsAtTheTop) {
  const Continuation top{std::numeric_limits<int>::max(), std::numeric_limits<std::int64_t>::max() - 1, "t"};
  const Continuation next = next_continuation(top, 10, "t");
  EXPECT_EQ(next.invocation, std::numeric_limits<int>::max());
  EXPECT_EQ(next.deleted_so_far, std::numeric_limits<std::int64_t>::max());
  EXPECT_TRUE(continuation_limit_reason(next, std::numeric_limits<int>::max()));
  EXPECT_TRUE(continuation_limit_reason(Continuation{kMaxContinuationInvocations, 0, ""}, kMaxContinuationInvocations));
}

TEST(Continuation, BeyondTheMaximumFailsWithTheCountDeletedSoFar) {
  EXPECT_EQ(kDefaultMaxInvocations, 4);
  EXPECT_FALSE(continuation_limit_reason(Continuation{3, 100, "t0"}));
  auto reason = continuation_limit_reason(Continuation{4, 31337, "2026-01-01T00:00:00.000Z"});
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("4 Lambda invocations"), std::string::npos) << *reason;
  EXPECT_NE(reason->find("31337 images deleted so far"), std::string::npos) << *reason;
  EXPECT_TRUE(continuation_limit_reason(Continuation{2, 0, ""}, 2));
  EXPECT_FALSE(continuation_limit_reason(Continuation{1, 0, ""}, 2));
}

TEST(PhysicalResourceId, IsStableAndNamesRegistryAndRepository) {
  EXPECT_EQ(physical_resource_id(std::nullopt, "web"), "ecr-sweeper:default:web");
  EXPECT_EQ(physical_resource_id(std::string("123456789012"), "team/web"), "ecr-sweeper:123456789012:team/web");
  EXPECT_EQ(physical_resource_id(std::string(""), "web"), "ecr-sweeper:default:web");
  auto ref = parse_physical_resource_id("ecr-sweeper:123456789012:team/web");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->registry_id, "123456789012");
  EXPECT_EQ(ref->repository_name, "team/web");
  EXPECT_EQ(parse_physical_resource_id("ecr-sweeper:default:web")->registry_id, std::nullopt);
  EXPECT_FALSE(parse_physical_resource_id("RepoCleaner-abc123"));
  EXPECT_FALSE(parse_physical_resource_id(create_failed_id("RepoCleaner")));
  const std::string longest = physical_resource_id(std::string("123456789012"), std::string(256, 'a'));
  EXPECT_LE(longest.size(), kMaxPhysicalResourceIdBytes);
  EXPECT_LE(physical_resource_id(std::nullopt, std::string(5000, 'a')).size(), kMaxPhysicalResourceIdBytes);
}

TEST(PhysicalResourceId, CreateFailedMarkerIsRecognisedAndNeverEmpty) {
  EXPECT_EQ(create_failed_id("RepoCleaner"), "ecr-sweeper:CREATE_FAILED:RepoCleaner");
  EXPECT_TRUE(is_create_failed_id(create_failed_id("RepoCleaner")));
  EXPECT_TRUE(is_create_failed_id(create_failed_id("")));
  EXPECT_FALSE(create_failed_id("").empty());
  EXPECT_LE(create_failed_id(std::string(4000, 'x')).size(), kMaxPhysicalResourceIdBytes);
  EXPECT_FALSE(is_create_failed_id("ecr-sweeper:default:web"));
  EXPECT_FALSE(is_create_failed_id("ecr-sweeper:CREATE_FAILEDX"));
  EXPECT_FALSE(is_create_failed_id("CREATE_FAILED"));
  EXPECT_FALSE(is_create_failed_id("AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"));
}

}  // namespace
}  // namespace ecrs::cfn
