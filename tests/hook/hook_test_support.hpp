#pragma once
// Shared by the hook tests (in-process flow and the real bootstrap): Hooks requests written from the documented
// Lambda Hooks resource input (Hooks User Guide, lambda-hooks-create-lambda-function.html) and a strict check of
// the documented response shape.
#include <gtest/gtest.h>
#include <json/value.h>

#include <cstdint>
#include <set>
#include <string>

#include "ecrs/cfn/hook.hpp"
#include "ecrs/common/json.hpp"

namespace ecrs::handler::hook_testing {

inline constexpr const char* kStackName = "web-images";
inline constexpr const char* kStackId =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/web-images/6f1c2a30-0000-11ef-9d4a-0a1b2c3d4e5f";
inline constexpr const char* kLogicalId = "Images";
inline constexpr const char* kEcrRepository = "AWS::ECR::Repository";
inline constexpr const char* kDeletePreProvision = "DELETE_PRE_PROVISION";

// The documented input for a resource operation; `model` is requestData.targetModel.
inline Json::Value hook_event(const std::string& token, const std::string& target, const std::string& point,
                              const Json::Value& model, int invocation = 1,
                              const Json::Value& callback_context = Json::Value()) {
  Json::Value e(Json::objectValue);
  e["clientRequestToken"] = token;
  e["awsAccountId"] = "123456789012";
  e["stackId"] = kStackId;
  e["changeSetId"] = "";
  e["hookTypeName"] = "Private::EcrSweeper::EmptyOnDelete";
  e["hookTypeVersion"] = "00000001";
  e["hookModel"]["LambdaFunction"] = "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper-hook";
  e["actionInvocationPoint"] = point;
  e["requestData"]["targetName"] = target;
  e["requestData"]["targetType"] = target;
  e["requestData"]["targetLogicalId"] = kLogicalId;
  e["requestData"]["targetModel"] = model;
  e["requestContext"]["invocation"] = invocation;
  e["requestContext"]["callbackContext"] = callback_context;
  return e;
}

// A DELETE carries the current properties in previousResourceProperties, resourceProperties empty (HOOKS-LAMBDA).
// Calls localaws counted for one ECR operation, and for all of them (its metrics() document).
inline std::uint64_t ecr_calls(const Json::Value& metrics, const std::string& op) {
  const Json::Value& ops = metrics["operations"];
  return ops.isObject() && ops.isMember(op) ? ops[op]["calls"].asUInt64() : 0;
}
inline std::uint64_t all_ecr_calls(const Json::Value& metrics) {
  const Json::Value& ops = metrics["operations"];
  std::uint64_t n = 0;
  if (ops.isObject()) {
    for (const auto& name : ops.getMemberNames()) n += ops[name]["calls"].asUInt64();
  }
  return n;
}

inline Json::Value delete_model(const std::string& repository) {
  Json::Value m(Json::objectValue);
  m["resourceProperties"] = Json::Value(Json::objectValue);
  m["previousResourceProperties"]["RepositoryName"] = repository;
  return m;
}

// A repository the template let CloudFormation name: no RepositoryName anywhere in the model.
inline Json::Value auto_named_delete_model() {
  Json::Value m(Json::objectValue);
  m["resourceProperties"] = Json::Value(Json::objectValue);
  m["previousResourceProperties"]["ImageTagMutability"] = "MUTABLE";
  return m;
}

// The documented response shape, strictly: required members, errorCode only with FAILED, callback members only
// with IN_PROGRESS, nothing else. Returns the parsed answer (null when it is not JSON).
inline Json::Value checked_answer(const std::string& body, const std::string& token) {
  auto parsed = parse_json(body, "hook answer");
  EXPECT_TRUE(parsed.has_value()) << body;
  if (!parsed) return Json::Value();
  const Json::Value& v = *parsed;
  EXPECT_TRUE(v.isObject()) << body;
  if (!v.isObject()) return Json::Value();
  const std::set<std::string> statuses = {"SUCCESS", "FAILED", "IN_PROGRESS"};
  EXPECT_TRUE(v["hookStatus"].isString() && statuses.count(v["hookStatus"].asString())) << body;
  EXPECT_TRUE(v["clientRequestToken"].isString()) << body;
  EXPECT_EQ(v["clientRequestToken"].asString(), token) << body;
  EXPECT_TRUE(v["message"].isString()) << body;
  EXPECT_LE(v["message"].asString().size(), cfn::kMaxHookMessageChars);
  const std::string status = v["hookStatus"].asString();
  EXPECT_EQ(v.isMember("errorCode"), status == "FAILED") << body;
  if (status == "FAILED") {
    EXPECT_TRUE(v["errorCode"].asString() == "NonCompliant" || v["errorCode"].asString() == "InternalFailure") << body;
  }
  EXPECT_EQ(v.isMember("callbackContext"), status == "IN_PROGRESS") << body;
  EXPECT_EQ(v.isMember("callbackDelaySeconds"), status == "IN_PROGRESS") << body;
  if (status == "IN_PROGRESS") {
    EXPECT_TRUE(v["callbackContext"].isObject()) << body;
    EXPECT_TRUE(v["callbackDelaySeconds"].isInt() && v["callbackDelaySeconds"].asInt() >= 0) << body;
  }
  const std::set<std::string> known = {"hookStatus", "errorCode", "message", "clientRequestToken", "callbackContext",
                                       "callbackDelaySeconds"};
  for (const auto& key : v.getMemberNames()) EXPECT_TRUE(known.count(key)) << "undocumented member " << key;
  return v;
}

// A DescribeStackResource reply as CloudFormation sends it (for a scripted endpoint).
inline std::string describe_stack_resource_reply(const std::string& physical_id) {
  return R"(<DescribeStackResourceResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeStackResourceResult><StackResourceDetail>
    <StackId>)" + std::string(kStackId) + R"(</StackId><StackName>web-images</StackName>
    <LogicalResourceId>Images</LogicalResourceId><PhysicalResourceId>)" + physical_id + R"(</PhysicalResourceId>
    <ResourceType>AWS::ECR::Repository</ResourceType><ResourceStatus>DELETE_IN_PROGRESS</ResourceStatus>
  </StackResourceDetail></DescribeStackResourceResult>
  <ResponseMetadata><RequestId>b9b4b068-3a41-11e5-94eb-example</RequestId></ResponseMetadata>
</DescribeStackResourceResponse>)";
}

}  // namespace ecrs::handler::hook_testing
