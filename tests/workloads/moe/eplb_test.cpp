#include "workloads/moe/eplb.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace codesim::workloads {
namespace {

TEST(Eplb, BalancedPackingByHand) {
  // Items by weight: 3 (8), 0 (7), 2 (5), 1 (1). Two packs of two: 3 -> pack 0 (8); 0 -> pack 1
  // (7); 2 -> pack 1, the lighter (12); 1 -> pack 0, the only one with room (9).
  const std::vector<double> w = {7, 1, 5, 8};
  const Packing p = balanced_packing(w, 2);
  EXPECT_EQ(p.pack, (std::vector<int>{1, 0, 1, 0}));
  EXPECT_EQ(p.rank, (std::vector<int>{0, 1, 1, 0}));
  // One item per pack: item i in pack i, whatever the weights.
  const Packing q = balanced_packing(w, 4);
  EXPECT_EQ(q.pack, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_THROW(balanced_packing(w, 3), std::invalid_argument);
}

TEST(Eplb, ReplicationGoesToTheLargestLoadPerReplica) {
  // EPLB README's first layer, 12 experts into 16 slots: 183 (expert 10) -> 91.5; then 165 (5)
  // -> 82.5; then 132 (1) -> 66; then 104 (4), now the largest, -> 52.
  const std::vector<double> w = {90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86};
  const Replication r = replicate_experts(w, 16);
  EXPECT_EQ(std::vector<int>(r.physical_to_logical.begin() + 12, r.physical_to_logical.end()),
            (std::vector<int>{10, 5, 1, 4}));
  EXPECT_EQ(std::vector<int>(r.rank.begin() + 12, r.rank.end()), (std::vector<int>{1, 1, 1, 1}));
  EXPECT_EQ(r.count, (std::vector<int>{1, 2, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1}));
}

// 2 nodes x 2 GPUs, 8 experts in 4 groups of 2, 12 slots (3 per GPU). Loads 8 1 6 5 2 2 9 3.
// 1. Group loads 9, 11, 4, 12 -> nodes: group 3 to node 0, group 1 to node 1, group 0 to node 1
//    (11 < 12), group 2 to node 0. Node 0 holds experts 6 7 4 5 (loads 9 3 2 2), node 1 holds
//    2 3 0 1 (loads 6 5 8 1).
// 2. Six slots per node. Node 0: expert 6 takes both extra slots (9 -> 4.5 -> 3). Node 1:
//    expert 0 (8 -> 4), then expert 2 (6 -> 3).
// 3. Node 0's replica loads 3 3 2 2 | 3 3 (experts 6 7 4 5 | 6 6) alternate over its 2 GPUs:
//    GPU 0 gets 6 6 4 (load 8), GPU 1 gets 7 6 5 (8). Node 1's 3 5 4 1 | 4 3 (experts 2 3 0 1 |
//    0 2): 5 (3) -> GPU 2, 4 (0) -> GPU 3, 4 (0) -> GPU 3, 3 (2) -> GPU 2, 3 (2) -> GPU 2 (tie:
//    the first), 1 (1) -> GPU 3: GPU 2 gets 3 2 2 (11), GPU 3 gets 0 0 1 (9).
TEST(Eplb, HierarchicalByHand) {
  const std::vector<double> load = {8, 1, 6, 5, 2, 2, 9, 3};
  const EplbPlacement p = eplb_rebalance(load, 12, 4, 2, 4);
  EXPECT_TRUE(p.hierarchical);
  EXPECT_EQ(p.slots_per_gpu(), 3);
  EXPECT_EQ(p.physical_to_logical, (std::vector<int>{6, 6, 4, 7, 6, 5, 3, 2, 2, 0, 0, 1}));
  EXPECT_EQ(p.logical_count, (std::vector<int>{2, 1, 2, 1, 1, 1, 3, 1}));
  EXPECT_EQ(p.replica_rank, (std::vector<int>{0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0}));
  const auto after = placement_gpu_loads(p, load);
  EXPECT_EQ(after, (std::vector<double>{8, 8, 11, 9}));
  // Before: two experts per GPU in order, 9 11 4 12.
  const auto before = placement_gpu_loads(contiguous_placement(8, 4), load);
  EXPECT_EQ(before, (std::vector<double>{9, 11, 4, 12}));
  EXPECT_DOUBLE_EQ(max_over_mean(before), 12.0 / 9.0);
  EXPECT_DOUBLE_EQ(max_over_mean(after), 11.0 / 9.0);
  // Each node keeps its own groups: no expert of node 0 has a replica on node 1.
  for (int s = 0; s < 6; ++s) EXPECT_GE(p.physical_to_logical[s], 4);
  for (int s = 6; s < 12; ++s) EXPECT_LT(p.physical_to_logical[s], 4);
}

// 3 groups cannot be split over 2 nodes: global policy. 6 experts, loads 10 1 1 1 1 1, 8 slots
// on 2 GPUs. Expert 0 takes both extra slots (10 -> 5 -> 3.33). Replica loads 3.33 1 1 1 1 1 3.33
// 3.33 packed 4 per GPU: 3.33 -> GPU 0, 3.33 -> GPU 1, 3.33 -> GPU 0, then the ones: GPU 1 until
// full (6.33), the last two to GPU 0 (8.67).
TEST(Eplb, GlobalWhenTheNodesDoNotDivideTheGroups) {
  const std::vector<double> load = {10, 1, 1, 1, 1, 1};
  const EplbPlacement p = eplb_rebalance(load, 8, 3, 2, 2);
  EXPECT_FALSE(p.hierarchical);
  EXPECT_EQ(p.physical_to_logical, (std::vector<int>{0, 0, 4, 5, 0, 1, 2, 3}));
  const auto after = placement_gpu_loads(p, load);
  EXPECT_NEAR(after[0], 20.0 / 3 + 2, 1e-12);
  EXPECT_NEAR(after[1], 10.0 / 3 + 3, 1e-12);
  EXPECT_DOUBLE_EQ(max_over_mean(placement_gpu_loads(contiguous_placement(6, 2), load)), 1.6);
}

// The example of deepseek-ai/EPLB's README: 2 layers of 12 experts, 16 slots, 4 groups, 2 nodes,
// 8 GPUs; its printed physical-to-logical maps.
TEST(Eplb, ReadmeExample) {
  const std::vector<std::vector<double>> layers = {
      {90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86},
      {20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27}};
  const std::vector<std::vector<int>> expected = {
      {5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1},
      {7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1}};
  for (int l = 0; l < 2; ++l) {
    const EplbPlacement p = eplb_rebalance(layers[l], 16, 4, 2, 8);
    EXPECT_EQ(p.physical_to_logical, expected[l]) << l;
    EXPECT_EQ(std::accumulate(p.logical_count.begin(), p.logical_count.end(), 0), 16);
  }
  // Layer 0 by hand from the map: experts 1, 4, 5 and 10 have two replicas, each at half load;
  // two slots per GPU: 5+6, 5+7, 8+4, 3+4, 10+9, 10+2, 0+1, 11+1.
  const auto loads = placement_gpu_loads(eplb_rebalance(layers[0], 16, 4, 2, 8), layers[0]);
  EXPECT_EQ(loads, (std::vector<double>{121.5, 86.5, 125, 113, 147.5, 131.5, 156, 152}));
  EXPECT_DOUBLE_EQ(max_over_mean(loads), 156 / (1033.0 / 8));
}

TEST(Eplb, RejectsShapesItCannotPlace) {
  const std::vector<double> load(256, 1.0);
  EXPECT_THROW(eplb_rebalance(load, 288, 8, 8, 64), std::invalid_argument);  // 4.5 per GPU
  EXPECT_NO_THROW(eplb_rebalance(load, 320, 8, 8, 64));
  EXPECT_THROW(eplb_rebalance(load, 128, 8, 8, 64), std::invalid_argument);  // fewer slots
  EXPECT_THROW(eplb_rebalance(std::vector<double>(256, -1.0), 256, 8, 8, 64),
               std::invalid_argument);
}

// DeepSeek-V3's EP64 (8 nodes of 8 GPUs, 8 groups, M = 4) on a Zipf 1.0 router: plan from one
// batch's expert loads, then route a fresh batch through the placement. With one group per node
// the hierarchical policy cannot move load between nodes: however many redundant experts, a GPU
// of the busiest node carries at least that node's share. The global policy places replicas
// anywhere and gets close to 1.
TEST(Eplb, RedundantExpertsCutZipfImbalanceOnV3) {
  RoutingShape s;  // V3 defaults
  const ZipfRouting zipf(256, 1.0, 3);
  Router router(s, 5);
  RoutingBatch plan_batch, eval_batch;
  router.route(zipf, 0, 0, 0, 16384, plan_batch);
  router.route(zipf, 0, 1, 0, 16384, eval_batch);
  const auto load = expert_loads(plan_batch, 256);
  std::vector<double> node_load(8, 0.0);
  for (int e = 0; e < 256; ++e) node_load[e / 32] += load[e];
  const double node_floor = max_over_mean(node_load);
  const double before = max_over_mean(gpu_loads(eval_batch, ExpertMap::contiguous(256, 64)));
  EXPECT_GT(before, 4.0);
  EXPECT_GT(node_floor, 1.2);

  const EplbPlacement packed = eplb_rebalance(load, 256, 8, 8, 64);  // no redundancy: packing
  const EplbPlacement hier = eplb_rebalance(load, 256 + 64, 8, 8, 64);
  const EplbPlacement global = eplb_rebalance(load, 256 + 64, 1, 1, 64);
  EXPECT_TRUE(hier.hierarchical);
  EXPECT_FALSE(global.hierarchical);
  const double packed_after = max_over_mean(gpu_loads(eval_batch, packed.map()));
  const double hier_planned = max_over_mean(placement_gpu_loads(hier, load));
  const double hier_after = max_over_mean(gpu_loads(eval_batch, hier.map()));
  const double global_after = max_over_mean(gpu_loads(eval_batch, global.map()));
  EXPECT_LT(packed_after, before);
  EXPECT_LT(hier_after, packed_after);
  EXPECT_GE(hier_planned, node_floor - 1e-9);
  EXPECT_LT(hier_planned, node_floor + 0.1);
  EXPECT_NEAR(hier_after, hier_planned, 0.1);
  EXPECT_LT(global_after, 1.1);
  // Replicas of an expert stay in its node under the hierarchical policy.
  for (std::size_t slot = 0; slot < hier.physical_to_logical.size(); ++slot) {
    EXPECT_EQ(hier.physical_to_logical[slot] / 32, int(slot) / 40) << slot;
  }
}

}  // namespace
}  // namespace codesim::workloads
