#include "topologies/routing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <utility>

namespace codesim::topo {
namespace {

constexpr VertexId kNoVertex = std::numeric_limits<VertexId>::max();

// "n<node>.nic<nic>" -> (node, nic); anything else -> nullopt.
std::optional<std::pair<int, int>> parse_port_label(const std::string& label) {
  const char* p = label.data();
  const char* end = p + label.size();
  if (p == end || *p != 'n') return std::nullopt;
  int node = 0;
  auto [after_node, e1] = std::from_chars(p + 1, end, node);
  if (e1 != std::errc() || after_node == p + 1) return std::nullopt;
  constexpr std::string_view kNic = ".nic";
  if (static_cast<std::size_t>(end - after_node) <= kNic.size() ||
      std::string_view(after_node, kNic.size()) != kNic) {
    return std::nullopt;
  }
  int nic = 0;
  const char* nic_begin = after_node + kNic.size();
  auto [after_nic, e2] = std::from_chars(nic_begin, end, nic);
  if (e2 != std::errc() || after_nic != end || node < 0 || nic < 0) return std::nullopt;
  return std::pair{node, nic};
}

}  // namespace

Router::Router(const Topology& topology, RoutingOptions options)
    : links_(topology.graph), options_(std::move(options)) {
  const Graph& graph = topology.graph;
  const std::size_t vertices = boost::num_vertices(graph);
  const Failures& failed = options_.failures;
  kinds_.reserve(vertices);
  planes_.reserve(vertices);
  labels_.reserve(vertices);
  vertex_ok_.assign(vertices, true);
  switch_of_.assign(vertices, kNotSwitch);
  for (VertexId v = 0; v < vertices; ++v) {
    const Vertex& vertex = graph[v];
    kinds_.push_back(vertex.kind);
    planes_.push_back(vertex.plane);
    labels_.push_back(vertex.label);
    if (failed.switches.count(v) != 0) vertex_ok_[v] = false;
    if (vertex.kind == VertexKind::kSwitch) {
      if (failed.planes.count(vertex.plane) != 0) vertex_ok_[v] = false;
      switch_of_[v] = static_cast<std::uint32_t>(switches_.size());
      switches_.push_back(v);
    }
    if (vertex.kind == VertexKind::kEndpoint) {
      if (const auto port = parse_port_label(vertex.label)) {
        const auto [node, nic] = *port;
        if (endpoints_.size() <= static_cast<std::size_t>(node)) endpoints_.resize(node + 1);
        auto& nics = endpoints_[node];
        if (nics.size() <= static_cast<std::size_t>(nic)) nics.resize(nic + 1, kNoVertex);
        nics[nic] = v;
      }
    }
  }
  for (VertexId v : failed.switches) {
    if (v >= vertices) throw std::out_of_range(fmt::format("failed switch {}: no such vertex", v));
  }
  const std::size_t edges = links_.link_count() / 2;
  link_ok_.assign(edges, true);
  for (LinkId link : failed.links) {
    if (link >= links_.link_count()) {
      throw std::out_of_range(fmt::format("failed link {}: no such link", link));
    }
    link_ok_[LinkIndex::edge_of(link)] = false;
  }
  for (std::uint32_t e = 0; e < edges; ++e) {
    const LinkId link = 2 * e;
    if (failed.planes.count(links_.plane(link)) != 0 || !vertex_ok_[links_.from(link)] ||
        !vertex_ok_[links_.to(link)]) {
      link_ok_[e] = false;
    }
  }
  switch_offsets_.assign(switches_.size() + 1, 0);
  for (std::size_t s = 0; s < switches_.size(); ++s) {
    for (const auto& arc : links_.arcs(switches_[s])) {
      if (usable_link(arc.link) && switch_of_[arc.to] != kNotSwitch) {
        switch_neighbors_.push_back(switch_of_[arc.to]);
      }
    }
    switch_offsets_[s + 1] = switch_neighbors_.size();
  }
  distances_.resize(switches_.size());
}

VertexId Router::endpoint(int node, int nic) const {
  if (node >= 0 && nic >= 0 && static_cast<std::size_t>(node) < endpoints_.size() &&
      static_cast<std::size_t>(nic) < endpoints_[node].size() &&
      endpoints_[node][nic] != kNoVertex) {
    return endpoints_[node][nic];
  }
  throw std::out_of_range(fmt::format("the fabric has no endpoint 'n{}.nic{}'", node, nic));
}

const std::vector<std::uint16_t>& Router::switch_distances(std::uint32_t target) {
  auto& dist = distances_[target];
  if (!dist.empty()) return dist;
  dist.assign(switches_.size(), kFar);
  const VertexId target_vertex = switches_[target];
  if (!vertex_ok_[target_vertex]) return dist;
  const int plane = planes_[target_vertex];
  std::vector<std::uint32_t> frontier{target};
  dist[target] = 0;
  for (std::size_t head = 0; head < frontier.size(); ++head) {
    const std::uint32_t s = frontier[head];
    for (std::size_t i = switch_offsets_[s]; i < switch_offsets_[s + 1]; ++i) {
      const std::uint32_t next = switch_neighbors_[i];
      if (dist[next] != kFar) continue;
      if (options_.stay_in_plane && planes_[switches_[next]] != plane) continue;
      dist[next] = static_cast<std::uint16_t>(dist[s] + 1);
      frontier.push_back(next);
    }
  }
  return dist;
}

Router::Goal Router::goal(VertexId src, VertexId dst) {
  const std::size_t vertices = kinds_.size();
  if (src >= vertices || dst >= vertices) {
    throw std::out_of_range(fmt::format("route {} -> {}: no such vertex", src, dst));
  }
  Goal g;
  g.dst = dst;
  if (options_.stay_in_plane) g.plane = planes_[src];
  if (switch_of_[dst] != kNotSwitch) {
    g.tables.push_back(&switch_distances(switch_of_[dst]));
    return g;
  }
  g.extra = 1;
  for (const auto& arc : links_.arcs(dst)) {
    if (usable_link(arc.link) && switch_of_[arc.to] != kNotSwitch) {
      g.tables.push_back(&switch_distances(switch_of_[arc.to]));
    }
  }
  return g;
}

int Router::cost(const Goal& g, const LinkIndex::Arc& arc) const {
  if (!usable_link(arc.link)) return kFar;
  if (arc.to == g.dst) return 0;
  const std::uint32_t s = switch_of_[arc.to];
  if (s == kNotSwitch) return kFar;  // no transit through endpoints or node insides
  if (g.plane != -2 && planes_[arc.to] != g.plane) return kFar;
  int best = kFar;
  for (const auto* table : g.tables) {
    if ((*table)[s] != kFar) best = std::min(best, (*table)[s] + g.extra);
  }
  return best;
}

int Router::distance(VertexId src, VertexId dst) {
  const Goal g = goal(src, dst);
  if (src == dst) return 0;
  if (!vertex_ok_[src] || !vertex_ok_[dst]) return -1;
  int best = kFar;
  for (const auto& arc : links_.arcs(src)) best = std::min(best, cost(g, arc));
  return best == kFar ? -1 : best + 1;
}

void Router::unreachable(VertexId src, VertexId dst) const {
  throw Unreachable(src, dst,
                    fmt::format("no usable route from {} (vertex {}) to {} (vertex {})",
                                labels_[src], src, labels_[dst], dst));
}

Route Router::route(VertexId src, VertexId dst, std::uint64_t flow_key) {
  return route_impl(src, dst, flow_key, {});
}

Route Router::route_adaptive(VertexId src, VertexId dst, std::uint64_t flow_key,
                             std::span<const double> load) {
  if (load.size() != links_.link_count()) {
    throw std::invalid_argument(fmt::format("route_adaptive: {} loads for {} directed links",
                                            load.size(), links_.link_count()));
  }
  return route_impl(src, dst, flow_key, load);
}

Route Router::route_impl(VertexId src, VertexId dst, std::uint64_t flow_key,
                         std::span<const double> load) {
  const Goal g = goal(src, dst);
  Route route;
  if (src == dst) return route;
  if (!vertex_ok_[src] || !vertex_ok_[dst]) unreachable(src, dst);
  const std::uint64_t hash = ecmp_hash(src, dst, flow_key);
  std::vector<LinkIndex::Arc> ties;
  for (VertexId at = src; at != dst;) {
    int best = kFar;
    ties.clear();
    for (const auto& arc : links_.arcs(at)) {
      const int c = cost(g, arc);
      if (c < best) {
        best = c;
        ties.clear();
      }
      if (c == best && c != kFar) ties.push_back(arc);
    }
    if (ties.empty()) unreachable(src, dst);
    if (!load.empty()) {
      double least = load[ties.front().link];
      for (const auto& arc : ties) least = std::min(least, load[arc.link]);
      std::erase_if(ties, [&](const LinkIndex::Arc& arc) { return load[arc.link] != least; });
    }
    const auto& next = ties[splitmix64(hash ^ at) % ties.size()];
    route.push_back(next.link);
    at = next.to;
  }
  return route;
}

// ---- GPUs of composed nodes ----

GpuRouter::GpuRouter(Router& fabric, std::vector<NodeVertices> nodes)
    : fabric_(fabric), nodes_(std::move(nodes)) {}

VertexId GpuRouter::gpu_vertex(GpuId gpu) const {
  if (gpu.node < 0 || static_cast<std::size_t>(gpu.node) >= nodes_.size() || gpu.gpu < 0 ||
      static_cast<std::size_t>(gpu.gpu) >= nodes_[gpu.node].gpus.size()) {
    throw std::out_of_range(fmt::format("no GPU n{}.gpu{}", gpu.node, gpu.gpu));
  }
  return nodes_[gpu.node].gpus[gpu.gpu];
}

int GpuRouter::rail_of(GpuId gpu) const {
  gpu_vertex(gpu);  // bounds
  const auto& node = nodes_[gpu.node];
  return static_cast<int>(gpu.gpu * node.nics.size() / node.gpus.size());
}

VertexId GpuRouter::nic_port(int node, int nic) const {
  const VertexId nic_vertex = nodes_.at(node).nics.at(nic);
  for (const auto& arc : fabric_.links().arcs(nic_vertex)) {
    if (fabric_.kind(arc.to) == VertexKind::kEndpoint) return arc.to;
  }
  throw std::out_of_range(fmt::format("NIC n{}.nic{} has no fabric port", node, nic));
}

void GpuRouter::append_link(Route& route, VertexId a, VertexId b) const {
  const auto link = fabric_.links().find(a, b);
  if (!link) {
    throw std::logic_error(
        fmt::format("{} and {} are not joined", fabric_.label(a), fabric_.label(b)));
  }
  if (!fabric_.usable_link(*link)) {
    throw Unreachable(a, b,
                      fmt::format("the link {} - {} is down", fabric_.label(a), fabric_.label(b)));
  }
  route.push_back(*link);
}

// GPU or NIC to GPU or NIC through their PCIe switches, and the CPU when the switches differ.
void GpuRouter::append_pcie(Route& route, VertexId a, VertexId b) const {
  const auto neighbor = [&](VertexId v, VertexKind kind) {
    for (const auto& arc : fabric_.links().arcs(v)) {
      if (fabric_.kind(arc.to) == kind) return arc.to;
    }
    throw std::logic_error(
        fmt::format("{} has no {} neighbour", fabric_.label(v), vertex_kind_name(kind)));
  };
  const VertexId switch_a = neighbor(a, VertexKind::kPcieSwitch);
  const VertexId switch_b = neighbor(b, VertexKind::kPcieSwitch);
  append_link(route, a, switch_a);
  if (switch_a != switch_b) {
    const VertexId cpu = neighbor(switch_a, VertexKind::kCpu);
    append_link(route, switch_a, cpu);
    append_link(route, cpu, switch_b);
  }
  append_link(route, switch_b, b);
}

void GpuRouter::append_nvlink(Route& route, int node, VertexId a, VertexId b) const {
  if (a == b) return;
  const LinkIndex& links = fabric_.links();
  const VertexId nvswitch = nodes_[node].nvswitch;
  if (fabric_.kind(nvswitch) == VertexKind::kNvSwitch && links.find(a, nvswitch) &&
      links.find(nvswitch, b)) {
    append_link(route, a, nvswitch);
    append_link(route, nvswitch, b);
  } else if (links.find(a, b)) {
    append_link(route, a, b);  // an NVLink bridge
  } else {
    append_pcie(route, a, b);
  }
}

Route GpuRouter::route(GpuId src, GpuId dst, std::uint64_t flow_key, Forwarding forwarding) {
  return route_impl(src, dst, flow_key, {}, forwarding);
}

Route GpuRouter::route_adaptive(GpuId src, GpuId dst, std::uint64_t flow_key,
                                std::span<const double> load, Forwarding forwarding) {
  if (load.size() != fabric_.links().link_count()) {
    throw std::invalid_argument(fmt::format("route_adaptive: {} loads for {} directed links",
                                            load.size(), fabric_.links().link_count()));
  }
  return route_impl(src, dst, flow_key, load, forwarding);
}

Route GpuRouter::route_impl(GpuId src, GpuId dst, std::uint64_t flow_key,
                            std::span<const double> load, Forwarding forwarding) {
  const VertexId from = gpu_vertex(src);
  const VertexId to = gpu_vertex(dst);
  Route route;
  try {
    if (src.node == dst.node) {
      append_nvlink(route, src.node, from, to);
      return route;
    }
    // The GPU that sends or receives through NIC `rail` of `node` (the one on its PCIe switch).
    const auto gpu_on_rail = [&](int node, int rail) {
      const auto& n = nodes_[node];
      return n.gpus[rail * n.gpus.size() / n.nics.size()];
    };
    const int send_rail = forwarding == Forwarding::kNvlinkThenFabric ? rail_of(dst) : rail_of(src);
    const int receive_rail = forwarding == Forwarding::kFabricThenNvlink ? send_rail : rail_of(dst);
    const VertexId sender =
        forwarding == Forwarding::kNvlinkThenFabric ? gpu_on_rail(src.node, send_rail) : from;
    const VertexId receiver =
        forwarding == Forwarding::kFabricThenNvlink ? gpu_on_rail(dst.node, receive_rail) : to;
    const VertexId send_nic = nodes_[src.node].nics[send_rail];
    const VertexId receive_nic = nodes_[dst.node].nics[receive_rail];
    const VertexId send_port = nic_port(src.node, send_rail);
    const VertexId receive_port = nic_port(dst.node, receive_rail);

    append_nvlink(route, src.node, from, sender);
    append_pcie(route, sender, send_nic);
    append_link(route, send_nic, send_port);
    const Route fabric = load.empty()
                             ? fabric_.route(send_port, receive_port, flow_key)
                             : fabric_.route_adaptive(send_port, receive_port, flow_key, load);
    route.insert(route.end(), fabric.begin(), fabric.end());
    append_link(route, receive_port, receive_nic);
    append_pcie(route, receive_nic, receiver);
    append_nvlink(route, dst.node, receiver, to);
  } catch (const Unreachable& e) {
    throw Unreachable(from, to,
                      fmt::format("no usable route from GPU n{}.gpu{} to GPU n{}.gpu{}: {}",
                                  src.node, src.gpu, dst.node, dst.gpu, e.what()));
  }
  return route;
}

}  // namespace codesim::topo
