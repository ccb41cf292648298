// Route latencies of built fabrics against isca25 Table 5 (CPU-side end-to-end, 64 B; carried in
// validation/reference/published.yaml latency_us): with the default (InfiniBand) link latencies,
// a route between two endpoints under one leaf sums to 2.8 us, through a spine to 3.7 us, and on
// any fabric to endpoint + per_switch * (switches traversed); GPU to GPU over NVLink to 3.33 us.

#include <gtest/gtest.h>

#include <vector>

#include "../reference.hpp"
#include "table3.hpp"
#include "topologies/node_graph.hpp"
#include "topologies/routing.hpp"

namespace codesim::topo {
namespace {

using testing::fat_tree_params;

sim::Time published_us(const char* key) {
  return sim::from_seconds_ceil(codesim::testing::published()["latency_us"][key].as<double>() *
                                1e-6);
}

sim::Time route_latency(const LinkIndex& links, const Route& route) {
  sim::Time sum;
  for (LinkId link : route) sum += links.latency(link);
  return sum;
}

// The model's terms from the two published points alone: one switch on a leaf, three across.
sim::Time per_switch() {
  return (published_us("ib_cross_leaf") - published_us("ib_same_leaf")) / 2;
}
sim::Time endpoint_term() {
  return published_us("ib_same_leaf") - per_switch();
}

TEST(FabricLatency, Ft2SameLeafAndCrossLeafAreThePublishedFigures) {
  // 4 nodes x 2 NICs on 4-port switches: 2 endpoints per leaf, so n0.nic0 and n0.nic1 share a
  // leaf and n1.nic0 is on the next one.
  const auto topology = build_topology(fat_tree_params(TopologyKind::kFatTree2, 4, 2, 4));
  Router router(topology);
  for (std::uint64_t key = 0; key < 4; ++key) {
    const Route same = router.route(router.endpoint(0, 0), router.endpoint(0, 1), key);
    ASSERT_EQ(same.size(), 2u);
    EXPECT_EQ(route_latency(router.links(), same), published_us("ib_same_leaf"));
    const Route cross = router.route(router.endpoint(0, 0), router.endpoint(1, 0), key);
    ASSERT_EQ(cross.size(), 4u);
    EXPECT_EQ(route_latency(router.links(), cross), published_us("ib_cross_leaf"));
  }
}

TEST(FabricLatency, Ft3WithinAPodIsPublishedAndAcrossPodsIsFiveSwitches) {
  // k = 4: 2 endpoints per leaf, 4 per pod. Ports 0 and 1 share a leaf, 0 and 2 a pod, 0 and 4
  // are in different pods (leaf, aggregation, core, aggregation, leaf).
  const auto topology = build_topology(fat_tree_params(TopologyKind::kFatTree3, 8, 2, 4));
  Router router(topology);
  const VertexId src = router.endpoint(0, 0);
  for (std::uint64_t key = 0; key < 4; ++key) {
    EXPECT_EQ(route_latency(router.links(), router.route(src, router.endpoint(0, 1), key)),
              published_us("ib_same_leaf"));
    EXPECT_EQ(route_latency(router.links(), router.route(src, router.endpoint(1, 0), key)),
              published_us("ib_cross_leaf"));
    const Route cross_pod = router.route(src, router.endpoint(2, 0), key);
    ASSERT_EQ(cross_pod.size(), 6u);
    EXPECT_EQ(route_latency(router.links(), cross_pod), endpoint_term() + per_switch() * 5);
    EXPECT_EQ(route_latency(router.links(), cross_pod), sim::nanoseconds(4600));
  }
}

TEST(FabricLatency, PublishedExampleFabricsMatchTable5) {
  // MPFT-16384 (examples/topologies/mpft-16384.yaml): 32 endpoints per leaf and plane.
  const auto mpft = build_topology(fat_tree_params(TopologyKind::kMultiPlaneFatTree, 2048, 8, 64));
  Router router(mpft);
  EXPECT_EQ(
      route_latency(router.links(), router.route(router.endpoint(0, 3), router.endpoint(31, 3), 7)),
      published_us("ib_same_leaf"));
  EXPECT_EQ(route_latency(router.links(),
                          router.route(router.endpoint(0, 3), router.endpoint(2047, 3), 7)),
            published_us("ib_cross_leaf"));
}

// Every endpoint-to-endpoint route, on every kind, sums to endpoint + per_switch * switches.
TEST(FabricLatency, EveryKindSumsToEndpointPlusPerSwitch) {
  std::vector<TopologyParams> kinds = {
      fat_tree_params(TopologyKind::kFatTree2, 4, 2, 4),
      fat_tree_params(TopologyKind::kMultiPlaneFatTree, 8, 2, 4),
      fat_tree_params(TopologyKind::kMultiRailFatTree, 4, 2, 4),
      fat_tree_params(TopologyKind::kFatTree3, 8, 2, 4),
  };
  for (const auto& params : testing::small_other_kinds()) kinds.push_back(params);
  for (const auto& params : kinds) {
    const auto topology = build_topology(params);
    Router router(topology);
    std::vector<VertexId> endpoints;
    for (VertexId v = 0; v < boost::num_vertices(topology.graph); ++v) {
      if (topology.graph[v].kind == VertexKind::kEndpoint) endpoints.push_back(v);
    }
    const std::size_t step = std::max<std::size_t>(1, endpoints.size() / 16);
    for (std::size_t i = 0; i < endpoints.size(); i += step) {
      for (std::size_t j = 0; j < endpoints.size(); j += step) {
        if (i == j || router.distance(endpoints[i], endpoints[j]) < 0) continue;
        const Route route = router.route(endpoints[i], endpoints[j], i * 17 + j);
        const auto switches = static_cast<std::int64_t>(route.size()) - 1;
        EXPECT_EQ(route_latency(router.links(), route), endpoint_term() + per_switch() * switches)
            << int(topology.kind) << " " << i << " -> " << j;
      }
    }
  }
}

TEST(FabricLatency, AFlatLinkLatencyOverridesTheModel) {
  auto params = fat_tree_params(TopologyKind::kFatTree2, 4, 2, 4);
  params.link_latency = sim::nanoseconds(100);
  const auto topology = build_topology(params);
  Router router(topology);
  EXPECT_EQ(
      route_latency(router.links(), router.route(router.endpoint(0, 0), router.endpoint(1, 0), 0)),
      sim::nanoseconds(400));
  params.link_latency = -sim::nanoseconds(1);
  EXPECT_FALSE(check_params(params).empty());
}

TEST(NvlinkLatency, GpuToGpuInANodeIsThePublishedFigure) {
  auto topology = build_topology(fat_tree_params(TopologyKind::kMultiPlaneFatTree, 4, 8, 8));
  const auto nodes = attach_nodes(topology, NodeParams{}, 4);
  Router fabric(topology);
  GpuRouter router(fabric, nodes);
  for (int dst = 1; dst < 8; ++dst) {
    const Route route = router.route({2, 0}, {2, dst}, 0);
    ASSERT_EQ(route.size(), 2u);  // GPU -> NVSwitch -> GPU
    EXPECT_EQ(route_latency(fabric.links(), route), published_us("nvlink"));
  }
}

TEST(NvlinkLatency, ABridgeCarriesTheWholeFigure) {
  NodeParams params;
  params.nvswitch = false;
  Graph graph;
  const auto node = add_node(graph, params, 0);
  const LinkIndex links(graph);
  const auto bridge = links.find(node.gpus[0], node.gpus[1]);
  ASSERT_TRUE(bridge.has_value());
  EXPECT_EQ(links.latency(*bridge), published_us("nvlink"));
}

TEST(NvlinkLatency, ACrossNodeGpuRouteAddsNothingForPcieOrTheNicPort) {
  // The fabric's endpoint term already holds each host's PCIe crossing (CPU-side end to end), so
  // GPU -> PCIe -> NIC -> port -> leaf -> port -> NIC -> PCIe -> GPU on one leaf is 2.8 us.
  auto topology = build_topology(fat_tree_params(TopologyKind::kMultiPlaneFatTree, 4, 8, 8));
  const auto nodes = attach_nodes(topology, NodeParams{}, 4);
  Router fabric(topology);
  GpuRouter router(fabric, nodes);
  const Route route = router.route({0, 5}, {1, 5}, 0);
  EXPECT_EQ(route_latency(fabric.links(), route), published_us("ib_same_leaf"));
}

}  // namespace
}  // namespace codesim::topo
