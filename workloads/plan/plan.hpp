#pragma once
// A training plan: how a model is cut and spread over a cluster, and how much it trains on.

#include <cstdint>
#include <string>
#include <vector>

#include "models/compute_cost.hpp"

namespace codesim::workloads {

// Pipeline schedules (pipeline/schedules.hpp); their names are cli/registry.hpp's.
// kInterleaved1F1B is Megatron-LM's interleaved schedule over `virtual_stages` model chunks per
// rank (TrainingPlan::virtual_stages); the others hold one chunk per rank (DualPipe and DualPipeV
// two, by their own construction).
enum class Schedule { k1F1B, kZeroBubble1P, kDualPipe, kDualPipeV, kInterleaved1F1B };

struct BatchRamp {
  int from_sequences = 0;  // 0: no ramp
  double over_tokens = 0;  // the batch grows linearly to the full size over these tokens
};

// Activation recomputation. `full` is Megatron-LM's full recomputation (each layer keeps only its
// input and runs its forward again in its backward); the others recompute single operations
// (DeepSeek-V3's RMSNorm and MLA up-projections). Megatron-LM's selective recomputation (the
// attention core) is what FlashAttention's backward does anyway: no flag.
struct Recompute {
  bool rmsnorm = false;
  bool mla_up_projection = false;
  bool full = false;
};

// How tokens pick experts in the event-driven engine (workloads/moe/router.hpp): balanced (the
// ideal auxiliary-loss-free balancing aims at); a Zipf popularity with `exponent`, the hot
// experts placed by `seed`; that Zipf drifting by `drift` experts per training step, seen at
// `step`; or measured per-layer expert token counts (a file at the edge). `redundant_experts`
// copies of hot experts spread by EPLB.
struct RoutingSpec {
  enum class Kind { kBalanced, kZipf, kDrifting, kMeasured };
  Kind kind = Kind::kBalanced;
  double exponent = 1.0;
  std::uint64_t seed = 1;
  double drift = 1.0;                         // kDrifting: experts the hot set moves per step
  std::int64_t step = 0;                      // kDrifting: the training step simulated
  std::vector<std::vector<double>> measured;  // kMeasured: layers x experts token counts
  int redundant_experts = 0;                  // per EP group, placed by EPLB on the sampled loads
  int sample_tokens = 32768;                  // tokens routed per layer to estimate each GPU's load
};

struct TrainingPlan {
  int pp = 1;  // pipeline ranks
  int ep = 1;  // expert-parallel group size
  int tp = 1;  // tensor parallel
  // Context parallelism (ring attention): each sequence split over cp GPUs in 2 x cp chunks (each
  // GPU a chunk from each end, balancing the causal mask), K and V passed round the ring during
  // attention. Ranks: tp innermost, then cp, then dp (Megatron-Core's order).
  int cp = 1;
  // Megatron-LM's sequence parallelism with tp > 1: the residual stream split over the group,
  // all-gathers and reduce-scatters in place of all-reduces.
  bool sequence_parallel = true;
  int zero_stage = 1;
  Schedule schedule = Schedule::k1F1B;
  int virtual_stages = 1;  // model chunks per pipeline rank (interleaved 1F1B's v)
  int sequence_length = 4096;
  int global_batch_sequences = 0;
  int micro_batch_sequences = 1;
  BatchRamp ramp;
  double tokens_total = 0;
  int comm_sms = 0;             // SMs reserved for communication kernels
  int max_nodes_per_token = 0;  // node-limited routing M; 0: the model's default
  models::Precision gemm_precision = models::Precision::kFp8;
  Recompute recompute;
  std::vector<int> stage_layers;  // explicit layers per pipeline stage; empty: balanced slots
  // The stage_layers were chosen to balance the stages' work (step/stage_balance.hpp), not given.
  bool stage_layers_balanced = false;
  RoutingSpec routing;
};

}  // namespace codesim::workloads
