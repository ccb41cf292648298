#pragma once
// A progress line on stderr for runs longer than about a second: redrawn in place (at most ten
// times a second) while the run goes on, cleared when it ends. Only when stderr is a terminal;
// into a pipe or a file (a sweep's points, CI logs) it writes nothing.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace codesim::cli {

bool stderr_is_terminal();

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled = stderr_is_terminal());
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() { clear(); }

  bool enabled() const { return enabled_; }
  // Redraws the line as `text`; skipped when the last redraw is under 100 ms old, unless `force`.
  void show(const std::string& text, bool force = false);
  // Removes the line (the next output starts at the left margin).
  void clear();
  double elapsed_s() const;
  // "ETA 12 s" for a run `fraction` (0..1) done, from the time since construction; "" before
  // there is anything to go on.
  std::string eta(double fraction) const;

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  bool shown_ = false;
  Clock::time_point started_ = Clock::now();
  Clock::time_point last_{};
};

// A watcher for the event engine's step (EventStepModel::set_progress) that shows "<what>:
// simulated 8.20 of ~16.1 s, 3.1M events, ETA 14 s" on `line`; `expected_s` (the analytic
// engine's step time; 0 when unknown) gives the fraction done.
std::function<void(double, std::uint64_t)> step_watcher(ProgressLine& line, std::string what,
                                                        double expected_s);

}  // namespace codesim::cli
