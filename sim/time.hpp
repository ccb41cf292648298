// Simulated time: a strong type over a signed 64-bit count of picoseconds.
//
// All simulated time is integer picoseconds, so event ordering is exact and reproducible: no
// floating-point rounding ever decides which of two events comes first. Time can be negative (the
// difference of two instants), but the simulator only schedules at non-negative instants.
// Arithmetic is checked: a result outside the int64 range throws std::overflow_error instead of
// wrapping silently (int64 picoseconds span about 106 days).
//
// There is exactly one way to turn a floating-point quantity into a Time: from_picoseconds_ceil()
// and the two spellings over it, from_seconds_ceil() and scaled_ceil().
#pragma once

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace codesim::sim {

inline constexpr std::int64_t kPicosecondsPerSecond = 1'000'000'000'000;

class Time;
constexpr Time picoseconds(std::int64_t ps) noexcept;

class Time {
 public:
  constexpr Time() noexcept = default;

  static constexpr Time zero() noexcept { return Time(); }
  static constexpr Time max() noexcept { return from_ps(std::numeric_limits<std::int64_t>::max()); }

  // The raw count of picoseconds.
  constexpr std::int64_t ps() const noexcept { return ps_; }
  // Seconds as a double: for output and reporting only, never to feed time back into the model.
  constexpr double seconds() const noexcept {
    return static_cast<double>(ps_) / static_cast<double>(kPicosecondsPerSecond);
  }

  friend constexpr Time operator+(Time a, Time b) {
    std::int64_t r = 0;
    if (__builtin_add_overflow(a.ps_, b.ps_, &r)) overflow("Time + Time");
    return from_ps(r);
  }
  friend constexpr Time operator-(Time a, Time b) {
    std::int64_t r = 0;
    if (__builtin_sub_overflow(a.ps_, b.ps_, &r)) overflow("Time - Time");
    return from_ps(r);
  }
  friend constexpr Time operator-(Time a) { return Time() - a; }
  friend constexpr Time operator*(Time a, std::int64_t k) {
    std::int64_t r = 0;
    if (__builtin_mul_overflow(a.ps_, k, &r)) overflow("Time * integer");
    return from_ps(r);
  }
  friend constexpr Time operator*(std::int64_t k, Time a) { return a * k; }
  // Integer division truncates toward zero, like int64_t.
  friend constexpr Time operator/(Time a, std::int64_t k) {
    if (k == 0) throw std::domain_error("codesim::sim::Time: division by zero");
    if (k == -1) return -a;
    return from_ps(a.ps_ / k);
  }
  // How many whole b fit in a (truncating).
  friend constexpr std::int64_t operator/(Time a, Time b) {
    if (b.ps_ == 0) throw std::domain_error("codesim::sim::Time: division by zero time");
    if (b.ps_ == -1) return (-a).ps_;
    return a.ps_ / b.ps_;
  }
  constexpr Time& operator+=(Time b) { return *this = *this + b; }
  constexpr Time& operator-=(Time b) { return *this = *this - b; }
  constexpr Time& operator*=(std::int64_t k) { return *this = *this * k; }
  constexpr Time& operator/=(std::int64_t k) { return *this = *this / k; }

  friend constexpr auto operator<=>(Time, Time) noexcept = default;
  friend constexpr bool operator==(Time, Time) noexcept = default;

 private:
  friend constexpr Time picoseconds(std::int64_t ps) noexcept;

  static constexpr Time from_ps(std::int64_t ps) noexcept {
    Time t;
    t.ps_ = ps;
    return t;
  }
  [[noreturn]] static void overflow(const char* what) {
    throw std::overflow_error(std::string("codesim::sim::Time overflow in ") + what);
  }

  std::int64_t ps_ = 0;
};

// Unit constructors. Each is exact; the larger units throw std::overflow_error when the count of
// picoseconds does not fit in int64.
constexpr Time picoseconds(std::int64_t ps) noexcept {
  return Time::from_ps(ps);
}
constexpr Time nanoseconds(std::int64_t ns) {
  return picoseconds(1'000) * ns;
}
constexpr Time microseconds(std::int64_t us) {
  return picoseconds(1'000'000) * us;
}
constexpr Time milliseconds(std::int64_t ms) {
  return picoseconds(1'000'000'000) * ms;
}
constexpr Time seconds(std::int64_t s) {
  return picoseconds(kPicosecondsPerSecond) * s;
}

// The one conversion from floating point: `p` picoseconds (or `s` seconds, below), rounded UP to
// the next whole picosecond.
//
// Why up: model costs (transfer times, kernel times, latencies) are computed in floating point and
// then become event delays. Rounding up guarantees that a positive cost never turns into a
// zero-length (or shorter) delay, so an operation can never complete "for free" or before it
// could physically have completed, and no event can be scheduled at the same instant as its cause
// through rounding alone.
//
// A product such as s * 1e12 carries a relative error of about one double ulp, so a value that
// should be an exact number of picoseconds can land a hair above it (1e-9 * 1e12 ==
// 1000.0000000000001). A value within 4 ulp (relative) of a whole number is therefore taken to be
// that number; every other value is rounded up. Zero maps to zero; any positive input maps to at
// least 1 ps.
//
// In integer operations that the compiler inlines (the flow network calls this once per flow
// projection): with p = i + f (i whole, 0 <= f < 1; f is exact: p itself when i = 0, else p and i
// are within a factor of two of each other), round(p) is i + (f >= 0.5) and ceil(p) is
// i + (f > 0), and |p - round(p)| is the lesser of f and 1 - f.
//
// Throws std::domain_error for NaN, negative values, infinity and values whose picosecond count
// does not fit in int64 (-0.0 is zero, not negative).
inline Time from_picoseconds_ceil(double p) {
  constexpr double kLimit = 9223372036854775808.0;  // 2^63, exactly representable
  if (!(p >= 0.0 && p < kLimit)) [[unlikely]] {
    if (std::isnan(p)) throw std::domain_error("codesim::sim::Time from floating point: NaN");
    if (p < 0.0) throw std::domain_error("codesim::sim::Time from floating point: negative");
    throw std::domain_error("codesim::sim::Time from floating point: overflow");
  }
  const auto whole = static_cast<std::int64_t>(p);  // truncates: floor for p >= 0
  const double fraction = p - static_cast<double>(whole);
  constexpr double kTolerance = 4.0 * std::numeric_limits<double>::epsilon();
  // Without branches (which way a projection rounds is anyone's guess).
  const std::int64_t nearest = whole + std::int64_t{fraction >= 0.5};
  const std::int64_t ceiling = whole + std::int64_t{fraction > 0.0};
  const bool snap = (nearest != 0) & (std::min(fraction, 1.0 - fraction) <= kTolerance * p);
  return picoseconds(snap ? nearest : ceiling);
}

inline Time from_seconds_ceil(double s) {
  return from_picoseconds_ceil(s * static_cast<double>(kPicosecondsPerSecond));
}

// `t` times a floating-point factor (a slowdown, a load factor), rounded up as above.
inline Time scaled_ceil(Time t, double factor) {
  return from_picoseconds_ceil(static_cast<double>(t.ps()) * factor);
}

}  // namespace codesim::sim
