#include "topologies/fat_tree.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace codesim::topo {
namespace {

long long ceil_div(long long a, long long b) {
  return (a + b - 1) / b;
}

struct Wiring {
  double bandwidth_Bps;
  sim::Time endpoint_latency;  // endpoint to its leaf
  sim::Time switch_latency;    // switch to switch

  explicit Wiring(const TopologyParams& params)
      : bandwidth_Bps(params.link_Bps()),
        endpoint_latency(params.endpoint_link_latency()),
        switch_latency(params.switch_link_latency()) {}
};

std::vector<VertexId> add_switches(Graph& graph, int count, const std::string& prefix, int plane,
                                   int layer) {
  std::vector<VertexId> switches;
  switches.reserve(count);
  for (int i = 0; i < count; ++i) {
    switches.push_back(
        add_vertex(graph, VertexKind::kSwitch, fmt::format("{}{}", prefix, i), plane, layer));
  }
  return switches;
}

// Endpoint i goes to leaf i / down: a node's NICs on one plane sit on consecutive ports.
void attach_endpoints(Graph& graph, const std::vector<VertexId>& endpoints,
                      const std::vector<VertexId>& leaves, int down, const Wiring& w, int plane) {
  for (size_t i = 0; i < endpoints.size(); ++i) {
    add_link(graph, endpoints[i], leaves[i / down], w.bandwidth_Bps, w.endpoint_latency, plane);
  }
}

void wire_leaves_to_spines(Graph& graph, const std::vector<VertexId>& leaves,
                           const std::vector<VertexId>& spines, int up, const Wiring& w,
                           int plane) {
  const long long spine_count = static_cast<long long>(spines.size());
  for (size_t l = 0; l < leaves.size(); ++l) {
    for (int u = 0; u < up; ++u) {
      const long long spine = (static_cast<long long>(l) * up + u) % spine_count;
      add_link(graph, leaves[l], spines[spine], w.bandwidth_Bps, w.switch_latency, plane);
    }
  }
}

std::vector<VertexId> add_endpoints(Graph& graph, const std::vector<std::pair<int, int>>& ports,
                                    int plane) {
  std::vector<VertexId> endpoints;
  endpoints.reserve(ports.size());
  for (const auto& [node, nic] : ports) {
    endpoints.push_back(
        add_vertex(graph, VertexKind::kEndpoint, fmt::format("n{}.nic{}", node, nic), plane, 0));
  }
  return endpoints;
}

// One two-layer plane over the given (node, nic) ports; returns its first leaf and spine.
std::pair<VertexId, VertexId> add_two_layer_plane(Graph& graph,
                                                  const std::vector<std::pair<int, int>>& ports,
                                                  const TopologyParams& params, int plane,
                                                  const std::string& prefix) {
  const auto shape = two_layer_shape(static_cast<long long>(ports.size()), params.switch_radix,
                                     params.oversubscription);
  const Wiring w(params);
  const auto endpoints = add_endpoints(graph, ports, plane);
  const auto leaves = add_switches(graph, shape.leaves, prefix + "leaf", plane, 1);
  const auto spines = add_switches(graph, shape.spines, prefix + "spine", plane, 2);
  attach_endpoints(graph, endpoints, leaves, shape.down, w, plane);
  wire_leaves_to_spines(graph, leaves, spines, shape.up, w, plane);
  return {leaves.front(), spines.front()};
}

// Two halves of the leaves, spines in between: a balanced cut crosses half of the endpoint
// ports or half of the leaf uplinks, whichever is fewer.
double two_layer_bisection_Bps(long long endpoints, const TwoLayerShape& shape, double link_Bps) {
  const long long uplinks = static_cast<long long>(shape.leaves) * shape.up;
  return static_cast<double>(std::min(endpoints, uplinks)) / 2.0 * link_Bps;
}

long long endpoint_count(const TopologyParams& p) {
  return static_cast<long long>(p.nodes) * p.nics_per_node;
}

}  // namespace

TwoLayerShape two_layer_shape(long long endpoints, int radix, double oversubscription) {
  TwoLayerShape shape;
  shape.down = leaf_downlinks(radix, oversubscription);
  shape.up = radix - shape.down;
  shape.leaves = static_cast<int>(ceil_div(endpoints, shape.down));
  shape.spines = static_cast<int>(ceil_div(static_cast<long long>(shape.leaves) * shape.up, radix));
  return shape;
}

// ft2: endpoint (node n, NIC j) is port n * nics + j.
Topology build_fat_tree2(const TopologyParams& params) {
  Topology t;
  t.kind = TopologyKind::kFatTree2;
  t.switch_radix = params.switch_radix;
  std::vector<std::pair<int, int>> ports;
  for (int n = 0; n < params.nodes; ++n) {
    for (int j = 0; j < params.nics_per_node; ++j) ports.emplace_back(n, j);
  }
  const auto [leaf, spine] = add_two_layer_plane(t.graph, ports, params, 0, "");
  t.diameter_sources = {leaf, spine};  // leaves are alike, spines are alike
  const auto shape =
      two_layer_shape(endpoint_count(params), params.switch_radix, params.oversubscription);
  t.bisection_Bps = two_layer_bisection_Bps(endpoint_count(params), shape, params.link_Bps());
  return t;
}

// mpft: NIC j of every node is on plane j mod planes; planes share no switch and no link, so
// traffic changes plane only inside a node (NVLink).
Topology build_multi_plane_fat_tree(const TopologyParams& params) {
  Topology t;
  t.kind = TopologyKind::kMultiPlaneFatTree;
  t.switch_radix = params.switch_radix;
  const long long per_plane = endpoint_count(params) / params.planes;
  const auto shape = two_layer_shape(per_plane, params.switch_radix, params.oversubscription);
  for (int plane = 0; plane < params.planes; ++plane) {
    std::vector<std::pair<int, int>> ports;
    for (int n = 0; n < params.nodes; ++n) {
      for (int j = plane; j < params.nics_per_node; j += params.planes) ports.emplace_back(n, j);
    }
    const auto [leaf, spine] =
        add_two_layer_plane(t.graph, ports, params, plane, fmt::format("p{}.", plane));
    if (plane == 0) t.diameter_sources = {leaf, spine};  // planes are identical
  }
  t.bisection_Bps = params.planes * two_layer_bisection_Bps(per_plane, shape, params.link_Bps());
  t.notes.push_back("diameter is within a plane; planes meet only inside nodes");
  return t;
}

// mrft: rail r's leaves take NIC r of every node; all rails' leaves share one spine layer.
Topology build_multi_rail_fat_tree(const TopologyParams& params) {
  Topology t;
  t.kind = TopologyKind::kMultiRailFatTree;
  t.switch_radix = params.switch_radix;
  const int rails = params.nics_per_node;
  const auto rail_shape =
      two_layer_shape(params.nodes, params.switch_radix, params.oversubscription);
  const Wiring w(params);
  std::vector<VertexId> leaves;
  for (int rail = 0; rail < rails; ++rail) {
    std::vector<std::pair<int, int>> ports;
    for (int n = 0; n < params.nodes; ++n) ports.emplace_back(n, rail);
    const auto endpoints = add_endpoints(t.graph, ports, 0);
    const auto rail_leaves =
        add_switches(t.graph, rail_shape.leaves, fmt::format("r{}.leaf", rail), 0, 1);
    attach_endpoints(t.graph, endpoints, rail_leaves, rail_shape.down, w, 0);
    leaves.insert(leaves.end(), rail_leaves.begin(), rail_leaves.end());
  }
  const int spine_count = static_cast<int>(
      ceil_div(static_cast<long long>(leaves.size()) * rail_shape.up, params.switch_radix));
  const auto spines = add_switches(t.graph, spine_count, "spine", 0, 2);
  wire_leaves_to_spines(t.graph, leaves, spines, rail_shape.up, w, 0);
  t.diameter_sources = {leaves.front(), spines.front()};
  TwoLayerShape shape = rail_shape;
  shape.leaves = static_cast<int>(leaves.size());
  t.bisection_Bps = two_layer_bisection_Bps(endpoint_count(params), shape, params.link_Bps());
  return t;
}

// ft3 (k-ary): pod p has k/2 leaves and k/2 aggregation switches, fully joined; aggregation
// switch j of every pod spreads its k/2 uplinks round-robin over core group j. Only the pods the
// endpoints need are built, and each core group has just the cores those pods' uplinks fill:
// ceil(pods * (k/2) / k), which is the full (k/2)^2 cores at k pods. Full bisection: half the
// endpoints' line rate.
Topology build_fat_tree3(const TopologyParams& params) {
  Topology t;
  t.kind = TopologyKind::kFatTree3;
  t.switch_radix = params.switch_radix;
  const int half = params.switch_radix / 2;
  const long long endpoints = endpoint_count(params);
  const long long per_pod = static_cast<long long>(half) * half;
  const int pods = static_cast<int>(ceil_div(endpoints, per_pod));
  const int cores_per_group =
      static_cast<int>(ceil_div(static_cast<long long>(pods) * half, params.switch_radix));
  const Wiring w(params);

  std::vector<std::pair<int, int>> ports;
  for (int n = 0; n < params.nodes; ++n) {
    for (int j = 0; j < params.nics_per_node; ++j) ports.emplace_back(n, j);
  }
  const auto endpoint_ids = add_endpoints(t.graph, ports, 0);
  const auto cores = add_switches(t.graph, half * cores_per_group, "core", 0, 3);
  std::vector<VertexId> leaves;
  for (int pod = 0; pod < pods; ++pod) {
    const auto pod_leaves = add_switches(t.graph, half, fmt::format("pod{}.leaf", pod), 0, 1);
    const auto aggs = add_switches(t.graph, half, fmt::format("pod{}.agg", pod), 0, 2);
    for (VertexId leaf : pod_leaves) {
      for (VertexId agg : aggs) add_link(t.graph, leaf, agg, w.bandwidth_Bps, w.switch_latency, 0);
    }
    for (int j = 0; j < half; ++j) {
      for (int u = 0; u < half; ++u) {
        const int core = (pod * half + u) % cores_per_group;
        add_link(t.graph, aggs[j], cores[j * cores_per_group + core], w.bandwidth_Bps,
                 w.switch_latency, 0);
      }
    }
    // Every core of group j meets aggregation switch j of every pod: one of each layer covers
    // all switches up to symmetry.
    if (pod == 0) t.diameter_sources = {pod_leaves.front(), aggs.front(), cores.front()};
    leaves.insert(leaves.end(), pod_leaves.begin(), pod_leaves.end());
  }
  attach_endpoints(t.graph, endpoint_ids, leaves, half, w, 0);
  t.bisection_Bps = static_cast<double>(endpoints) / 2.0 * params.link_Bps();
  return t;
}

// Fire-Flyer 2 (An et al., SC24): each zone a full two-layer fat-tree of radix-port switches
// (radix leaves, radix/2 spines: 40 + 20 for 40-port QM8700), one NIC per node, zones joined by
// a few leaf-to-leaf links on free leaf ports. The bisection is those inter-zone links.
Topology build_fire_flyer2(const TopologyParams& params) {
  Topology t;
  t.kind = TopologyKind::kFireFlyer2;
  t.switch_radix = params.switch_radix;
  const auto& ff = params.fire_flyer;
  const Wiring w(params);
  const int down = leaf_downlinks(params.switch_radix, params.oversubscription);
  const int up = params.switch_radix - down;
  const int leaf_count = params.switch_radix;
  const int spine_count =
      static_cast<int>(ceil_div(static_cast<long long>(leaf_count) * up, params.switch_radix));
  std::vector<std::vector<VertexId>> zone_leaves;
  std::vector<std::vector<int>> free_ports;  // per zone, per leaf
  for (int zone = 0; zone < ff.zones; ++zone) {
    std::vector<std::pair<int, int>> ports;
    for (int n = 0; n < ff.nodes_per_zone; ++n) {
      for (int j = 0; j < params.nics_per_node; ++j) {
        ports.emplace_back(zone * ff.nodes_per_zone + n, j);
      }
    }
    const auto endpoints = add_endpoints(t.graph, ports, zone);
    const std::string prefix = fmt::format("z{}.", zone);
    const auto leaves = add_switches(t.graph, leaf_count, prefix + "leaf", zone, 1);
    const auto spines = add_switches(t.graph, spine_count, prefix + "spine", zone, 2);
    attach_endpoints(t.graph, endpoints, leaves, down, w, zone);
    wire_leaves_to_spines(t.graph, leaves, spines, up, w, zone);
    std::vector<int> free(leaf_count, down);
    for (size_t i = 0; i < endpoints.size(); ++i) --free[i / down];
    if (zone == 0) t.diameter_sources = {leaves.front(), leaves.back(), spines.front()};
    zone_leaves.push_back(leaves);
    free_ports.push_back(free);
  }
  // Inter-zone links use the last leaves' free ports, from the last leaf backwards.
  auto take_port = [&](int zone) {
    for (int l = leaf_count - 1; l >= 0; --l) {
      if (free_ports[zone][l] > 0) {
        --free_ports[zone][l];
        return zone_leaves[zone][l];
      }
    }
    throw std::invalid_argument("fireflyer2: no free leaf port for an inter-zone link");
  };
  for (int zone = 0; zone + 1 < ff.zones; ++zone) {
    for (int i = 0; i < ff.inter_zone_links; ++i) {
      const VertexId a = take_port(zone);
      const VertexId b = take_port(zone + 1);
      add_link(t.graph, a, b, w.bandwidth_Bps, w.switch_latency, zone);
    }
  }
  t.bisection_Bps = ff.zones > 1
                        ? ff.inter_zone_links * params.link_Bps()
                        : two_layer_bisection_Bps(
                              static_cast<long long>(ff.nodes_per_zone) * params.nics_per_node,
                              {leaf_count, spine_count, down, up}, params.link_Bps());
  if (ff.zones > 1) {
    t.notes.push_back("bisection is the inter-zone links (zones split down the middle)");
    t.diameter_sources.clear();  // the inter-zone leaves break the symmetry: BFS from all
  }
  t.notes.push_back(fmt::format(
      "each zone built full ({} leaves, {} spines); the published system counts 122 switches",
      leaf_count, spine_count));
  return t;
}

}  // namespace codesim::topo
