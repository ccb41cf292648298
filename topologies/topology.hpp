#pragma once
// The registry of fabric kinds and the plain parameters every builder takes. No YAML here: the
// edge (cli/topo_command.cpp) reads files into TopologyParams; builders never look keys up.

#include <optional>
#include <string>
#include <vector>

#include "sim/time.hpp"
#include "topologies/graph.hpp"

namespace codesim::topo {

enum class TopologyKind {
  kFatTree2,           // ft2: leaves with radix/2 down and radix/2 up, one spine layer
  kMultiPlaneFatTree,  // mpft: `planes` independent ft2 planes; NIC i of every node on plane i
  kMultiRailFatTree,   // mrft: one leaf group per rail (NIC index), rails joined at the spines
  kFatTree3,           // ft3: k-ary three-layer fat-tree (k pods, (k/2)^2 cores)
  kSlimFly,            // slimfly: MMS graph of q (Besta & Hoefler, SC14)
  kDragonfly,          // dragonfly: fully connected groups, global links round-robin
  kFireFlyer2,         // fireflyer2: two ft2 zones of 40-port switches joined by a few links
};

const std::vector<std::string>& topology_kind_names();
std::optional<TopologyKind> topology_kind_from_name(const std::string& name);
std::string topology_kind_name(TopologyKind kind);

struct SlimFlyParams {
  int q = 0;                     // 2q^2 switches; q = 4w + delta with delta in {-1, 0, 1}
  int endpoints_per_switch = 0;  // 0: ceil(network degree / 2), the SC14 balanced choice
};

struct DragonflyParams {
  int switches_per_group = 0;       // a
  int endpoints_per_switch = 0;     // p
  int global_links_per_switch = 0;  // h
  int groups = 0;                   // g; 0: a*h + 1, every group pair joined by one link
};

struct FireFlyerParams {
  int zones = 2;
  int nodes_per_zone = 600;  // ~600 per zone (Fire-Flyer 2, SC24); a zone holds up to radix^2/2
  int inter_zone_links = 4;  // "a few links" between consecutive zones, leaf to leaf
};

struct TopologyParams {
  TopologyKind kind = TopologyKind::kFatTree2;
  int nodes = 0;          // fat trees: hosts; endpoints = nodes * nics_per_node
  int nics_per_node = 8;  // one NIC (one fabric port) per GPU on the reference system
  int switch_radix = 64;
  double link_Gbps = 400;                          // every fabric link, per direction
  sim::Time link_latency = sim::nanoseconds(100);  // per hop, round figure, not a measurement
  double oversubscription = 1.0;  // leaf downlinks per uplink (ft2, mpft, mrft, fireflyer2)
  int planes = 8;                 // mpft
  SlimFlyParams slim_fly;
  DragonflyParams dragonfly;
  FireFlyerParams fire_flyer;

  double link_Bps() const { return link_Gbps * 1e9 / 8.0; }
};

// What is wrong with a set of parameters: `key` is the parameter's name as a topology file
// spells it (switch_radix, nodes, q, ...), so the edge can point at the line.
struct ParamProblem {
  std::string key;
  std::string message;
  std::string valid;
};

std::vector<ParamProblem> check_params(const TopologyParams& params);

// Builds the fabric. Throws std::invalid_argument when check_params finds a problem.
Topology build_topology(const TopologyParams& params);

// Leaf ports facing endpoints for a radix and an oversubscription (down/up), at least 1.
int leaf_downlinks(int radix, double oversubscription);

}  // namespace codesim::topo
