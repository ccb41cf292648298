#include "workloads/step/engine_input.hpp"

#include <gtest/gtest.h>

#include <string>

#include "../scenarios.hpp"
#include "workloads/step/analytic_step_model.hpp"
#include "workloads/step/event_step_model.hpp"
#include "workloads/training/scenario_check.hpp"

namespace codesim::workloads {
namespace {

// Expert parallelism with tensor parallelism (Megatron-Core's layout with sequence parallelism
// and expert tensor parallelism 1): each GPU routes its own 1/tp of a micro-batch's tokens, so
// its all-to-all bytes and its experts' rows halve with tp = 2, and the EP group of 8
// consecutive GPUs holds 4 replicas' two shards.
TEST(EngineInput, ExpertWithTensorParallelismRoutesEachGpusShareOfTheSequence) {
  const TrainingScenario one = codesim::testing::small_moe(1);
  const TrainingScenario two = codesim::testing::small_moe(2);
  ASSERT_TRUE(check_scenario(one).empty());
  ASSERT_TRUE(check_scenario(two).empty());
  const ChunkCostModel costs_one(chunk_cost_params(one)), costs_two(chunk_cost_params(two));
  const EngineInput a = engine_input(one, costs_one, one.plan.global_batch_sequences);
  const EngineInput b = engine_input(two, costs_two, two.plan.global_batch_sequences);
  EXPECT_EQ(b.tp, 2);
  EXPECT_EQ(b.ep, 8);
  EXPECT_EQ(b.replicas, 8);
  EXPECT_EQ(a.micro_batches, b.micro_batches);
  for (int e = 0; e < kExchanges; ++e) {
    EXPECT_GT(a.exchanges[e].nvlink_per_peer, 0) << e;
    EXPECT_DOUBLE_EQ(b.exchanges[e].nvlink_per_peer * 2, a.exchanges[e].nvlink_per_peer) << e;
  }
  EXPECT_EQ(routed_rows_per_expert(costs_two.shapes()) * 2,
            routed_rows_per_expert(costs_one.shapes()));
  // Experts are not split by tensor parallelism: the same expert parameters per GPU.
  EXPECT_EQ(a.expert_params, b.expert_params);
}

// The gate and the routed path on 1/tp of the tokens; the shared experts split like a dense FFN.
TEST(EngineInput, TensorParallelMoeKernelsSplitTheTokensOrTheWidth) {
  TrainingScenario v3 = codesim::testing::deepseek_v3_on_2048_h800();
  const ChunkCostModel one(chunk_cost_params(v3));
  v3.plan.tp = 2;
  const ChunkCostModel two(chunk_cost_params(v3));
  auto gemm = [](const std::vector<models::Kernel>& list, const std::string& name) {
    for (const models::Kernel& k : list) {
      if (k.name == name) return k;
    }
    ADD_FAILURE() << name;
    return models::Kernel{};
  };
  const LayerKernels a = one.kernels(10), b = two.kernels(10);
  EXPECT_EQ(gemm(b.attention.forward, "gemm: gate (bf16)").m * 2,
            gemm(a.attention.forward, "gemm: gate (bf16)").m);
  EXPECT_EQ(gemm(b.routed.forward, "grouped gemm: routed experts up (gate, up)").m * 2,
            gemm(a.routed.forward, "grouped gemm: routed experts up (gate, up)").m);
  const models::Kernel shared_a = gemm(a.experts.forward, "gemm: shared experts up (gate, up)");
  const models::Kernel shared_b = gemm(b.experts.forward, "gemm: shared experts up (gate, up)");
  EXPECT_EQ(shared_b.m, shared_a.m);
  EXPECT_EQ(shared_b.n * 2, shared_a.n);
}

TEST(EngineInput, ExpertWithTensorParallelismRunsEventByEvent) {
  const TrainingScenario s = codesim::testing::small_moe(2);
  const StepResult event = EventStepModel().step(s, s.plan.global_batch_sequences);
  EXPECT_GT(event.step_time_s, 0);
  EXPECT_GT(event.breakdown.compute_s, 0);
  EXPECT_GT(event.events, 0);
  EXPECT_GT(event.breakdown.exposed_ep_comm_s, 0);
  const StepResult analytic = AnalyticStepModel().step(s, s.plan.global_batch_sequences);
  // The EP group sits in one node, its all-to-all on NVLink links of its own: the two engines
  // price the same step (measured 1.0508 s event, 1.0491 s analytic).
  EXPECT_NEAR(event.step_time_s / analytic.step_time_s, 1.0, 0.01);
}

TEST(EngineInput, ExpertWithTensorParallelismNeedsSequenceParallelism) {
  TrainingScenario s = codesim::testing::small_moe(2);
  s.plan.sequence_parallel = false;
  const auto problems = check_scenario(s);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems.front().field, ScenarioField::kSequenceParallel);
}

}  // namespace
}  // namespace codesim::workloads
