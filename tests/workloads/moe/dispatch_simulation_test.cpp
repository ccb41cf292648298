#include "workloads/moe/dispatch_simulation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "topologies/node_graph.hpp"
#include "topologies/topology.hpp"

namespace codesim::workloads {
namespace {

struct Cluster {
  topo::Topology fabric;
  std::vector<topo::NodeVertices> nodes;
  topo::Router router;
  topo::GpuRouter gpus;
  explicit Cluster(int node_count, topo::TopologyKind kind = topo::TopologyKind::kMultiPlaneFatTree)
      : fabric(build(node_count, kind)),
        nodes(topo::attach_nodes(fabric, topo::NodeParams{}, node_count)),
        router(fabric),
        gpus(router, nodes) {}
  static topo::Topology build(int node_count, topo::TopologyKind kind) {
    topo::TopologyParams p;
    p.kind = kind;
    p.nodes = node_count;
    p.switch_radix = 8;
    return topo::build_topology(p);
  }
};

EpDispatchShape four_nodes() {
  EpDispatchShape shape;
  shape.gpus = 32;
  shape.ep = 32;
  shape.experts = 64;
  shape.max_nodes_per_token = 2;
  shape.tokens_per_gpu = 256;
  return shape;
}

TEST(EpDispatchSim, FourNodesOfEightShareTheirLinksFairly) {
  Cluster cluster(4);
  const auto traffic = sample_ep_dispatch(four_nodes());
  const auto r = simulate_ep_dispatch(traffic, cluster.gpus, cluster.router, 8);
  EXPECT_EQ(r.flows, traffic.ib.size() + traffic.nvlink.size());
  EXPECT_GT(r.seconds, 0);
  // No GPU can send its IB bytes faster than its 400 Gb/s NIC.
  std::map<int, double> sent;
  for (const auto& p : traffic.ib) sent[p.src] += p.bytes;
  double busiest = 0;
  for (const auto& [gpu, bytes] : sent) busiest = std::max(busiest, bytes);
  EXPECT_GE(r.seconds, busiest / 50e9);
  EXPECT_LE(r.ib_GBps_per_gpu, 50.0);
  // Utilisations are averages over the dispatch: never above 1.
  EXPECT_LE(r.max_fabric_link_utilisation, 1 + 1e-9);
  EXPECT_LE(r.max_nvlink_utilisation, 1 + 1e-9);
  EXPECT_GT(r.max_fabric_link_utilisation, 0.5);
  // One leaf per plane at radix 8: nothing crosses a spine.
  EXPECT_EQ(r.max_switch_link_utilisation, 0);
  // Deterministic.
  const auto again = simulate_ep_dispatch(traffic, cluster.gpus, cluster.router, 8);
  EXPECT_EQ(r.seconds, again.seconds);
  EXPECT_EQ(r.events, again.events);
}

TEST(EpDispatchSim, DeepEpMetricCountsOwnNodeCopiesOverTheSameTime) {
  Cluster cluster(4);
  const auto traffic = sample_ep_dispatch(four_nodes());
  const auto r = simulate_ep_dispatch(traffic, cluster.gpus, cluster.router, 8);
  EXPECT_DOUBLE_EQ(r.deepep_rdma_bytes_per_gpu, traffic.deepep_rdma_bytes_per_gpu());
  EXPECT_DOUBLE_EQ(r.deepep_rdma_GBps, traffic.deepep_rdma_bytes_per_gpu() / r.seconds / 1e9);
  EXPECT_DOUBLE_EQ(r.deepep_nvl_GBps, traffic.deepep_nvl_bytes_per_gpu() / r.seconds / 1e9);
  // Own-node copies cost no IB, so the logical figure can exceed the NIC's line rate.
  EXPECT_GT(r.deepep_rdma_GBps, r.ib_GBps_per_gpu);
}

TEST(EpDispatchSim, OneNodeGroupsUseNoFabric) {
  Cluster cluster(4);
  EpDispatchShape shape = four_nodes();
  shape.ep = 8;
  shape.experts = 64;
  const auto traffic = sample_ep_dispatch(shape);
  const auto r = simulate_ep_dispatch(traffic, cluster.gpus, cluster.router, 8);
  EXPECT_EQ(r.ib_bytes_per_gpu, 0);
  EXPECT_EQ(r.max_fabric_link_utilisation, 0);
  EXPECT_GT(r.max_nvlink_utilisation, 0.5);
  EXPECT_GT(r.deepep_rdma_GBps, 0);
}

TEST(EpDispatchSim, Ft2CrossesSpinesAndAdaptiveRoutingRuns) {
  // At radix 8 an ft2 leaf holds 4 NICs: half a node. IB crosses the spines.
  Cluster cluster(4, topo::TopologyKind::kFatTree2);
  const auto traffic = sample_ep_dispatch(four_nodes());
  const auto ecmp = simulate_ep_dispatch(traffic, cluster.gpus, cluster.router, 8);
  EpDispatchSimOptions options;
  options.adaptive = true;
  const auto adaptive = simulate_ep_dispatch(traffic, cluster.gpus, cluster.router, 8, options);
  for (const auto& r : {ecmp, adaptive}) {
    EXPECT_GT(r.max_switch_link_utilisation, 0);
    EXPECT_LE(r.max_fabric_link_utilisation, 1 + 1e-9);
    EXPECT_EQ(r.flows, traffic.ib.size() + traffic.nvlink.size());
    EXPECT_DOUBLE_EQ(r.ib_bytes_per_gpu, traffic.ib_bytes_per_gpu());
  }
  const auto again = simulate_ep_dispatch(traffic, cluster.gpus, cluster.router, 8, options);
  EXPECT_EQ(adaptive.seconds, again.seconds);
}

}  // namespace
}  // namespace codesim::workloads
