#include "topologies/failures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace codesim::topo {
namespace {

// A few labels of the given kind, as examples of what would be valid.
std::string examples(const Graph& graph, VertexKind kind) {
  std::vector<std::string> labels;
  for (VertexId v = 0; v < boost::num_vertices(graph) && labels.size() < 4; ++v) {
    if (graph[v].kind == kind) labels.push_back(graph[v].label);
  }
  std::string out;
  for (const auto& label : labels) out += (out.empty() ? "" : ", ") + label;
  return out.empty() ? "(none)" : out + ", ...";
}

}  // namespace

Failures resolve_failures(const Topology& topology, const FailureSpec& spec) {
  const Graph& graph = topology.graph;
  std::unordered_map<std::string, VertexId> by_label;
  int max_plane = -1;
  for (VertexId v = 0; v < boost::num_vertices(graph); ++v) {
    by_label.emplace(graph[v].label, v);
    if (graph[v].kind == VertexKind::kSwitch) max_plane = std::max(max_plane, graph[v].plane);
  }
  Failures out;
  for (std::size_t i = 0; i < spec.switches.size(); ++i) {
    const auto it = by_label.find(spec.switches[i]);
    if (it == by_label.end() || graph[it->second].kind != VertexKind::kSwitch) {
      throw FailureError("switches", i, fmt::format("no switch is labelled '{}'", spec.switches[i]),
                         "switch labels such as " + examples(graph, VertexKind::kSwitch));
    }
    out.switches.insert(it->second);
  }
  const LinkIndex links(graph);
  for (std::size_t i = 0; i < spec.links.size(); ++i) {
    const auto& [a, b] = spec.links[i];
    const auto ia = by_label.find(a);
    const auto ib = by_label.find(b);
    if (ia == by_label.end() || ib == by_label.end()) {
      throw FailureError(
          "links", i, fmt::format("no vertex is labelled '{}'", ia == by_label.end() ? a : b),
          "the labels of a link's two ends, such as " + examples(graph, VertexKind::kSwitch) +
              " or " + examples(graph, VertexKind::kEndpoint));
    }
    bool found = false;
    for (const auto& arc : links.arcs(ia->second)) {
      if (arc.to == ib->second) {
        out.links.insert(arc.link);
        found = true;
      }
    }
    if (!found) {
      throw FailureError("links", i, fmt::format("'{}' and '{}' are not joined by a link", a, b),
                         "two adjacent vertices");
    }
  }
  for (std::size_t i = 0; i < spec.planes.size(); ++i) {
    const int plane = spec.planes[i];
    if (plane < 0 || plane > max_plane) {
      throw FailureError("planes", i, fmt::format("the fabric has no plane {}", plane),
                         fmt::format("0 to {}", max_plane));
    }
    out.planes.insert(plane);
  }
  return out;
}

FailureImpact failure_impact(const Router& router) {
  FailureImpact impact;
  const LinkIndex& links = router.links();
  for (VertexId v = 0; v < links.vertex_count(); ++v) {
    if (router.kind(v) == VertexKind::kSwitch && !router.usable_vertex(v)) ++impact.switches_down;
    if (router.kind(v) != VertexKind::kEndpoint) continue;
    bool reachable = false;
    for (const auto& arc : links.arcs(v)) {
      if (router.kind(arc.to) == VertexKind::kSwitch && router.usable_link(arc.link) &&
          router.usable_vertex(arc.to)) {
        reachable = true;
      }
    }
    if (!reachable) ++impact.endpoints_cut_off;
  }
  for (LinkId link = 0; link < links.link_count(); link += 2) {
    const bool at_switch = router.kind(links.from(link)) == VertexKind::kSwitch ||
                           router.kind(links.to(link)) == VertexKind::kSwitch;
    if (!at_switch) continue;
    if (!router.usable_link(link) || !router.usable_vertex(links.from(link)) ||
        !router.usable_vertex(links.to(link))) {
      ++impact.links_down;
    }
  }
  return impact;
}

}  // namespace codesim::topo
