#pragma once
// Bytes each GPU holds for a training plan: weights, gradients, optimizer states (sharded by
// ZeRO-1 over the data-parallel replicas of each parameter) and the activations in flight.
// Precisions follow DeepSeek-V3's recipe (published.yaml training_setup_v3.optimizer): BF16
// working weights, FP32 gradients, FP32 master weights and BF16 AdamW moments.

#include <string>
#include <vector>

#include "workloads/pipeline/stages.hpp"
#include "workloads/plan/scenario.hpp"

namespace codesim::workloads {

// What the memory model reads: the model, the plan's cut and precision, and the replicas over
// which ZeRO-1 shards each parameter's optimizer state.
struct MemoryParams {
  models::ModelConfig model;
  Schedule schedule = Schedule::k1F1B;
  int pp = 1;
  int virtual_stages = 1;
  int tp = 1;
  bool sequence_parallel = true;
  int ep = 1;
  int zero_stage = 1;
  models::Precision gemm_precision = models::Precision::kFp8;
  Recompute recompute;
  int dp = 1;             // replicas of each dense parameter
  int expert_dp = 1;      // replicas of each expert's parameters
  int micro_batches = 1;  // per replica and step
  double tokens_per_micro_batch = 0;
};
MemoryParams memory_params(const TrainingScenario& scenario);

struct MemoryItem {
  std::string name;
  double bytes_per_token = 0;  // per token through one layer
};

// The tensors one layer keeps for its backward pass, per token, given the plan's precision and
// recomputation (itemised so that --explain can list them).
std::vector<MemoryItem> layer_activation_items(const MemoryParams& params, bool moe_layer);

struct RankMemory {
  int rank = 0;
  double dense_params = 0;   // replicated over data parallelism (attention, dense FFN, ...)
  double expert_params = 0;  // this GPU's share of the routed experts
  double optimizer_shard_params = 0;  // parameters whose optimizer state this GPU keeps (ZeRO-1)
  double weights_bytes = 0;
  double gradients_bytes = 0;
  double optimizer_bytes = 0;
  double activations_bytes = 0;
  double reserved_bytes = 0;  // CUDA context, communication buffers, fragmentation
  double total_bytes() const {
    return weights_bytes + gradients_bytes + optimizer_bytes + activations_bytes + reserved_bytes;
  }
};

constexpr double kWeightBytes = 2;                  // BF16 working copy
constexpr double kGradientBytes = 4;                // FP32
constexpr double kOptimizerBytes = 8;               // FP32 master + two BF16 moments
constexpr double kReservedBytes = 2.0 * (1 << 30);  // assumed, not measured
// Bytes AdamW streams per parameter of its shard: reads the FP32 gradient and master weight and
// two BF16 moments, writes master, moments and the BF16 working weight.
constexpr double kOptimizerStepBytesPerParam = 4 + 4 + 4 + 4 + 4 + 2;

// One model stage's parameters on a GPU (dense ones per tensor-parallel shard, its share of the
// routed experts) and the activation bytes per token it keeps for its backward.
struct StageParams {
  double dense = 0;
  double expert = 0;
  double activation_bytes_per_token = 0;
};
StageParams stage_params(const MemoryParams& params, const Stage& stage);

// What every stage's memory is summed from, the same whatever the split: the per-token activation
// bytes of a dense and of an MoE layer, full recomputation's working set (one layer's stored
// activations for one micro-batch), each layer's parameters (routed experts apart; the last
// entry an MTP module's block) and each pipeline rank's stages. A search over splits works them
// out once (layer_activation_bytes) and passes them in.
struct LayerActivationBytes {
  double dense = 0;
  double moe = 0;
  double recompute_working_set = 0;
  std::vector<double> layer_params;   // by layer, 0 .. model.layers
  std::vector<double> routed_params;  // of which routed experts
  std::vector<std::vector<int>> stages_of_rank;
};
LayerActivationBytes layer_activation_bytes(const MemoryParams& params);
StageParams stage_params(const MemoryParams& params, const Stage& stage,
                         const LayerActivationBytes& activations);

RankMemory rank_memory(const MemoryParams& params, const std::vector<Stage>& stages, int rank);
RankMemory rank_memory(const MemoryParams& params, const std::vector<Stage>& stages, int rank,
                       const LayerActivationBytes& activations);
// The pipeline rank that needs the most memory.
RankMemory peak_rank_memory(const MemoryParams& params, const std::vector<Stage>& stages);

}  // namespace codesim::workloads
