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
  // Data-parallel degree: the replicas the batch is split over.
  int dp() const { return gpus() / (plan.pp * plan.tp * plan.cp); }
  // GPUs holding the same parameter shard, whose gradients are reduced together (and over which
  // ZeRO-1 shards the optimizer): the data-parallel and context-parallel ranks.
  int gradient_replicas() const { return dp() * plan.cp; }
  int gpus_per_stage() const { return gpus() / plan.pp; }
  int expert_dp() const { return gpus_per_stage() / plan.ep; }  // replicas of each expert
  int micro_batches(int batch_sequences) const {
    return batch_sequences / (dp() * plan.micro_batch_sequences);
  }
  int micro_batches() const { return micro_batches(plan.global_batch_sequences); }
  // Tokens of a micro-batch one GPU holds: its share under context parallelism.
  int tokens_per_micro_batch() const {
    return plan.micro_batch_sequences * plan.sequence_length / plan.cp;
  }
  int max_nodes_per_token() const {
    return plan.max_nodes_per_token > 0 ? plan.max_nodes_per_token : model.max_groups_per_token;
  }
};

}  // namespace codesim::workloads
