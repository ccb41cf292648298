#pragma once
// Whether a scenario is a plan that can run: degrees that divide, schedules' preconditions, and
// memory that fits. Problems name what to blame and what would be valid.

#include <string>
#include <vector>

#include "topologies/topology.hpp"
#include "workloads/plan/scenario.hpp"

namespace codesim::workloads {

// What a problem is about. How each is spelled in a scenario file is the edge's business
// (cli/scenario_loader.cpp), as is naming the values (a topology kind's name, say).
enum class ScenarioField {
  kNodeNics,          // NICs per node
  kTopologyKind,      // the fabric's kind: one the training cluster cannot be built on
  kTopology,          // one of the fabric's parameters (ScenarioProblem::topology_param)
  kRedundantExperts,  // redundant experts of the routing
  kPipelineParallel,
  kVirtualStages,
  kTensorParallel,
  kSequenceParallel,
  kContextParallel,
  kExpertParallel,
  kMaxNodesPerToken,
  kStageLayers,
  kGlobalBatch,
  kCommSms,
  kPrecision,
  kRecompute,
  kRampTokens,  // the batch-size ramp's length in tokens
  kPlan,        // the plan as a whole (memory that does not fit)
};

struct ScenarioProblem {
  ScenarioField field;
  std::string message;
  std::string valid;
  topo::TopologyParam topology_param = topo::TopologyParam::kNodes;  // kTopology
};

// Whether the event-driven engine's cluster network can be built on a fabric kind.
bool trainable_fabric(topo::TopologyKind kind);

// Problems in the order a user should fix them; empty when the scenario can run.
std::vector<ScenarioProblem> check_scenario(const TrainingScenario& scenario);
// The cluster's part of it (node NICs, a fabric the event engine builds, the fabric's
// parameters), which serving scenarios are checked by too.
std::vector<ScenarioProblem> check_cluster(const topo::ClusterSpec& cluster);

}  // namespace codesim::workloads
