// Node internals: 8 GPUs on an NVSwitch, 4 PCIe switches under a CPU, one NIC per GPU, and the
// composition of nodes with a fabric through the NICs' ports.

#include "topologies/node_graph.hpp"

#include <gtest/gtest.h>

#include "table3.hpp"
#include "topologies/structure.hpp"

namespace codesim::topo {
namespace {

TEST(NodeGraph, EightGpusOnAnNvSwitchWithANicEach) {
  Graph g;
  const NodeParams params;
  const auto v = add_node(g, params, 0);
  EXPECT_EQ(boost::num_vertices(g), 1u + 4 + 8 + 8 + 1);
  EXPECT_EQ(boost::num_edges(g), 4u + 8 + 8 + 8);
  EXPECT_EQ(boost::degree(v.nvswitch, g), 8u);
  for (VertexId gpu : v.gpus) {
    EXPECT_EQ(g[gpu].kind, VertexKind::kGpu);
    EXPECT_EQ(boost::degree(gpu, g), 2u);  // its PCIe switch and the NVSwitch
  }
  // GPU 5 and NIC 5 share PCIe switch 2.
  EXPECT_TRUE(boost::edge(v.gpus[5], v.pcie_switches[2], g).second);
  EXPECT_TRUE(boost::edge(v.nics[5], v.pcie_switches[2], g).second);
  const auto [e, found] = boost::edge(v.gpus[0], v.nvswitch, g);
  ASSERT_TRUE(found);
  EXPECT_DOUBLE_EQ(g[e].bandwidth_Bps, 200e9);
}

TEST(NodeGraph, PcieBoardsPairGpusByNvLinkBridges) {
  Graph g;
  NodeParams params;
  params.nvswitch = false;
  params.nics = 1;
  params.nvlink_GBps = 300;
  const auto v = add_node(g, params, 3);
  EXPECT_TRUE(boost::edge(v.gpus[0], v.gpus[1], g).second);
  EXPECT_FALSE(boost::edge(v.gpus[1], v.gpus[2], g).second);
  EXPECT_EQ(g[v.nics[0]].label, "n3.nic0");
}

TEST(NodeGraph, NodesComposeWithAFatTreeThroughTheirNics) {
  auto fabric =
      build_topology(testing::fat_tree_params(TopologyKind::kMultiPlaneFatTree, 4, 8, 16));
  const auto before = measure(fabric);
  const auto nodes = attach_nodes(fabric, NodeParams{}, 4);
  ASSERT_EQ(nodes.size(), 4u);
  const Graph& g = fabric.graph;
  for (int i = 0; i < 8; ++i) {
    const VertexId nic = nodes[2].nics[i];
    ASSERT_EQ(boost::degree(nic, g), 2u);  // PCIe switch and fabric port
    bool on_plane = false;
    for (auto [it, end] = boost::adjacent_vertices(nic, g); it != end; ++it) {
      if (g[*it].kind == VertexKind::kEndpoint) on_plane = g[*it].plane == i;
    }
    EXPECT_TRUE(on_plane) << "NIC " << i << " must reach plane " << i;
  }
  const auto after = measure(fabric);  // the fabric's own counts are unchanged
  EXPECT_EQ(after.switches, before.switches);
  EXPECT_EQ(after.links, before.links);
  EXPECT_EQ(after.endpoints, before.endpoints);
}

TEST(NodeGraph, FabricsWithoutNodePortsRefuseNodes) {
  TopologyParams p;
  p.kind = TopologyKind::kSlimFly;
  p.slim_fly.q = 5;
  auto fabric = build_topology(p);
  EXPECT_THROW(attach_nodes(fabric, NodeParams{}, 1), std::invalid_argument);
}

}  // namespace
}  // namespace codesim::topo
