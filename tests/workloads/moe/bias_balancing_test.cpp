#include "workloads/moe/bias_balancing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <stdexcept>
#include <vector>

#include "v3_shape.hpp"
#include "workloads/moe/routing_models.hpp"

namespace codesim::workloads {
namespace {

using testing::v3_shape;

// Auxiliary-loss-free balancing on a Zipf 1.0 router, EP64, 512 tokens a step: without updates
// the imbalance stays; with them it falls to the sampling-noise floor, the faster the larger
// gamma, until gamma is so large that the biases overshoot and the load swings around.
TEST(BiasBalancing, BiasUpdatesBalanceTheLoad) {
  const ZipfRouting zipf(256, 1.0, 2);
  BiasBalancingConfig c;
  c.shape = v3_shape();
  c.gpus = 64;
  c.steps = 120;
  c.tokens_per_step = 512;
  auto tail_mean = [](const std::vector<double>& v) {
    return std::accumulate(v.end() - 20, v.end(), 0.0) / 20;
  };
  auto steps_below = [](const std::vector<double>& v, double level) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] < level) return int(i);
    }
    return int(v.size());
  };
  std::vector<BiasBalancingTrace> runs;
  for (double gamma : {0.0, 0.001, 0.01, 0.1}) {
    c.gamma = gamma;
    runs.push_back(simulate_bias_balancing(zipf, c));
  }
  const auto& none = runs[0].gpu_max_over_mean;
  const auto& slow = runs[1].gpu_max_over_mean;
  const auto& fast = runs[2].gpu_max_over_mean;
  const auto& swinging = runs[3].gpu_max_over_mean;
  ASSERT_EQ(none.size(), 120u);
  EXPECT_GT(none.front(), 4.0);
  EXPECT_GT(tail_mean(none), 4.0);
  EXPECT_EQ(none.front(), fast.front());  // the first step has zero biases
  EXPECT_LT(tail_mean(slow), 1.6);
  EXPECT_LT(tail_mean(fast), 1.6);
  EXPECT_GT(steps_below(slow, 2.0), 30);
  EXPECT_LT(steps_below(fast, 2.0), 10);
  EXPECT_GT(tail_mean(swinging), tail_mean(fast) + 0.5);
  // The hottest expert's bias ends below the others', the coldest's above.
  int hottest = 0, coldest = 0;
  for (int e = 0; e < 256; ++e) {
    if (zipf.rank(0, e) == 0) hottest = e;
    if (zipf.rank(0, e) == 255) coldest = e;
  }
  std::vector<float> bias = runs[1].bias;
  const float hot = bias[hottest], cold = bias[coldest];
  std::nth_element(bias.begin(), bias.begin() + 128, bias.end());
  EXPECT_LT(hot, bias[128]);
  EXPECT_GT(cold, bias[128]);
  EXPECT_GT(cold, 0.05f);  // raised most steps: underloaded until its bias lifts it
  for (float b : runs[0].bias) EXPECT_EQ(b, 0.0f);
}
}  // namespace
}  // namespace codesim::workloads
