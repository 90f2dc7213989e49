#pragma once
// A localaws on 127.0.0.1:0 and an EcrClient speaking real HTTP to it (CurlTransport, SigV4 with test:test).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ecrs/aws/client.hpp"
#include "ecrs/aws/credentials.hpp"
#include "ecrs/aws/curl_transport.hpp"
#include "ecrs/aws/endpoints.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/common/system.hpp"
#include "ecrs/ecr/ecr_client.hpp"
#include "ecrs/localaws/localaws.hpp"

namespace ecrs::ecr::testing {

// The test clock starts at the real time: localaws verifies SigV4 dates against its own clock.
inline std::chrono::system_clock::time_point test_epoch() { return std::chrono::system_clock::now(); }

class Harness {
 public:
  explicit Harness(localaws::Options options = {}, bool fake_time = true)
      : fake_(test_epoch()), random_(0.5), fake_time_(fake_time), logger_(sink_, clock()) {
    server_ = std::make_unique<localaws::LocalAws>(std::move(options));
    server_->start();
    transport_ = std::make_unique<aws::CurlTransport>(env_);
    sigv4::Credentials creds;
    creds.access_key_id = "test";
    creds.secret_access_key = Secret("test");
    credentials_ = std::make_unique<aws::StaticCredentialsProvider>(creds);
    aws::Endpoint endpoint{server_->endpoint(), "us-east-1", "ecr"};
    aws_ = std::make_unique<aws::AwsClient>(
        aws::AwsContext{*transport_, *credentials_, clock(), sleeper(), random_, retry_, &logger_}, endpoint);
    client_ = std::make_unique<EcrClient>(*aws_);
  }
  ~Harness() { server_->stop(); }

  localaws::LocalAws& server() { return *server_; }
  localaws::EcrState& state() { return server_->ecr(); }
  EcrClient& client() { return *client_; }
  const Clock& clock() const { return fake_time_ ? static_cast<const Clock&>(fake_) : real_clock_; }
  Sleeper& sleeper() { return fake_time_ ? static_cast<Sleeper&>(fake_) : real_sleeper_; }
  Random& random() { return random_; }
  Logger& logger() { return logger_; }
  FakeClock& fake_clock() { return fake_; }
  CaptureSink& sink() { return sink_; }

  // localaws metrics: calls of one operation (every reply, including throttles and errors).
  std::uint64_t calls(const std::string& operation) const {
    const Json::Value m = server_->metrics();
    const Json::Value& ops = m["operations"];
    if (!ops.isObject() || !ops.isMember(operation)) return 0;
    return ops[operation]["calls"].asUInt64();
  }
  std::uint64_t throttled(const std::string& operation) const {
    const Json::Value m = server_->metrics();
    const Json::Value& ops = m["operations"];
    if (!ops.isObject() || !ops.isMember(operation)) return 0;
    return ops[operation]["throttled"].asUInt64();
  }

  // Pushes `count` images: every third untagged, every third with one tag, every third with two tags.
  std::vector<std::string> seed_mixed(const std::string& repo, std::size_t count, const std::string& prefix = "v") {
    std::vector<std::string> digests;
    digests.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      const std::string manifest = unique_manifest();
      const std::string tag = (i % 3 == 0) ? "" : prefix + std::to_string(i);
      const std::string digest = state().put_manifest(repo, manifest, kDockerManifestV2, tag);
      // Pushing the same manifest again under another tag tags the same digest, as `docker push` does.
      if (i % 3 == 2) {
        EXPECT_EQ(state().put_manifest(repo, manifest, kDockerManifestV2, prefix + std::to_string(i) + "-latest"),
                  digest);
      }
      digests.push_back(digest);
    }
    return digests;
  }

  static constexpr const char* kDockerManifestV2 = "application/vnd.docker.distribution.manifest.v2+json";

  std::string unique_manifest() {
    const std::string n = std::to_string(++manifests_);
    return std::string(R"({"schemaVersion":2,"mediaType":")") + kDockerManifestV2 +
           R"(","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":)" + n +
           R"(,"digest":"sha256:)" + std::string(64 - n.size(), '0') + n + R"("},"layers":[]})";
  }

 private:
  FakeClock fake_;
  SystemClock real_clock_;
  RealSleeper real_sleeper_;
  FixedRandom random_;
  bool fake_time_;
  CaptureSink sink_;
  Logger logger_;
  MapEnvironment env_;
  std::unique_ptr<localaws::LocalAws> server_;
  std::unique_ptr<aws::CurlTransport> transport_;
  std::unique_ptr<aws::StaticCredentialsProvider> credentials_;
  aws::RetryStrategy retry_;
  std::unique_ptr<aws::AwsClient> aws_;
  std::unique_ptr<EcrClient> client_;
  std::uint64_t manifests_ = 0;
};

inline std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

}  // namespace ecrs::ecr::testing
