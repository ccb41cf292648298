#pragma once
// Redundant experts: where each expert's replicas live, with the semantics of DeepSeek's
// expert-parallelism load balancer (deepseek-ai/EPLB, eplb.py), for one MoE layer.
//
// Given estimated per-expert loads, `physical` slots (experts plus redundant copies) spread evenly
// over `gpus` GPUs in `nodes` nodes:
//  - hierarchical, when the nodes divide the expert groups: pack the groups onto the nodes
//    (balanced_packing, groups/nodes per node), replicate experts within each node (each extra
//    slot of the node goes to the expert of largest load per replica), then pack each node's
//    replicas onto its GPUs (balanced_packing again, on load / replicas);
//  - global otherwise: the same with one group and one node (replicas anywhere).
// Ties go to the lower index everywhere: sorting is stable, the least-loaded pack is the first.

#include <span>
#include <vector>

#include "workloads/moe/expert_map.hpp"

namespace codesim::workloads {

struct Packing {
  std::vector<int> pack;  // per item
  std::vector<int> rank;  // position of the item within its pack
};

// Packs n weighted items into `packs` packs of n / packs items each: items in descending weight,
// each into the lightest pack that is not yet full. n / packs == 1 packs item i alone into pack i.
Packing balanced_packing(std::span<const double> weight, int packs);

struct Replication {
  std::vector<int> physical_to_logical;  // the first n slots are the n experts themselves
  std::vector<int> rank;                 // replica index of each slot
  std::vector<int> count;                // replicas per expert
};

// Replicates n experts into `physical` >= n slots: each extra slot goes to the expert with the
// largest weight / replicas so far.
Replication replicate_experts(std::span<const double> weight, int physical);

struct EplbPlacement {
  int experts = 0;
  int gpus = 0;
  int nodes = 0;
  bool hierarchical = false;
  std::vector<int> physical_to_logical;  // slot s lives on GPU s / slots_per_gpu()
  std::vector<int> replica_rank;         // per slot
  std::vector<int> logical_count;        // replicas per expert
  int slots_per_gpu() const { return gpus ? int(physical_to_logical.size()) / gpus : 0; }
  ExpertMap map() const { return ExpertMap(experts, gpus, physical_to_logical); }
};

// The hierarchical policy with `groups` groups over `nodes` nodes (groups = nodes = 1: global).
EplbPlacement eplb_hierarchical(std::span<const double> load, int physical, int groups, int nodes,
                                int gpus);
// EPLB's entry point: hierarchical when nodes divide groups, global otherwise.
EplbPlacement eplb_rebalance(std::span<const double> load, int physical, int groups, int nodes,
                             int gpus);
// No balancing: expert e alone on GPU e / (experts / gpus).
EplbPlacement contiguous_placement(int experts, int gpus);

// Load per GPU when every replica of an expert takes an equal share of its load.
std::vector<double> placement_gpu_loads(const EplbPlacement& placement,
                                        std::span<const double> load);

}  // namespace codesim::workloads
