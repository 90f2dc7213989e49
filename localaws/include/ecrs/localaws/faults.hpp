#pragma once
// Fault and latency injection and call metrics for the emulated ECR. Faults come in four kinds, checked in this
// order for each call: denied operations (--deny OP: AccessDeniedException, as IAM answers a role without the
// action), scripted rules ("the next 2 BatchDeleteImage calls fail"), a token bucket per operation (--tps OP=N[:B]:
// above N calls/s with a burst of B the call is answered ThrottlingException, as a real per-API quota does), a
// random throttle rate and a random 5xx rate. The random draws come from one engine seeded by --seed, so a run is
// reproducible for a given call order.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <json/value.h>

#include "ecrs/common/system.hpp"

namespace ecrs::localaws {

class EcrState;

// A scripted fault: the next `count` calls of `operation` fail this way (then normal service resumes).
struct FaultRule {
  std::string operation;             // "BatchDeleteImage", "ListImages", ... or "*" for any ECR call
  int count = 1;
  int http_status = 400;
  std::string error_code = "ThrottlingException";
  std::string message = "Rate exceeded";
};

struct FaultDecision {
  int http_status = 400;
  std::string error_code;
  std::string message;
};

struct FaultOptions {
  double throttle_rate = 0.0;
  double error_rate = 0.0;
  std::map<std::string, double> tps;  // operation -> calls per second
  std::uint64_t seed = 1;
};

class FaultInjector {
 public:
  FaultInjector(FaultOptions options, const Clock& clock);

  // Whether this call of `operation` fails, and how. Consumes a scripted rule or a token when it applies.
  std::optional<FaultDecision> decide(const std::string& operation);

  void add_fault(FaultRule rule);
  void set_tps(const std::string& operation, double calls_per_second);
  // A bucket that holds at most `burst` tokens (>= 1); set_tps alone holds one second's worth.
  void set_tps(const std::string& operation, double calls_per_second, double burst);
  // Every later call of `operation` ("*" = every ECR call) is refused as IAM refuses an action the role lacks.
  void deny(std::string operation);
  bool denied(const std::string& operation) const;
  void set_latency(std::string operation, std::chrono::milliseconds latency);  // "*" = every ECR call
  std::chrono::milliseconds latency(const std::string& operation) const;
  // A hook sees the call's input: a test can tell apart calls of one operation (a listing's filter, say).
  using Hook = std::function<void(const Json::Value& input, EcrState&)>;
  void on_call(std::string operation, std::function<void(EcrState&)> hook);
  void on_call(std::string operation, Hook hook);
  std::vector<Hook> hooks(const std::string& operation) const;
  // Per operation, the calls its token bucket refused: the cap's throttles, apart from the random ones. A call the
  // bucket admitted took a token whether or not a random fault then failed it, so admitted calls per second over
  // the cap is how much of the cap a client used (bench/: a cap "held"), whatever the random draws were.
  std::map<std::string, std::uint64_t> rate_limited() const;

 private:
  struct Bucket {
    double rate = 0;
    double burst = 0;  // 0: one second's worth (max(1, rate))
    double tokens = 0;
    std::chrono::steady_clock::time_point last{};
    bool primed = false;
  };
  FaultOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::mt19937_64 engine_;
  std::vector<FaultRule> rules_;
  std::vector<std::string> denied_;
  std::map<std::string, Bucket> buckets_;
  std::map<std::string, std::uint64_t> rate_limited_;
  std::map<std::string, std::chrono::milliseconds> latency_;
  std::map<std::string, std::vector<Hook>> hooks_;
};

// Per-operation counts and concurrency. `calls` counts every call; `throttled` the ThrottlingException replies;
// `errors` every other non-2xx reply; so calls = ok + throttled + errors.
class Metrics {
 public:
  void begin();
  void end(const std::string& operation, int http_status, const std::string& error_code);
  // {"operations": {"ListImages": {"calls": N, "errors": N, "throttled": N}, ...}, "max_concurrency": N,
  //  "in_flight": N, "total_calls": N}; LocalAws::metrics() adds "rate_limited" (FaultInjector::rate_limited) to
  //  each operation.
  Json::Value to_json() const;

 private:
  struct Counts {
    std::uint64_t calls = 0;
    std::uint64_t errors = 0;
    std::uint64_t throttled = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Counts> ops_;
  std::int64_t in_flight_ = 0;
  std::int64_t max_concurrency_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace ecrs::localaws
