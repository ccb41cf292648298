#pragma once
// Everything one training estimate needs, as plain values parsed and validated at the edge.

#include <string>

#include "models/calibration.hpp"
#include "models/gpu.hpp"
#include "models/llm.hpp"
#include "topologies/cluster.hpp"
#include "workloads/plan/plan.hpp"

namespace codesim::workloads {

struct CostSpec {
  double usd_per_gpu_hour = 2.0;  // the rental price DeepSeek-V3's report assumes for H800
};

struct TrainingScenario {
  std::string name;
  models::GpuSpec gpu;
  topo::ClusterSpec cluster;
  models::ModelConfig model;
  TrainingPlan plan;
  models::Calibration calibration;
  CostSpec cost;

  int gpus() const { return cluster.gpus(); }
  int dp() const { return gpus() / (plan.pp * plan.tp); }  // data-parallel degree
  int gpus_per_stage() const { return gpus() / plan.pp; }
  int expert_dp() const { return gpus_per_stage() / plan.ep; }  // replicas of each expert
  int micro_batches(int batch_sequences) const {
    return batch_sequences / (dp() * plan.micro_batch_sequences);
  }
  int micro_batches() const { return micro_batches(plan.global_batch_sequences); }
  int tokens_per_micro_batch() const { return plan.micro_batch_sequences * plan.sequence_length; }
  int max_nodes_per_token() const {
    return plan.max_nodes_per_token > 0 ? plan.max_nodes_per_token : model.max_groups_per_token;
  }
};

}  // namespace codesim::workloads
