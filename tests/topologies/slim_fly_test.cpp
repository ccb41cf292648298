// Slim Fly: the MMS graphs of small primes have diameter 2 (q = 5 is the Hoffman-Singleton
// graph), every switch has the network degree (3q - delta)/2, and the q = 28 stand-in of the
// isca25 Table 3 instance has the published counts.

#include "topologies/slim_fly.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <utility>

#include "table3.hpp"
#include "topologies/structure.hpp"

namespace codesim::topo {
namespace {

TopologyParams slim_fly(int q, int endpoints_per_switch = 0) {
  TopologyParams p;
  p.kind = TopologyKind::kSlimFly;
  p.slim_fly.q = q;
  p.slim_fly.endpoints_per_switch = endpoints_per_switch;
  p.switch_radix = 64;
  return p;
}

// Every switch has exactly `degree` switch neighbours, no self-loops, no parallel links.
void expect_simple_regular(const Graph& g, int degree) {
  std::set<std::pair<VertexId, VertexId>> seen;
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    VertexId a = boost::source(*e, g);
    VertexId b = boost::target(*e, g);
    ASSERT_NE(a, b);
    if (a > b) std::swap(a, b);
    ASSERT_TRUE(seen.insert({a, b}).second) << g[a].label << " - " << g[b].label;
  }
  for (VertexId v = 0; v < boost::num_vertices(g); ++v) {
    if (g[v].kind != VertexKind::kSwitch) continue;
    int switch_neighbours = 0;
    for (auto [it, end] = boost::adjacent_vertices(v, g); it != end; ++it) {
      switch_neighbours += g[*it].kind == VertexKind::kSwitch;
    }
    ASSERT_EQ(switch_neighbours, degree) << g[v].label;
  }
}

TEST(SlimFly, DeltaAndDegree) {
  EXPECT_EQ(slim_fly_delta(5), 1);
  EXPECT_EQ(slim_fly_delta(7), -1);
  EXPECT_EQ(slim_fly_delta(28), 0);
  EXPECT_EQ(slim_fly_delta(6), 2);
  EXPECT_EQ(slim_fly_network_degree(5), 7);
  EXPECT_EQ(slim_fly_network_degree(7), 11);
  EXPECT_EQ(slim_fly_network_degree(28), 42);
}

TEST(SlimFly, MmsGeneratorsOfFiveAreTheQuadraticResidues) {
  const auto g = slim_fly_generators(5);  // primitive root 2: X = {1, 4}, X' = {2, 3}
  EXPECT_TRUE(g.mms);
  EXPECT_EQ(std::set<int>(g.x.begin(), g.x.end()), (std::set<int>{1, 4}));
  EXPECT_EQ(std::set<int>(g.x_prime.begin(), g.x_prime.end()), (std::set<int>{2, 3}));
}

class SlimFlyPrimePowerTest : public ::testing::TestWithParam<int> {};

TEST_P(SlimFlyPrimePowerTest, MmsGraphHasDiameterTwo) {
  const int q = GetParam();
  const auto t = build_topology(slim_fly(q));
  const auto s = measure(t);
  const int degree = slim_fly_network_degree(q);
  EXPECT_EQ(s.switches, 2LL * q * q);
  EXPECT_EQ(s.links, 1LL * q * q * degree);
  EXPECT_EQ(s.endpoints, 2LL * q * q * ((degree + 1) / 2));
  EXPECT_EQ(s.diameter, 2);
  EXPECT_TRUE(t.notes.empty());
  expect_simple_regular(t.graph, degree);
}

// Primes and odd prime powers (9 = 3^2, 25 = 5^2, 27 = 3^3 exercise GF(p^k)), both deltas.
INSTANTIATE_TEST_SUITE_P(OddPrimePowers, SlimFlyPrimePowerTest,
                         ::testing::Values(5, 7, 9, 11, 13, 19, 25, 27));

TEST(SlimFly, PowersOfTwoGetTheStandIn) {
  const auto t = build_topology(slim_fly(8));
  const auto s = measure(t);
  EXPECT_EQ(s.switches, 128);
  EXPECT_EQ(s.links, 64 * 12);
  ASSERT_EQ(t.notes.size(), 1u);
  expect_simple_regular(t.graph, 12);
}

TEST(SlimFly, HoffmanSingletonForFive) {
  const auto s = measure(build_topology(slim_fly(5)));
  EXPECT_EQ(s.switches, 50);
  EXPECT_EQ(s.links, 175);
  EXPECT_EQ(s.endpoints, 200);  // p = ceil(7 / 2) = 4
}

TEST(SlimFly, Table3InstanceIsAStandInWithThePublishedCounts) {
  const auto t = build_topology(slim_fly(28, 21));
  const auto s = measure(t);
  EXPECT_EQ(s.endpoints, 32928);
  EXPECT_EQ(s.switches, 1568);
  EXPECT_EQ(s.links, 32928);
  EXPECT_EQ(s.max_switch_degree, 63);
  EXPECT_EQ(s.diameter, 3);  // not an MMS graph: Z_28 is no field
  ASSERT_EQ(t.notes.size(), 1u);
  EXPECT_NE(t.notes[0].find("not the MMS graph"), std::string::npos);
  expect_simple_regular(t.graph, 42);
}

TEST(SlimFly, RejectsQTwoModFourAndTooSmallARadix) {
  auto problems = check_params(slim_fly(6));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].param, TopologyParam::kQ);
  auto p = slim_fly(28, 21);
  p.switch_radix = 48;
  problems = check_params(p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].param, TopologyParam::kSwitchRadix);
}

}  // namespace
}  // namespace codesim::topo
