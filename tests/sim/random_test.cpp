#include "sim/random.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace codesim::sim {
namespace {

TEST(Random, SplitMix64IsTheReferenceFunction) {
  EXPECT_EQ(splitmix64(0), 0xe220a8397b1dcdafULL);  // SplittableRandom's first output from seed 0
  EXPECT_EQ(stream_seed(7, 1, 2, 3), splitmix64(splitmix64(splitmix64(splitmix64(7) ^ 1) ^ 2) ^ 3));
  static_assert(splitmix64(0) == 0xe220a8397b1dcdafULL);  // usable in constant expressions
}

// The reference xoshiro256** (Blackman and Vigna's xoshiro256starstar.c) from state {1, 2, 3, 4}.
TEST(Random, XoshiroMatchesTheReferenceImplementation) {
  Xoshiro256 g = Xoshiro256::from_state(1, 2, 3, 4);
  EXPECT_EQ(g(), 11520u);
  EXPECT_EQ(g(), 0u);
  EXPECT_EQ(g(), 1509978240u);
  EXPECT_EQ(g(), 1215971899390074240u);
}

TEST(Random, SameSeedSameStreamOtherSeedOtherStream) {
  Xoshiro256 a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const auto x = a();
    EXPECT_EQ(x, b());
    EXPECT_NE(x, c());
  }
}

TEST(Random, UniformBelowIsInRangeAndEven) {
  Xoshiro256 g(1);
  const std::uint32_t n = 7;
  std::vector<int> counts(n, 0);
  const int draws = 70000;
  for (int i = 0; i < draws; ++i) {
    const std::uint32_t x = uniform_below(g, n);
    ASSERT_LT(x, n);
    ++counts[x];
  }
  for (int c : counts) EXPECT_NEAR(c, draws / double(n), 5 * std::sqrt(draws / double(n)));
  EXPECT_EQ(uniform_below(g, 1), 0u);
}

// Lemire's rejection: a word whose low product falls below 2^32 mod n is redrawn. With n = 3,
// 2^32 mod 3 = 1, so the word 0 (low product 0) is rejected and the next word decides.
TEST(Random, UniformBelowRejectsTheBiasedWords) {
  std::vector<std::uint32_t> words = {0u, 0xffffffffu};
  std::size_t next = 0;
  EXPECT_EQ(uniform_below(3, [&] { return words[next++]; }), 2u);
  EXPECT_EQ(next, 2u);
}

TEST(Random, WordStreamUsesBothHalvesOfEachDraw) {
  WordStream words(5);
  Xoshiro256 g(5);
  const std::uint64_t draw = g();
  EXPECT_EQ(words(), std::uint32_t(draw));
  EXPECT_EQ(words(), std::uint32_t(draw >> 32));
  EXPECT_EQ(words(), std::uint32_t(g()));
}

TEST(Random, ExponentialHasUnitMeanAndVariance) {
  Xoshiro256 g(3);
  const int n = 200000;
  double sum = 0, sum2 = 0, tail = 0;
  for (int i = 0; i < n; ++i) {
    const double x = exponential(g);
    ASSERT_GE(x, 0);
    sum += x;
    sum2 += x * x;
    tail += x > 8.0;  // beyond the ziggurat's base strip edge (7.697)
  }
  const double mean = sum / n;
  EXPECT_NEAR(mean, 1.0, 0.01);
  EXPECT_NEAR(sum2 / n - mean * mean, 1.0, 0.03);
  EXPECT_NEAR(tail / n, std::exp(-8.0), 2e-4);  // the tail is drawn too
}

TEST(Random, Uniform01IsInTheUnitInterval) {
  Xoshiro256 g(9);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = uniform01(g);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.005);
}

TEST(Random, PickDistinctGivesDistinctValuesEvenly) {
  WordStream words(11);
  std::vector<int> out;
  std::vector<int> hits(10, 0);
  for (int trial = 0; trial < 20000; ++trial) {
    pick_distinct(10, 4, words, out);
    ASSERT_EQ(out.size(), 4u);
    const std::set<int> unique(out.begin(), out.end());
    ASSERT_EQ(unique.size(), 4u);
    for (int x : out) {
      ASSERT_GE(x, 0);
      ASSERT_LT(x, 10);
      ++hits[x];
    }
  }
  for (int h : hits) EXPECT_NEAR(h, 20000 * 4 / 10.0, 300);
  pick_distinct(5, 5, words, out);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace codesim::sim
