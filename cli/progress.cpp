#include "cli/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace codesim::cli {

bool stderr_is_terminal() {
  return isatty(STDERR_FILENO) != 0;
}

ProgressLine::ProgressLine(bool enabled) : enabled_(enabled) {}

void ProgressLine::show(const std::string& text, bool force) {
  if (!enabled_) return;
  const auto now = Clock::now();
  if (!force && shown_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  shown_ = true;
  // Carriage return, the text, then erase to the end of the line (ANSI EL).
  std::fprintf(stderr, "\r%s\x1b[K", text.c_str());
  std::fflush(stderr);
}

void ProgressLine::clear() {
  if (!enabled_ || !shown_) return;
  std::fprintf(stderr, "\r\x1b[K");
  std::fflush(stderr);
  shown_ = false;
}

double ProgressLine::elapsed_s() const {
  return std::chrono::duration<double>(Clock::now() - started_).count();
}

std::string ProgressLine::eta(double fraction) const {
  const double elapsed = elapsed_s();
  if (!(fraction > 0.01) || elapsed < 0.5) return "";
  const double left = std::max(0.0, elapsed * (1 - std::min(fraction, 1.0)) / fraction);
  return left < 60 ? fmt::format("ETA {:.0f} s", std::ceil(left))
                   : fmt::format("ETA {:.0f} min {:02.0f} s", std::floor(left / 60),
                                 std::fmod(std::ceil(left), 60.0));
}

std::function<void(double, std::uint64_t)> step_watcher(ProgressLine& line, std::string what,
                                                        double expected_s) {
  return [&line, what = std::move(what), expected_s](double simulated_s, std::uint64_t events) {
    if (!line.enabled()) return;
    std::string text = fmt::format("{}: simulated {:.2f}", what, simulated_s);
    if (expected_s > 0) {
      // Past the estimate, the run is near its end but how near is not known.
      const double fraction = std::min(simulated_s / expected_s, 0.99);
      text += fmt::format(" of ~{:.3g} s of the step, {:.1f}M events, {}", expected_s,
                          double(events) / 1e6, line.eta(fraction));
    } else {
      text += fmt::format(" s of the step, {:.1f}M events", double(events) / 1e6);
    }
    line.show(text);
  };
}

}  // namespace codesim::cli
