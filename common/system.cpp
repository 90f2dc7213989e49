#include "ecrs/common/system.hpp"

#include <cstdlib>
#include <thread>

namespace ecrs {

void RealSleeper::sleep_for(std::chrono::milliseconds d) {
  if (d.count() > 0) std::this_thread::sleep_for(d);
}

SystemRandom::SystemRandom() : engine_(std::random_device{}()) {}

double SystemRandom::uniform01() {
  std::lock_guard lock(mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
}

std::optional<std::string> ProcessEnvironment::get(const std::string& name) const {
  const char* v = std::getenv(name.c_str());  // the one getenv: the edge where the process environment enters
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace ecrs
