#pragma once
// localaws: one process that behaves like AWS where our program can tell — ECR (awsJson1.1, SigV4-verified),
// a CloudFormation-style S3 presigned response receiver, CloudFormation's DescribeStackResource, the Lambda
// Runtime API and Lambda Invoke. Tests and the demo embed it through this facade; the `localaws` executable
// wraps the same class.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <json/value.h>

#include "ecrs/common/secret.hpp"
#include "ecrs/localaws/cloudformation_stacks.hpp"
#include "ecrs/localaws/ecr_service.hpp"
#include "ecrs/localaws/ecr_state.hpp"
#include "ecrs/localaws/faults.hpp"
#include "ecrs/localaws/runtime_api.hpp"
#include "ecrs/localaws/s3_receiver.hpp"
#include "ecrs/localaws/world.hpp"

namespace ecrs::localaws {

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = ephemeral
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  std::string access_key_id = "test";
  Secret secret_access_key{"test"};
  Secret session_token;  // when set, requests must carry it as X-Amz-Security-Token
  int latency_ms = 0;
  double throttle_rate = 0.0;            // fraction of ECR calls answered ThrottlingException
  double error_rate = 0.0;               // fraction answered 500 InternalServerError/ServerException
  std::map<std::string, double> tps;     // operation -> token bucket rate (calls/s) answering ThrottlingException
  std::map<std::string, double> tps_burst;  // operation -> bucket capacity (tokens); absent = one second's worth
  std::vector<std::string> deny;         // operations answered AccessDeniedException ("*" = every ECR call)
  std::uint64_t seed = 1;                // faults are deterministic for a seed
  std::string state_file;                // load at start, save at stop (repositories and images as JSON)
  bool metrics = false;                  // print metrics JSON on exit (the executable)
  std::chrono::milliseconds function_timeout{std::chrono::minutes(15)};  // Lambda-Runtime-Deadline-Ms = now + this
  std::string function_name = "ecr-sweeper";
  int threads = 4;                       // io_context threads
};

class LocalAws {
 public:
  explicit LocalAws(Options options = {});
  ~LocalAws();  // stops if running
  LocalAws(const LocalAws&) = delete;
  LocalAws& operator=(const LocalAws&) = delete;

  void start();  // binds host:port, then serves on background threads; throws std::runtime_error on bind failure
  void stop();   // answers pending long polls, joins threads; saves state_file if set
  std::uint16_t port() const;
  std::string endpoint() const;     // "http://127.0.0.1:PORT" — AWS_ENDPOINT_URL for every service
  std::string runtime_api() const;  // "127.0.0.1:PORT" — AWS_LAMBDA_RUNTIME_API

  const Options& options() const;

  // Direct access to the emulated state (no HTTP): seeding and asserting in tests and the demo.
  EcrState& ecr();
  EcrService& ecr_service();  // the operations without HTTP: EcrService::call
  RuntimeApi& runtime();
  S3Receiver& s3();
  // ECS clusters, Lambda functions and App Runner services per account (lock worlds().mutex() while serving),
  // and the regions EC2 DescribeRegions reports.
  Worlds& worlds();
  // CloudFormation stacks DescribeStackResource answers from (main account only).
  CloudFormationStacks& cloudformation();

  // Faults and latency, changeable while serving.
  void add_fault(FaultRule rule);
  void set_latency(std::string operation, std::chrono::milliseconds latency);  // "*" = every ECR call
  void set_tps(const std::string& operation, double calls_per_second);         // as --tps OP=N
  void set_tps(const std::string& operation, double calls_per_second, double burst);  // as --tps OP=N:B
  void deny(std::string operation);                                            // as --deny OP
  // Called (on the serving thread, before the reply) after each successful call of `operation`: a test pushes
  // new images here to race a deletion, as a CI job would.
  void on_call(std::string operation, std::function<void(EcrState&)> hook);
  void on_call(std::string operation, std::function<void(const Json::Value& input, EcrState&)> hook);

  // {"operations": {"ListImages": {"calls": N, "errors": N, "throttled": N}, ...},
  //  "max_concurrency": N, "in_flight": N}
  Json::Value metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecrs::localaws
