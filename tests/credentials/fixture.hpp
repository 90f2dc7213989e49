#pragma once
// Shared by the credentials tests: a throw-away HOME with ~/.aws files, and the effects a credential source
// uses (real transport, fake clock that also sleeps) over a MapEnvironment pointing every service at localaws.
#include <string>

#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "temp_home.hpp"

namespace ecrs::test {

inline constexpr const char* kLocalKey = "test";  // localaws's default main-account keys
inline constexpr const char* kLocalSecret = "test";

// A started emulator: members initialised after it can use its endpoint.
struct RunningLocalAws {
  RunningLocalAws() { aws.start(); }
  localaws::LocalAws aws;
};

// HOME in `home`, IMDS off, region us-east-1, every endpoint at `endpoint` (when given).
inline MapEnvironment isolated_env(const TempHome& home, const std::string& endpoint = "") {
  MapEnvironment env;
  env.set("HOME", home.path());
  env.set("AWS_EC2_METADATA_DISABLED", "true");
  env.set("AWS_REGION", "us-east-1");
  if (!endpoint.empty()) env.set("AWS_ENDPOINT_URL", endpoint);
  return env;
}

}  // namespace ecrs::test
