#pragma once
// From one step to a whole training run: throughput, MFU, GPU-hours with the batch-size ramp,
// cost and memory.

#include <string>
#include <vector>

#include "models/llm_math.hpp"
#include "workloads/pipeline/rank_memory.hpp"
#include "workloads/step/stage_balance.hpp"
#include "workloads/step/step_model.hpp"

namespace codesim::workloads {

struct TrainingEstimate {
  StepResult step;  // at the full global batch
  double tokens_per_step = 0;
  double tokens_per_day = 0;
  double tflops_per_gpu = 0;  // causal attention FLOPs
  double tflops_per_gpu_noncausal = 0;
  double mfu = 0;  // against BF16 dense peak, causal
  double mfu_noncausal = 0;
  double gpu_hours_per_trillion_tokens = 0;  // at the full batch
  double gpu_hours_total = 0;                // the token budget, ramp included
  double ramp_gpu_hours = 0;                 // of which spent in the ramp
  double cost_usd = 0;
  RankMemory memory;              // the rank that needs the most
  std::vector<StageWork> stages;  // each pipeline stage and its work per micro-batch
  models::ParamCounts params;
  double train_flops_per_token = 0;  // causal
  double train_flops_per_token_noncausal = 0;
  long long kv_cache_bytes_per_token = 0;  // BF16
  std::vector<std::string> assumptions;
};

// `ramp_model`, when given, prices the batch-ramp steps instead of `model`: its step at each ramp
// batch, scaled by model / ramp_model at the full batch (the event-driven engine simulates the
// full batch once and leaves the ramp's few percent of tokens to the analytic model's shape).
TrainingEstimate estimate_training(const TrainingScenario& scenario, const StepTimeModel& model,
                                   const StepTimeModel* ramp_model = nullptr);

// Batch size (sequences) at which the ramp trains after `tokens` tokens, rounded down to a whole
// number of micro-batches per data-parallel rank (at least one).
int ramp_batch_sequences(const TrainingScenario& scenario, double tokens);

}  // namespace codesim::workloads
