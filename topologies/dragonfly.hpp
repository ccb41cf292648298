#pragma once
// Dragonfly (Kim et al., ISCA 2008): g groups of a switches, each group fully connected inside;
// every switch has p endpoints and h global links. Global links are spread round-robin: global
// port k of a group (on switch k / h) goes to the group at offset +1, -1, +2, -2, ... in turn,
// the same in every group, so shifting every group by one is an automorphism of the graph.

#include <vector>

#include "topologies/topology.hpp"

namespace codesim::topo {

// The group offset (1 .. g-1) of each of a group's a*h global ports.
std::vector<int> dragonfly_port_offsets(int switches_per_group, int global_links_per_switch,
                                        int groups);
// Whether every offset d is used as often as g - d, which the pairing of ports needs.
bool dragonfly_offsets_balanced(const std::vector<int>& offsets, int groups);

struct DragonflyCounts {
  long long endpoints = 0;
  long long switches = 0;
  long long local_links = 0;
  long long global_links = 0;
  long long links() const { return local_links + global_links; }
};
DragonflyCounts dragonfly_counts(const DragonflyParams& params);   // groups already resolved
DragonflyParams resolve_dragonfly(const DragonflyParams& params);  // fills groups = a*h + 1

Topology build_dragonfly(const TopologyParams& params);

}  // namespace codesim::topo
