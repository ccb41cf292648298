#include "topologies/link_map.hpp"

#include <limits>
#include <stdexcept>

namespace codesim::topo {

LinkIndex::LinkIndex(const Graph& graph) {
  const std::size_t edge_count = boost::num_edges(graph);
  if (edge_count > std::numeric_limits<LinkId>::max() / 2) {
    throw std::length_error("LinkIndex: too many links for 32-bit link ids");
  }
  ends_.reserve(2 * edge_count);
  edges_.reserve(edge_count);
  for (auto [it, end] = boost::edges(graph); it != end; ++it) {
    ends_.push_back(boost::source(*it, graph));
    ends_.push_back(boost::target(*it, graph));
    edges_.push_back(graph[*it]);
  }
  const std::size_t vertices = boost::num_vertices(graph);
  offsets_.assign(vertices + 1, 0);
  for (VertexId v : ends_) ++offsets_[v + 1];
  for (std::size_t v = 0; v < vertices; ++v) offsets_[v + 1] += offsets_[v];
  arcs_.resize(ends_.size());
  std::vector<std::size_t> next(offsets_.begin(), offsets_.end() - 1);
  for (LinkId link = 0; link < ends_.size(); ++link) {
    arcs_[next[from(link)]++] = Arc{to(link), link};
  }
}

std::optional<LinkId> LinkIndex::find(VertexId from, VertexId to) const {
  for (const Arc& arc : arcs(from)) {
    if (arc.to == to) return arc.link;
  }
  return std::nullopt;
}

std::vector<LinkSpec> directed_links(const LinkIndex& links) {
  std::vector<LinkSpec> specs;
  specs.reserve(links.link_count());
  for (LinkId link = 0; link < links.link_count(); ++link) {
    specs.push_back({links.bandwidth_Bps(link), links.latency(link)});
  }
  return specs;
}

sim::FlowNetwork::LinkId add_links_to(sim::FlowNetwork& network, const LinkIndex& links) {
  const auto base = static_cast<sim::FlowNetwork::LinkId>(network.link_count());
  for (const LinkSpec& spec : directed_links(links)) {
    network.add_link(spec.bandwidth_Bps, spec.latency);
  }
  return base;
}

}  // namespace codesim::topo
