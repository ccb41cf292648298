#include "workloads/training/training_estimate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/stages.hpp"

namespace codesim::workloads {
namespace {

constexpr int kRampSegments = 16;
constexpr double kSecondsPerDay = 86400;

}  // namespace

int ramp_batch_sequences(const TrainingScenario& s, double tokens) {
  const auto& ramp = s.plan.ramp;
  const int full = s.plan.global_batch_sequences;
  if (ramp.from_sequences <= 0 || tokens >= ramp.over_tokens) return full;
  const double fraction = std::clamp(tokens / ramp.over_tokens, 0.0, 1.0);
  const double batch = ramp.from_sequences + fraction * (full - ramp.from_sequences);
  const int granule = s.dp() * s.plan.micro_batch_sequences;
  return std::max(granule, int(batch / granule) * granule);
}

TrainingEstimate estimate_training(const TrainingScenario& s, const StepTimeModel& model,
                                   const StepTimeModel* ramp_model) {
  TrainingEstimate e;
  const int seq = s.plan.sequence_length;
  e.params = models::count_params(s.model);
  e.train_flops_per_token =
      models::train_flops_per_token(s.model, seq, models::AttentionMask::kCausal);
  e.train_flops_per_token_noncausal =
      models::train_flops_per_token(s.model, seq, models::AttentionMask::kFull);
  e.kv_cache_bytes_per_token = models::kv_cache_bytes_per_token(s.model);

  e.step = model.step(s, s.plan.global_batch_sequences);
  e.tokens_per_step = double(s.plan.global_batch_sequences) * seq;
  e.tokens_per_day = e.tokens_per_step / e.step.step_time_s * kSecondsPerDay;
  const double gpus = s.gpus();
  const double tokens_per_gpu_second = e.tokens_per_step / e.step.step_time_s / gpus;
  e.tflops_per_gpu = tokens_per_gpu_second * e.train_flops_per_token / 1e12;
  e.tflops_per_gpu_noncausal = tokens_per_gpu_second * e.train_flops_per_token_noncausal / 1e12;
  e.mfu = e.tflops_per_gpu / s.gpu.bf16_dense_tflops;
  e.mfu_noncausal = e.tflops_per_gpu_noncausal / s.gpu.bf16_dense_tflops;
  const double gpu_hours_per_token = e.step.step_time_s * gpus / 3600.0 / e.tokens_per_step;
  e.gpu_hours_per_trillion_tokens = gpu_hours_per_token * 1e12;

  // The ramp: equal token segments, each at the batch of its midpoint.
  const double ramp_tokens =
      s.plan.ramp.from_sequences > 0 ? std::min(s.plan.ramp.over_tokens, s.plan.tokens_total) : 0;
  if (ramp_tokens > 0) {
    const double segment = ramp_tokens / kRampSegments;
    // The ramp's batches, then (with a ramp model) the full batch it is scaled by.
    std::vector<int> batches;
    for (int i = 0; i < kRampSegments; ++i) {
      batches.push_back(ramp_batch_sequences(s, (i + 0.5) * segment));
    }
    if (ramp_model) batches.push_back(s.plan.global_batch_sequences);
    const std::vector<StepResult> ramp = (ramp_model ? *ramp_model : model).steps(s, batches);
    const double scale = ramp_model ? e.step.step_time_s / ramp.back().step_time_s : 1.0;
    for (int i = 0; i < kRampSegments; ++i) {
      const double step_s = ramp[i].step_time_s * scale;
      const double tokens_per_step = double(batches[i]) * seq;
      e.ramp_gpu_hours += segment / tokens_per_step * step_s * gpus / 3600.0;
    }
  }
  e.gpu_hours_total = e.ramp_gpu_hours + (s.plan.tokens_total - ramp_tokens) * gpu_hours_per_token;
  e.cost_usd = e.gpu_hours_total * s.cost.usd_per_gpu_hour;

  const auto stages = split_stages(
      s.model, stage_count(s.plan.schedule, s.plan.pp, s.plan.virtual_stages), s.plan.stage_layers);
  e.memory = peak_rank_memory(memory_params(s), stages);
  e.stages = stage_work(ChunkCostModel(chunk_cost_params(s)), stages,
                        overlaps_forward_and_backward(s.plan.schedule));
  e.assumptions = model.assumptions(s);
  e.assumptions.push_back(
      fmt::format("GPU-hours include the batch-size ramp, integrated over {} equal token "
                  "segments.",
                  kRampSegments));
  if (ramp_model && ramp_tokens > 0) {
    e.assumptions.push_back("batch-ramp steps: the " + ramp_model->name() +
                            " step at each ramp batch, scaled by " + model.name() + " / " +
                            ramp_model->name() + " at the full batch");
  }
  return e;
}

}  // namespace codesim::workloads
