#pragma once
// Published structure counts the topology tests check, and helpers to build the examples.
// Source: isca25 = Zhao et al., "Insights into DeepSeek-V3: Scaling Challenges and Reflections
// on Hardware for AI Architectures", ISCA '25 (arXiv 2505.09343), sec. 5.1, Table 3. "links"
// counts switch-to-switch links, as the table does.

#include <string>
#include <vector>

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
  static const std::vector<PublishedStructure> kTable = {
      {"ft2-2048", 2048, 96, 2048},
      {"mpft-16384", 16384, 768, 16384},
      {"ft3-65536", 65536, 5120, 131072},
      {"slimfly-32928", 32928, 1568, 32928},
      {"dragonfly-261632", 261632, 16352, 384272},
  };
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

}  // namespace codesim::topo::testing
