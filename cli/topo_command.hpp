#pragma once
// `codesim topo FILE [--json OUT]`: builds the fabric a topology file (or a scenario's
// cluster.topology) describes and reports its structure and cost.

#include <string>
#include <vector>

#include "topologies/failures.hpp"
#include "topologies/structure.hpp"
#include "topologies/topology.hpp"

namespace codesim::cli {

struct TopologyRequest {
  std::string name;
  topo::TopologyParams params;
  topo::Prices prices;
  topo::Failures failures;  // resolved on the fabric the params build
  bool has_failures = false;
};

// Reads a topology file (`topology: {kind: ..., ...}`) or a scenario (its cluster.topology and
// node count), and the optional `prices` (a map, or a path relative to the file). Throws
// ScenarioError naming the file, line and key.
TopologyRequest load_topology_request(const std::string& path);

// Exit code 0 on success; bad input throws ScenarioError (main turns it into exit 2).
int run_topo(const std::vector<std::string>& args);

}  // namespace codesim::cli
