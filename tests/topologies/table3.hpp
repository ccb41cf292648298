#pragma once
// Published structure counts the topology tests check (isca25 Table 3, carried with its source in
// validation/reference/published.yaml), and helpers to build the examples. "links" counts
// switch-to-switch links, as the table does.

#include <string>
#include <vector>

#include "../reference.hpp"
#include "topologies/structure.hpp"
#include "topologies/topology.hpp"

namespace codesim::topo::testing {

struct PublishedStructure {
  std::string example;  // examples/topologies/<example>.yaml
  long long endpoints;
  long long switches;
  long long links;
};

inline const std::vector<PublishedStructure>& table3() {
  static const std::vector<PublishedStructure> kTable = [] {
    std::vector<PublishedStructure> rows;
    for (const char* kind : {"ft2", "mpft", "ft3", "slimfly", "dragonfly"}) {
      const auto row = codesim::testing::published()["topologies"]["structure"][kind];
      rows.push_back({row["example"].as<std::string>(), row["endpoints"].as<long long>(),
                      row["switches"].as<long long>(), row["links"].as<long long>()});
    }
    return rows;
  }();
  return kTable;
}

// The parameters of the example files, written out so the builder tests need no YAML.
inline TopologyParams fat_tree_params(TopologyKind kind, int nodes, int nics, int radix) {
  TopologyParams p;
  p.kind = kind;
  p.nodes = nodes;
  p.nics_per_node = nics;
  p.planes = nics;
  p.switch_radix = radix;
  return p;
}

// Small instances of the kinds beyond the fat trees, for tests that run over every kind.
inline std::vector<TopologyParams> small_other_kinds() {
  TopologyParams slim_fly;
  slim_fly.kind = TopologyKind::kSlimFly;
  slim_fly.slim_fly.q = 5;
  TopologyParams dragonfly;
  dragonfly.kind = TopologyKind::kDragonfly;
  dragonfly.dragonfly = {2, 2, 1, 0};
  TopologyParams fire_flyer;
  fire_flyer.kind = TopologyKind::kFireFlyer2;
  fire_flyer.switch_radix = 8;
  fire_flyer.nics_per_node = 1;
  fire_flyer.fire_flyer = {2, 16, 2};
  return {slim_fly, dragonfly, fire_flyer};
}

}  // namespace codesim::topo::testing
