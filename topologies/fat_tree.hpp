#pragma once
// Fat-tree builders: two-layer (ft2), multi-plane (mpft), multi-rail (mrft), three-layer k-ary
// (ft3) and Fire-Flyer 2's two zones. Callers go through build_topology(); these are public for
// tests and for formulas that need the shape without building the graph.

#include "topologies/topology.hpp"

namespace codesim::topo {

// The shape of one two-layer plane: `leaves` leaves of `down` endpoint ports and `up` uplinks,
// `spines` spines. Leaf l's uplink u goes to spine (l * up + u) mod spines, so each spine takes
// at most radix links and, when leaves == radix, every leaf meets every spine exactly once.
struct TwoLayerShape {
  int leaves = 0;
  int spines = 0;
  int down = 0;
  int up = 0;
};
TwoLayerShape two_layer_shape(long long endpoints, int radix, double oversubscription);

Topology build_fat_tree2(const TopologyParams& params);
Topology build_multi_plane_fat_tree(const TopologyParams& params);
Topology build_multi_rail_fat_tree(const TopologyParams& params);
Topology build_fat_tree3(const TopologyParams& params);
Topology build_fire_flyer2(const TopologyParams& params);

}  // namespace codesim::topo
