#include "ecrs/localaws/faults.hpp"

#include <algorithm>

namespace ecrs::localaws {

FaultInjector::FaultInjector(FaultOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock), engine_(options_.seed) {
  for (const auto& [op, rate] : options_.tps) buckets_[op].rate = rate;
}

std::optional<FaultDecision> FaultInjector::decide(const std::string& operation) {
  std::lock_guard lock(mu_);
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if (it->operation != operation && it->operation != "*") continue;
    FaultDecision d{it->http_status, it->error_code, it->message};
    if (--it->count <= 0) rules_.erase(it);
    return d;
  }
  auto b = buckets_.find(operation);
  if (b != buckets_.end() && b->second.rate > 0) {
    // By default a bucket of one second's worth of tokens: a client may burst N calls, then sustains N per
    // second. A set burst B caps the bucket at B tokens, so only the sustained rate gets through after it.
    Bucket& bucket = b->second;
    const double capacity = bucket.burst > 0 ? std::max(1.0, bucket.burst) : std::max(1.0, bucket.rate);
    const auto now = clock_.monotonic();
    if (!bucket.primed) {
      bucket.tokens = capacity;
      bucket.last = now;
      bucket.primed = true;
    }
    const double elapsed = std::chrono::duration<double>(now - bucket.last).count();
    bucket.tokens = std::min(capacity, bucket.tokens + elapsed * bucket.rate);
    bucket.last = now;
    if (bucket.tokens < 1.0) {
      ++rate_limited_[operation];
      return FaultDecision{400, "ThrottlingException", "Rate exceeded"};
    }
    bucket.tokens -= 1.0;
  }
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  if (options_.throttle_rate > 0 && uniform(engine_) < options_.throttle_rate) {
    return FaultDecision{400, "ThrottlingException", "Rate exceeded"};
  }
  if (options_.error_rate > 0 && uniform(engine_) < options_.error_rate) {
    // ECR's model names ServerException ("These errors are usually caused by a server-side issue"), HTTP 500.
    return FaultDecision{500, "ServerException", "An internal error occurred. Please try again later."};
  }
  return std::nullopt;
}

std::map<std::string, std::uint64_t> FaultInjector::rate_limited() const {
  std::lock_guard lock(mu_);
  return rate_limited_;
}

void FaultInjector::add_fault(FaultRule rule) {
  std::lock_guard lock(mu_);
  if (rule.count > 0) rules_.push_back(std::move(rule));
}

void FaultInjector::set_tps(const std::string& operation, double calls_per_second) {
  std::lock_guard lock(mu_);
  buckets_[operation] = Bucket{calls_per_second};
}

void FaultInjector::set_tps(const std::string& operation, double calls_per_second, double burst) {
  std::lock_guard lock(mu_);
  Bucket b;
  b.rate = calls_per_second;
  b.burst = burst;
  buckets_[operation] = b;
}

void FaultInjector::deny(std::string operation) {
  std::lock_guard lock(mu_);
  denied_.push_back(std::move(operation));
}

bool FaultInjector::denied(const std::string& operation) const {
  std::lock_guard lock(mu_);
  return std::any_of(denied_.begin(), denied_.end(),
                     [&](const std::string& d) { return d == operation || d == "*"; });
}

void FaultInjector::set_latency(std::string operation, std::chrono::milliseconds latency) {
  std::lock_guard lock(mu_);
  latency_[std::move(operation)] = latency;
}

std::chrono::milliseconds FaultInjector::latency(const std::string& operation) const {
  std::lock_guard lock(mu_);
  if (auto it = latency_.find(operation); it != latency_.end()) return it->second;
  if (auto it = latency_.find("*"); it != latency_.end()) return it->second;
  return std::chrono::milliseconds{0};
}

void FaultInjector::on_call(std::string operation, std::function<void(EcrState&)> hook) {
  on_call(std::move(operation), Hook([hook = std::move(hook)](const Json::Value&, EcrState& s) { hook(s); }));
}

void FaultInjector::on_call(std::string operation, Hook hook) {
  std::lock_guard lock(mu_);
  hooks_[std::move(operation)].push_back(std::move(hook));
}

std::vector<FaultInjector::Hook> FaultInjector::hooks(const std::string& operation) const {
  std::lock_guard lock(mu_);
  std::vector<Hook> out;
  for (const auto& key : {operation, std::string("*")}) {
    if (auto it = hooks_.find(key); it != hooks_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  }
  return out;
}

void Metrics::begin() {
  std::lock_guard lock(mu_);
  ++in_flight_;
  max_concurrency_ = std::max(max_concurrency_, in_flight_);
}

void Metrics::end(const std::string& operation, int http_status, const std::string& error_code) {
  std::lock_guard lock(mu_);
  --in_flight_;
  ++total_;
  Counts& c = ops_[operation.empty() ? std::string("<unknown>") : operation];
  ++c.calls;
  if (error_code == "ThrottlingException") {
    ++c.throttled;
  } else if (http_status < 200 || http_status >= 300) {
    ++c.errors;
  }
}

Json::Value Metrics::to_json() const {
  std::lock_guard lock(mu_);
  Json::Value out;
  out["operations"] = Json::Value(Json::objectValue);
  for (const auto& [op, c] : ops_) {
    Json::Value j;
    j["calls"] = static_cast<Json::UInt64>(c.calls);
    j["errors"] = static_cast<Json::UInt64>(c.errors);
    j["throttled"] = static_cast<Json::UInt64>(c.throttled);
    out["operations"][op] = j;
  }
  out["max_concurrency"] = static_cast<Json::Int64>(max_concurrency_);
  out["in_flight"] = static_cast<Json::Int64>(in_flight_);
  out["total_calls"] = static_cast<Json::UInt64>(total_);
  return out;
}

}  // namespace ecrs::localaws
