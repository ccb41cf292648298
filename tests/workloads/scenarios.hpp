#pragma once
// Scenarios built directly as structs, for tests that should not depend on the YAML edge.

#include "../presets.hpp"
#include "models/calibration.hpp"
#include "models/gpu.hpp"
#include "models/llm.hpp"
#include "workloads/plan/scenario.hpp"

namespace codesim::testing {

inline workloads::TrainingScenario deepseek_v3_on_2048_h800() {
  workloads::TrainingScenario s;
  s.name = "v3";
  s.gpu = gpu_preset("h800");
  s.cluster.nodes = 256;
  s.cluster.node = {8, 200, 8, 400};
  s.model = model_preset("deepseek-v3");
  auto& p = s.plan;
  p.pp = 16;
  p.ep = 64;
  p.schedule = workloads::Schedule::kDualPipe;
  p.sequence_length = 4096;
  p.global_batch_sequences = 15360;
  p.ramp = {3072, 469e9};
  p.tokens_total = 14.8e12;
  p.comm_sms = 20;
  p.max_nodes_per_token = 4;
  p.gemm_precision = models::Precision::kFp8;
  p.recompute = {true, true};
  s.calibration = models::h800_published_calibration();
  return s;
}

inline workloads::TrainingScenario small_dense_gpt() {
  workloads::TrainingScenario s;
  s.name = "gpt";
  s.gpu = gpu_preset("h100-sxm");
  s.cluster.nodes = 2;
  s.cluster.node = {8, 450, 8, 400};
  models::ModelConfig m;
  m.name = "gpt";
  m.layers = 6;
  m.hidden = 2048;
  m.vocab = 32000;
  m.heads = 16;
  m.kv_heads = 16;
  m.head_dim = 128;
  m.v_head_dim = 128;
  m.ffn_dim = 8192;
  s.model = m;
  auto& p = s.plan;
  p.pp = 4;  // 6 layers + embedding + head = 8 slots
  p.schedule = workloads::Schedule::k1F1B;
  p.sequence_length = 2048;
  p.global_batch_sequences = 64;  // dp = 4: 16 micro-batches
  p.tokens_total = 1e9;
  p.gemm_precision = models::Precision::kBf16;
  s.calibration = models::h800_published_calibration();
  return s;
}

// Mixtral 8x7B (8 experts, top-2) on 4 nodes of 8 H800s: PP2, EP8 within a node, BF16,
// 1F1B; `tp` GPUs per tensor-parallel group (sequence parallelism on), dp = 16 / tp.
inline workloads::TrainingScenario small_moe(int tp) {
  workloads::TrainingScenario s;
  s.name = "moe";
  s.gpu = gpu_preset("h800");
  s.cluster.nodes = 4;
  s.cluster.node = {8, 200, 8, 400};
  s.model = model_preset("mixtral-8x7b");
  auto& p = s.plan;
  p.pp = 2;
  p.ep = 8;
  p.tp = tp;
  p.schedule = workloads::Schedule::k1F1B;
  p.sequence_length = 4096;
  p.global_batch_sequences = 4 * 16 / tp;  // 4 micro-batches per replica
  p.tokens_total = 1e9;
  p.gemm_precision = models::Precision::kBf16;
  s.calibration = models::h800_published_calibration();
  return s;
}

}  // namespace codesim::testing
