#include "workloads/moe/node_limited_selector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <stdexcept>
#include <vector>

#include "models/llm.hpp"
#include "v3_shape.hpp"
#include "../../presets.hpp"

namespace codesim::workloads {
namespace {

using testing::v3_shape;

TEST(NodeLimitedSelector, ShapeFromTheModel) {
  const RoutingShape s = routing_shape(codesim::testing::model_preset("deepseek-v3"));
  EXPECT_EQ(s.experts, 256);
  EXPECT_EQ(s.experts_per_token, 8);
  EXPECT_EQ(s.groups, 8);
  EXPECT_EQ(s.max_groups_per_token, 4);
  EXPECT_EQ(s.group_size(), 32);
  EXPECT_THROW(routing_shape(codesim::testing::model_preset("llama-3.1-405b")), std::invalid_argument);
  RoutingShape bad = v3_shape(200, 4);  // 200 experts do not fit in 4 groups of 32
  EXPECT_THROW(bad.validate(), std::invalid_argument);
}

// 8 experts in 4 groups of 2, keep M = 2 groups, top-3.
TEST(NodeLimitedSelector, SelectorByHand) {
  RoutingShape s;
  s.experts = 8;
  s.experts_per_token = 3;
  s.groups = 4;
  s.max_groups_per_token = 2;
  NodeLimitedSelector selector(s);
  const std::vector<float> affinity = {0.75f, 0.25f, 0.5f, 0.5f, 0.625f, 0.5625f, 0.875f, 0.0f};
  std::vector<std::int32_t> experts(3);
  std::vector<float> weights(3);
  // Group scores (top-2 sums): 1, 1, 1.1875, 0.875. Group 3 holds the best expert (0.875) yet
  // loses; groups 0 and 1 tie and the lower wins. Kept: 2 and 0.
  selector.select(affinity, {}, experts, weights);
  EXPECT_EQ(experts, (std::vector<std::int32_t>{0, 4, 5}));
  EXPECT_FLOAT_EQ(weights[0], 0.75f / 1.9375f);
  EXPECT_FLOAT_EQ(weights[1], 0.625f / 1.9375f);
  EXPECT_FLOAT_EQ(weights[2], 0.5625f / 1.9375f);
  // Biases move selection, not gating: scores become 0.25 0.25 0.5 0.5 0.625 0.5625 0.875 0.5,
  // group scores 0.5, 1, 1.1875, 1.375: kept 3 and 2, top-3 6, 4, 5.
  const std::vector<float> bias = {-0.5f, 0, 0, 0, 0, 0, 0, 0.5f};
  selector.select(affinity, bias, experts, weights);
  EXPECT_EQ(experts, (std::vector<std::int32_t>{6, 4, 5}));
  EXPECT_FLOAT_EQ(weights[0], 0.875f / 2.0625f);
  EXPECT_FLOAT_EQ(weights[2], 0.5625f / 2.0625f);
}
}  // namespace
}  // namespace codesim::workloads
