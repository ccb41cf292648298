#pragma once
// A sweep file: a base scenario and the axes to vary it along, each point a list of --set
// overrides of the base. Read and checked before any point runs: every axis key must be one the
// scenario accepts (tried with its first value), and zipped lists must be of one length.
//
//   sweep:
//     base: ../deepseek-v3-h800-2048.yaml      # relative to the sweep file
//     engine: analytic                         # or event (the default)
//     set: {plan.comm_sms: 20}                 # applied to every point
//     grid:                                    # every combination, the last key fastest
//       cluster.topology.kind: [mpft, mrft, ft2]
//       plan.max_nodes_per_token: [1, 2, 4, 8]
//     zip:                                     # lists of one length, taken together
//       plan.pp: [8, 16]
//       plan.global_batch: [7680, 15360]
//     outputs: [step_time_s, mfu, breakdown_s.exposed_ep_comm]   # dotted keys of the result

#include <string>
#include <utility>
#include <vector>

namespace codesim::cli {

// One override: the dotted key and its value as YAML text (a scalar, or a flow sequence).
using SweepSet = std::pair<std::string, std::string>;

struct SweepAxis {
  std::vector<std::string> keys;                 // one for a grid axis, several zipped
  std::vector<std::vector<std::string>> values;  // [value index][key]
};

struct SweepSpec {
  std::string file;
  std::string base;    // the base scenario's path, as the sweep file resolves it
  std::string engine;  // "event" or "analytic"
  std::vector<SweepSet> fixed;
  std::vector<SweepAxis> axes;  // grid axes in order, then the zipped one
  std::vector<std::string> outputs;
};

struct SweepPoint {
  std::string id;  // p0000, p0001, ... in expansion order
  std::vector<SweepSet> sets;
};

// Reads and checks a sweep file. Throws ScenarioError naming the file, line and key.
SweepSpec read_sweep(const std::string& path);

// Every point: the fixed overrides, then one value of each axis, the last axis fastest.
std::vector<SweepPoint> expand(const SweepSpec& spec);

// "key=value" as `codesim train --set` takes it.
std::string set_argument(const SweepSet& set);

}  // namespace codesim::cli
