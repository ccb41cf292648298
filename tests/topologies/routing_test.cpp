// Routing on hand-checkable fabrics: ft2 of radix 4 (4 leaves, 2 spines), a 2-plane MPFT of
// radix 4 (per plane 4 leaves, 2 spines), ft3 with k = 4 (4 pods, 4 cores), and a 2-plane MPFT
// with 2-GPU nodes attached for NVLink forwarding.

#include "topologies/routing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <set>

#include "sim/flow_network.hpp"
#include "sim/simulator.hpp"
#include "table3.hpp"
#include "topologies/fat_tree.hpp"

namespace codesim::topo {
namespace {

using testing::fat_tree_params;

Topology ft2_radix4() {  // 4 nodes x 2 NICs: 8 endpoints, 4 leaves, 2 spines
  return build_topology(fat_tree_params(TopologyKind::kFatTree2, 4, 2, 4));
}
Topology mpft_two_planes() {  // 8 nodes x 2 NICs; per plane 8 endpoints, 4 leaves, 2 spines
  return build_topology(fat_tree_params(TopologyKind::kMultiPlaneFatTree, 8, 2, 4));
}
Topology ft3_k4() {  // 8 nodes x 2 NICs: 16 endpoints, 4 pods, 4 cores
  return build_topology(fat_tree_params(TopologyKind::kFatTree3, 8, 2, 4));
}

std::vector<VertexId> vertices_of(const Graph& g, VertexKind kind) {
  std::vector<VertexId> out;
  for (VertexId v = 0; v < boost::num_vertices(g); ++v) {
    if (g[v].kind == kind) out.push_back(v);
  }
  return out;
}

// Hops by plain BFS over the whole graph (fabric endpoints have degree 1, so no shortest path
// between two of them passes through a third); -1 when unreachable.
int bfs_hops(const Graph& g, VertexId src, VertexId dst) {
  std::vector<int> dist(boost::num_vertices(g), -1);
  std::deque<VertexId> queue{src};
  dist[src] = 0;
  while (!queue.empty()) {
    const VertexId v = queue.front();
    queue.pop_front();
    for (auto [it, end] = boost::adjacent_vertices(v, g); it != end; ++it) {
      if (dist[*it] < 0) {
        dist[*it] = dist[v] + 1;
        queue.push_back(*it);
      }
    }
  }
  return dist[dst];
}

// Each link starts where the previous one ended, from src to dst.
void expect_contiguous(const LinkIndex& links, const Route& route, VertexId src, VertexId dst) {
  ASSERT_FALSE(route.empty());
  EXPECT_EQ(links.from(route.front()), src);
  for (std::size_t i = 1; i < route.size(); ++i) {
    EXPECT_EQ(links.from(route[i]), links.to(route[i - 1])) << "hop " << i;
  }
  EXPECT_EQ(links.to(route.back()), dst);
}

std::vector<VertexId> vertices_along(const LinkIndex& links, const Route& route) {
  std::vector<VertexId> out{links.from(route.front())};
  for (LinkId link : route) out.push_back(links.to(link));
  return out;
}

TEST(LinkIndex, EachEdgeIsTwoDirectedLinksInEdgeOrder) {
  const auto topology = ft2_radix4();
  const Graph& g = topology.graph;
  const LinkIndex links(g);
  ASSERT_EQ(links.link_count(), 2 * boost::num_edges(g));
  LinkId link = 0;
  for (auto [it, end] = boost::edges(g); it != end; ++it, link += 2) {
    EXPECT_EQ(links.from(link), boost::source(*it, g));
    EXPECT_EQ(links.to(link), boost::target(*it, g));
    EXPECT_EQ(links.from(LinkIndex::reverse(link)), boost::target(*it, g));
    EXPECT_EQ(LinkIndex::edge_of(link + 1), link / 2);
  }
  for (VertexId v = 0; v < boost::num_vertices(g); ++v) {
    EXPECT_EQ(links.arcs(v).size(), boost::degree(v, g));
    for (const auto& arc : links.arcs(v)) {
      EXPECT_EQ(links.from(arc.link), v);
      EXPECT_EQ(links.to(arc.link), arc.to);
    }
  }
}

TEST(LinkIndex, PopulatesAFlowNetworkOneLinkPerDirection) {
  const auto topology = ft2_radix4();
  const LinkIndex links(topology.graph);
  const auto specs = directed_links(links);
  ASSERT_EQ(specs.size(), links.link_count());
  EXPECT_DOUBLE_EQ(specs[0].bandwidth_Bps, 400e9 / 8);
  // Edge 0 joins endpoint n0.nic0 to its leaf: (per switch 0.45 + endpoint 2.35 us) / 2.
  EXPECT_EQ(specs[1].latency, sim::nanoseconds(1400));
  sim::Simulator simulator;
  sim::FlowNetwork network(simulator);
  network.add_link(1.0, sim::Time());  // a link of someone else's: routes are offset by one
  EXPECT_EQ(add_links_to(network, links), 1u);
  EXPECT_EQ(network.link_count(), links.link_count() + 1);
}

TEST(Ecmp, HashIsSplitMix64) {
  EXPECT_EQ(ecmp_hash(1, 2, 3), splitmix64(splitmix64(splitmix64(1) ^ 2) ^ 3));
  EXPECT_NE(ecmp_hash(1, 2, 3), ecmp_hash(2, 1, 3));
}

void expect_all_pairs_minimal(const Topology& topology, int longest) {
  Router router(topology);
  const auto endpoints = vertices_of(topology.graph, VertexKind::kEndpoint);
  int max_hops = 0;
  for (VertexId a : endpoints) {
    for (VertexId b : endpoints) {
      if (a == b) continue;
      const Route route = router.route(a, b, 7);
      expect_contiguous(router.links(), route, a, b);
      const int hops = bfs_hops(topology.graph, a, b);
      EXPECT_EQ(static_cast<int>(route.size()), hops);
      EXPECT_EQ(router.distance(a, b), hops);
      max_hops = std::max(max_hops, hops);
    }
  }
  EXPECT_EQ(max_hops, longest);
}

TEST(Routing, Ft2RoutesAreMinimalAndContiguous) {
  expect_all_pairs_minimal(ft2_radix4(), 4);
}

TEST(Routing, Ft3RoutesAreMinimalAndContiguous) {
  expect_all_pairs_minimal(ft3_k4(), 6);
}

TEST(Routing, EveryFabricKindRoutesMinimally) {
  std::vector<TopologyParams> kinds;
  kinds.push_back(fat_tree_params(TopologyKind::kMultiRailFatTree, 4, 2, 4));
  for (const auto& params : testing::small_other_kinds()) kinds.push_back(params);
  for (const auto& params : kinds) {
    const auto topology = build_topology(params);
    Router router(topology);
    const auto endpoints = vertices_of(topology.graph, VertexKind::kEndpoint);
    const std::size_t step = std::max<std::size_t>(1, endpoints.size() / 24);
    for (std::size_t i = 0; i < endpoints.size(); i += step) {
      for (std::size_t j = 0; j < endpoints.size(); j += step) {
        if (i == j) continue;
        const Route route = router.route(endpoints[i], endpoints[j], i * 31 + j);
        expect_contiguous(router.links(), route, endpoints[i], endpoints[j]);
        EXPECT_EQ(static_cast<int>(route.size()),
                  bfs_hops(topology.graph, endpoints[i], endpoints[j]))
            << int(topology.kind);
      }
    }
  }
}

TEST(Routing, EndpointsAreFoundByNodeAndNic) {
  const auto topology = ft2_radix4();
  Router router(topology);
  EXPECT_EQ(router.label(router.endpoint(3, 1)), "n3.nic1");
  EXPECT_THROW(router.endpoint(4, 0), std::out_of_range);
  EXPECT_TRUE(router.route(router.endpoint(0, 0), router.endpoint(0, 0), 1).empty());
}

// The switches a set of routes passes through at `layer`.
std::set<VertexId> switches_used(const Router& router, const std::vector<Route>& routes,
                                 const Graph& g, int layer) {
  std::set<VertexId> used;
  for (const Route& route : routes) {
    for (VertexId v : vertices_along(router.links(), route)) {
      if (g[v].kind == VertexKind::kSwitch && g[v].layer == layer) used.insert(v);
    }
  }
  return used;
}

TEST(Ecmp, SameInputsSameRouteAndKeysSpreadOverAllSpines) {
  const auto topology = ft2_radix4();
  Router router(topology);
  Router twin(topology);
  const VertexId a = router.endpoint(0, 0);
  const VertexId b = router.endpoint(3, 1);
  std::vector<Route> routes;
  for (std::uint64_t key = 0; key < 64; ++key) {
    routes.push_back(router.route(a, b, key));
    EXPECT_EQ(routes.back(), twin.route(a, b, key));
    EXPECT_EQ(routes.back(), router.route(a, b, key));
  }
  EXPECT_EQ(switches_used(router, routes, topology.graph, 2).size(), 2u);
}

TEST(Ecmp, Ft3KeysSpreadOverAllCores) {
  const auto topology = ft3_k4();
  Router router(topology);
  const VertexId a = router.endpoint(0, 0);  // pod 0
  const VertexId b = router.endpoint(7, 1);  // pod 3
  std::vector<Route> routes;
  for (std::uint64_t key = 0; key < 128; ++key) routes.push_back(router.route(a, b, key));
  EXPECT_EQ(switches_used(router, routes, topology.graph, 3).size(), 4u);
  EXPECT_EQ(switches_used(router, routes, topology.graph, 2).size(), 4u);  // 2 aggs per pod
}

TEST(Routing, MultiPlaneRoutesStayInTheirPlane) {
  const auto topology = mpft_two_planes();
  for (const bool stay : {false, true}) {
    RoutingOptions options;
    options.stay_in_plane = stay;
    Router router(topology, options);
    std::vector<Route> routes;
    for (int n = 0; n < 8; ++n) {
      for (int m = 0; m < 8; ++m) {
        for (int i = 0; i < 2; ++i) {
          const VertexId a = router.endpoint(n, i);
          if (n == m) {
            EXPECT_THROW(router.route(a, router.endpoint(m, 1 - i), 0), Unreachable);
            continue;
          }
          const VertexId b = router.endpoint(m, i);
          for (std::uint64_t key = 0; key < 4; ++key) {
            const Route route = router.route(a, b, key);
            expect_contiguous(router.links(), route, a, b);
            EXPECT_EQ(static_cast<int>(route.size()), bfs_hops(topology.graph, a, b));
            for (VertexId v : vertices_along(router.links(), route)) {
              EXPECT_EQ(topology.graph[v].plane, i);
            }
            for (LinkId link : route) EXPECT_EQ(router.links().plane(link), i);
            routes.push_back(route);
          }
          EXPECT_EQ(router.distance(a, router.endpoint(m, 1 - i)), -1);
        }
      }
    }
    EXPECT_EQ(switches_used(router, routes, topology.graph, 2).size(), 4u);  // 2 spines x 2 planes
  }
}

TEST(Adaptive, PicksTheLessLoadedSpine) {
  const auto topology = ft2_radix4();
  Router router(topology);
  const VertexId a = router.endpoint(0, 0);
  const VertexId b = router.endpoint(3, 1);
  for (std::uint64_t key = 0; key < 16; ++key) {
    const Route ecmp = router.route(a, b, key);
    // Load the spine ECMP picked (its leaf-to-spine uplink): adaptive must take the other one.
    std::vector<double> load(router.links().link_count(), 0.0);
    load[ecmp[1]] = 1e6;
    const Route adaptive = router.route_adaptive(a, b, key, load);
    expect_contiguous(router.links(), adaptive, a, b);
    EXPECT_EQ(adaptive.size(), ecmp.size());
    EXPECT_NE(router.links().to(adaptive[1]), router.links().to(ecmp[1]));
    // With no load it is ECMP.
    EXPECT_EQ(router.route_adaptive(a, b, key, std::vector<double>(load.size(), 0.0)), ecmp);
  }
  EXPECT_THROW(router.route_adaptive(a, b, 0, std::vector<double>(3, 0.0)), std::invalid_argument);
}

TEST(Failures, AFailedLinkOrSwitchIsAvoided) {
  const auto topology = ft2_radix4();
  Router healthy(topology);
  const VertexId a = healthy.endpoint(0, 0);
  const VertexId b = healthy.endpoint(3, 1);
  const Route first = healthy.route(a, b, 0);
  const LinkId uplink = first[1];  // leaf 0 to the spine ECMP chose
  const VertexId spine = healthy.links().to(uplink);

  RoutingOptions link_down;
  link_down.failures.links = {LinkIndex::reverse(uplink)};  // either direction fails the link
  Router without_link(topology, link_down);
  RoutingOptions switch_down;
  switch_down.failures.switches = {spine};
  Router without_switch(topology, switch_down);
  for (std::uint64_t key = 0; key < 32; ++key) {
    for (Router* router : {&without_link, &without_switch}) {
      const Route route = router->route(a, b, key);
      expect_contiguous(router->links(), route, a, b);
      EXPECT_EQ(route.size(), 4u);
      EXPECT_NE(router->links().to(route[1]), spine);
      EXPECT_EQ(std::count(route.begin(), route.end(), uplink), 0);
    }
  }
}

TEST(Failures, AllPathsFailedIsReportedUnreachableNamingThePair) {
  const auto topology = ft2_radix4();
  Router healthy(topology);
  const VertexId a = healthy.endpoint(0, 0);
  const VertexId b = healthy.endpoint(3, 1);
  RoutingOptions options;
  for (const auto& arc : healthy.links().arcs(healthy.links().to(healthy.route(a, b, 0)[0]))) {
    if (topology.graph[arc.to].kind == VertexKind::kSwitch) options.failures.links.insert(arc.link);
  }
  ASSERT_EQ(options.failures.links.size(), 2u);  // leaf 0's two uplinks
  Router router(topology, options);
  EXPECT_EQ(router.distance(a, b), -1);
  try {
    router.route(a, b, 0);
    FAIL() << "expected Unreachable";
  } catch (const Unreachable& e) {
    EXPECT_EQ(e.src(), a);
    EXPECT_EQ(e.dst(), b);
    EXPECT_NE(std::string(e.what()).find("n0.nic0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("n3.nic1"), std::string::npos) << e.what();
  }
  // Same-leaf traffic still flows.
  EXPECT_EQ(router.route(a, router.endpoint(0, 1), 0).size(), 2u);
}

TEST(Failures, AFailedPlaneTakesItsTrafficDownAndLeavesTheOthers) {
  const auto topology = mpft_two_planes();
  RoutingOptions options;
  options.failures.planes = {0};
  Router router(topology, options);
  EXPECT_THROW(router.route(router.endpoint(0, 0), router.endpoint(5, 0), 0), Unreachable);
  const Route route = router.route(router.endpoint(0, 1), router.endpoint(5, 1), 0);
  expect_contiguous(router.links(), route, router.endpoint(0, 1), router.endpoint(5, 1));
}

// 8 nodes of 2 GPUs and 2 NICs (one per PCIe switch) on the 2-plane MPFT.
struct Cluster {
  Topology topology = mpft_two_planes();
  std::vector<NodeVertices> nodes;
  Cluster() {
    NodeParams params;
    params.gpus = 2;
    params.nics = 2;
    params.pcie_switches = 2;
    nodes = attach_nodes(topology, params, 8);
  }
};

TEST(NvlinkForwarding, FabricToTheSameRailThenNvlink) {
  Cluster cluster;
  const Graph& g = cluster.topology.graph;
  Router fabric(cluster.topology);
  GpuRouter router(fabric, cluster.nodes);
  const GpuId src{0, 0};
  const GpuId dst{5, 1};
  for (std::uint64_t key = 0; key < 8; ++key) {
    const Route route = router.route(src, dst, key);
    expect_contiguous(fabric.links(), route, cluster.nodes[0].gpus[0], cluster.nodes[5].gpus[1]);
    const auto along = vertices_along(fabric.links(), route);
    // gpu0 -> pcie -> nic0 -> n0.nic0 -> leaf -> spine -> leaf -> n5.nic0 -> nic0 -> pcie -> gpu0
    // -> nvswitch -> gpu1: the fabric part is plane 0 and ends at node 5's NIC 0.
    ASSERT_EQ(along.size(), 13u);
    EXPECT_EQ(along[3], fabric.endpoint(0, 0));
    EXPECT_EQ(along[7], fabric.endpoint(5, 0));
    EXPECT_EQ(along[8], cluster.nodes[5].nics[0]);
    EXPECT_EQ(along[10], cluster.nodes[5].gpus[0]);
    EXPECT_EQ(along[11], cluster.nodes[5].nvswitch);
    for (std::size_t i = 3; i <= 7; ++i) EXPECT_EQ(g[along[i]].plane, 0) << g[along[i]].label;
    EXPECT_EQ(route, router.route(src, dst, key));
  }
  EXPECT_THROW(router.route(src, dst, 0, Forwarding::kDirect), Unreachable);
}

TEST(NvlinkForwarding, PxnGoesOverNvlinkFirstThenTheDestinationsPlane) {
  Cluster cluster;
  const Graph& g = cluster.topology.graph;
  Router fabric(cluster.topology);
  GpuRouter router(fabric, cluster.nodes);
  const Route route = router.route({0, 0}, {5, 1}, 3, Forwarding::kNvlinkThenFabric);
  expect_contiguous(fabric.links(), route, cluster.nodes[0].gpus[0], cluster.nodes[5].gpus[1]);
  const auto along = vertices_along(fabric.links(), route);
  ASSERT_EQ(along.size(), 13u);
  EXPECT_EQ(along[1], cluster.nodes[0].nvswitch);
  EXPECT_EQ(along[2], cluster.nodes[0].gpus[1]);
  EXPECT_EQ(along[5], fabric.endpoint(0, 1));
  EXPECT_EQ(along[9], fabric.endpoint(5, 1));
  for (std::size_t i = 5; i <= 9; ++i) EXPECT_EQ(g[along[i]].plane, 1);
  // Same rail needs no NVLink; same node is NVLink only.
  EXPECT_EQ(router.route({0, 1}, {5, 1}, 3).size(), 10u);
  EXPECT_EQ(router.route({2, 0}, {2, 1}, 3).size(), 2u);
}

TEST(NvlinkForwarding, DirectRoutesCrossRailsOnASinglePlaneFabric) {
  auto topology = ft2_radix4();
  NodeParams params;
  params.gpus = 2;
  params.nics = 2;
  params.pcie_switches = 2;
  const auto nodes = attach_nodes(topology, params, 4);
  Router fabric(topology);
  GpuRouter router(fabric, nodes);
  const Route route = router.route({0, 0}, {3, 1}, 5, Forwarding::kDirect);
  expect_contiguous(fabric.links(), route, nodes[0].gpus[0], nodes[3].gpus[1]);
  const auto along = vertices_along(fabric.links(), route);
  ASSERT_EQ(along.size(), 11u);  // gpu pcie nic port leaf spine leaf port nic pcie gpu
  EXPECT_EQ(along[3], fabric.endpoint(0, 0));
  EXPECT_EQ(along[7], fabric.endpoint(3, 1));
  EXPECT_EQ(router.rail_of({3, 1}), 1);
  EXPECT_THROW(router.route({4, 0}, {0, 0}, 0), std::out_of_range);
}

TEST(NvlinkForwarding, AdaptiveAndFailuresApplyToTheFabricPart) {
  Cluster cluster;
  RoutingOptions options;
  options.failures.planes = {0};
  Router fabric(cluster.topology, options);
  GpuRouter router(fabric, cluster.nodes);
  // Plane 0 is down: forwarding on rail 0 fails, PXN onto rail 1 still gets through.
  try {
    router.route({0, 0}, {5, 1}, 0);
    FAIL() << "expected Unreachable";
  } catch (const Unreachable& e) {
    EXPECT_NE(std::string(e.what()).find("n0.gpu0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("n5.gpu1"), std::string::npos) << e.what();
  }
  const std::vector<double> load(fabric.links().link_count(), 0.0);
  EXPECT_EQ(router.route_adaptive({0, 0}, {5, 1}, 0, load, Forwarding::kNvlinkThenFabric),
            router.route({0, 0}, {5, 1}, 0, Forwarding::kNvlinkThenFabric));
}

}  // namespace
}  // namespace codesim::topo
