#pragma once
// Injected effects: time, sleeping, randomness and the process environment. Logic takes these by reference so
// tests run retries and deadlines with fakes and no wall time (as leveldb routes time through Env).
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>

namespace ecrs {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;       // wall time: signing, deadlines from Lambda
  virtual std::chrono::steady_clock::time_point monotonic() const = 0;  // durations, rate control
};

class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
};

class Random {
 public:
  virtual ~Random() = default;
  virtual double uniform01() = 0;  // [0, 1)
};

class Environment {
 public:
  virtual ~Environment() = default;
  virtual std::optional<std::string> get(const std::string& name) const = 0;
};

// Real implementations.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point monotonic() const override { return std::chrono::steady_clock::now(); }
};

class RealSleeper final : public Sleeper {
 public:
  void sleep_for(std::chrono::milliseconds d) override;
};

class SystemRandom final : public Random {
 public:
  SystemRandom();
  explicit SystemRandom(std::uint64_t seed) : engine_(seed) {}
  double uniform01() override;

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

class ProcessEnvironment final : public Environment {
 public:
  std::optional<std::string> get(const std::string& name) const override;
};

// Fakes for tests and for embedding (a fixed environment map is also how the CLI passes --region etc. down).
class MapEnvironment final : public Environment {
 public:
  MapEnvironment() = default;
  explicit MapEnvironment(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  std::optional<std::string> get(const std::string& name) const override {
    auto it = vars_.find(name);
    if (it == vars_.end()) return std::nullopt;
    return it->second;
  }
  void set(const std::string& k, const std::string& v) { vars_[k] = v; }

 private:
  std::map<std::string, std::string> vars_;
};

class FakeClock final : public Clock, public Sleeper {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start = std::chrono::system_clock::time_point{})
      : wall_(start) {}
  std::chrono::system_clock::time_point now() const override { std::lock_guard l(mu_); return wall_; }
  std::chrono::steady_clock::time_point monotonic() const override {
    std::lock_guard l(mu_);
    return std::chrono::steady_clock::time_point{} + (wall_ - std::chrono::system_clock::time_point{});
  }
  // Sleeping on a fake clock advances it: retries "wait" without wall time and tests can read total backoff.
  void sleep_for(std::chrono::milliseconds d) override { advance(d); }
  void advance(std::chrono::milliseconds d) { std::lock_guard l(mu_); wall_ += d; slept_ += d; }
  std::chrono::milliseconds total_slept() const { std::lock_guard l(mu_); return slept_; }

 private:
  mutable std::mutex mu_;
  std::chrono::system_clock::time_point wall_;
  std::chrono::milliseconds slept_{0};
};

class FixedRandom final : public Random {
 public:
  explicit FixedRandom(double v) : v_(v) {}
  double uniform01() override { return v_; }

 private:
  double v_;
};

}  // namespace ecrs
