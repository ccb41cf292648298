#pragma once
// The plain parameters every fabric builder takes. No YAML and no names here: the edge
// (cli/topo_command.cpp, cli/registry.hpp) reads files into TopologyParams; builders never look
// keys up.

#include <optional>
#include <string>
#include <vector>

#include "sim/time.hpp"
#include "topologies/graph.hpp"

namespace codesim::topo {

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

// One-way latency of the scale-out fabric's links, from the model end-to-end = endpoint +
// per_switch * (switches a route traverses). models::fabric_hop_latency derives both terms from
// isca25 Table 5 (CPU-side end-to-end, 64 B; published.yaml latency_us), and
// tests/models/calibration_test.cpp checks that these defaults, the InfiniBand ones, equal that
// derivation: per_switch = (cross leaf 3.7 us - same leaf 2.8 us) / 2, endpoint = 2.8 us - 0.45 us.
// (RoCE: models::fabric_hop_latency(..., FabricTransport::kRoce), 1.0 us and 2.6 us.) This layer
// does not depend on models/, so the numbers are written here once more.
//
// A switch-to-switch link carries per_switch (half a switch at each end); an endpoint's link to
// its switch carries (per_switch + endpoint) / 2. Any minimal route between two endpoints then
// sums to endpoint + per_switch * switches: 2.8 us under one leaf, 3.7 us through a spine, 4.6 us
// across ft3 pods (five switches; an extrapolation, Table 5 measures two-layer routes only).
// Slim Fly, Dragonfly (local and global links alike) and Fire-Flyer 2 use the same figures: no
// published latency exists for them.
struct FabricLatency {
  sim::Time per_switch = sim::nanoseconds(450);
  sim::Time endpoint = sim::nanoseconds(2350);
};

struct TopologyParams {
  TopologyKind kind = TopologyKind::kFatTree2;
  int nodes = 0;          // fat trees: hosts; endpoints = nodes * nics_per_node
  int nics_per_node = 8;  // one NIC (one fabric port) per GPU on the reference system
  int switch_radix = 64;
  double link_Gbps = 400;  // every fabric link, per direction
  FabricLatency latency;   // isca25 Table 5, InfiniBand (above)
  // When positive, every fabric link gets this one latency instead of `latency`'s model (the
  // topology files' link_latency key); zero: the model.
  sim::Time link_latency;
  double oversubscription = 1.0;  // leaf downlinks per uplink (ft2, mpft, mrft, fireflyer2)
  int planes = 8;                 // mpft
  SlimFlyParams slim_fly;
  DragonflyParams dragonfly;
  FireFlyerParams fire_flyer;

  double link_Bps() const { return link_Gbps * 1e9 / 8.0; }
  // The latency builders give a link between two switches / between an endpoint and its switch.
  sim::Time switch_link_latency() const;
  sim::Time endpoint_link_latency() const;
};

// The parameters a problem can be about; the edge knows how each is spelled in a file.
enum class TopologyParam {
  kNodes,
  kNicsPerNode,
  kSwitchRadix,
  kLink,
  kLinkLatency,
  kOversubscription,
  kPlanes,
  kQ,
  kEndpointsPerSwitch,
  kSwitchesPerGroup,
  kGlobalLinksPerSwitch,
  kGroups,
  kZones,
  kNodesPerZone,
  kInterZoneLinks,
};

// What is wrong with a set of parameters, and which parameter to blame, so that the edge can
// point at the line.
struct ParamProblem {
  TopologyParam param;
  std::string message;
  std::string valid;
};

std::vector<ParamProblem> check_params(const TopologyParams& params);

// The most switch ports (switches x radix) a fabric may have: the builders hold each port's link
// in a graph, about 42 bytes a port (peak memory of `codesim topo` on a one-pod ft3 of
// 4096-port switches, 6144 switches or 25.2M ports: 1.06 GB), so this is about 2.6 GiB.
// check_params refuses more.
inline constexpr long long kMaxFabricPorts = 1LL << 26;
inline constexpr double kFabricBytesPerPort = 42;

// The switch ports the builder of `params` would make (switches x radix), from the counts of
// its switches alone; check_params must have found nothing else wrong.
long long fabric_ports(const TopologyParams& params);

// Builds the fabric. Throws std::invalid_argument when check_params finds a problem.
Topology build_topology(const TopologyParams& params);

// Leaf ports facing endpoints for a radix and an oversubscription (down/up), at least 1.
int leaf_downlinks(int radix, double oversubscription);

}  // namespace codesim::topo
