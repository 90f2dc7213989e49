#pragma once
// The progress bar `empty` draws on a terminal's stderr from the executor's on_progress snapshots. Pure: the
// caller passes the time, so tests replay a run without waiting.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "ecrs/ecr/executor.hpp"

namespace ecrs::handler {

// Cells of the bar itself; with the counters the line stays under 80 columns.
inline constexpr int kProgressBarCells = 24;

class ProgressTracker {
 public:
  explicit ProgressTracker(std::chrono::steady_clock::time_point start) : start_(start) {}

  // One snapshot. The executor reports `listed` per listing pass (a re-listing pass starts again from what is
  // left), so the total is what was deleted before the current pass plus what this pass listed.
  void update(const ecr::EmptyProgress& p, std::chrono::steady_clock::time_point now);

  std::uint64_t deleted() const { return deleted_; }
  std::uint64_t total() const { return total_; }
  // Images per second since the start; nullopt before anything was deleted.
  std::optional<double> rate() const;
  // Seconds left at the current rate; nullopt while the rate or the total is unknown.
  std::optional<double> eta_seconds() const;

  // "[#########...........]  37%  370/1000 images  52/s  ETA 12s" (no escape sequences).
  std::string render() const;

 private:
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point now_{};
  std::uint64_t deleted_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t last_listed_ = 0;
  std::uint64_t pass_base_ = 0;  // deleted when the current listing pass began
};

// "12s", "3m05s", "1h02m".
std::string format_duration(double seconds);

}  // namespace ecrs::handler
