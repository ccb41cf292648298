#pragma once
// A scenario's cluster as a network the engine can send flows over: the fabric of its topology
// kind with every node's insides attached (topo::attach_nodes), routers over it, and a flow
// network whose links run at the rates the calibration says are achieved. Routes are cached per
// GPU pair, since a step sends between the same pairs thousands of times.
//
// Links in series that every route crosses together become one flow-network link: a NIC and its
// fabric port each have two links, and no route starts, ends or turns back there, so GPU-side
// PCIe switch -> NIC -> port -> leaf is one chain (and its reverse another). A chain's link has
// the least bandwidth and the summed latency of its members; since the same flows cross every
// member, max-min sharing and every flow's latency are exactly those of the uncompressed network,
// with half the links per route over the fabric.

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "models/calibration.hpp"
#include "models/gpu.hpp"
#include "sim/flow_network.hpp"
#include "topologies/cluster.hpp"
#include "topologies/link_map.hpp"
#include "topologies/routing.hpp"
#include "topologies/topology.hpp"
#include "workloads/network/link_use.hpp"

namespace codesim::workloads {

// Achieved fractions of line rate the flow network applies, with where they come from.
struct LinkEfficiency {
  double nvlink = 1;  // calibration's achieved NVLink over its GPU's NVLink line rate
  double fabric = 1;  // calibration's achieved IB over its NIC line rate
};
LinkEfficiency link_efficiency(const models::Calibration& calibration);

// The fabric builder's parameters for a cluster, fabric links at `link_Gbps`.
topo::TopologyParams fabric_params(const topo::ClusterSpec& cluster, double link_Gbps);

// The cluster's graph: its fabric with every node's insides attached. Node parts are labelled
// "n<node>.gpu<i>", "n<node>.nvswitch" and so on (topologies/node_graph.hpp).
struct ClusterGraph {
  topo::Topology topology;
  std::vector<topo::NodeVertices> nodes;
};
ClusterGraph build_cluster_graph(const topo::ClusterSpec& cluster,
                                 const LinkEfficiency& efficiency = {});

class ClusterNetwork {
 public:
  // Routes around cluster.fabric.failures (std::invalid_argument when one names nothing). A GPU
  // whose own NIC, or whose peer's, is cut off reaches the remote GPU through another rail:
  // NVLink to a GPU of another index, the fabric on that rail, NVLink to the destination (the
  // rail chosen by a hash of the pair among those that work).
  ClusterNetwork(const topo::ClusterSpec& cluster, const LinkEfficiency& efficiency);
  ClusterNetwork(const ClusterNetwork&) = delete;
  ClusterNetwork& operator=(const ClusterNetwork&) = delete;

  int gpus_per_node() const { return gpus_per_node_; }
  int gpus() const { return gpus_per_node_ * int(nodes_.size()); }
  const topo::Topology& topology() const { return topology_; }
  const topo::LinkIndex& links() const { return router_->links(); }

  // Adds the links to `net` (once per flow network) and returns the route of GPU src to GPU dst
  // in `net`'s link ids; GPU g is node g / gpus_per_node, local index g % gpus_per_node. Remote
  // GPUs of another index are reached over the fabric to the same-index GPU, then NVLink.
  void attach(sim::FlowNetwork& net);
  const std::vector<sim::FlowNetwork::LinkId>& route(int src, int dst);

  // How busy each tier of links was in `net` (attached) over `elapsed`: per tier, then each
  // fabric tier per plane when the fabric has several.
  std::vector<LinkUse> link_use(const sim::FlowNetwork& net, sim::Time elapsed) const;

 private:
  topo::Route detour(int src, int dst, std::uint64_t key);
  void build_chains();

  // Topology link -> its chain (a flow-network link, before base_), and the chains' links.
  std::vector<std::uint32_t> chain_of_;
  std::vector<topo::LinkSpec> chains_;

  int gpus_per_node_;
  topo::Topology topology_;
  std::vector<topo::NodeVertices> nodes_;
  std::unique_ptr<topo::Router> router_;
  std::unique_ptr<topo::GpuRouter> gpu_router_;
  sim::FlowNetwork::LinkId base_ = 0;
  bool attached_ = false;
  std::unordered_map<std::uint64_t, std::vector<sim::FlowNetwork::LinkId>> routes_;
};

}  // namespace codesim::workloads
