#pragma once
// End-to-end harness: a LocalAws on 127.0.0.1:0 (ECR, S3 response receiver, Runtime API, Lambda Invoke) and
// the runtime loop — the same run_lambda() the bootstrap binary runs — on a thread, with its own environment
// and a captured log. Events are CloudFormation-shaped with a ResponseURL minted by the receiver.
#include <gtest/gtest.h>
#include <json/value.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ecrs/common/json.hpp"
#include "ecrs/common/log.hpp"
#include "ecrs/handler/app.hpp"
#include "ecrs/localaws/localaws.hpp"
#include "support/process.hpp"

namespace ecrs::handler::testing {

using test_support::ChildProcess;
using test_support::ProcessResult;
using test_support::run_process;

inline constexpr const char* kStackId =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/sweeper-test/6f1c2a30-0000-11ef-9d4a-0a1b2c3d4e5f";
inline constexpr const char* kLogicalId = "EmptyRepo";
inline constexpr std::chrono::seconds kWait{30};

struct EventSpec {
  std::string request_type = "Delete";
  std::string request_id;  // generated when empty
  std::optional<std::string> repository;  // RepositoryName property
  std::optional<std::string> registry_id;
  std::optional<std::string> dry_run;
  std::optional<std::string> physical_id;
  std::optional<Json::Value> old_properties;
};

// A built event plus where its response lands.
struct BuiltEvent {
  Json::Value event;
  std::string key;  // S3 key of the ResponseURL (CloudFormation style, pre-encoded)
};

inline std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

class LambdaHarness {
 public:
  explicit LambdaHarness(localaws::Options options = {}) : options_(std::move(options)) {
    server_ = std::make_unique<localaws::LocalAws>(options_);
    server_->start();
  }
  ~LambdaHarness() { stop(); }

  localaws::LocalAws& server() { return *server_; }
  localaws::EcrState& ecr() { return server_->ecr(); }

  // The environment a Lambda function would see (credentials as given, endpoints on the emulator).
  std::map<std::string, std::string> lambda_env(const std::string& key_id = "test",
                                                const std::string& secret = "test") const {
    return {{"AWS_LAMBDA_RUNTIME_API", server_->runtime_api()},
            {"AWS_REGION", options_.region},
            {"AWS_ENDPOINT_URL", server_->endpoint()},
            {"AWS_ACCESS_KEY_ID", key_id},
            {"AWS_SECRET_ACCESS_KEY", secret},
            {"AWS_EC2_METADATA_DISABLED", "true"},
            {"AWS_CONFIG_FILE", "/nonexistent/ecrs-config"},
            {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ecrs-credentials"},
            {"AWS_LAMBDA_FUNCTION_NAME", options_.function_name},
            {"ECRS_LOG_LEVEL", "debug"}};
  }

  // Starts the loop on a thread (same function as the binary). `extra` overrides/adds variables.
  void start_loop(std::map<std::string, std::string> extra = {}, std::map<std::string, std::string> base = {}) {
    auto vars = base.empty() ? lambda_env() : base;
    for (auto& [k, v] : extra) vars[k] = v;
    env_ = std::make_unique<MapEnvironment>(vars);
    loop_ = std::thread([this] { loop_rc_ = run_lambda(*env_, sink_, &stop_); });
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    stop_ = true;
    // Let the loop post its last /response and park in /next first: the Runtime API's shutdown answers a
    // waiting poll, while a poll that arrives after the server stopped has nobody to answer it.
    if (loop_.joinable()) server_->runtime().wait_idle(kWait);
    server_->stop();  // answers the pending /next so the loop sees `stop`
    if (loop_.joinable()) loop_.join();
  }

  BuiltEvent make_event(const EventSpec& spec) {
    const std::string request_id = spec.request_id.empty() ? "req-" + std::to_string(++counter_) : spec.request_id;
    BuiltEvent b;
    // CloudFormation's keys: <StackId>|<LogicalId>|<RequestId>, with ':' and '|' percent-encoded.
    b.key = "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/sweeper-test/6f1c2a30%7C" +
            std::string(kLogicalId) + "%7C" + request_id;
    Json::Value e(Json::objectValue);
    const std::string token = "arn:aws:lambda:us-east-1:123456789012:function:" + options_.function_name;
    e["RequestType"] = spec.request_type;
    e["ServiceToken"] = token;
    e["ResponseURL"] = server_->s3().make_response_url(b.key);
    e["StackId"] = kStackId;
    e["RequestId"] = request_id;
    e["LogicalResourceId"] = kLogicalId;
    e["ResourceType"] = "Custom::EmptyEcrRepository";
    if (spec.physical_id) e["PhysicalResourceId"] = *spec.physical_id;
    Json::Value props(Json::objectValue);
    props["ServiceToken"] = token;
    if (spec.repository) props["RepositoryName"] = *spec.repository;
    if (spec.registry_id) props["RegistryId"] = *spec.registry_id;
    if (spec.dry_run) props["DryRun"] = *spec.dry_run;
    e["ResourceProperties"] = props;
    if (spec.old_properties) e["OldResourceProperties"] = *spec.old_properties;
    b.event = e;
    return b;
  }

  std::string invoke(const BuiltEvent& b, std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    return server_->runtime().invoke(to_compact_json(b.event), timeout);
  }

  // The response document CloudFormation received (first accepted PUT), parsed.
  Json::Value wait_response(const BuiltEvent& b, std::chrono::milliseconds timeout = kWait) {
    auto r = server_->s3().wait_accepted(b.key, timeout);
    if (!r) {
      ADD_FAILURE() << "no response PUT accepted for " << b.key;
      return Json::Value();
    }
    auto doc = parse_json(r->body);
    if (!doc) {
      ADD_FAILURE() << "response body is not JSON: " << r->body;
      return Json::Value();
    }
    return *doc;
  }

  std::optional<localaws::InvocationOutcome> wait_outcome(const std::string& id,
                                                          std::chrono::milliseconds timeout = kWait) {
    return server_->runtime().wait_outcome(id, timeout);
  }

  std::uint64_t op_metric(const std::string& op, const char* what) const {
    const Json::Value m = server_->metrics();
    const Json::Value& ops = m["operations"];
    if (!ops.isObject() || !ops.isMember(op)) return 0;
    return ops[op][what].asUInt64();
  }

  // BatchDeleteImage calls that were answered with success (throttles and 5xx are retries).
  std::uint64_t batch_delete_calls() const { return op_metric("BatchDeleteImage", "calls"); }
  std::uint64_t batch_delete_retries() const {
    return op_metric("BatchDeleteImage", "throttled") + op_metric("BatchDeleteImage", "errors");
  }

  std::vector<std::string> log_lines() const { return sink_.lines(); }
  // Waits (bounded) until a captured log line contains `text`: for work that outlives its answer.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      for (const auto& line : sink_.lines()) {
        if (line.find(text) != std::string::npos) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  int loop_rc() const { return loop_rc_; }
  const localaws::Options& options() const { return options_; }

 private:
  localaws::Options options_;
  std::unique_ptr<localaws::LocalAws> server_;
  std::unique_ptr<MapEnvironment> env_;
  CaptureSink sink_;
  std::atomic<bool> stop_{false};
  bool stopped_ = false;
  std::thread loop_;
  int loop_rc_ = -1;
  int counter_ = 0;
};

// Checks the fields every response must echo.
inline void expect_envelope(const Json::Value& resp, const BuiltEvent& b) {
  EXPECT_EQ(resp["StackId"].asString(), b.event["StackId"].asString());
  EXPECT_EQ(resp["RequestId"].asString(), b.event["RequestId"].asString());
  EXPECT_EQ(resp["LogicalResourceId"].asString(), b.event["LogicalResourceId"].asString());
  EXPECT_FALSE(resp["PhysicalResourceId"].asString().empty());
}

// Pushes `count` images: every third untagged, every third with one tag, every third with two tags.
inline std::vector<std::string> seed_mixed(localaws::EcrState& ecr, const std::string& repo, std::size_t count,
                                           const std::string& prefix = "v") {
  std::vector<std::string> digests;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string tag = (i % 3 == 0) ? "" : prefix + std::to_string(i);
    digests.push_back(ecr.put_image(repo, tag));
  }
  // One snapshot of the repository (a copy), then the second tags: pushing the same manifest again tags it.
  const auto snapshot = ecr.repository(repo);
  for (std::size_t i = 2; snapshot && i < count; i += 3) {
    const auto& img = snapshot->images.at(digests[i]);
    ecr.put_manifest(repo, img.manifest, img.manifest_media_type, prefix + std::to_string(i) + "-latest");
  }
  return digests;
}

}  // namespace ecrs::handler::testing
