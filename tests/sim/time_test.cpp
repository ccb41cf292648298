#include "sim/time.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace codesim::sim {
namespace {

TEST(TimeTest, UnitConstructorsAreExact) {
  EXPECT_EQ(picoseconds(7).ps(), 7);
  EXPECT_EQ(nanoseconds(3).ps(), 3'000);
  EXPECT_EQ(microseconds(2).ps(), 2'000'000);
  EXPECT_EQ(milliseconds(5).ps(), 5'000'000'000);
  EXPECT_EQ(seconds(4).ps(), 4 * kPicosecondsPerSecond);
  EXPECT_EQ(kPicosecondsPerSecond, 1'000'000'000'000);
  EXPECT_EQ(seconds(1), milliseconds(1000));
  EXPECT_EQ(milliseconds(1), microseconds(1000));
  EXPECT_EQ(microseconds(1), nanoseconds(1000));
  EXPECT_EQ(nanoseconds(1), picoseconds(1000));
  EXPECT_EQ(nanoseconds(-2).ps(), -2'000);
}

TEST(TimeTest, ConstexprUsable) {
  constexpr Time t = microseconds(3) + nanoseconds(4) * 2 - picoseconds(8) / 4;
  static_assert(t.ps() == 3'000'000 + 8'000 - 2);
  static_assert(Time::zero().ps() == 0);
  static_assert(Time().ps() == 0);
  static_assert(Time::max().ps() == std::numeric_limits<std::int64_t>::max());
  static_assert(nanoseconds(1) < nanoseconds(2));
  EXPECT_EQ(t.ps(), 3'007'998);
}

TEST(TimeTest, Arithmetic) {
  Time t = nanoseconds(10);
  EXPECT_EQ((t + picoseconds(5)).ps(), 10'005);
  EXPECT_EQ((t - nanoseconds(15)).ps(), -5'000);
  EXPECT_EQ((t * 3).ps(), 30'000);
  EXPECT_EQ((3 * t).ps(), 30'000);
  EXPECT_EQ((t / 4).ps(), 2'500);
  EXPECT_EQ(picoseconds(7) / 2, picoseconds(3));  // truncates
  EXPECT_EQ(microseconds(1) / nanoseconds(3), 333);
  EXPECT_EQ((-t).ps(), -10'000);
  t += nanoseconds(1);
  EXPECT_EQ(t, nanoseconds(11));
  t -= picoseconds(1'000);
  EXPECT_EQ(t, nanoseconds(10));
  t *= 2;
  EXPECT_EQ(t, nanoseconds(20));
  t /= 4;
  EXPECT_EQ(t, nanoseconds(5));
}

TEST(TimeTest, Comparison) {
  EXPECT_LT(picoseconds(1), picoseconds(2));
  EXPECT_GT(seconds(1), milliseconds(999));
  EXPECT_LE(nanoseconds(1), picoseconds(1000));
  EXPECT_GE(nanoseconds(1), picoseconds(1000));
  EXPECT_NE(nanoseconds(1), picoseconds(1001));
  EXPECT_TRUE((nanoseconds(1) <=> picoseconds(999)) > 0);
  EXPECT_LT(Time::zero(), Time::max());
  EXPECT_LT(nanoseconds(-1), Time::zero());
}

TEST(TimeTest, SecondsIsForOutput) {
  EXPECT_DOUBLE_EQ(milliseconds(1500).seconds(), 1.5);
  EXPECT_DOUBLE_EQ(picoseconds(1).seconds(), 1e-12);
  EXPECT_DOUBLE_EQ(Time::zero().seconds(), 0.0);
}

TEST(TimeTest, OverflowThrows) {
  EXPECT_THROW(Time::max() + picoseconds(1), std::overflow_error);
  EXPECT_THROW(picoseconds(std::numeric_limits<std::int64_t>::min()) - picoseconds(1),
               std::overflow_error);
  EXPECT_THROW(Time::max() * 2, std::overflow_error);
  EXPECT_THROW(seconds(10'000'000), std::overflow_error);  // 1e19 ps > int64 max
  EXPECT_NO_THROW(seconds(9'000'000));
  EXPECT_THROW(nanoseconds(1) / 0, std::domain_error);
  EXPECT_THROW(nanoseconds(1) / Time::zero(), std::domain_error);
  EXPECT_THROW(picoseconds(std::numeric_limits<std::int64_t>::min()) / -1, std::overflow_error);
}

TEST(TimeTest, FromSecondsCeilRoundsUp) {
  EXPECT_EQ(from_seconds_ceil(0.0), Time::zero());
  EXPECT_EQ(from_seconds_ceil(-0.0), Time::zero());
  EXPECT_EQ(from_seconds_ceil(1e-12), picoseconds(1));
  EXPECT_EQ(from_seconds_ceil(1.0000000000001e-12), picoseconds(2));
  EXPECT_EQ(from_seconds_ceil(1.5e-12), picoseconds(2));
  // Any positive duration is at least one picosecond: a cost never becomes zero.
  EXPECT_EQ(from_seconds_ceil(1e-30), picoseconds(1));
  EXPECT_EQ(from_seconds_ceil(std::numeric_limits<double>::denorm_min()), picoseconds(1));
  EXPECT_EQ(from_seconds_ceil(0.4e-12), picoseconds(1));
  EXPECT_EQ(from_seconds_ceil(2.5e-9), picoseconds(2'500));
  EXPECT_EQ(from_seconds_ceil(2.5000001e-9), picoseconds(2'501));
  EXPECT_EQ(from_seconds_ceil(1.0), seconds(1));
  EXPECT_EQ(from_seconds_ceil(3600.0), seconds(3600));
}

TEST(TimeTest, FromSecondsCeilExactDecimalValuesAreNotBumped) {
  // 1e-9 * 1e12 evaluates to 1000.0000000000001 in double; that is representation error, not a
  // fraction of a picosecond, so it must stay 1 ns.
  ASSERT_GT(1e-9 * 1e12, 1000.0);
  EXPECT_EQ(from_seconds_ceil(1e-9), nanoseconds(1));
  EXPECT_EQ(from_seconds_ceil(1.23456e-7), picoseconds(123'456));
  for (int i = 1; i <= 10'000; ++i) {
    EXPECT_EQ(from_seconds_ceil(i * 1e-9), nanoseconds(i)) << i;
    EXPECT_EQ(from_seconds_ceil(i * 1e-12), picoseconds(i)) << i;
  }
}

TEST(TimeTest, FromSecondsCeilNeverShortensACost) {
  // For durations well above the picosecond, the result is never below the exact value.
  for (double s : {3.3e-9, 1.0 / 3.0 * 1e-6, 0.1, 7.77e-5, 12.345678901}) {
    const Time t = from_seconds_ceil(s);
    EXPECT_GE(static_cast<double>(t.ps()), s * 1e12 * (1 - 1e-15)) << s;
    EXPECT_LE(static_cast<double>(t.ps()), s * 1e12 + 1.0) << s;
  }
}

TEST(TimeTest, FromSecondsCeilRejectsBadInput) {
  EXPECT_THROW(from_seconds_ceil(std::nan("")), std::domain_error);
  EXPECT_THROW(from_seconds_ceil(-1e-12), std::domain_error);
  EXPECT_THROW(from_seconds_ceil(-1.0), std::domain_error);
  EXPECT_THROW(from_seconds_ceil(std::numeric_limits<double>::infinity()), std::domain_error);
  EXPECT_THROW(from_seconds_ceil(1e7), std::domain_error);  // 1e19 ps > int64 max
  EXPECT_NO_THROW(from_seconds_ceil(9e6));
}

// The rounding rule written the plain way, with libm's round and ceil: what from_picoseconds_ceil
// computes in integer operations.
Time reference_ceil(double s) {
  const double p = s * 1e12;
  if (std::isnan(p) || p < 0.0 || !(p < 9223372036854775808.0)) throw std::domain_error("bad");
  const double nearest = std::round(p);
  double whole = std::ceil(p);
  if (nearest != 0.0 && std::fabs(p - nearest) <= 4.0 * std::numeric_limits<double>::epsilon() * p)
    whole = nearest;
  return picoseconds(static_cast<std::int64_t>(whole));
}

TEST(TimeTest, TheIntegerRoundingIsThePlainOne) {
  std::vector<double> values = {0.0,
                                -0.0,
                                1e-13,
                                0.4e-12,
                                0.5e-12,
                                1e-12,
                                1.5e-12,
                                2.5e-12,
                                1e-9,
                                3e-9,
                                1e-6,
                                0.1,
                                0.3,
                                1.0,
                                1.0 / 3,
                                2e-6,
                                4503.599627370496,
                                4503.5996273704955,
                                9007.199254740992,
                                9007.199254740991,
                                9.2e6};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-13, 6.9);
  for (int i = 0; i < 200000; ++i) {
    const double s = std::pow(10.0, exponent(rng));
    values.push_back(s);
    values.push_back(std::nextafter(s, 0.0));
    values.push_back(std::round(s * 1e12) / 1e12);          // near whole picoseconds
    values.push_back((std::floor(s * 1e12) + 0.5) / 1e12);  // near half picoseconds
  }
  for (double s : values) {
    ASSERT_EQ(from_seconds_ceil(s), reference_ceil(s)) << s;
    ASSERT_EQ(from_picoseconds_ceil(s * 1e12), reference_ceil(s)) << s;
  }
}

TEST(TimeTest, ScaledCeilRoundsUpAndKeepsWholeProducts) {
  EXPECT_EQ(scaled_ceil(picoseconds(1000), 1.0), picoseconds(1000));
  EXPECT_EQ(scaled_ceil(picoseconds(1000), 1.5), picoseconds(1500));
  EXPECT_EQ(scaled_ceil(picoseconds(3), 1.0 / 3), picoseconds(1));
  EXPECT_EQ(scaled_ceil(picoseconds(10), 1.01), picoseconds(11));  // 10.1 goes up, not to 10
  EXPECT_EQ(scaled_ceil(picoseconds(7), 0.0), Time::zero());
  EXPECT_THROW(scaled_ceil(picoseconds(7), -1.0), std::domain_error);
}

}  // namespace
}  // namespace codesim::sim
