#pragma once
// The `failures` map of a scenario's or a topology file's topology, shared by `train` and `topo`:
//   failures:
//     switches: [p3.spine2]                  # by label
//     links: [[p0.leaf1, p0.spine3]]         # by the labels of both ends
//     planes: [5]                            # a whole plane of an MPFT
// Reading checks the shape; resolving against the built graph names an unknown label at its
// line.

#include <string>

#include "cli/yaml_reader.hpp"
#include "topologies/failures.hpp"

namespace codesim::cli {

topo::FailureSpec read_failures(const YamlContext& ctx, const YAML::Node& node,
                                const std::string& path);

// Resolves `spec` (read from `node` at `path`) against `topology`; a ScenarioError at the
// offending item otherwise.
topo::Failures resolve_failures_at(const YamlContext& ctx, const YAML::Node& node,
                                   const std::string& path, const topo::Topology& topology,
                                   const topo::FailureSpec& spec);

}  // namespace codesim::cli
