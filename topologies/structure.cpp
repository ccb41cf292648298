#include "topologies/structure.hpp"

#include <algorithm>
#include <deque>
#include <vector>

namespace codesim::topo {
namespace {

bool is_switch(const Graph& g, VertexId v) {
  return g[v].kind == VertexKind::kSwitch;
}

// The switch graph in compressed rows: switch index -> neighbouring switch indices.
struct SwitchGraph {
  std::vector<int> index_of;  // vertex -> switch index, -1 for other vertices
  std::vector<long long> row_start;
  std::vector<int> neighbours;
};

SwitchGraph switch_graph(const Graph& g) {
  SwitchGraph s;
  const size_t n = boost::num_vertices(g);
  s.index_of.assign(n, -1);
  int switches = 0;
  for (VertexId v = 0; v < n; ++v) {
    if (is_switch(g, v)) s.index_of[v] = switches++;
  }
  s.row_start.assign(switches + 1, 0);
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const int a = s.index_of[boost::source(*e, g)];
    const int b = s.index_of[boost::target(*e, g)];
    if (a >= 0 && b >= 0) {
      ++s.row_start[a + 1];
      ++s.row_start[b + 1];
    }
  }
  for (int i = 0; i < switches; ++i) s.row_start[i + 1] += s.row_start[i];
  s.neighbours.resize(s.row_start.back());
  std::vector<long long> next(s.row_start.begin(), s.row_start.end() - 1);
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const int a = s.index_of[boost::source(*e, g)];
    const int b = s.index_of[boost::target(*e, g)];
    if (a >= 0 && b >= 0) {
      s.neighbours[next[a]++] = b;
      s.neighbours[next[b]++] = a;
    }
  }
  return s;
}

int eccentricity(const SwitchGraph& s, int source, std::vector<int>& distance) {
  std::fill(distance.begin(), distance.end(), -1);
  std::vector<int> queue;
  queue.reserve(distance.size());
  distance[source] = 0;
  queue.push_back(source);
  int farthest = 0;
  for (size_t head = 0; head < queue.size(); ++head) {
    const int u = queue[head];
    farthest = distance[u];
    for (long long i = s.row_start[u]; i < s.row_start[u + 1]; ++i) {
      const int w = s.neighbours[i];
      if (distance[w] < 0) {
        distance[w] = distance[u] + 1;
        queue.push_back(w);
      }
    }
  }
  return farthest;
}

}  // namespace

int switch_diameter(const Topology& topology) {
  const SwitchGraph s = switch_graph(topology.graph);
  const int switches = static_cast<int>(s.row_start.size()) - 1;
  if (switches == 0) return -1;
  std::vector<int> sources;
  for (VertexId v : topology.diameter_sources) sources.push_back(s.index_of[v]);
  if (sources.empty()) {
    for (int i = 0; i < switches; ++i) sources.push_back(i);
  }
  std::vector<int> distance(switches);
  int diameter = 0;
  for (int source : sources) diameter = std::max(diameter, eccentricity(s, source, distance));
  return diameter;
}

Structure measure(const Topology& topology) {
  const Graph& g = topology.graph;
  Structure r;
  for (VertexId v = 0; v < boost::num_vertices(g); ++v) {
    if (g[v].kind == VertexKind::kEndpoint) ++r.endpoints;
    if (is_switch(g, v)) {
      ++r.switches;
      r.max_switch_degree = std::max(r.max_switch_degree, static_cast<int>(boost::degree(v, g)));
    }
  }
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const VertexId a = boost::source(*e, g);
    const VertexId b = boost::target(*e, g);
    if (is_switch(g, a) && is_switch(g, b)) ++r.links;
    const bool a_endpoint = g[a].kind == VertexKind::kEndpoint;
    const bool b_endpoint = g[b].kind == VertexKind::kEndpoint;
    if ((a_endpoint && is_switch(g, b)) || (b_endpoint && is_switch(g, a))) ++r.endpoint_links;
  }
  r.diameter = switch_diameter(topology);
  r.bisection_Bps = topology.bisection_Bps;
  return r;
}

Cost fabric_cost(const Structure& structure, int switch_radix, const Prices& prices) {
  Cost c;
  c.switches_usd =
      static_cast<double>(structure.switches) * switch_radix * prices.switch_usd_per_port;
  c.switch_links_usd = static_cast<double>(structure.links) * prices.switch_link_usd;
  c.endpoint_links_usd = static_cast<double>(structure.endpoint_links) * prices.endpoint_link_usd;
  c.nics_usd = static_cast<double>(structure.endpoints) * prices.nic_usd;
  return c;
}

}  // namespace codesim::topo
