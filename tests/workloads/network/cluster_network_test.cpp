#include "workloads/network/cluster_network.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "sim/flow_network.hpp"
#include "sim/simulator.hpp"

namespace codesim::workloads {
namespace {

topo::ClusterSpec four_nodes(topo::TopologyKind kind) {
  topo::ClusterSpec cluster;
  cluster.nodes = 4;
  cluster.node = {8, 160, 8, 400};
  cluster.fabric.kind = kind;
  cluster.fabric.planes = 8;
  cluster.fabric.switch_radix = 8;
  return cluster;
}

// The same flows twice: over the cluster network's merged links, and over every link of the
// graph with the routers' own routes. Merging series links must change no completion time.
std::vector<sim::Time> completions(const topo::ClusterSpec& cluster, bool merged) {
  sim::Simulator sim;
  sim::FlowNetwork net(sim);
  std::vector<sim::Time> done;
  auto record = [](sim::Simulator& s, void* ctx, std::uint64_t tag) {
    auto& out = *static_cast<std::vector<sim::Time>*>(ctx);
    if (out.size() <= tag) out.resize(tag + 1);
    out[tag] = s.now();
  };
  ClusterNetwork network(cluster, LinkEfficiency{1.0, 1.0});
  ClusterGraph graph = build_cluster_graph(cluster, LinkEfficiency{1.0, 1.0});
  topo::Router router(graph.topology);
  topo::GpuRouter gpus(router, graph.nodes);
  sim::FlowNetwork::LinkId base = 0;
  if (merged) {
    network.attach(net);
  } else {
    base = topo::add_links_to(net, router.links());
  }
  std::uint64_t tag = 0;
  for (int src = 0; src < 32; src += 3) {
    for (int dst = 0; dst < 32; dst += 5) {
      if (src == dst) continue;
      const double bytes = 1e6 * (1 + (src * 7 + dst) % 11);
      if (merged) {
        net.start_flow(network.route(src, dst), bytes, record, &done, tag++);
      } else {
        const std::uint64_t key = (std::uint64_t(src) << 32) | std::uint32_t(dst);
        topo::Route route = gpus.route({src / 8, src % 8}, {dst / 8, dst % 8}, key);
        for (auto& link : route) link += base;
        net.start_flow(route, bytes, record, &done, tag++);
      }
    }
  }
  sim.run();
  return done;
}

TEST(ClusterNetwork, MergingSeriesLinksChangesNoCompletionTime) {
  for (auto kind : {topo::TopologyKind::kMultiPlaneFatTree, topo::TopologyKind::kFatTree2}) {
    const auto cluster = four_nodes(kind);
    const auto merged = completions(cluster, true);
    const auto plain = completions(cluster, false);
    ASSERT_EQ(merged.size(), plain.size());
    ASSERT_FALSE(merged.empty());
    for (std::size_t i = 0; i < merged.size(); ++i) {
      EXPECT_NEAR(merged[i].seconds(), plain[i].seconds(), 1e-12 * plain[i].seconds()) << i;
    }
  }
}

TEST(ClusterNetwork, RoutesOverTheFabricAreHalfAsLong) {
  ClusterNetwork network(four_nodes(topo::TopologyKind::kMultiPlaneFatTree), {});
  sim::Simulator sim;
  sim::FlowNetwork net(sim);
  network.attach(net);
  // GPU -> PCIe switch, [PCIe switch -> NIC -> port -> leaf], [leaf -> port -> NIC -> PCIe
  // switch], PCIe switch -> GPU.
  EXPECT_EQ(network.route(0, 8).size(), 4u);
  EXPECT_EQ(network.route(0, 1).size(), 2u);  // NVLink: GPU -> NVSwitch -> GPU
}

}  // namespace
}  // namespace codesim::workloads
