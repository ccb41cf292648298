#include "topologies/dragonfly.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace codesim::topo {

std::vector<int> dragonfly_port_offsets(int switches_per_group, int global_links_per_switch,
                                        int groups) {
  // One round: +1, -1, +2, -2, ..., and +g/2 once when g is even: each other group once.
  std::vector<int> round;
  for (int d = 1; 2 * d < groups; ++d) {
    round.push_back(d);
    round.push_back(groups - d);
  }
  if (groups % 2 == 0 && groups >= 2) round.push_back(groups / 2);
  std::vector<int> offsets;
  const int ports = switches_per_group * global_links_per_switch;
  offsets.reserve(ports);
  for (int k = 0; k < ports && !round.empty(); ++k) offsets.push_back(round[k % round.size()]);
  return offsets;
}

bool dragonfly_offsets_balanced(const std::vector<int>& offsets, int groups) {
  std::vector<int> uses(groups, 0);
  for (int d : offsets) ++uses[d];
  for (int d = 1; d < groups; ++d) {
    if (uses[d] != uses[groups - d]) return false;
  }
  return true;
}

DragonflyParams resolve_dragonfly(const DragonflyParams& params) {
  DragonflyParams p = params;
  if (p.groups == 0) p.groups = p.switches_per_group * p.global_links_per_switch + 1;
  return p;
}

DragonflyCounts dragonfly_counts(const DragonflyParams& params) {
  const auto p = resolve_dragonfly(params);
  DragonflyCounts c;
  const long long a = p.switches_per_group;
  c.switches = a * p.groups;
  c.endpoints = c.switches * p.endpoints_per_switch;
  c.local_links = p.groups * a * (a - 1) / 2;
  c.global_links = c.switches * p.global_links_per_switch / 2;
  return c;
}

// Port k of group i with offset d, the j-th port of the group with that offset, is joined to
// the j-th port with offset g - d of group i + d (for d = g/2 that is the j-th port with the same
// offset). Each link is added once, from the side where d < g - d, or for d = g/2 the lower group.
// Bisection: split the groups in halves; with global ports spread evenly over the other groups,
// the cut holds global_links * (g/2)^2 / C(g, 2) links (local links never cross), capped at half
// the endpoints' line rate.
Topology build_dragonfly(const TopologyParams& params) {
  Topology t;
  t.kind = TopologyKind::kDragonfly;
  t.switch_radix = params.switch_radix;
  const auto df = resolve_dragonfly(params.dragonfly);
  const int a = df.switches_per_group;
  const int h = df.global_links_per_switch;
  const int g = df.groups;
  const int p = df.endpoints_per_switch;
  const double bw = params.link_Bps();
  const sim::Time lat = params.switch_link_latency();
  const sim::Time endpoint_lat = params.endpoint_link_latency();
  Graph& graph = t.graph;
  const auto counts = dragonfly_counts(df);

  for (int group = 0; group < g; ++group) {
    for (int s = 0; s < a; ++s) {
      add_vertex(graph, VertexKind::kSwitch, fmt::format("g{}.s{}", group, s), 0, 1);
    }
  }
  const auto sw = [a](long long group, int s) { return static_cast<VertexId>(group * a + s); };
  for (int group = 0; group < g; ++group) {
    for (int s = 0; s < a; ++s) {
      for (int r = s + 1; r < a; ++r) add_link(graph, sw(group, s), sw(group, r), bw, lat);
    }
  }
  const auto offsets = dragonfly_port_offsets(a, h, g);
  std::vector<int> occurrence(offsets.size());
  std::vector<std::vector<int>> ports_with_offset(g);
  for (size_t k = 0; k < offsets.size(); ++k) {
    occurrence[k] = static_cast<int>(ports_with_offset[offsets[k]].size());
    ports_with_offset[offsets[k]].push_back(static_cast<int>(k));
  }
  for (int group = 0; group < g; ++group) {
    for (size_t k = 0; k < offsets.size(); ++k) {
      const int d = offsets[k];
      const int peer_group = (group + d) % g;
      if (2 * d > g || (2 * d == g && peer_group < group)) continue;  // added from the other side
      const int peer_port = ports_with_offset[g - d][occurrence[k]];
      add_link(graph, sw(group, static_cast<int>(k) / h), sw(peer_group, peer_port / h), bw, lat);
    }
  }
  for (long long s = 0; s < counts.switches; ++s) {
    for (int e = 0; e < p; ++e) {
      const VertexId endpoint =
          add_vertex(graph, VertexKind::kEndpoint, fmt::format("s{}.ep{}", s, e), 0, 0);
      add_link(graph, endpoint, static_cast<VertexId>(s), bw, endpoint_lat);
    }
  }
  for (int s = 0; s < a; ++s) t.diameter_sources.push_back(sw(0, s));  // groups are alike
  const double half = static_cast<double>(g / 2);
  const double crossing = counts.global_links * half * (g - half) / (g * (g - 1.0) / 2.0);
  t.bisection_Bps = std::min(crossing, counts.endpoints / 2.0) * bw;
  return t;
}

}  // namespace codesim::topo
