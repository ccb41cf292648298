#pragma once
// Structure and cost of a built fabric: the counts the isca25 Table 3 comparison uses
// (endpoints, switches, switch-to-switch links), the diameter in switch hops, the builder's
// analytic bisection bandwidth, and a price from a plain Prices table.

#include <string>

#include "topologies/graph.hpp"

namespace codesim::topo {

struct Structure {
  long long endpoints = 0;
  long long switches = 0;
  long long links = 0;           // switch-to-switch, as Table 3 counts them
  long long endpoint_links = 0;  // endpoint-to-switch
  int max_switch_degree = 0;     // ports in use on the busiest switch
  int diameter = 0;              // switch hops between the farthest two connected switches
  double bisection_Bps = 0;      // per direction
};

// BFS over the switch graph from topology.diameter_sources (all switches when empty). Switches
// that cannot reach each other (the planes of an MPFT) are not counted: -1 only when there are
// no switches at all.
int switch_diameter(const Topology& topology);

Structure measure(const Topology& topology);

// Prices in US dollars. The defaults are the values in topologies/prices.yaml (the edge reads
// that file and may override each field); see it for the sources, quotes and dates. They are
// 2024-2026 street prices of 400G NDR InfiniBand parts, not fitted to any published cost.
struct Prices {
  // NVIDIA Quantum-2 QM9700, USD 32,870 channel listing (2026-07) / 64 ports.
  double switch_usd_per_port = 513.59375;
  // 2 x half a twin-port 800G OSFP SR8 (MMA4Z00-NS compatible, USD 879 each) + an MPO-12/APC
  // fiber (USD 50, assumed: no public listing found).
  double switch_link_usd = 929;
  // 400G OSFP SR4 at the NIC (MMA4Z00-NS400 compatible, USD 769) + half a twin-port 800G SR8 at
  // the leaf (879 / 2) + the assumed USD 50 fiber.
  double endpoint_link_usd = 1258.5;
  // ConnectX-7 MCX75310AAS-NEAT, USD 2,188 (FS.com, 2026-09); reported apart from the fabric.
  double nic_usd = 2188;
};

struct Cost {
  double switches_usd = 0;
  double switch_links_usd = 0;
  double endpoint_links_usd = 0;
  double nics_usd = 0;
  // What Table 3 compares: switches and cables, without the NICs every topology needs.
  double fabric_usd() const { return switches_usd + switch_links_usd + endpoint_links_usd; }
};

Cost fabric_cost(const Structure& structure, int switch_radix, const Prices& prices);

}  // namespace codesim::topo
