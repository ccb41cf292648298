#pragma once
// A stable numbering of a topology's links by direction, which routes and flow networks share.
// Links are full duplex and each direction is its own capacity, so undirected Boost edge e (in
// boost::edges(graph) order, which for topo::Graph is the order the builders added the links)
// becomes two directed links: 2e from source(e) to target(e), and 2e + 1 back. A route is a value:
// the directed link ids it crosses, in order.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sim/flow_network.hpp"
#include "sim/time.hpp"
#include "topologies/graph.hpp"

namespace codesim::topo {

using LinkId = std::uint32_t;  // the same integer type as sim::FlowNetwork::LinkId
using Route = std::vector<LinkId>;

class LinkIndex {
 public:
  struct Arc {
    VertexId to;
    LinkId link;  // the direction leaving the vertex whose arcs these are
  };

  // Throws std::length_error when the graph has more than 2^31 - 1 edges.
  explicit LinkIndex(const Graph& graph);

  std::size_t vertex_count() const { return offsets_.size() - 1; }
  std::size_t link_count() const { return ends_.size(); }  // directed: twice the edges
  VertexId from(LinkId link) const { return ends_[link]; }
  VertexId to(LinkId link) const { return ends_[link ^ 1u]; }
  static LinkId reverse(LinkId link) { return link ^ 1u; }
  static std::uint32_t edge_of(LinkId link) { return link >> 1; }

  double bandwidth_Bps(LinkId link) const { return edges_[edge_of(link)].bandwidth_Bps; }
  sim::Time latency(LinkId link) const { return edges_[edge_of(link)].latency; }
  int plane(LinkId link) const { return edges_[edge_of(link)].plane; }

  // The directed links leaving `vertex`, in edge order (parallel links each appear).
  std::span<const Arc> arcs(VertexId vertex) const {
    return {arcs_.data() + offsets_[vertex], arcs_.data() + offsets_[vertex + 1]};
  }
  // The first (in edge order) link from `from` to `to`, if they are adjacent.
  std::optional<LinkId> find(VertexId from, VertexId to) const;

 private:
  std::vector<VertexId> ends_;  // ends_[2e] = source(e), ends_[2e + 1] = target(e)
  std::vector<Link> edges_;
  std::vector<std::size_t> offsets_;
  std::vector<Arc> arcs_;
};

// What one directed link is for a flow network: per-direction bandwidth and one-way latency.
struct LinkSpec {
  double bandwidth_Bps = 0;
  sim::Time latency;
};

// One entry per directed link, indexed by LinkId.
std::vector<LinkSpec> directed_links(const LinkIndex& links);

// Adds every directed link to `network` in LinkId order and returns the network id of link 0:
// a route's link l is network link base + l (base is 0 when the network was empty).
sim::FlowNetwork::LinkId add_links_to(sim::FlowNetwork& network, const LinkIndex& links);

}  // namespace codesim::topo
