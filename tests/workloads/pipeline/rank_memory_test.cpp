#include "workloads/pipeline/rank_memory.hpp"

#include <gtest/gtest.h>

#include "../scenarios.hpp"
#include "models/llm_math.hpp"
#include "workloads/pipeline/stages.hpp"

namespace codesim::workloads {
namespace {

using codesim::testing::deepseek_v3_on_2048_h800;
using codesim::testing::small_dense_gpt;

TEST(RankMemory, DualPipeRanksHoldTwoStages) {
  auto s = deepseek_v3_on_2048_h800();
  const auto stages = split_stages(s.model, 16, {});
  const RankMemory r5 = rank_memory(memory_params(s), stages, 5);  // stages 5 and 10: 8 MoE layers
  const double expert_per_layer = 256.0 * models::expert_params(s.model) / 64;
  EXPECT_DOUBLE_EQ(r5.expert_params, 8 * expert_per_layer);
  s.plan.schedule = Schedule::k1F1B;
  const RankMemory single = rank_memory(memory_params(s), stages, 5);
  EXPECT_DOUBLE_EQ(single.expert_params, 4 * expert_per_layer);
}

TEST(RankMemory, ZeroOneShardsOptimizerStatesOverReplicas) {
  auto s = small_dense_gpt();
  const auto stages = split_stages(s.model, 4, {});
  const RankMemory sharded = rank_memory(memory_params(s), stages, 1);
  s.plan.zero_stage = 0;
  const RankMemory full = rank_memory(memory_params(s), stages, 1);
  EXPECT_DOUBLE_EQ(full.optimizer_bytes, sharded.optimizer_bytes * s.dp());
  EXPECT_DOUBLE_EQ(full.weights_bytes, full.dense_params * kWeightBytes);
  EXPECT_DOUBLE_EQ(full.gradients_bytes, full.dense_params * kGradientBytes);
}

TEST(RankMemory, RecomputationAndFp8ShrinkActivations) {
  auto s = deepseek_v3_on_2048_h800();
  auto total = [&] {
    double sum = 0;
    for (const auto& item : layer_activation_items(memory_params(s), true))
      sum += item.bytes_per_token;
    return sum;
  };
  const double v3 = total();
  s.plan.recompute = {};
  const double no_recompute = total();
  s.plan.gemm_precision = models::Precision::kBf16;
  const double bf16 = total();
  EXPECT_LT(v3, no_recompute);
  EXPECT_LT(no_recompute, bf16);
}

TEST(RankMemory, ActivationsScaleWithTheScheduleInFlight) {
  auto s = deepseek_v3_on_2048_h800();
  const auto stages = split_stages(s.model, 16, {});
  const double dualpipe = rank_memory(memory_params(s), stages, 5).activations_bytes;
  s.plan.schedule = Schedule::k1F1B;
  const double one_f_one_b = rank_memory(memory_params(s), stages, 5).activations_bytes;
  EXPECT_DOUBLE_EQ(dualpipe / one_f_one_b, 17.0 / 16.0);
}

// A GPT layer's activations per token against Korthikanti et al. 2022 ("Reducing Activation
// Recomputation in Large Transformer Models", eq. 2-4, BF16, GELU FFN of 4h): with tensor
// parallelism t, 10 + 24/t units of h bytes per token without sequence parallelism, 34/t with
// it, plus 5 a s / (h t) for the attention scores. FlashAttention keeps no scores (its
// log-sum-exp instead: 4 bytes per head), and pre-training drops dropout, whose two masks (1
// unit each, in the replicated part without sequence parallelism) are then not kept either.
TEST(RankMemory, ADenseLayerKeepsWhatMegatronsFormulasSay) {
  auto s = small_dense_gpt();
  s.model.ffn = models::FfnKind::kGelu;
  s.model.ffn_dim = 4 * s.model.hidden;
  s.plan.recompute = {};
  s.cluster.nodes = 4;  // pp 4 x tp up to 8
  const double h = s.model.hidden;
  auto per_token = [&] {
    double sum = 0;
    for (const auto& item : layer_activation_items(memory_params(s), false)) {
      sum += item.bytes_per_token;
    }
    return sum;
  };
  for (int t : {1, 2, 4, 8}) {
    s.plan.tp = t;
    const double lse = 4.0 * s.model.heads / t;
    s.plan.sequence_parallel = false;
    EXPECT_DOUBLE_EQ(per_token(), (10 - 2) * h + 24 * h / t + lse) << "tp " << t;
    s.plan.sequence_parallel = true;
    EXPECT_DOUBLE_EQ(per_token(), (34 - 2) * h / t + lse) << "tp " << t;
  }
}

// Context parallelism: activations per GPU are 1/cp (its share of every sequence); the optimizer
// is sharded over dp x cp GPUs, the same as without it on as many GPUs.
TEST(RankMemory, ContextParallelismSplitsActivationsNotTheOptimizerShard) {
  auto s = small_dense_gpt();
  s.cluster.nodes = 4;
  const auto stages = split_stages(s.model, 4, {});
  const RankMemory one = rank_memory(memory_params(s), stages, 1);
  s.plan.cp = 2;
  const RankMemory two = rank_memory(memory_params(s), stages, 1);
  EXPECT_DOUBLE_EQ(two.activations_bytes * 2, one.activations_bytes);
  EXPECT_DOUBLE_EQ(two.optimizer_bytes, one.optimizer_bytes);
  EXPECT_DOUBLE_EQ(two.weights_bytes, one.weights_bytes);
}

// Full recomputation keeps each layer's input (2 h / t bytes a token with sequence
// parallelism, Korthikanti et al. 2022 sec 5) and rebuilds one layer at a time.
TEST(RankMemory, FullRecomputationKeepsOnlyEachLayersInput) {
  auto s = small_dense_gpt();
  s.cluster.nodes = 4;
  s.plan.tp = 2;
  s.plan.recompute = {};
  const auto stages = split_stages(s.model, 4, {});
  const MemoryParams stored = memory_params(s);
  double layer = 0;
  for (const auto& item : layer_activation_items(stored, false)) layer += item.bytes_per_token;
  const RankMemory before = rank_memory(stored, stages, 1);
  s.plan.recompute.full = true;
  const MemoryParams full = memory_params(s);
  const auto items = layer_activation_items(full, false);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_DOUBLE_EQ(items[0].bytes_per_token, 2.0 * s.model.hidden / 2);
  const RankMemory after = rank_memory(full, stages, 1);
  // Stage 1 holds 2 layers; 4 units in flight (1F1B, pp 4).
  EXPECT_DOUBLE_EQ(before.activations_bytes, 4 * 2 * layer * stored.tokens_per_micro_batch);
  EXPECT_DOUBLE_EQ(after.activations_bytes,
                   (4 * 2 * items[0].bytes_per_token + layer) * full.tokens_per_micro_batch);
}

}  // namespace
}  // namespace codesim::workloads
