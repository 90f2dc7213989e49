#include "ecrs/handler/progress_bar.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

namespace ecrs::handler {

namespace {
constexpr int kSecondsPerMinute = 60;
constexpr int kSecondsPerHour = 60 * kSecondsPerMinute;
constexpr int kPercent = 100;
// Below this a rate reads with one decimal (a few repositories per second), above it as a whole number.
constexpr double kWholeRateFrom = 10.0;
// Erase from the cursor to the end of the line (ECMA-48 EL).
constexpr const char* kEraseLine = "\x1b[K";
}  // namespace

std::optional<double> progress_rate(std::uint64_t done, std::chrono::duration<double> elapsed) {
  const double seconds = elapsed.count();
  if (done == 0 || seconds <= 0) return std::nullopt;
  return static_cast<double>(done) / seconds;
}

std::optional<double> progress_eta(std::uint64_t done, std::uint64_t total, std::chrono::duration<double> elapsed) {
  auto r = progress_rate(done, elapsed);
  if (!r || total == 0) return std::nullopt;
  return static_cast<double>(total - std::min(total, done)) / *r;
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

std::string render_progress(std::uint64_t done, std::uint64_t total, std::string_view unit,
                            std::chrono::duration<double> elapsed) {
  const double fraction = total == 0 ? 0.0 : std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  const int filled = static_cast<int>(fraction * kProgressBarCells);
  std::string line = "[";
  line.append(static_cast<std::size_t>(filled), '#');
  line.append(static_cast<std::size_t>(kProgressBarCells - filled), '.');
  line += "] ";
  char buf[128];
  if (total == 0) {
    std::snprintf(buf, sizeof buf, "  ?%%  %llu ", static_cast<unsigned long long>(done));
  } else {
    std::snprintf(buf, sizeof buf, "%3d%%  %llu/%llu ", static_cast<int>(fraction * kPercent),
                  static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
  }
  line += buf;
  line += unit;
  if (auto r = progress_rate(done, elapsed)) {
    std::snprintf(buf, sizeof buf, *r < kWholeRateFrom ? "  %.1f/s" : "  %.0f/s", *r);
    line += buf;
  }
  if (done < total) {
    if (auto eta = progress_eta(done, total, elapsed)) line += "  ETA " + format_duration(*eta);
  }
  return line;
}

ProgressLine::ProgressLine(std::ostream& err, const Clock& clock, std::string unit, std::chrono::milliseconds redraw)
    : err_(&err), clock_(&clock), unit_(std::move(unit)), redraw_(redraw), started_(clock.monotonic()) {}

bool ProgressLine::update(std::uint64_t done, std::uint64_t total) {
  std::lock_guard lock(mu_);
  // Workers report in any order: a count that arrives after a larger one does not move the line back.
  done = std::max(done, most_done_);
  most_done_ = done;
  const auto now = clock_->monotonic();
  if (!(total > 0 && done >= total) && last_ && now - *last_ < redraw_) return false;
  last_ = now;
  *err_ << '\r' << render_progress(done, total, unit_, now - started_) << kEraseLine << std::flush;
  on_screen_ = shown_ = true;
  return true;
}

void ProgressLine::finish() {
  std::lock_guard lock(mu_);
  if (!on_screen_) return;
  *err_ << '\r' << kEraseLine << std::flush;
  on_screen_ = false;
}

bool ProgressLine::shown() const {
  std::lock_guard lock(mu_);
  return shown_;
}

void ProgressTracker::update(const ecr::EmptyProgress& p, std::chrono::steady_clock::time_point now) {
  now_ = now;
  deleted_ = std::max(deleted_, p.deleted);
  // A drop in `listed` is a new listing pass: what it lists comes on top of what is already gone.
  if (p.listed < last_listed_) pass_base_ = deleted_;
  last_listed_ = p.listed;
  total_ = std::max({total_, pass_base_ + p.listed, deleted_});
}

}  // namespace ecrs::handler
