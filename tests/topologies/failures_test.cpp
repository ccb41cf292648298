#include "topologies/failures.hpp"

#include <gtest/gtest.h>

#include "topologies/topology.hpp"

namespace codesim::topo {
namespace {

Topology small_mpft() {
  TopologyParams p;
  p.kind = TopologyKind::kMultiPlaneFatTree;
  p.nodes = 64;
  p.planes = 8;
  p.switch_radix = 16;
  return build_topology(p);
}

TEST(FailureSpec, ResolvesLabelsToTheVerticesAndEveryParallelLink) {
  const Topology t = small_mpft();
  FailureSpec spec;
  spec.switches = {"p2.spine1"};
  spec.links = {{"p0.leaf0", "p0.spine0"}};
  spec.planes = {5};
  const Failures f = resolve_failures(t, spec);
  ASSERT_EQ(f.switches.size(), 1u);
  EXPECT_EQ(t.graph[*f.switches.begin()].label, "p2.spine1");
  EXPECT_EQ(f.planes, std::set<int>{5});
  ASSERT_FALSE(f.links.empty());
  const LinkIndex index(t.graph);
  for (LinkId l : f.links) {
    const std::string a = t.graph[index.from(l)].label, b = t.graph[index.to(l)].label;
    EXPECT_TRUE((a == "p0.leaf0" && b == "p0.spine0") || (a == "p0.spine0" && b == "p0.leaf0"));
  }
}

TEST(FailureSpec, NamesTheItemThatIsNotInTheGraph) {
  const Topology t = small_mpft();
  FailureSpec spec;
  spec.switches = {"p0.leaf0", "p0.leaf99"};
  try {
    resolve_failures(t, spec);
    FAIL() << "an unknown switch must be refused";
  } catch (const FailureError& e) {
    EXPECT_EQ(e.list(), "switches");
    EXPECT_EQ(e.index(), 1u);
    EXPECT_NE(std::string(e.what()).find("p0.leaf99"), std::string::npos);
  }
  FailureSpec endpoint_as_switch;
  endpoint_as_switch.switches = {"n0.nic0"};
  EXPECT_THROW(resolve_failures(t, endpoint_as_switch), FailureError);
  FailureSpec plane;
  plane.planes = {8};
  EXPECT_THROW(resolve_failures(t, plane), FailureError);
}

TEST(FailureImpact, AFailedPlaneCutsOffItsEndpointsAndNothingElse) {
  const Topology t = small_mpft();
  FailureSpec spec;
  spec.planes = {3};
  const Router router(t, {resolve_failures(t, spec), false});
  const FailureImpact impact = failure_impact(router);
  std::size_t plane_switches = 0, plane_links = 0;
  for (VertexId v = 0; v < boost::num_vertices(t.graph); ++v) {
    plane_switches += t.graph[v].kind == VertexKind::kSwitch && t.graph[v].plane == 3;
  }
  for (auto [e, end] = boost::edges(t.graph); e != end; ++e) plane_links += t.graph[*e].plane == 3;
  EXPECT_EQ(impact.switches_down, plane_switches);
  EXPECT_EQ(impact.links_down, plane_links);
  EXPECT_EQ(impact.endpoints_cut_off, 64u);  // NIC 3 of every node
}

}  // namespace
}  // namespace codesim::topo
