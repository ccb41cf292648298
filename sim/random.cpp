#include "sim/random.hpp"

#include <algorithm>
#include <cmath>

namespace codesim::sim {
namespace {

// Exp(1) by the ziggurat method (Marsaglia and Tsang, "The ziggurat method for generating random
// variables", JSS 2000): 256 strips of equal area v under e^-x, strip i spanning [0, x[i]] below
// e^-x[i+1]; strip 0 is the base, its width v / e^-r covering the tail beyond r. A draw picks a
// strip (low 8 bits) and a point u * x[i] (high 53 bits); inside x[i + 1] it is accepted at once
// (about 98.9% of draws), else it is tested against the curve, or, in the base strip, replaced by
// r + Exp(1) (the tail is memoryless). Exact; std::exp and std::log only on the rare paths.
class ExpZiggurat {
 public:
  ExpZiggurat() {
    constexpr double r = 7.69711747013104972;   // the 256-strip edge for e^-x
    const double v = (r + 1.0) * std::exp(-r);  // strip area: r e^-r plus the tail e^-r
    x_[0] = v / std::exp(-r);
    x_[1] = r;
    for (int i = 1; i < 255; ++i) x_[i + 1] = -std::log(std::exp(-x_[i]) + v / x_[i]);
    x_[256] = 0.0;
    for (int i = 0; i <= 256; ++i) f_[i] = std::exp(-x_[i]);
  }
  double operator()(Xoshiro256& engine) const {
    for (;;) {
      const std::uint64_t bits = engine();
      const int i = int(bits & 0xff);
      const double x = double(bits >> 11) * 0x1.0p-53 * x_[i];
      if (x < x_[i + 1]) return x;
      if (i == 0) return x_[1] - std::log1p(-uniform01(engine));
      if (f_[i] + (f_[i + 1] - f_[i]) * uniform01(engine) < std::exp(-x)) return x;
    }
  }

 private:
  double x_[257];
  double f_[257];
};

}  // namespace

double exponential(Xoshiro256& engine) {
  static const ExpZiggurat ziggurat;
  return ziggurat(engine);
}

void pick_distinct(int n, int count, WordStream& words, std::vector<int>& out) {
  out.clear();
  for (int j = n - count; j < n; ++j) {
    const int t = int(words.below(std::uint32_t(j) + 1));
    out.push_back(std::find(out.begin(), out.end(), t) == out.end() ? t : j);
  }
}

}  // namespace codesim::sim
