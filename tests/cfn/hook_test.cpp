// Lambda Hooks request/response, pure. Inputs follow the documented shapes in the CloudFormation Hooks User Guide,
// "Create Lambda functions to evaluate resources for Lambda Hooks" (lambda-hooks-create-lambda-function.html):
// the resource input syntax, its UPDATE_PRE_PROVISION DynamoDB example, and the SUCCESS/FAILED response examples.
#include "ecrs/cfn/hook.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ecrs/cfn/request.hpp"
#include "ecrs/cfn/response.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::cfn {
namespace {

Json::Value json(const std::string& text) {
  auto v = parse_json(text, "test");
  EXPECT_TRUE(v.has_value()) << text;
  return v ? *v : Json::Value();
}

// The guide's "Example Lambda Hook resource change input" (DynamoDB table update), with the clientRequestToken
// its response examples echo.
const char* kDocumentedUpdate = R"({
  "clientRequestToken": "123avjdjk31",
  "awsAccountId": "123456789012",
  "stackId": "arn:aws:cloudformation:us-west-2:123456789012:stack/MyStack/1a2345b6-0000-00a0-a123-00abc0abc000",
  "hookTypeName": "my::lambda::resourcehookfunction",
  "hookTypeVersion": "00000008",
  "hookModel": {"LambdaFunction": "arn:aws:lambda:us-west-2:123456789012:function:MyFunction"},
  "actionInvocationPoint": "UPDATE_PRE_PROVISION",
  "requestData": {
    "targetName": "AWS::DynamoDB::Table",
    "targetType": "AWS::DynamoDB::Table",
    "targetLogicalId": "DDBTable",
    "targetModel": {
      "resourceProperties": {"ProvisionedThroughput": {"WriteCapacityUnits": 5, "ReadCapacityUnits": 10}},
      "previousResourceProperties": {"ProvisionedThroughput": {"WriteCapacityUnits": 5, "ReadCapacityUnits": 5}}
    }
  },
  "requestContext": {"invocation": 1, "callbackContext": null}
})";

// A DELETE of an ECR repository as the guide describes it: current properties in previousResourceProperties,
// resourceProperties empty.
const char* kEcrDelete = R"({
  "clientRequestToken": "tok-1",
  "awsAccountId": "123456789012",
  "stackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/web/6f1c2a30-0000-11ef-9d4a-0a1b2c3d4e5f",
  "changeSetId": null,
  "hookTypeName": "Private::EcrSweeper::EmptyOnDelete",
  "hookTypeVersion": "00000001",
  "hookModel": {"LambdaFunction": "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper-hook"},
  "actionInvocationPoint": "DELETE_PRE_PROVISION",
  "requestData": {
    "targetName": "AWS::ECR::Repository",
    "targetType": "AWS::ECR::Repository",
    "targetLogicalId": "Images",
    "targetModel": {"resourceProperties": {}, "previousResourceProperties": {"RepositoryName": "web"}}
  },
  "requestContext": {"invocation": 2, "callbackContext": {"ecrSweeper": {"repository": "web", "deleted": 1200, "invocations": 1}}}
})";

TEST(HookRequest, ParsesTheDocumentedResourceInput) {
  auto r = parse_hook_request(json(kDocumentedUpdate));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->client_request_token, "123avjdjk31");
  EXPECT_EQ(r->aws_account_id, "123456789012");
  EXPECT_EQ(r->stack_id, "arn:aws:cloudformation:us-west-2:123456789012:stack/MyStack/1a2345b6-0000-00a0-a123-00abc0abc000");
  EXPECT_EQ(r->change_set_id, "");
  EXPECT_EQ(r->hook_type_name, "my::lambda::resourcehookfunction");
  EXPECT_EQ(r->hook_type_version, "00000008");
  EXPECT_EQ(r->hook_model["LambdaFunction"].asString(), "arn:aws:lambda:us-west-2:123456789012:function:MyFunction");
  EXPECT_EQ(r->invocation_point, HookInvocationPoint::UpdatePreProvision);
  EXPECT_EQ(r->target_name, "AWS::DynamoDB::Table");
  EXPECT_EQ(r->target_type, "AWS::DynamoDB::Table");
  EXPECT_EQ(r->target_logical_id, "DDBTable");
  EXPECT_EQ(r->resource_properties["ProvisionedThroughput"]["ReadCapacityUnits"].asInt(), 10);
  EXPECT_EQ(r->previous_resource_properties["ProvisionedThroughput"]["ReadCapacityUnits"].asInt(), 5);
  EXPECT_EQ(r->invocation, 1);
  EXPECT_TRUE(r->callback_context.isNull());
  EXPECT_FALSE(r->from_cloud_control());
}

TEST(HookRequest, ReadsTheRepositoryNameFromPreviousPropertiesOnDelete) {
  auto r = parse_hook_request(json(kEcrDelete));
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->invocation_point, HookInvocationPoint::DeletePreProvision);
  EXPECT_EQ(r->resource_type(), "AWS::ECR::Repository");
  EXPECT_EQ(target_property(*r, "RepositoryName"), "web");
  EXPECT_EQ(r->invocation, 2);
  auto progress = read_hook_progress(r->callback_context);
  ASSERT_TRUE(progress.has_value());
  ASSERT_TRUE(progress->has_value());
  EXPECT_EQ(**progress, (HookProgress{"web", 1200, 1}));
}

TEST(HookRequest, FallsBackToResourcePropertiesAndIgnoresEmptyNames) {
  struct Row {
    const char* model;
    std::optional<std::string> expected;
  };
  const std::vector<Row> rows = {
      {R"({"resourceProperties": {"RepositoryName": "api"}})", "api"},
      {R"({"resourceProperties": {"RepositoryName": "new"}, "previousResourceProperties": {"RepositoryName": "old"}})", "old"},
      {R"({"resourceProperties": {}, "previousResourceProperties": {"RepositoryName": ""}})", std::nullopt},
      {R"({"previousResourceProperties": {"ImageTagMutability": "MUTABLE"}})", std::nullopt},
      {R"({"resourceProperties": null, "previousResourceProperties": null})", std::nullopt},
      {R"({"previousResourceProperties": {"RepositoryName": 7}, "resourceProperties": {"RepositoryName": "x"}})", "x"},
  };
  for (const auto& row : rows) {
    Json::Value e = json(kEcrDelete);
    e["requestData"]["targetModel"] = json(row.model);
    auto r = parse_hook_request(e);
    ASSERT_TRUE(r.has_value()) << row.model << ": " << r.error().describe();
    EXPECT_EQ(target_property(*r, "RepositoryName"), row.expected) << row.model;
  }
}

TEST(HookRequest, CloudControlCallersHaveNoStackAndAShorterMessageLimit) {
  Json::Value e = json(kEcrDelete);
  e["stackId"] = "";
  e["requestData"]["targetType"] = "RESOURCE";
  auto r = parse_hook_request(e);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->from_cloud_control());
  EXPECT_EQ(r->resource_type(), "AWS::ECR::Repository");
  EXPECT_EQ(max_hook_message_bytes(*r), kMaxCloudControlHookMessageChars);
  e["stackId"] = "arn:aws:cloudformation:us-east-1:123456789012:stack/web/x";
  EXPECT_EQ(max_hook_message_bytes(*parse_hook_request(e)), kMaxHookMessageChars);
}

TEST(HookRequest, RejectsMalformedRequestsNamingTheMember) {
  struct Row {
    std::string path;  // "a.b" to set; value as JSON
    const char* value;
    const char* names;
  };
  const std::vector<Row> rows = {
      {"hookTypeName", "7", "hookTypeName"},
      {"hookTypeName", "\"\"", "hookTypeName"},
      {"actionInvocationPoint", "null", "actionInvocationPoint"},
      {"clientRequestToken", "{}", "clientRequestToken"},
      {"requestData", "[]", "requestData"},
      {"requestData.targetModel", "\"x\"", "targetModel"},
      {"requestData.targetModel.previousResourceProperties", "[1]", "previousResourceProperties"},
      {"requestData.targetName", "1", "targetName"},
      {"requestContext", "3", "requestContext"},
      {"requestContext.invocation", "0", "invocation"},
      {"requestContext.invocation", "\"1\"", "invocation"},
      {"requestContext.invocation", "1.5", "invocation"},
  };
  for (const auto& row : rows) {
    Json::Value e = json(kEcrDelete);
    Json::Value* node = &e;
    std::string rest = row.path;
    for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
      node = &(*node)[rest.substr(0, dot)];
      rest = rest.substr(dot + 1);
    }
    (*node)[rest] = json(row.value);
    auto r = parse_hook_request(e);
    ASSERT_FALSE(r.has_value()) << row.path << "=" << row.value;
    EXPECT_EQ(r.error().code, "InvalidHookRequest");
    EXPECT_NE(r.error().message.find(row.names), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(parse_hook_request(json("[1,2]")).has_value());
  Json::Value no_target = json(kEcrDelete);
  no_target["requestData"].removeMember("targetName");
  no_target["requestData"].removeMember("targetType");
  EXPECT_FALSE(parse_hook_request(no_target).has_value());
}

TEST(HookRequest, KeepsAnUnknownInvocationPointForTheFlowToIgnore) {
  Json::Value e = json(kEcrDelete);
  e["actionInvocationPoint"] = "DELETE_POST_PROVISION";
  auto r = parse_hook_request(e);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->invocation_point.has_value());
  EXPECT_EQ(r->action_invocation_point, "DELETE_POST_PROVISION");
}

TEST(HookRequest, IsToldApartFromACustomResourceEvent) {
  const Json::Value custom = json(R"({"RequestType": "Delete", "ResponseURL": "https://s3/x?X-Amz-Signature=s",
      "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "RequestId": "r1",
      "ResourceType": "Custom::EmptyEcrRepository", "LogicalResourceId": "E", "PhysicalResourceId": "p",
      "ResourceProperties": {"ServiceToken": "arn", "RepositoryName": "web"}})");
  EXPECT_TRUE(looks_like_hook_request(json(kEcrDelete)));
  EXPECT_TRUE(looks_like_hook_request(json(kDocumentedUpdate)));
  EXPECT_FALSE(looks_like_custom_resource(json(kEcrDelete)));
  EXPECT_FALSE(looks_like_hook_request(custom));
  EXPECT_TRUE(looks_like_custom_resource(custom));
  EXPECT_FALSE(looks_like_hook_request(json("{}")));
  EXPECT_FALSE(looks_like_hook_request(json("\"DELETE_PRE_PROVISION\"")));
  EXPECT_FALSE(looks_like_hook_request(json(R"({"hookTypeName": "a", "actionInvocationPoint": "b"})")));
}

TEST(HookResponse, MatchesTheDocumentedSuccessAndFailureExamples) {
  EXPECT_EQ(hook_response_json(HookResponse::success("compliant"), "123avjdjk31"),
            json(R"({"hookStatus": "SUCCESS", "message": "compliant", "clientRequestToken": "123avjdjk31"})"));
  EXPECT_EQ(hook_response_json(HookResponse::failed(HookErrorCode::NonCompliant, "S3 Bucket Versioning must be enabled."),
                               "123avjdjk31"),
            json(R"({"hookStatus": "FAILED", "errorCode": "NonCompliant",
                     "message": "S3 Bucket Versioning must be enabled.", "clientRequestToken": "123avjdjk31"})"));
}

TEST(HookResponse, InProgressCarriesContextAndDelayAndNothingElseDoes) {
  const Json::Value ctx = to_callback_context(HookProgress{"web", 2000, 1});
  const Json::Value v = hook_response_json(HookResponse::in_progress(ctx, 1, "2000 deleted"), "t");
  EXPECT_EQ(v["hookStatus"].asString(), "IN_PROGRESS");
  EXPECT_EQ(v["callbackContext"], ctx);
  EXPECT_EQ(v["callbackDelaySeconds"].asInt(), 1);
  EXPECT_FALSE(v.isMember("errorCode"));
  auto back = read_hook_progress(v["callbackContext"]);
  ASSERT_TRUE(back.has_value() && back->has_value());
  EXPECT_EQ(**back, (HookProgress{"web", 2000, 1}));

  const Json::Value neg = hook_response_json(HookResponse::in_progress(Json::Value(), -5, "m"), "t");
  EXPECT_TRUE(neg["callbackContext"].isObject());
  EXPECT_EQ(neg["callbackDelaySeconds"].asInt(), 0);

  for (const auto& r : {HookResponse::success("a"), HookResponse::failed(HookErrorCode::InternalFailure, "b")}) {
    const Json::Value w = hook_response_json(r, "t");
    EXPECT_FALSE(w.isMember("callbackContext"));
    EXPECT_FALSE(w.isMember("callbackDelaySeconds"));
  }
  HookResponse no_code;  // FAILED without a code still carries the required errorCode
  EXPECT_EQ(hook_response_json(no_code, "t")["errorCode"].asString(), "InternalFailure");
}

TEST(HookResponse, IsAlwaysValidJsonWithABoundedMessage) {
  std::string huge = "\xE2\x82\xAC";  // a 3-byte character, so the cut must not split a sequence
  while (huge.size() < 3 * kMaxHookMessageChars) huge += "x\xE2\x82\xAC";
  huge += "\xFF\xFE broken utf-8 \"quotes\" \\ and \n newlines";
  for (std::size_t limit : {kMaxHookMessageChars, kMaxCloudControlHookMessageChars}) {
    const std::string body = build_hook_response(HookResponse::failed(HookErrorCode::InternalFailure, huge),
                                                 "tok\"en\xFF", limit);
    auto parsed = parse_json(body, "response");
    ASSERT_TRUE(parsed.has_value()) << body.substr(0, 200);
    EXPECT_LE((*parsed)["message"].asString().size(), limit);
    EXPECT_EQ(sanitize_utf8((*parsed)["message"].asString()), (*parsed)["message"].asString());
    EXPECT_EQ((*parsed)["clientRequestToken"].asString(), "tok\"en?");
    EXPECT_EQ((*parsed)["hookStatus"].asString(), "FAILED");
  }
}

TEST(HookProgress, RejectsAContextItDidNotWriteConsistently) {
  EXPECT_FALSE(read_hook_progress(Json::Value())->has_value());
  EXPECT_FALSE(read_hook_progress(json(R"({"someoneElse": 1})"))->has_value());
  EXPECT_FALSE(read_hook_progress(json("[]"))->has_value());
  for (const char* bad : {R"({"ecrSweeper": 1})", R"({"ecrSweeper": {"repository": "", "deleted": 1, "invocations": 1}})",
                          R"({"ecrSweeper": {"repository": "w", "deleted": -1, "invocations": 1}})",
                          R"({"ecrSweeper": {"repository": "w", "deleted": 1, "invocations": "1"}})"}) {
    auto r = read_hook_progress(json(bad));
    EXPECT_FALSE(r.has_value()) << bad;
  }
}

TEST(HookLimits, FollowTheHooksGuide) {
  EXPECT_EQ(kHookInvocationWait, std::chrono::seconds(30));
  EXPECT_EQ(kMaxHookInvocations, 3);
  EXPECT_EQ(kMaxHookInProgressAnswers, 2);
  for (auto p : {HookInvocationPoint::CreatePreProvision, HookInvocationPoint::UpdatePreProvision,
                 HookInvocationPoint::DeletePreProvision}) {
    EXPECT_EQ(hook_invocation_point_from_string(to_string(p)), p);
  }
}

}  // namespace
}  // namespace ecrs::cfn
