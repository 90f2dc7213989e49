#pragma once
// The environment Lambda gives a custom runtime's bootstrap, pointed at one LocalAws: the Runtime API, every
// AWS endpoint, static test credentials, and no way to reach a real credential source (no IMDS, no files).
// Tests that run the real `bootstrap` as a child process start from this and add their mode's variables.
#include <gtest/gtest.h>
#include <json/value.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>

#include "ecrs/common/json.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "support/process.hpp"

namespace ecrs::test_support {

struct LambdaEnvSpec {
  std::string runtime_api;  // LocalAws::runtime_api()
  std::string endpoint;     // LocalAws::endpoint()
  std::string region = "us-east-1";
  std::string function_name = "ecr-sweeper";
  std::string access_key_id = "test";
  std::string secret_access_key = "test";
};

inline std::map<std::string, std::string> lambda_env(const LambdaEnvSpec& spec) {
  return {{"AWS_LAMBDA_RUNTIME_API", spec.runtime_api},
          {"AWS_REGION", spec.region},
          {"AWS_ENDPOINT_URL", spec.endpoint},
          {"AWS_ACCESS_KEY_ID", spec.access_key_id},
          {"AWS_SECRET_ACCESS_KEY", spec.secret_access_key},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_CONFIG_FILE", "/nonexistent/ecrs-config"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ecrs-credentials"},
          {"AWS_LAMBDA_FUNCTION_NAME", spec.function_name},
          {"ECRS_LOG_LEVEL", "debug"}};
}

// Invokes a custom-resource event through the Runtime API of `aws`, which `child` (the bootstrap) serves, and
// returns the document it PUT to the ResponseURL registered under `key`. Expects a /response reply and exactly
// one PUT; null (with the failures recorded) otherwise.
inline Json::Value invoke_and_read_put(localaws::LocalAws& aws, const Json::Value& event, const std::string& key,
                                       ChildProcess& child,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const std::string id = aws.runtime().invoke(to_compact_json(event));
  const auto outcome = aws.runtime().wait_outcome(id, timeout);
  EXPECT_TRUE(outcome) << "no outcome from the bootstrap:\n" << child.out() << child.err();
  if (!outcome) return {};
  EXPECT_EQ(outcome->kind, "response") << outcome->body;
  const auto put = aws.s3().wait_accepted(key, timeout);
  EXPECT_TRUE(put) << "no PUT to the ResponseURL";
  if (!put) return {};
  EXPECT_EQ(aws.s3().accepted(key).size(), 1u) << "one PUT per request";
  auto doc = parse_json(put->body);
  EXPECT_TRUE(doc) << put->body;
  return doc ? *doc : Json::Value();
}

// The built `bootstrap` (a copy of ecr-sweeper beside it). A test's CMakeLists passes the directory as
// ECRS_BOOTSTRAP_DIR_DEFAULT="$<TARGET_FILE_DIR:ecr-sweeper>" and adds a dependency on ecr-sweeper.
#ifdef ECRS_BOOTSTRAP_DIR_DEFAULT
inline std::string bootstrap_path() { return std::string(ECRS_BOOTSTRAP_DIR_DEFAULT) + "/bootstrap"; }
inline std::string cli_path() { return std::string(ECRS_BOOTSTRAP_DIR_DEFAULT) + "/ecr-sweeper"; }
#endif

}  // namespace ecrs::test_support
