// The parameter checks every builder relies on.

#include "topologies/topology.hpp"

#include <gtest/gtest.h>

#include "table3.hpp"

namespace codesim::topo {
namespace {

TEST(TopologyParams, LeafDownlinks) {
  EXPECT_EQ(leaf_downlinks(64, 1.0), 32);
  EXPECT_EQ(leaf_downlinks(64, 3.0), 48);
  EXPECT_EQ(leaf_downlinks(4, 1.0), 2);
  EXPECT_EQ(leaf_downlinks(2, 100.0), 1);  // always at least one uplink
}

TEST(TopologyParams, ChecksNamesTheKey) {
  auto p = testing::fat_tree_params(TopologyKind::kFatTree3, 16, 1, 5);
  auto problems = check_params(p);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].param, TopologyParam::kSwitchRadix);
  p = testing::fat_tree_params(TopologyKind::kFatTree2, 0, 8, 64);
  problems = check_params(p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].param, TopologyParam::kNodes);
  p.nodes = 1;
  p.link_Gbps = 0;
  problems = check_params(p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].param, TopologyParam::kLink);
}

TEST(TopologyParams, BuildsAreDeterministic) {
  const auto p = testing::fat_tree_params(TopologyKind::kMultiPlaneFatTree, 64, 8, 16);
  const auto a = build_topology(p);
  const auto b = build_topology(p);
  ASSERT_EQ(boost::num_edges(a.graph), boost::num_edges(b.graph));
  auto ea = boost::edges(a.graph).first;
  auto eb = boost::edges(b.graph).first;
  for (size_t i = 0; i < boost::num_edges(a.graph); ++i, ++ea, ++eb) {
    ASSERT_EQ(boost::source(*ea, a.graph), boost::source(*eb, b.graph));
    ASSERT_EQ(boost::target(*ea, a.graph), boost::target(*eb, b.graph));
  }
}

}  // namespace
}  // namespace codesim::topo
