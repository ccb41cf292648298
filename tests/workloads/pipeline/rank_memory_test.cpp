#include "workloads/pipeline/rank_memory.hpp"

#include <gtest/gtest.h>

#include "models/llm_math.hpp"
#include "../scenarios.hpp"
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
    for (const auto& item : layer_activation_items(memory_params(s), true)) sum += item.bytes_per_token;
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

}  // namespace
}  // namespace codesim::workloads
