#pragma once
// Shared by the credentials tests: a throw-away HOME with ~/.aws files, and the effects a credential source
// uses (real transport, fake clock that also sleeps) over a MapEnvironment pointing every service at localaws.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/localaws/localaws.hpp"

namespace ecrs::test {

inline constexpr const char* kLocalKey = "test";  // localaws's default main-account keys
inline constexpr const char* kLocalSecret = "test";

class TempHome {
 public:
  TempHome() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ecrs-cred-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempHome() { std::filesystem::remove_all(path_); }
  TempHome(const TempHome&) = delete;
  TempHome& operator=(const TempHome&) = delete;
  std::string write(const std::string& rel, const std::string& text) const {
    auto p = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

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

struct Effects {
  explicit Effects(const Environment& env, std::chrono::system_clock::time_point start = std::chrono::system_clock::now())
      : transport(env), clock(start), ctx{env, transport, clock, clock, random, nullptr, std::nullopt, std::nullopt} {}
  aws::CurlTransport transport;
  FakeClock clock;
  FixedRandom random{0.0};
  aws::CredentialContext ctx;
};

}  // namespace ecrs::test
