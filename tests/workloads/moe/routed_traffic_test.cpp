#include "workloads/moe/routed_traffic.hpp"

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

// One token of GPU 0 (2 GPUs per node, 2 experts per GPU) to experts 2, 4, 6: GPUs 1, 2, 3.
TEST(RoutedTraffic, TrafficByHand) {
  RoutingBatch b;
  b.tokens = 1;
  b.k = 3;
  b.experts = {2, 4, 6};
  b.weights = {0.4f, 0.3f, 0.3f};
  EpTrafficCounter counter(4, 2, 128);
  counter.add(b, ExpertMap::contiguous(8, 4), 0);
  const double fp8 = 128 + 4, bf16 = 256;
  EXPECT_DOUBLE_EQ(counter.dispatch_bytes(0, 1), fp8);  // own node: NVLink from the sender
  EXPECT_DOUBLE_EQ(counter.dispatch_bytes(0, 2), fp8);  // IB to the same index of node 1
  EXPECT_DOUBLE_EQ(counter.dispatch_bytes(2, 3), fp8);  // forwarded over NVLink
  EXPECT_DOUBLE_EQ(counter.dispatch_bytes(0, 3), 0.0);
  EXPECT_DOUBLE_EQ(counter.combine_bytes(2, 0), bf16);  // reversed
  EXPECT_DOUBLE_EQ(counter.combine_bytes(3, 2), bf16);
  EXPECT_DOUBLE_EQ(counter.dispatch_ib_bytes(), fp8);
  EXPECT_DOUBLE_EQ(counter.dispatch_nvlink_bytes(), 2 * fp8);
  EXPECT_DOUBLE_EQ(counter.combine_ib_bytes(), bf16);
  EXPECT_DOUBLE_EQ(counter.combine_nvlink_bytes(), 2 * bf16);
  EXPECT_DOUBLE_EQ(counter.nodes_per_token(), 2.0);
  EXPECT_DOUBLE_EQ(counter.remote_nodes_per_token(), 1.0);
  EXPECT_DOUBLE_EQ(counter.gpus_per_token(), 3.0);
}

// Routes tokens_per_gpu tokens from each of V3's 64 EP GPUs and counts the traffic.
EpTrafficCounter v3_traffic(const RoutingModel& model, int k, int m, int tokens_per_gpu) {
  const RoutingShape s = v3_shape(k, m);
  Router router(s, 21);
  const ExpertMap map = ExpertMap::contiguous(256, 64);
  EpTrafficCounter counter(64, 8, 7168);
  RoutingBatch batch;
  for (int gpu = 0; gpu < 64; ++gpu) {
    router.route(model, 0, gpu, 0, tokens_per_gpu, batch);
    counter.add(batch, map, gpu);
  }
  return counter;
}

TEST(RoutedTraffic, IbBytesPerTokenFallAsMFalls) {
  const BalancedRouting balanced(256);
  const ZipfRouting zipf(256, 1.0, 6);
  for (const RoutingModel* model :
       {static_cast<const RoutingModel*>(&balanced), static_cast<const RoutingModel*>(&zipf)}) {
    double previous = 1e300;
    for (int m = 8; m >= 1; --m) {
      const auto t = v3_traffic(*model, 8, m, 100);
      EXPECT_LE(t.nodes_per_token(), m);
      EXPECT_LT(t.ib_dispatch_bytes_per_token(), previous) << m;
      previous = t.ib_dispatch_bytes_per_token();
      EXPECT_DOUBLE_EQ(t.ib_combine_bytes_per_token(),
                       t.ib_dispatch_bytes_per_token() * 14336 / 7392);
    }
  }
}

// DeepSeek-V3 sec 3.2.2: with each token sent to at most 4 nodes and IB at 1/3.2 of NVLink, a token
// could select 4 x 3.2 = 12.8, about 13, experts at the IB cost of 4 nodes.
TEST(RoutedTraffic, ThirteenExpertsCostNoMoreIbThanFourNodes) {
  EXPECT_NEAR(nodes_for_experts(13, 3.2), 4.0, 0.1);
  EXPECT_EQ(std::lround(4 * 3.2), 13);
  const BalancedRouting balanced(256);
  const auto k13 = v3_traffic(balanced, 13, 4, 100);
  const auto k8_unlimited = v3_traffic(balanced, 8, 8, 100);
  EXPECT_LE(k13.nodes_per_token(), 4.0);
  EXPECT_GT(k13.nodes_per_token(), 3.9);               // nearly always all 4 nodes
  EXPECT_NEAR(13 / k13.nodes_per_token(), 3.25, 0.1);  // ~3.2 experts per node reached
  EXPECT_NEAR(k13.remote_nodes_per_token(), 4.0 * 7 / 8, 0.05);
  // Thirteen experts within 4 nodes cost less IB than 8 experts with no node limit.
  EXPECT_LT(k13.ib_dispatch_bytes_per_token(), k8_unlimited.ib_dispatch_bytes_per_token());
  EXPECT_GT(k13.gpus_per_token(), 7.0);  // the extra experts ride NVLink
}
}  // namespace
}  // namespace codesim::workloads
