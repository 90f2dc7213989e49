#pragma once
// The environment Lambda gives a custom runtime's bootstrap, pointed at one LocalAws: the Runtime API, every
// AWS endpoint, static test credentials, and no way to reach a real credential source (no IMDS, no files).
// Tests that run the real `bootstrap` as a child process start from this and add their mode's variables.
#include <cstdlib>
#include <map>
#include <string>

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

// The built `bootstrap` (a copy of ecr-sweeper beside it). A test's CMakeLists passes the directory as
// ECRS_BOOTSTRAP_DIR_DEFAULT="$<TARGET_FILE_DIR:ecr-sweeper>" and adds a dependency on ecr-sweeper.
#ifdef ECRS_BOOTSTRAP_DIR_DEFAULT
inline std::string bootstrap_path() { return std::string(ECRS_BOOTSTRAP_DIR_DEFAULT) + "/bootstrap"; }
inline std::string cli_path() { return std::string(ECRS_BOOTSTRAP_DIR_DEFAULT) + "/ecr-sweeper"; }
#endif

}  // namespace ecrs::test_support
