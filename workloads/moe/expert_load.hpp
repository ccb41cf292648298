#pragma once
// How unevenly an MoE layer loads the GPUs of an EP group, for the event-driven engine: per model
// layer, each GPU's share of the routed tokens relative to the group's mean (1 everywhere for a
// balanced router). A skewed router's loads are estimated by routing a sample of tokens with
// DeepSeek-V3's node-limited rule (workloads/moe/router.hpp), the groups being the EP group's
// nodes; with redundant experts, EPLB places the replicas on those loads first
// (workloads/eplb.hpp) and each replica takes an equal share of its expert's tokens.

#include <vector>

#include "workloads/plan/scenario.hpp"

namespace codesim::workloads {

// What the expert loads depend on: the model's experts, the EP group and its nodes, M, and the
// routing the scenario asks for.
struct ExpertLoadParams {
  models::ModelConfig model;
  int ep = 1;
  int gpus_per_node = 8;
  int max_nodes_per_token = 0;  // M (resolved: the model's default applied)
  RoutingSpec routing;
};
ExpertLoadParams expert_load_params(const TrainingScenario& scenario);

struct ExpertLoad {
  // [layer][GPU of the EP group]: load over the group's mean; empty rows for dense layers, and
  // no rows at all for a balanced router without redundant experts (every factor 1).
  std::vector<std::vector<double>> factor;
  double mean_max_over_mean = 1;  // the busiest GPU's factor, averaged over the MoE layers
};

// Layers 0 .. model.layers (the last one is an MTP module's block). Throws std::invalid_argument
// when the routing cannot be placed (e.g. redundant experts that do not spread evenly).
ExpertLoad expert_load(const ExpertLoadParams& params);

}  // namespace codesim::workloads
