#pragma once
// Events shaped like CloudFormation's (CFNUG/crpg-ref-requests), with a SigV2 presigned ResponseURL as the
// Lambda developer guide shows it (services-cloudformation).
#include <json/value.h>

#include <string>

#include "ecrs/common/json.hpp"

namespace ecrs::cfn::testing {

inline constexpr const char* kSignature = "Q2FuIHlvdSBzZWUgbWU%2FIHRoaXMgaXMgYSBzaWduYXR1cmU%3D";
inline const std::string kResponseUrl =
    std::string("https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/"
                "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/web/1a2b%7CRepoCleaner%7Cabc"
                "?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1700000000&Signature=") +
    kSignature;
inline constexpr const char* kStackId = "arn:aws:cloudformation:us-east-1:123456789012:stack/web/1a2b3c4d-5e6f";
inline constexpr const char* kRequestId = "5d478078-13e9-baf0-464a-7ef285ecc786";
inline constexpr const char* kServiceToken = "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper";

inline Json::Value make_event(const std::string& type, const Json::Value& props = Json::Value(Json::objectValue),
                              const std::string& physical_id = {},
                              const Json::Value& old_props = Json::Value(Json::nullValue)) {
  Json::Value e(Json::objectValue);
  e["RequestType"] = type;
  e["ServiceToken"] = kServiceToken;
  e["ResponseURL"] = kResponseUrl;
  e["StackId"] = kStackId;
  e["RequestId"] = kRequestId;
  e["LogicalResourceId"] = "RepoCleaner";
  e["ResourceType"] = "Custom::EmptyEcrRepository";
  Json::Value p = props;
  p["ServiceToken"] = kServiceToken;
  e["ResourceProperties"] = p;
  if (!physical_id.empty()) e["PhysicalResourceId"] = physical_id;
  if (!old_props.isNull()) {
    Json::Value o = old_props;
    o["ServiceToken"] = kServiceToken;
    e["OldResourceProperties"] = o;
  }
  return e;
}

inline Json::Value props(std::initializer_list<std::pair<const char*, const char*>> kv) {
  Json::Value p(Json::objectValue);
  for (const auto& [k, v] : kv) p[k] = v;
  return p;
}

}  // namespace ecrs::cfn::testing
