#include "workloads/ep_traffic.hpp"

#include <gtest/gtest.h>

#include "workloads/moe_traffic.hpp"

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

TEST(EpTraffic, SampledCopiesMatchTheExpectedCounts) {
  // The sampled router and the closed form of moe_traffic agree on the mean copies per token.
  for (int m : {1, 2, 4, 8}) {
    const auto shape = v3_group(m, 2000);
    const auto traffic = sample_ep_dispatch(shape);
    const auto expected = expected_copies_per_token({256, 8, 64, 8, m});
    const double ib_copies =
        traffic.ib_bytes_per_gpu() / shape.bytes_per_copy / shape.tokens_per_gpu;
    const double nv_copies =
        traffic.nvlink_bytes_per_gpu() / shape.bytes_per_copy / shape.tokens_per_gpu;
    EXPECT_NEAR(ib_copies, expected.remote_nodes, 0.02 * expected.remote_nodes + 0.01) << m;
    EXPECT_NEAR(nv_copies, expected.nvlink_copies, 0.02 * expected.nvlink_copies) << m;
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

TEST(EpTraffic, DeterministicAndSeeded) {
  auto shape = v3_group(4, 20);
  const auto a = sample_ep_dispatch(shape);
  const auto b = sample_ep_dispatch(shape);
  ASSERT_EQ(a.ib.size(), b.ib.size());
  for (size_t i = 0; i < a.ib.size(); ++i) EXPECT_EQ(a.ib[i].bytes, b.ib[i].bytes);
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
