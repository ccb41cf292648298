// Dragonfly: round-robin global links pair up, every group pair is joined, the diameter is 3,
// and the isca25 Table 3 instance (511 groups of 32 switches, p = h = 16) is built whole.

#include "topologies/dragonfly.hpp"

#include <gtest/gtest.h>

#include <map>
#include <utility>

#include "table3.hpp"
#include "topologies/structure.hpp"

namespace codesim::topo {
namespace {

TopologyParams dragonfly(int a, int p, int h, int g) {
  TopologyParams params;
  params.kind = TopologyKind::kDragonfly;
  params.dragonfly = {a, p, h, g};
  params.switch_radix = 64;
  return params;
}

// Global links between each pair of groups, from the switch labels "g<group>.s<i>".
std::map<std::pair<int, int>, int> group_links(const Graph& g, int switches_per_group) {
  std::map<std::pair<int, int>, int> links;
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const VertexId a = boost::source(*e, g);
    const VertexId b = boost::target(*e, g);
    if (g[a].kind != VertexKind::kSwitch || g[b].kind != VertexKind::kSwitch) continue;
    const int ga = static_cast<int>(a) / switches_per_group;
    const int gb = static_cast<int>(b) / switches_per_group;
    if (ga != gb) ++links[{std::min(ga, gb), std::max(ga, gb)}];
  }
  return links;
}

TEST(Dragonfly, OffsetsGoRoundRobin) {
  EXPECT_EQ(dragonfly_port_offsets(2, 2, 5), (std::vector<int>{1, 4, 2, 3}));
  EXPECT_EQ(dragonfly_port_offsets(3, 1, 4), (std::vector<int>{1, 3, 2}));
  EXPECT_TRUE(dragonfly_offsets_balanced({1, 3, 2}, 4));
  EXPECT_FALSE(dragonfly_offsets_balanced(dragonfly_port_offsets(2, 2, 4), 4));  // {1, 3, 2, 1}
}

// a = 4, p = 2, h = 2, g = a*h + 1 = 9: 36 switches, 9 * C(4,2) = 54 local and 36 global links,
// one per group pair.
TEST(Dragonfly, SmallBalancedInstanceByHand) {
  const auto t = build_topology(dragonfly(4, 2, 2, 0));
  const auto s = measure(t);
  EXPECT_EQ(s.switches, 36);
  EXPECT_EQ(s.endpoints, 72);
  EXPECT_EQ(s.links, 54 + 36);
  EXPECT_EQ(s.max_switch_degree, 2 + 2 + 3);
  EXPECT_EQ(s.diameter, 3);
  const auto links = group_links(t.graph, 4);
  EXPECT_EQ(links.size(), 36u);  // C(9, 2)
  for (const auto& [pair, count] : links) EXPECT_EQ(count, 1) << pair.first << "-" << pair.second;
  // Group 0's switches cover every switch up to a shift of groups: same answer as all of them.
  EXPECT_EQ(s.diameter, switch_diameter(Topology{TopologyKind::kDragonfly, t.graph, {}, 0, 64, {}}));
}

TEST(Dragonfly, EvenGroupCountPairsOppositeGroups) {
  const auto t = build_topology(dragonfly(3, 1, 1, 4));
  const auto links = group_links(t.graph, 3);
  EXPECT_EQ(links.size(), 6u);
  for (const auto& [pair, count] : links) EXPECT_EQ(count, 1) << pair.first << "-" << pair.second;
  EXPECT_EQ(measure(t).diameter, 3);
}

TEST(Dragonfly, CountFormulasAtFullSize) {
  const auto c = dragonfly_counts({32, 16, 16, 511});
  EXPECT_EQ(c.switches, 16352);
  EXPECT_EQ(c.endpoints, 261632);
  EXPECT_EQ(c.local_links, 511 * 496);
  EXPECT_EQ(c.global_links, 130816);
  EXPECT_EQ(c.links(), 384272);
}

// The whole graph: 277,984 vertices and 645,904 edges, well under a second to build here.
TEST(Dragonfly, Table3InstanceBuiltWhole) {
  const auto t = build_topology(dragonfly(32, 16, 16, 511));
  const auto s = measure(t);
  EXPECT_EQ(s.endpoints, 261632);
  EXPECT_EQ(s.switches, 16352);
  EXPECT_EQ(s.links, 384272);
  EXPECT_EQ(s.max_switch_degree, 63);
  EXPECT_LE(s.max_switch_degree, 64);
  EXPECT_EQ(s.diameter, 3);
  const auto links = group_links(t.graph, 32);
  EXPECT_EQ(links.size(), 511u * 510 / 2);  // every group pair joined
}

TEST(Dragonfly, RejectsGroupsItCannotJoinAndTooSmallARadix) {
  auto problems = check_params(dragonfly(4, 2, 2, 10));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].param, TopologyParam::kGroups);
  auto p = dragonfly(32, 16, 16, 511);
  p.switch_radix = 48;
  problems = check_params(p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].param, TopologyParam::kSwitchRadix);
}

}  // namespace
}  // namespace codesim::topo
