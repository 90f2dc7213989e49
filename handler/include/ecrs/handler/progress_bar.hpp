#pragma once
// The one progress line of every long verb (`empty`, `clean --apply`, `lifecycle apply`) on a terminal's stderr:
// "[######..................]  25%  250/1000 images  50/s  ETA 15s". render_progress is pure (the caller passes
// the elapsed time) so tests replay a run without waiting; ProgressLine draws it, redrawn at most every
// kProgressRedraw so a fast run does not spend its time on the terminal, and erases it at the end.
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ecrs/common/system.hpp"
#include "ecrs/ecr/executor.hpp"

namespace ecrs::handler {

// Cells of the bar itself; with the counters the line stays under 80 columns.
inline constexpr int kProgressBarCells = 24;
inline constexpr std::chrono::milliseconds kProgressRedraw{200};

// Units done per second since the start; nullopt before the first one or before any time passed.
std::optional<double> progress_rate(std::uint64_t done, std::chrono::duration<double> elapsed);
// Seconds left at that rate; nullopt while the rate or the total (0) is unknown.
std::optional<double> progress_eta(std::uint64_t done, std::uint64_t total, std::chrono::duration<double> elapsed);

// The line, without escape sequences. `total` 0 is not known yet: "[....]    ?%  250 images". `unit` names what
// is counted ("images", "repositories applied").
std::string render_progress(std::uint64_t done, std::uint64_t total, std::string_view unit,
                            std::chrono::duration<double> elapsed);

// "12s", "3m05s", "1h02m".
std::string format_duration(double seconds);

// Draws render_progress on `err` (a terminal): "\r", the line, erase to the end of the line. Thread-safe: the
// engines report from their workers.
class ProgressLine {
 public:
  ProgressLine(std::ostream& err, const Clock& clock, std::string unit,
               std::chrono::milliseconds redraw = kProgressRedraw);
  ~ProgressLine() { finish(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Draws when due: the first update, one kProgressRedraw after the last drawing, and done == total always.
  // Returns whether it drew.
  bool update(std::uint64_t done, std::uint64_t total);
  // Erases the line if one was drawn (before anything else is printed); update draws again afterwards.
  void finish();
  bool shown() const;

 private:
  std::ostream* err_;
  const Clock* clock_;
  std::string unit_;
  std::chrono::milliseconds redraw_;
  std::chrono::steady_clock::time_point started_;
  mutable std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  std::uint64_t most_done_ = 0;
  bool on_screen_ = false;
  bool shown_ = false;
};

// `empty`'s counts from the executor's on_progress snapshots. The executor reports `listed` per listing pass (a
// re-listing pass starts again from what is left), so the total is what was deleted before the current pass
// plus what this pass listed.
class ProgressTracker {
 public:
  explicit ProgressTracker(std::chrono::steady_clock::time_point start) : start_(start) {}

  void update(const ecr::EmptyProgress& p, std::chrono::steady_clock::time_point now);

  std::uint64_t deleted() const { return deleted_; }
  std::uint64_t total() const { return total_; }
  std::optional<double> rate() const { return progress_rate(deleted_, now_ - start_); }
  std::optional<double> eta_seconds() const { return progress_eta(deleted_, total_, now_ - start_); }
  std::string render() const { return render_progress(deleted_, total_, "images", now_ - start_); }

 private:
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point now_{};
  std::uint64_t deleted_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t last_listed_ = 0;
  std::uint64_t pass_base_ = 0;  // deleted when the current listing pass began
};

}  // namespace ecrs::handler
