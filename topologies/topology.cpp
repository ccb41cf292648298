#include "topologies/topology.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "topologies/dragonfly.hpp"
#include "topologies/fat_tree.hpp"
#include "topologies/slim_fly.hpp"

namespace codesim::topo {
namespace {

void check_two_layer(const TopologyParams& p, long long endpoints_per_plane, long long leaves,
                     std::vector<ParamProblem>& problems) {
  const int down = leaf_downlinks(p.switch_radix, p.oversubscription);
  if (leaves > p.switch_radix) {
    problems.push_back(
        {TopologyParam::kNodes,
         fmt::format("{} endpoints per plane need {} leaves, but a two-layer fat-tree of {}-port "
                     "switches joins at most {} leaves ({} endpoints)",
                     endpoints_per_plane, leaves, p.switch_radix, p.switch_radix,
                     static_cast<long long>(p.switch_radix) * down),
         "fewer nodes, a larger switch_radix, more planes, or ft3"});
  }
}

// Leaves and spines of one two-layer fat-tree of `endpoints`.
long long two_layer_switches(const TopologyParams& p, long long endpoints) {
  const long long k = p.switch_radix;
  const long long down = leaf_downlinks(p.switch_radix, p.oversubscription);
  const long long leaves = (endpoints + down - 1) / down;
  const long long spines = (leaves * (k - down) + k - 1) / k;
  return leaves + spines;
}

}  // namespace

long long fabric_ports(const TopologyParams& p) {
  const long long k = p.switch_radix;
  const long long endpoints = static_cast<long long>(p.nodes) * p.nics_per_node;
  long long switches = 0;
  switch (p.kind) {
    case TopologyKind::kFatTree2:
      switches = two_layer_switches(p, endpoints);
      break;
    case TopologyKind::kMultiPlaneFatTree:
      switches = p.planes * two_layer_switches(p, endpoints / std::max(1, p.planes));
      break;
    case TopologyKind::kMultiRailFatTree:
      switches = p.nics_per_node * two_layer_switches(p, p.nodes);
      break;
    case TopologyKind::kFatTree3: {
      const long long half = k / 2;
      const long long pods = (endpoints + half * half - 1) / std::max(1LL, half * half);
      switches = pods * k + half * ((pods * half + k - 1) / k);
      break;
    }
    case TopologyKind::kSlimFly:
      switches = 2LL * p.slim_fly.q * p.slim_fly.q;
      break;
    case TopologyKind::kDragonfly:
      switches = dragonfly_counts(resolve_dragonfly(p.dragonfly)).switches;
      break;
    case TopologyKind::kFireFlyer2:
      switches = p.fire_flyer.zones *
                 two_layer_switches(
                     p, static_cast<long long>(p.fire_flyer.nodes_per_zone) * p.nics_per_node);
      break;
  }
  return switches * k;
}

sim::Time TopologyParams::switch_link_latency() const {
  return link_latency > sim::Time() ? link_latency : latency.per_switch;
}

sim::Time TopologyParams::endpoint_link_latency() const {
  return link_latency > sim::Time() ? link_latency : (latency.per_switch + latency.endpoint) / 2;
}

int leaf_downlinks(int radix, double oversubscription) {
  const int down =
      static_cast<int>(std::lround(radix * oversubscription / (1.0 + oversubscription)));
  return std::clamp(down, 1, std::max(1, radix - 1));
}

std::vector<ParamProblem> check_params(const TopologyParams& p) {
  std::vector<ParamProblem> problems;
  if (p.switch_radix < 2)
    problems.push_back({TopologyParam::kSwitchRadix, "must be at least 2", ">= 2"});
  if (!(p.link_Gbps > 0))
    problems.push_back({TopologyParam::kLink, "must be a positive bandwidth", "400Gbps"});
  if (p.link_latency < sim::Time() || p.latency.per_switch < sim::Time() ||
      p.latency.endpoint < sim::Time()) {
    problems.push_back(
        {TopologyParam::kLinkLatency, "must not be negative", "e.g. 100ns, or 0 for the model"});
  }
  if (!(p.oversubscription > 0)) {
    problems.push_back(
        {TopologyParam::kOversubscription, "must be positive", "1 (non-blocking), 2, 3, ..."});
  }
  if (!problems.empty()) return problems;
  const bool fat_tree =
      p.kind == TopologyKind::kFatTree2 || p.kind == TopologyKind::kMultiPlaneFatTree ||
      p.kind == TopologyKind::kMultiRailFatTree || p.kind == TopologyKind::kFatTree3;
  if (fat_tree && p.nodes < 1)
    problems.push_back({TopologyParam::kNodes, "must be at least 1", ">= 1"});
  if (fat_tree && p.nics_per_node < 1) {
    problems.push_back({TopologyParam::kNicsPerNode, "must be at least 1", ">= 1"});
  }
  if (!problems.empty()) return problems;
  const long long endpoints = static_cast<long long>(p.nodes) * p.nics_per_node;
  const int down = leaf_downlinks(p.switch_radix, p.oversubscription);
  auto leaves_for = [&](long long e) { return (e + down - 1) / down; };

  switch (p.kind) {
    case TopologyKind::kFatTree2:
      check_two_layer(p, endpoints, leaves_for(endpoints), problems);
      break;
    case TopologyKind::kMultiPlaneFatTree:
      if (p.planes < 1 || p.nics_per_node % p.planes != 0) {
        problems.push_back(
            {TopologyParam::kPlanes,
             fmt::format("{} planes do not divide the {} NICs per node", p.planes, p.nics_per_node),
             "a divisor of nics_per_node (NIC i goes to plane i mod planes)"});
      } else {
        check_two_layer(p, endpoints / p.planes, leaves_for(endpoints / p.planes), problems);
      }
      break;
    case TopologyKind::kMultiRailFatTree:
      check_two_layer(p, p.nodes, leaves_for(p.nodes) * p.nics_per_node, problems);
      break;
    case TopologyKind::kFatTree3: {
      const long long k = p.switch_radix;
      if (k % 2 != 0)
        problems.push_back({TopologyParam::kSwitchRadix, "a k-ary fat-tree needs even k", "64"});
      if (p.oversubscription != 1.0) {
        problems.push_back(
            {TopologyParam::kOversubscription, "ft3 is built non-blocking only", "1"});
      }
      if (endpoints > k * k * k / 4) {
        problems.push_back({TopologyParam::kNodes,
                            fmt::format("{} endpoints exceed the k^3/4 = {} of a {}-ary fat-tree",
                                        endpoints, k * k * k / 4, k),
                            "fewer nodes or a larger switch_radix"});
      }
      break;
    }
    case TopologyKind::kSlimFly: {
      const int q = p.slim_fly.q;
      if (q < 3 || slim_fly_delta(q) == 2) {
        problems.push_back({TopologyParam::kQ,
                            fmt::format("q = {} is not of the form 4w + delta", q),
                            "q >= 3 with q mod 4 in {0, 1, 3}, e.g. 5, 7, 11, 13, 28"});
        break;
      }
      const int degree = slim_fly_network_degree(q);
      const int endpoints_per_switch =
          p.slim_fly.endpoints_per_switch > 0 ? p.slim_fly.endpoints_per_switch : (degree + 1) / 2;
      const long long capacity = 2LL * q * q * endpoints_per_switch;
      if (endpoints > capacity) {
        problems.push_back(
            {TopologyParam::kNodes,
             fmt::format("{} endpoints exceed the {} of this Slim Fly", endpoints, capacity),
             "fewer nodes or a larger q"});
      }
      if (degree + endpoints_per_switch > p.switch_radix) {
        problems.push_back(
            {TopologyParam::kSwitchRadix,
             fmt::format("a Slim Fly of q = {} needs {} network + {} endpoint ports per switch", q,
                         degree, endpoints_per_switch),
             fmt::format(">= {}", degree + endpoints_per_switch)});
      }
      break;
    }
    case TopologyKind::kDragonfly: {
      const auto df = resolve_dragonfly(p.dragonfly);
      const int a = df.switches_per_group;
      const int h = df.global_links_per_switch;
      if (a < 1)
        problems.push_back({TopologyParam::kSwitchesPerGroup, "must be at least 1", ">= 1"});
      if (h < 1)
        problems.push_back({TopologyParam::kGlobalLinksPerSwitch, "must be at least 1", ">= 1"});
      if (df.endpoints_per_switch < 1) {
        problems.push_back({TopologyParam::kEndpointsPerSwitch, "must be at least 1", ">= 1"});
      }
      if (!problems.empty()) break;
      if (df.groups < 2 || df.groups > a * h + 1) {
        problems.push_back(
            {TopologyParam::kGroups,
             fmt::format("every group needs a global link to each other group: 2 <= groups <= "
                         "a*h + 1 = {}",
                         a * h + 1),
             fmt::format("2 .. {}", a * h + 1)});
        break;
      }
      if (!dragonfly_offsets_balanced(dragonfly_port_offsets(a, h, df.groups), df.groups)) {
        problems.push_back(
            {TopologyParam::kGlobalLinksPerSwitch,
             fmt::format("the {} global ports of a group do not pair up round-robin over {} groups",
                         a * h, df.groups),
             "a*h even when groups is odd, or groups = a*h + 1"});
      }
      const long long capacity = dragonfly_counts(df).endpoints;
      if (endpoints > capacity) {
        problems.push_back(
            {TopologyParam::kNodes,
             fmt::format("{} endpoints exceed the {} of this Dragonfly", endpoints, capacity),
             "fewer nodes or more groups"});
      }
      const int ports = df.endpoints_per_switch + h + a - 1;
      if (ports > p.switch_radix) {
        problems.push_back({TopologyParam::kSwitchRadix,
                            fmt::format("p + h + a - 1 = {} ports per switch are needed", ports),
                            fmt::format(">= {}", ports)});
      }
      break;
    }
    case TopologyKind::kFireFlyer2: {
      const auto& ff = p.fire_flyer;
      if (ff.zones < 1) problems.push_back({TopologyParam::kZones, "must be at least 1", ">= 1"});
      if (ff.inter_zone_links < 0) {
        problems.push_back({TopologyParam::kInterZoneLinks, "must not be negative", ">= 0"});
      }
      const long long zone_ports = static_cast<long long>(p.switch_radix) * down;
      const long long bundles = ff.zones > 2 ? 2 : (ff.zones == 2 ? 1 : 0);
      const long long used = static_cast<long long>(ff.nodes_per_zone) * p.nics_per_node +
                             bundles * ff.inter_zone_links;
      if (ff.nodes_per_zone < 1 || used > zone_ports) {
        problems.push_back(
            {TopologyParam::kNodesPerZone,
             fmt::format("a zone of {}-port switches has {} leaf ports; {} are needed",
                         p.switch_radix, zone_ports, used),
             fmt::format("1 .. {} nodes per zone", (zone_ports - bundles * ff.inter_zone_links) /
                                                       std::max(1, p.nics_per_node))});
      }
      break;
    }
  }
  if (problems.empty()) {
    // Refused before it is built: a fabric larger than the builders hold in memory.
    const long long ports = fabric_ports(p);
    if (ports > kMaxFabricPorts) {
      const TopologyParam blame = p.kind == TopologyKind::kSlimFly     ? TopologyParam::kQ
                                  : p.kind == TopologyKind::kDragonfly ? TopologyParam::kGroups
                                  : p.kind == TopologyKind::kFireFlyer2
                                      ? TopologyParam::kNodesPerZone
                                      : TopologyParam::kNodes;
      problems.push_back(
          {blame,
           fmt::format("the fabric would have {} switch ports of {} ports each, about {:.1f} GiB "
                       "to build; codesim builds at most {} ports (about {:.1f} GiB)",
                       ports, p.switch_radix, ports * kFabricBytesPerPort / (1 << 30),
                       kMaxFabricPorts, kMaxFabricPorts * kFabricBytesPerPort / (1 << 30)),
           "fewer nodes, or switches of fewer ports"});
    }
  }
  return problems;
}

Topology build_topology(const TopologyParams& params) {
  const auto problems = check_params(params);
  if (!problems.empty()) {
    throw std::invalid_argument("topology parameters: " + problems.front().message);
  }
  switch (params.kind) {
    case TopologyKind::kFatTree2:
      return build_fat_tree2(params);
    case TopologyKind::kMultiPlaneFatTree:
      return build_multi_plane_fat_tree(params);
    case TopologyKind::kMultiRailFatTree:
      return build_multi_rail_fat_tree(params);
    case TopologyKind::kFatTree3:
      return build_fat_tree3(params);
    case TopologyKind::kSlimFly:
      return build_slim_fly(params);
    case TopologyKind::kDragonfly:
      return build_dragonfly(params);
    case TopologyKind::kFireFlyer2:
      return build_fire_flyer2(params);
  }
  throw std::invalid_argument("unknown topology kind");
}

}  // namespace codesim::topo
