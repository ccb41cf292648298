#pragma once
// Minimal-hop routing over a built fabric, with deterministic ECMP, load-adaptive choice among
// equal-cost next hops, failures, and (over nodes composed with attach_nodes) GPU-to-GPU routes
// that forward over NVLink the way DeepEP and PXN do.
//
// Only fabric switches carry transit traffic: a route starts and ends at any vertex (an endpoint,
// a switch) but never passes through an endpoint or a node's insides. Hop distances come from
// BFS over the switch graph, run lazily once per destination switch and kept; so Router's routing
// calls are not const and one Router must not be shared between threads.
//
// ECMP: among the equal-cost next hops out of vertex v (its usable links, in edge order), the
// route takes number splitmix64(ecmp_hash(src, dst, flow_key) ^ v) mod (their count). The hash is
// fixed (below), never std::hash, so a route is the same on every machine and every run.

#include <cstdint>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/random.hpp"
#include "topologies/graph.hpp"
#include "topologies/link_map.hpp"
#include "topologies/node_graph.hpp"

namespace codesim::topo {

using sim::splitmix64;  // the one SplitMix64 (sim/random.hpp)

// splitmix64(splitmix64(splitmix64(src) ^ dst) ^ flow_key).
constexpr std::uint64_t ecmp_hash(std::uint64_t src, std::uint64_t dst, std::uint64_t flow_key) {
  return splitmix64(splitmix64(splitmix64(src) ^ dst) ^ flow_key);
}

// What is down. A failed link fails both directions (give either LinkId); a failed switch takes
// its links with it; a failed plane takes every switch and link of that plane (node insides are
// plane -1 and never fail with a plane).
struct Failures {
  std::set<LinkId> links;
  std::set<VertexId> switches;
  std::set<int> planes;
};

struct RoutingOptions {
  Failures failures;
  // Transit only through switches of the source's plane (MPFT: endpoint i of a node lives on
  // plane i, and its flows stay there). MPFT planes share no switch, so routes stay in plane
  // either way; this makes it a rule, e.g. for fabrics whose planes are joined.
  bool stay_in_plane = false;
};

// No usable path between two vertices; the message names both.
class Unreachable : public std::runtime_error {
 public:
  Unreachable(VertexId src, VertexId dst, const std::string& message)
      : std::runtime_error(message), src_(src), dst_(dst) {}
  VertexId src() const { return src_; }
  VertexId dst() const { return dst_; }

 private:
  VertexId src_;
  VertexId dst_;
};

class Router {
 public:
  // Indexes the graph as it is now (attach nodes first); keeps no reference to it.
  explicit Router(const Topology& topology, RoutingOptions options = {});

  const LinkIndex& links() const { return links_; }
  const RoutingOptions& options() const { return options_; }
  VertexKind kind(VertexId v) const { return kinds_[v]; }
  int plane(VertexId v) const { return planes_[v]; }
  const std::string& label(VertexId v) const { return labels_[v]; }

  // The fabric endpoint labelled "n<node>.nic<nic>" (the fat-tree builders' ports). Throws
  // std::out_of_range when there is none.
  VertexId endpoint(int node, int nic) const;

  // Hops on a minimal usable path, or -1 when there is none.
  int distance(VertexId src, VertexId dst);

  // A minimal path by ECMP. Throws Unreachable. src == dst gives the empty route.
  Route route(VertexId src, VertexId dst, std::uint64_t flow_key);
  // A minimal path choosing, at each hop, the equal-cost next link with the least `load` (one
  // value per LinkId: bytes, flows, anything additive); ties go to ECMP among the tied.
  Route route_adaptive(VertexId src, VertexId dst, std::uint64_t flow_key,
                       std::span<const double> load);

  bool usable_link(LinkId link) const { return link_ok_[LinkIndex::edge_of(link)]; }
  bool usable_vertex(VertexId v) const { return vertex_ok_[v]; }

 private:
  static constexpr std::uint16_t kFar = 0xffff;
  static constexpr std::uint32_t kNotSwitch = 0xffffffffu;

  // Where a route is going: the BFS tables of the switches next to dst (dst's own when it is a
  // switch), `extra` hops from them to dst, and the plane transit must keep to (-2: any).
  struct Goal {
    VertexId dst = 0;
    int plane = -2;
    int extra = 0;
    std::vector<const std::vector<std::uint16_t>*> tables;
  };
  Goal goal(VertexId src, VertexId dst);
  // Hops left after taking `arc` (0 when it reaches dst), kFar when it is no way there.
  int cost(const Goal& goal, const LinkIndex::Arc& arc) const;
  Route route_impl(VertexId src, VertexId dst, std::uint64_t flow_key,
                   std::span<const double> load);
  const std::vector<std::uint16_t>& switch_distances(std::uint32_t target);
  [[noreturn]] void unreachable(VertexId src, VertexId dst) const;

  LinkIndex links_;
  RoutingOptions options_;
  std::vector<VertexKind> kinds_;
  std::vector<int> planes_;
  std::vector<std::string> labels_;
  std::vector<std::vector<VertexId>> endpoints_;  // [node][nic], kNoVertex where absent
  std::vector<bool> link_ok_;                     // per undirected edge
  std::vector<bool> vertex_ok_;
  std::vector<std::uint32_t> switch_of_;  // vertex -> switch index, kNotSwitch otherwise
  std::vector<VertexId> switches_;        // switch index -> vertex
  std::vector<std::size_t> switch_offsets_;
  std::vector<std::uint32_t> switch_neighbors_;        // usable switch-to-switch adjacency
  std::vector<std::vector<std::uint16_t>> distances_;  // per target switch, filled lazily
};

// A GPU of a node composed into the fabric with attach_nodes.
struct GpuId {
  int node = 0;
  int gpu = 0;
};

// How a GPU reaches a GPU with another in-node index on a remote node.
enum class Forwarding {
  kFabricThenNvlink,  // over the fabric to the same-rail NIC of the destination node, then NVLink
  kNvlinkThenFabric,  // NVLink to the source node's GPU on the destination's rail (PXN), then
                      // fabric
  kDirect,            // own NIC to the destination GPU's NIC (unreachable across MPFT planes)
};

// Routes between GPUs of nodes attached to a fabric. GPU g uses NIC g * nics / gpus (its rail,
// on its PCIe switch); the fabric part is Router::route between the two NICs' fabric ports, and a
// node's insides are GPU -> PCIe switch (-> CPU -> PCIe switch) -> NIC -> port and NVLink (via the
// NVSwitch, or a bridge; PCIe where neither joins the two GPUs).
class GpuRouter {
 public:
  // `fabric` routes over the graph attach_nodes composed and must outlive this; `nodes` is what
  // attach_nodes returned.
  GpuRouter(Router& fabric, std::vector<NodeVertices> nodes);

  Route route(GpuId src, GpuId dst, std::uint64_t flow_key,
              Forwarding forwarding = Forwarding::kFabricThenNvlink);
  Route route_adaptive(GpuId src, GpuId dst, std::uint64_t flow_key, std::span<const double> load,
                       Forwarding forwarding = Forwarding::kFabricThenNvlink);

  int rail_of(GpuId gpu) const;                // the NIC index the GPU sends through
  VertexId gpu_vertex(GpuId gpu) const;        // throws std::out_of_range
  VertexId nic_port(int node, int nic) const;  // the NIC's fabric endpoint

 private:
  Route route_impl(GpuId src, GpuId dst, std::uint64_t flow_key, std::span<const double> load,
                   Forwarding forwarding);
  void append_pcie(Route& route, VertexId a, VertexId b) const;
  void append_nvlink(Route& route, int node, VertexId a, VertexId b) const;
  void append_link(Route& route, VertexId a, VertexId b) const;

  Router& fabric_;
  std::vector<NodeVertices> nodes_;
};

}  // namespace codesim::topo
