#include "workloads/moe/sampled_traffic.hpp"

#include <gtest/gtest.h>

#include <map>

#include "workloads/moe/expected_traffic.hpp"

namespace codesim::workloads {
namespace {

EpDispatchShape v3_group(int m, int tokens) {
  EpDispatchShape s;
  s.gpus = 64;
  s.ep = 64;
  s.max_nodes_per_token = m;
  s.tokens_per_gpu = tokens;
  s.seed = 11;
  return s;
}

double total(const std::vector<PairBytes>& pairs) {
  double sum = 0;
  for (const auto& p : pairs) sum += p.bytes;
  return sum;
}

TEST(EpTraffic, SampledCopiesMatchTheExpectedCounts) {
  // The sampled router and the closed form of expected_traffic agree on the mean copies per token.
  for (int m : {1, 2, 4, 8}) {
    const auto shape = v3_group(m, 2000);
    const auto traffic = sample_ep_dispatch(shape);
    const auto expected = expected_copies_per_token({256, 8, 64, 8, m});
    const double per_token = shape.bytes_per_copy * shape.tokens_per_gpu;
    EXPECT_NEAR(traffic.ib_bytes_per_gpu() / per_token, expected.remote_nodes,
                0.02 * expected.remote_nodes + 0.01)
        << m;
    EXPECT_NEAR(traffic.nvlink_bytes_per_gpu() / per_token, expected.nvlink_copies,
                0.02 * expected.nvlink_copies)
        << m;
    // DeepEP's logical counts: every node reached (own included), every GPU reached.
    EXPECT_NEAR(traffic.deepep_rdma_bytes_per_gpu() / per_token, expected.nodes,
                0.02 * expected.nodes)
        << m;
    EXPECT_NEAR(traffic.deepep_nvl_bytes_per_gpu() / per_token, expected.gpus, 0.02 * expected.gpus)
        << m;
  }
}

TEST(EpTraffic, IbGoesOnlyToTheSameIndexGpuOfRemoteNodes) {
  const auto traffic = sample_ep_dispatch(v3_group(4, 50));
  for (const auto& p : traffic.ib) {
    EXPECT_EQ(p.src % 8, p.dst % 8);
    EXPECT_NE(p.src / 8, p.dst / 8);
  }
  for (const auto& p : traffic.nvlink) {
    EXPECT_EQ(p.src / 8, p.dst / 8);
    EXPECT_NE(p.src, p.dst);
  }
}

// DeepEP's internode kernel writes a token bound for the sender's own node into the sender's own
// RDMA receive buffer (no IB) and forwards it from there like any other: its test counts it as
// RDMA bytes all the same. One node per group makes every token such a token.
TEST(EpTraffic, OwnNodeTokensAreForwardedByTheSenderAndCountAsDeepEpRdma) {
  EpDispatchShape s;
  s.gpus = 16;
  s.ep = 8;
  s.experts = 256;
  s.tokens_per_gpu = 300;
  const auto traffic = sample_ep_dispatch(s);
  EXPECT_TRUE(traffic.ib.empty());
  // Exactly one (token, node) copy per token.
  EXPECT_DOUBLE_EQ(traffic.deepep_rdma_bytes_per_gpu(), s.tokens_per_gpu * s.bytes_per_copy);
  // Every GPU forwards its own tokens to the other GPUs of its node.
  std::map<int, double> forwarded;
  for (const auto& p : traffic.nvlink) {
    EXPECT_EQ(p.src / 8, p.dst / 8);
    forwarded[p.src] += p.bytes;
  }
  EXPECT_EQ(forwarded.size(), 16u);
  // A token reaching g GPUs is g received copies, g - 1 of them over NVLink when the sender
  // hosts one of its experts, g otherwise: received - forwarded is at most one per token.
  const double kept = traffic.deepep_nvl_bytes - total(traffic.nvlink);
  EXPECT_GT(kept, 0);
  EXPECT_LE(kept, traffic.deepep_rdma_bytes);
}

TEST(EpTraffic, DeepEpRdmaBytesAreIbPlusOwnNodeCopies) {
  // Two nodes, M = 2: each token reaches its own node, the other, or both.
  EpDispatchShape s;
  s.gpus = 32;
  s.ep = 16;
  s.tokens_per_gpu = 2000;
  s.seed = 5;
  const auto traffic = sample_ep_dispatch(s);
  const auto expected = expected_copies_per_token({256, 8, 16, 8, 4});
  const double per_token = s.bytes_per_copy * s.tokens_per_gpu;
  const double own_node = traffic.deepep_rdma_bytes_per_gpu() - traffic.ib_bytes_per_gpu();
  EXPECT_NEAR(own_node / per_token, expected.nodes - expected.remote_nodes, 0.01);
  EXPECT_NEAR(traffic.deepep_rdma_bytes_per_gpu() / traffic.ib_bytes_per_gpu(), 2.0, 0.02);
}

TEST(EpTraffic, RemoteNodesAreReachedEvenly) {
  // Floyd's sampling picks sets uniformly: each sender's IB bytes spread evenly over the other
  // seven nodes of its group.
  const auto traffic = sample_ep_dispatch(v3_group(4, 4000));
  std::map<int, std::map<int, double>> by_node;  // sender -> destination node -> bytes
  for (const auto& p : traffic.ib) by_node[p.src][p.dst / 8] += p.bytes;
  ASSERT_EQ(by_node.size(), 64u);
  for (const auto& [src, nodes] : by_node) {
    ASSERT_EQ(nodes.size(), 7u);
    double sum = 0;
    for (const auto& [node, bytes] : nodes) sum += bytes;
    for (const auto& [node, bytes] : nodes) EXPECT_NEAR(bytes / sum, 1.0 / 7, 0.02) << src;
  }
}

TEST(EpTraffic, DeterministicAndSeeded) {
  auto shape = v3_group(4, 20);
  const auto a = sample_ep_dispatch(shape);
  const auto b = sample_ep_dispatch(shape);
  ASSERT_EQ(a.ib.size(), b.ib.size());
  for (size_t i = 0; i < a.ib.size(); ++i) EXPECT_EQ(a.ib[i].bytes, b.ib[i].bytes);
  EXPECT_EQ(a.deepep_rdma_bytes, b.deepep_rdma_bytes);
  shape.seed = 12;
  const auto c = sample_ep_dispatch(shape);
  bool differs = c.ib.size() != a.ib.size();
  for (size_t i = 0; !differs && i < a.ib.size(); ++i) differs = a.ib[i].bytes != c.ib[i].bytes;
  EXPECT_TRUE(differs);
}

TEST(EpTraffic, GroupsAreIndependent) {
  EpDispatchShape s = v3_group(4, 10);
  s.gpus = 128;  // two EP groups
  for (const auto& p : sample_ep_dispatch(s).ib) EXPECT_EQ(p.src / 64, p.dst / 64);
  s.ep = 12;
  EXPECT_THROW(sample_ep_dispatch(s), std::invalid_argument);
}

}  // namespace
}  // namespace codesim::workloads
