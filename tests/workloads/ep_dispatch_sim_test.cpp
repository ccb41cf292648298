#include "workloads/ep_dispatch_sim.hpp"

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
  explicit Cluster(int node_count)
      : fabric(build(node_count)),
        nodes(topo::attach_nodes(fabric, topo::NodeParams{}, node_count)),
        router(fabric),
        gpus(router, nodes) {}
  static topo::Topology build(int node_count) {
    topo::TopologyParams p;
    p.kind = topo::TopologyKind::kMultiPlaneFatTree;
    p.nodes = node_count;
    p.switch_radix = 8;
    return topo::build_topology(p);
  }
};

TEST(EpDispatchSim, FourNodesOfEightShareTheirLinksFairly) {
  Cluster cluster(4);
  EpDispatchShape shape;
  shape.gpus = 32;
  shape.ep = 32;
  shape.experts = 64;
  shape.max_nodes_per_token = 2;
  shape.tokens_per_gpu = 256;
  const auto traffic = sample_ep_dispatch(shape);
  const auto r = simulate_ep_dispatch(traffic, cluster.gpus, cluster.router.links(), 8);
  EXPECT_EQ(r.flows, traffic.ib.size() + traffic.nvlink.size());
  EXPECT_GT(r.seconds, 0);
  // No GPU can send its IB bytes faster than its 400 Gb/s NIC.
  std::map<int, double> sent;
  for (const auto& p : traffic.ib) sent[p.src] += p.bytes;
  double busiest = 0;
  for (const auto& [gpu, bytes] : sent) busiest = std::max(busiest, bytes);
  EXPECT_GE(r.seconds, busiest / 50e9);
  EXPECT_LE(r.ib_GBps_per_gpu, 50.0);
  // Deterministic.
  const auto again = simulate_ep_dispatch(traffic, cluster.gpus, cluster.router.links(), 8);
  EXPECT_EQ(r.seconds, again.seconds);
  EXPECT_EQ(r.events, again.events);
}

}  // namespace
}  // namespace codesim::workloads
