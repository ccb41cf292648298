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
// that file and may override each field); see it for sources and dates.
struct Prices {
  double switch_usd_per_port = 500;  // assumed: a 64-port 400G switch at 32,000
  double switch_link_usd = 1500;     // assumed: optical cable and two transceivers
  double endpoint_link_usd = 1000;   // assumed: NIC to leaf cable and transceivers
  double nic_usd = 1500;             // assumed; reported apart from the fabric
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
