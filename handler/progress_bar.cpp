#include "ecrs/handler/progress_bar.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ecrs::handler {

namespace {
constexpr int kSecondsPerMinute = 60;
constexpr int kSecondsPerHour = 60 * kSecondsPerMinute;
constexpr int kPercent = 100;
}  // namespace

void ProgressTracker::update(const ecr::EmptyProgress& p, std::chrono::steady_clock::time_point now) {
  now_ = now;
  deleted_ = std::max(deleted_, p.deleted);
  // A drop in `listed` is a new listing pass: what it lists comes on top of what is already gone.
  if (p.listed < last_listed_) pass_base_ = deleted_;
  last_listed_ = p.listed;
  total_ = std::max({total_, pass_base_ + p.listed, deleted_});
}

std::optional<double> ProgressTracker::rate() const {
  const double seconds = std::chrono::duration<double>(now_ - start_).count();
  if (deleted_ == 0 || seconds <= 0) return std::nullopt;
  return static_cast<double>(deleted_) / seconds;
}

std::optional<double> ProgressTracker::eta_seconds() const {
  auto r = rate();
  if (!r || total_ == 0) return std::nullopt;
  return static_cast<double>(total_ - std::min(total_, deleted_)) / *r;
}

std::string format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s < kSecondsPerMinute) {
    std::snprintf(buf, sizeof buf, "%lds", s);
  } else if (s < kSecondsPerHour) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / kSecondsPerMinute, s % kSecondsPerMinute);
  } else {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / kSecondsPerHour, (s % kSecondsPerHour) / kSecondsPerMinute);
  }
  return buf;
}

std::string ProgressTracker::render() const {
  const double fraction =
      total_ == 0 ? 0.0 : std::min(1.0, static_cast<double>(deleted_) / static_cast<double>(total_));
  const int filled = static_cast<int>(fraction * kProgressBarCells);
  std::string line = "[";
  line.append(static_cast<std::size_t>(filled), '#');
  line.append(static_cast<std::size_t>(kProgressBarCells - filled), '.');
  line += "] ";
  char buf[128];
  if (total_ == 0) {
    std::snprintf(buf, sizeof buf, "  ?%%  %llu images (listing)", static_cast<unsigned long long>(deleted_));
  } else {
    std::snprintf(buf, sizeof buf, "%3d%%  %llu/%llu images", static_cast<int>(fraction * kPercent),
                  static_cast<unsigned long long>(deleted_), static_cast<unsigned long long>(total_));
  }
  line += buf;
  if (auto r = rate()) {
    std::snprintf(buf, sizeof buf, "  %.0f/s", *r);
    line += buf;
  }
  if (auto eta = eta_seconds()) line += "  ETA " + format_duration(*eta);
  return line;
}

}  // namespace ecrs::handler
