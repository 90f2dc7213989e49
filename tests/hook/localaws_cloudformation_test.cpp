// localaws's CloudFormation (DescribeStackResource, query protocol), which the hook's binary tests resolve
// auto-named repositories through: our own client (the hook's CloudFormationStackResolver, over the real
// transport and signer) and boto3 as an independent peer must both read its answers and its errors.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "ecrs/aws/client.hpp"
#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/aws/xml.hpp"
#include "ecrs/common/json.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/handler/hook_flow.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "hook_test_support.hpp"
#include "support/run_command.hpp"

namespace ecrs::handler {
namespace {

using namespace hook_testing;

constexpr const char* kPhysicalId = "web-images-images-a1b2c3d4e5f6";

class LocalawsCloudFormation : public ::testing::Test {
 protected:
  LocalawsCloudFormation() : random_(0.5), logger_(sink_, clock_, LogLevel::debug) {
    server_.start();
    transport_ = std::make_unique<aws::CurlTransport>(env_);
    credentials_ = std::make_unique<aws::StaticCredentialsProvider>(credentials("test"));
    client_ = client(*credentials_);
    server_.cloudformation().put_stack(kStackName, kStackId);
    localaws::StackResourceSpec r;
    r.logical_resource_id = kLogicalId;
    r.physical_resource_id = kPhysicalId;
    r.resource_type = kEcrRepository;
    EXPECT_TRUE(server_.cloudformation().put_resource(kStackId, r));
  }
  ~LocalawsCloudFormation() override { server_.stop(); }

  static sigv4::Credentials credentials(const std::string& secret) {
    sigv4::Credentials c;
    c.access_key_id = "test";
    c.secret_access_key = Secret(secret);
    return c;
  }
  std::unique_ptr<aws::AwsClient> client(aws::CredentialsProvider& creds) {
    return std::make_unique<aws::AwsClient>(aws::AwsContext{*transport_, creds, clock_, sleeper_, random_, retry_, &logger_},
                                            aws::Endpoint{server_.endpoint(), "us-east-1", "cloudformation"});
  }
  Result<std::string> describe(aws::AwsClient& c, const std::string& stack, const std::string& logical_id) {
    aws::CallOptions once;
    once.max_attempts = 1;
    return c.query_call("DescribeStackResource", {{"StackName", stack}, {"LogicalResourceId", logical_id}},
                        kCloudFormationApiVersion, once);
  }

  localaws::LocalAws server_{localaws::Options{}};
  SystemClock clock_;
  RealSleeper sleeper_;
  FixedRandom random_;
  CaptureSink sink_;
  Logger logger_;
  MapEnvironment env_;
  aws::RetryStrategy retry_;
  std::unique_ptr<aws::CurlTransport> transport_;
  std::unique_ptr<aws::StaticCredentialsProvider> credentials_;
  std::unique_ptr<aws::AwsClient> client_;
};

TEST_F(LocalawsCloudFormation, DescribesAResourceByStackNameAndByStackId) {
  CloudFormationStackResolver resolver(*client_);
  for (const std::string stack : {kStackName, kStackId}) {
    auto id = resolver.physical_resource_id(stack, kLogicalId);
    ASSERT_TRUE(id.has_value()) << id.error().describe();
    EXPECT_EQ(id->value_or(""), kPhysicalId) << stack;
  }
  auto xml = describe(*client_, kStackName, kLogicalId);
  ASSERT_TRUE(xml.has_value()) << xml.error().describe();
  EXPECT_NE(xml->find("<DescribeStackResourceResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">"),
            std::string::npos) << *xml;
  EXPECT_EQ(aws::xml_text(*xml, "StackId").value_or(""), kStackId);
  EXPECT_EQ(aws::xml_text(*xml, "StackName").value_or(""), kStackName);
  EXPECT_EQ(aws::xml_text(*xml, "ResourceType").value_or(""), kEcrRepository);
  EXPECT_EQ(aws::xml_text(*xml, "ResourceStatus").value_or(""), "CREATE_COMPLETE");
  EXPECT_TRUE(aws::xml_text(*xml, "LastUpdatedTimestamp").has_value()) << *xml;
  EXPECT_TRUE(aws::xml_text(*xml, "RequestId").has_value()) << *xml;
  EXPECT_EQ(server_.cloudformation().calls("DescribeStackResource"), 3u);
}

TEST_F(LocalawsCloudFormation, ADeletedStackIsFoundByItsIdOnly) {
  ASSERT_TRUE(server_.cloudformation().set_stack_status(kStackId, "DELETE_COMPLETE"));
  CloudFormationStackResolver resolver(*client_);
  auto by_id = resolver.physical_resource_id(kStackId, kLogicalId);
  ASSERT_TRUE(by_id.has_value()) << by_id.error().describe();
  EXPECT_EQ(by_id->value_or(""), kPhysicalId);
  auto by_name = describe(*client_, kStackName, kLogicalId);
  ASSERT_FALSE(by_name.has_value());
  EXPECT_EQ(by_name.error().code, "ValidationError");
  EXPECT_EQ(by_name.error().message, "Stack with id web-images does not exist");
}

TEST_F(LocalawsCloudFormation, UnknownStacksAndResourcesAreValidationErrors) {
  auto stack = describe(*client_, "no-such-stack", kLogicalId);
  ASSERT_FALSE(stack.has_value());
  EXPECT_EQ(stack.error().code, "ValidationError");
  EXPECT_EQ(stack.error().http_status, 400);
  EXPECT_EQ(stack.error().message, "Stack with id no-such-stack does not exist");
  EXPECT_FALSE(stack.error().retryable);
  EXPECT_FALSE(stack.error().request_id.empty());

  auto resource = describe(*client_, kStackId, "Nothing");
  ASSERT_FALSE(resource.has_value());
  EXPECT_EQ(resource.error().code, "ValidationError");
  EXPECT_EQ(resource.error().message, "Resource Nothing does not exist for stack web-images");

  auto action = client_->query_call("DescribeStacks", {}, kCloudFormationApiVersion, {});
  ASSERT_FALSE(action.has_value());
  EXPECT_EQ(action.error().code, "InvalidAction");
}

TEST_F(LocalawsCloudFormation, AWrongSecretIsRefused) {
  aws::StaticCredentialsProvider wrong(credentials("not-the-secret"));
  auto c = client(wrong);
  auto r = describe(*c, kStackName, kLogicalId);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_EQ(r.error().code, "SignatureDoesNotMatch") << r.error().describe();
}

TEST_F(LocalawsCloudFormation, Boto3ParsesTheAnswersAndTheErrors) {
  const auto probe = test_support::run_command("python3 -c 'import boto3, botocore; print(botocore.__version__)'");
  ASSERT_EQ(probe.status, 0) << "python3 with boto3 is required (pyenv python3 in PATH): " << probe.output;
  const std::string command =
      "env -u AWS_SESSION_TOKEN -u AWS_PROFILE NO_PROXY=127.0.0.1,localhost AWS_ENDPOINT_URL=" + server_.endpoint() +
      " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null"
      " AWS_SHARED_CREDENTIALS_FILE=/dev/null timeout 60 python3 '" ECRS_HOOK_TEST_SOURCE_DIR
      "/cloudformation_peer.py' " + std::string(kStackName) + " '" + kStackId + "' " + kLogicalId;
  const auto r = test_support::run_command(command);
  ASSERT_EQ(r.status, 0) << r.output;
  auto doc = parse_json(r.output, "boto3 peer");
  ASSERT_TRUE(doc.has_value()) << r.output;
  for (const char* key : {"by_name", "by_id"}) {
    const Json::Value& d = (*doc)[key];
    EXPECT_EQ(d["StackName"].asString(), kStackName) << key;
    EXPECT_EQ(d["StackId"].asString(), kStackId) << key;
    EXPECT_EQ(d["LogicalResourceId"].asString(), kLogicalId) << key;
    EXPECT_EQ(d["PhysicalResourceId"].asString(), kPhysicalId) << key;
    EXPECT_EQ(d["ResourceType"].asString(), kEcrRepository) << key;
    EXPECT_EQ(d["ResourceStatus"].asString(), "CREATE_COMPLETE") << key;
    EXPECT_TRUE(d["LastUpdatedTimestampIsDatetime"].asBool()) << key;
  }
  EXPECT_EQ((*doc)["unknown_stack"]["code"].asString(), "ValidationError");
  EXPECT_EQ((*doc)["unknown_stack"]["status"].asInt(), 400);
  EXPECT_EQ((*doc)["unknown_stack"]["message"].asString(), "Stack with id no-such-stack does not exist");
  EXPECT_EQ((*doc)["unknown_resource"]["code"].asString(), "ValidationError");
  EXPECT_EQ((*doc)["unknown_resource"]["message"].asString(),
            "Resource NoSuchResource does not exist for stack web-images");
}

}  // namespace
}  // namespace ecrs::handler
