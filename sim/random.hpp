#pragma once
// Seeded randomness, in one place: one generator family (xoshiro256**), one seed mixer
// (SplitMix64), and our own transforms to uniform, bounded and exponential draws. No std::
// distributions: their output differs between standard libraries, and a scenario must give the
// same bytes on every machine. Nothing here reads a clock.

#include <bit>
#include <cstdint>
#include <vector>

namespace codesim::sim {

// SplitMix64's output function (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", OOPSLA 2014; Java's SplittableRandom): a fixed bijection of 64-bit words, used to
// hash keys (ECMP) and to derive stream seeds.
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A stream seed from a base seed and up to three indices (layer, micro-batch, step, ...).
constexpr std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0,
                                    std::uint64_t c = 0) {
  return splitmix64(splitmix64(splitmix64(splitmix64(seed) ^ a) ^ b) ^ c);
}

// xoshiro256** (Blackman and Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS
// 2021), its state filled from a seed by SplitMix64: fixed-bit output on every platform, and
// about five times faster than std::mt19937_64.
class Xoshiro256 {
 public:
  using result_type = std::uint64_t;
  explicit Xoshiro256(std::uint64_t seed = 1) { this->seed(seed); }
  // A generator in the given state (not all zero), for checking against the reference code.
  static Xoshiro256 from_state(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d) {
    Xoshiro256 g;
    g.s_[0] = a, g.s_[1] = b, g.s_[2] = c, g.s_[3] = d;
    return g;
  }
  void seed(std::uint64_t seed) {
    // SplitMix64's outputs of distinct inputs are distinct, so at most one word is zero.
    for (int i = 0; i < 4; ++i) s_[i] = splitmix64(seed + std::uint64_t(i) * 0x9e3779b97f4a7c15ULL);
  }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type(0); }
  result_type operator()() {
    const std::uint64_t out = std::rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t shifted = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= shifted;
    s_[3] = std::rotl(s_[3], 45);
    return out;
  }

 private:
  std::uint64_t s_[4];
};

// Uniform on [0, 1) from the top 53 bits of a draw.
inline double uniform01(Xoshiro256& engine) {
  return double(engine() >> 11) * 0x1.0p-53;
}

// Uniform on [0, n), n >= 1, from 32-bit words that `next_word()` returns: Lemire's
// multiply-and-reject ("Fast random integer generation in an interval", ACM TOMACS 2019), exact
// and portable. Callers choose where the words come from (the high half of a draw, both halves,
// or the low half with the high half kept for something else).
template <class NextWord>
std::uint32_t uniform_below(std::uint32_t n, NextWord&& next_word) {
  std::uint64_t m = std::uint64_t(std::uint32_t(next_word())) * n;
  if (std::uint32_t(m) < n) {
    const std::uint32_t threshold = std::uint32_t(-n) % n;  // 2^32 mod n
    while (std::uint32_t(m) < threshold) m = std::uint64_t(std::uint32_t(next_word())) * n;
  }
  return std::uint32_t(m >> 32);
}

// Uniform on [0, n) from the high half of each draw.
inline std::uint32_t uniform_below(Xoshiro256& engine, std::uint32_t n) {
  return uniform_below(n, [&engine] { return std::uint32_t(engine() >> 32); });
}

// 32-bit words from a 64-bit generator, both halves of each draw (low half first).
class WordStream {
 public:
  explicit WordStream(std::uint64_t seed) : engine_(seed) {}
  std::uint32_t operator()() {
    if (spare_) {
      spare_ = false;
      return std::uint32_t(buffer_ >> 32);
    }
    buffer_ = engine_();
    spare_ = true;
    return std::uint32_t(buffer_);
  }
  // Uniform on [0, n).
  std::uint32_t below(std::uint32_t n) { return uniform_below(n, *this); }

 private:
  Xoshiro256 engine_;
  std::uint64_t buffer_ = 0;
  bool spare_ = false;
};

// Exp(1), exact, by the ziggurat method (Marsaglia and Tsang, JSS 2000); see random.cpp.
double exponential(Xoshiro256& engine);

// `count` distinct values of [0, n), uniform as a set (Floyd's algorithm: for j from n - count
// to n - 1, draw t in [0, j] and take t, or j when t is already taken). Only the set is uniform,
// not the order. O(count^2), independent of n. Replaces `out`'s contents.
void pick_distinct(int n, int count, WordStream& words, std::vector<int>& out);

}  // namespace codesim::sim
