#include "workloads/moe/expected_traffic.hpp"

#include <gtest/gtest.h>

namespace codesim::workloads {
namespace {

TEST(MoeTraffic, HypergeometricByHand) {
  // Drawing 2 of 4 items, none from a subset of 2: C(2,2)/C(4,2) = 1/6.
  EXPECT_DOUBLE_EQ(probability_none_drawn(4, 2, 2), 1.0 / 6.0);
  EXPECT_DOUBLE_EQ(probability_none_drawn(10, 0, 3), 1.0);
  EXPECT_DOUBLE_EQ(probability_none_drawn(10, 8, 3), 0.0);
}

TEST(MoeTraffic, OneNodePerTokenSendsAtMostOneIbCopy) {
  const auto c = expected_copies_per_token({256, 8, 64, 8, 1});
  EXPECT_DOUBLE_EQ(c.nodes, 1.0);
  EXPECT_DOUBLE_EQ(c.remote_nodes, 7.0 / 8.0);
}

TEST(MoeTraffic, DeepSeekV3NodeLimitedRouting) {
  // EP64 over 8 nodes, 32 experts per node, M = 4: k = 8 experts drawn from 128.
  const auto c = expected_copies_per_token({256, 8, 64, 8, 4});
  const double node_empty = probability_none_drawn(128, 32, 8);
  EXPECT_NEAR(c.nodes, 4 * (1 - node_empty), 1e-12);
  EXPECT_NEAR(c.remote_nodes, c.nodes * 7 / 8, 1e-12);
  EXPECT_GT(c.nodes, 3.5);
  EXPECT_LT(c.nodes, 4.0);
  // IB copies fall as M falls.
  double previous = 1e9;
  for (int m = 8; m >= 1; --m) {
    const double copies = expected_copies_per_token({256, 8, 64, 8, m}).remote_nodes;
    EXPECT_LT(copies, previous) << m;
    previous = copies;
  }
}

TEST(MoeTraffic, SingleNodeGroupUsesOnlyNvlink) {
  const auto c = expected_copies_per_token({64, 8, 8, 8, 0});
  EXPECT_DOUBLE_EQ(c.remote_nodes, 0.0);
  EXPECT_GT(c.nvlink_copies, 0.0);
}

TEST(MoeTraffic, CopyBytes) {
  EXPECT_DOUBLE_EQ(dispatch_bytes_per_copy_fp8(7168), 7168 + 56 * 4);
  EXPECT_DOUBLE_EQ(combine_bytes_per_copy_bf16(7168), 14336);
}

}  // namespace
}  // namespace codesim::workloads
