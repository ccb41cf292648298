// Fat-tree builders: hand-checkable small instances, the published counts of isca25 Table 3
// (FT2, MPFT, FT3), degrees within the radix, and MPFT planes that share nothing.

#include "topologies/fat_tree.hpp"

#include <gtest/gtest.h>

#include <set>

#include "table3.hpp"
#include "topologies/structure.hpp"

namespace codesim::topo {
namespace {

using testing::fat_tree_params;

VertexId find(const Graph& g, const std::string& label) {
  for (VertexId v = 0; v < boost::num_vertices(g); ++v) {
    if (g[v].label == label) return v;
  }
  ADD_FAILURE() << "no vertex " << label;
  return 0;
}

std::set<std::string> neighbour_labels(const Graph& g, VertexId v) {
  std::set<std::string> labels;
  for (auto [it, end] = boost::adjacent_vertices(v, g); it != end; ++it)
    labels.insert(g[*it].label);
  return labels;
}

TEST(TwoLayerShape, SplitsTheRadixByOversubscription) {
  const auto full = two_layer_shape(2048, 64, 1.0);
  EXPECT_EQ(full.down, 32);
  EXPECT_EQ(full.up, 32);
  EXPECT_EQ(full.leaves, 64);
  EXPECT_EQ(full.spines, 32);
  const auto three_to_one = two_layer_shape(4800, 64, 3.0);
  EXPECT_EQ(three_to_one.down, 48);
  EXPECT_EQ(three_to_one.up, 16);
  EXPECT_EQ(three_to_one.leaves, 100);
  EXPECT_EQ(three_to_one.spines, 25);  // 1600 uplinks over 64-port spines
}

// Radix 4: 8 endpoints on 4 leaves (2 down, 2 up), 2 spines each joined to every leaf.
TEST(FatTree2, RadixFourByHand) {
  const auto t = build_topology(fat_tree_params(TopologyKind::kFatTree2, 4, 2, 4));
  const auto s = measure(t);
  EXPECT_EQ(s.endpoints, 8);
  EXPECT_EQ(s.switches, 6);
  EXPECT_EQ(s.links, 8);
  EXPECT_EQ(s.endpoint_links, 8);
  EXPECT_EQ(s.max_switch_degree, 4);
  EXPECT_EQ(s.diameter, 2);
  EXPECT_EQ(neighbour_labels(t.graph, find(t.graph, "leaf2")),
            (std::set<std::string>{"n2.nic0", "n2.nic1", "spine0", "spine1"}));
  EXPECT_EQ(neighbour_labels(t.graph, find(t.graph, "spine1")),
            (std::set<std::string>{"leaf0", "leaf1", "leaf2", "leaf3"}));
  EXPECT_DOUBLE_EQ(t.bisection_Bps, 4 * 400e9 / 8);  // half of 8 endpoints at 400 Gb/s
}

TEST(FatTree2, Table3Counts) {
  const auto s = measure(build_topology(fat_tree_params(TopologyKind::kFatTree2, 256, 8, 64)));
  EXPECT_EQ(s.endpoints, 2048);
  EXPECT_EQ(s.switches, 96);
  EXPECT_EQ(s.links, 2048);
  EXPECT_LE(s.max_switch_degree, 64);
  EXPECT_EQ(s.diameter, 2);
}

TEST(FatTree2, RejectsMoreLeavesThanASpineHasPorts) {
  const auto problems = check_params(fat_tree_params(TopologyKind::kFatTree2, 257, 8, 64));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].param, TopologyParam::kNodes);
  EXPECT_THROW(build_topology(fat_tree_params(TopologyKind::kFatTree2, 257, 8, 64)),
               std::invalid_argument);
}

// No edge joins two planes, and NIC i of every node sits on plane i.
void expect_planes_disjoint(const Topology& t) {
  const Graph& g = t.graph;
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const VertexId a = boost::source(*e, g);
    const VertexId b = boost::target(*e, g);
    ASSERT_EQ(g[a].plane, g[b].plane) << g[a].label << " - " << g[b].label;
    ASSERT_EQ(g[*e].plane, g[a].plane) << g[a].label << " - " << g[b].label;
  }
}

TEST(MultiPlaneFatTree, PlanesAreDisjointAndNicIIsOnPlaneI) {
  const auto t = build_topology(fat_tree_params(TopologyKind::kMultiPlaneFatTree, 4, 2, 4));
  expect_planes_disjoint(t);
  const Graph& g = t.graph;
  for (int n = 0; n < 4; ++n) {
    for (int i = 0; i < 2; ++i)
      EXPECT_EQ(g[find(g, "n" + std::to_string(n) + ".nic" + std::to_string(i))].plane, i);
  }
  // Per plane: 4 endpoints on 2 leaves, ceil(2 * 2 / 4) = 1 spine, 2 x 2 uplinks.
  const auto s = measure(t);
  EXPECT_EQ(s.endpoints, 8);
  EXPECT_EQ(s.switches, 6);
  EXPECT_EQ(s.links, 8);
  EXPECT_EQ(s.diameter, 2);
}

TEST(MultiPlaneFatTree, Table3CountsAndDisjointPlanes) {
  const auto t = build_topology(fat_tree_params(TopologyKind::kMultiPlaneFatTree, 2048, 8, 64));
  const auto s = measure(t);
  EXPECT_EQ(s.endpoints, 16384);
  EXPECT_EQ(s.switches, 768);
  EXPECT_EQ(s.links, 16384);
  EXPECT_LE(s.max_switch_degree, 64);
  EXPECT_EQ(s.diameter, 2);
  expect_planes_disjoint(t);
}

TEST(MultiPlaneFatTree, PlanesMustDivideTheNics) {
  auto p = fat_tree_params(TopologyKind::kMultiPlaneFatTree, 16, 8, 64);
  p.planes = 3;
  const auto problems = check_params(p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].param, TopologyParam::kPlanes);
}

// Rails of 4 nodes x 2 NICs, radix 4: each rail 2 leaves; the 4 leaves share 2 spines.
TEST(MultiRailFatTree, RailsShareTheSpines) {
  const auto t = build_topology(fat_tree_params(TopologyKind::kMultiRailFatTree, 4, 2, 4));
  const auto s = measure(t);
  EXPECT_EQ(s.endpoints, 8);
  EXPECT_EQ(s.switches, 6);
  EXPECT_EQ(s.links, 8);
  EXPECT_EQ(s.diameter, 2);
  EXPECT_LE(s.max_switch_degree, 4);
  const Graph& g = t.graph;
  EXPECT_EQ(neighbour_labels(g, find(g, "r1.leaf0")),
            (std::set<std::string>{"n0.nic1", "n1.nic1", "spine0", "spine1"}));
  EXPECT_EQ(neighbour_labels(g, find(g, "spine0")),
            (std::set<std::string>{"r0.leaf0", "r0.leaf1", "r1.leaf0", "r1.leaf1"}));
}

TEST(MultiRailFatTree, SameCountsAsFt2For2048) {
  const auto s =
      measure(build_topology(fat_tree_params(TopologyKind::kMultiRailFatTree, 256, 8, 64)));
  EXPECT_EQ(s.endpoints, 2048);
  EXPECT_EQ(s.switches, 96);
  EXPECT_EQ(s.links, 2048);
  EXPECT_LE(s.max_switch_degree, 64);
}

// k = 4: 4 pods of 2 leaves + 2 aggregation switches, 4 cores, 16 endpoints; every switch uses
// all 4 ports; leaf -> agg -> core -> agg -> leaf is 4 hops.
TEST(FatTree3, FourAryByHand) {
  const auto t = build_topology(fat_tree_params(TopologyKind::kFatTree3, 16, 1, 4));
  const auto s = measure(t);
  EXPECT_EQ(s.endpoints, 16);
  EXPECT_EQ(s.switches, 20);
  EXPECT_EQ(s.links, 32);
  EXPECT_EQ(s.diameter, 4);
  const Graph& g = t.graph;
  for (VertexId v = 0; v < boost::num_vertices(g); ++v) {
    if (g[v].kind == VertexKind::kSwitch) {
      EXPECT_EQ(boost::degree(v, g), 4u) << g[v].label;
    }
  }
  EXPECT_EQ(neighbour_labels(g, find(g, "pod1.agg1")),
            (std::set<std::string>{"pod1.leaf0", "pod1.leaf1", "core2", "core3"}));
  EXPECT_EQ(s.diameter, switch_diameter(Topology{TopologyKind::kFatTree3, t.graph, {}, 0, 4, {}}));
}

// Two pods of a 4-ary tree need ceil(2 * 2 / 4) = 1 core per group: 2 cores, each aggregation
// switch sending both uplinks to its group's core.
TEST(FatTree3, PartialTreeBuildsTheCoresItsPodsFill) {
  const auto s = measure(build_topology(fat_tree_params(TopologyKind::kFatTree3, 8, 1, 4)));
  EXPECT_EQ(s.endpoints, 8);
  EXPECT_EQ(s.switches, 2 * 4 + 2);
  EXPECT_EQ(s.links, 8 + 8);
  EXPECT_EQ(s.max_switch_degree, 4);
  EXPECT_EQ(s.diameter, 4);
}

TEST(FatTree3, Table3Counts) {
  const auto s = measure(build_topology(fat_tree_params(TopologyKind::kFatTree3, 8192, 8, 64)));
  EXPECT_EQ(s.endpoints, 65536);
  EXPECT_EQ(s.switches, 5120);
  EXPECT_EQ(s.links, 131072);
  EXPECT_LE(s.max_switch_degree, 64);
  EXPECT_EQ(s.diameter, 4);
}

TEST(FireFlyer2, TwoZonesOf40PortSwitchesJoinedByAFewLinks) {
  TopologyParams p;
  p.kind = TopologyKind::kFireFlyer2;
  p.switch_radix = 40;
  p.link_Gbps = 200;
  p.nics_per_node = 1;
  const auto t = build_topology(p);
  const auto s = measure(t);
  EXPECT_EQ(s.endpoints, 1200);
  EXPECT_EQ(s.switches, 2 * (40 + 20));
  EXPECT_EQ(s.links, 2 * 40 * 20 + 4);
  EXPECT_LE(s.max_switch_degree, 40);
  EXPECT_EQ(s.diameter, 5);  // leaf, spine, border leaf, other zone's border leaf, spine, leaf
  EXPECT_DOUBLE_EQ(t.bisection_Bps, 4 * 200e9 / 8);
  EXPECT_EQ(s.diameter, switch_diameter(Topology{TopologyKind::kFireFlyer2, t.graph, {}, 0, 40, {}}));
}

}  // namespace
}  // namespace codesim::topo
