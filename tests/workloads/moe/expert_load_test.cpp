#include "workloads/moe/expert_load.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "../scenarios.hpp"
#include "workloads/step/engine_input.hpp"
#include "workloads/step/event_step_model.hpp"

namespace codesim::workloads {
namespace {

TEST(ExpertLoad, BalancedRoutingLeavesEveryGpuAtTheMean) {
  const TrainingScenario s = testing::deepseek_v3_on_2048_h800();
  const ExpertLoad load = expert_load(expert_load_params(s));
  EXPECT_TRUE(load.factor.empty());
  EXPECT_EQ(load.mean_max_over_mean, 1.0);
}

TEST(ExpertLoad, ZipfRoutingLoadsSomeGpusAboveTheMeanAndEplbEvensThemOut) {
  TrainingScenario s = testing::deepseek_v3_on_2048_h800();
  s.plan.routing.kind = RoutingSpec::Kind::kZipf;
  s.plan.routing.sample_tokens = 8192;
  const ExpertLoad skewed = expert_load(expert_load_params(s));
  ASSERT_EQ(skewed.factor.size(), std::size_t(s.model.layers + 1));
  EXPECT_TRUE(skewed.factor[0].empty()) << "the first layers are dense";
  const auto& row = skewed.factor[s.model.dense_layers];
  ASSERT_EQ(row.size(), std::size_t(s.plan.ep));
  EXPECT_NEAR(std::accumulate(row.begin(), row.end(), 0.0) / row.size(), 1.0, 1e-12);
  EXPECT_GT(skewed.mean_max_over_mean, 2.0);

  s.plan.routing.redundant_experts = 64;
  const ExpertLoad balanced = expert_load(expert_load_params(s));
  EXPECT_LT(balanced.mean_max_over_mean, skewed.mean_max_over_mean / 1.5);
}

// The engine: a skewed router makes the busiest GPU's experts and receive traffic the critical
// path, so the step is longer; EPLB's redundant experts take most of that back.
TEST(ExpertLoad, SkewSlowsTheSimulatedStepAndRedundantExpertsRecoverIt) {
  TrainingScenario s = testing::deepseek_v3_on_2048_h800();
  // A small cut of V3 on 128 GPUs: pp 2 over 8-layer stages, EP 64.
  s.cluster.nodes = 16;
  s.model.layers = 7;
  s.model.mtp_depth = 0;
  s.plan.pp = 2;
  s.plan.stage_layers = {3, 4};
  s.plan.global_batch_sequences = 64 * 8;
  s.plan.ramp = {};
  s.plan.routing.sample_tokens = 8192;
  const EventStepModel model;
  const double balanced = model.step(s, s.plan.global_batch_sequences).step_time_s;
  s.plan.routing.kind = RoutingSpec::Kind::kZipf;
  const double skewed = model.step(s, s.plan.global_batch_sequences).step_time_s;
  s.plan.routing.redundant_experts = 64;
  const double rebalanced = model.step(s, s.plan.global_batch_sequences).step_time_s;
  std::printf("balanced %.4f skewed %.4f rebalanced %.4f\n", balanced, skewed, rebalanced);
  EXPECT_GT(skewed, balanced * 1.2);
  EXPECT_LT(rebalanced, skewed);
  EXPECT_LT(rebalanced, (balanced + skewed) / 2);  // most of the loss taken back
}

TEST(ExpertLoad, MeasuredCountsAndDriftMoveTheLoad) {
  TrainingScenario s = testing::deepseek_v3_on_2048_h800();
  s.plan.routing.sample_tokens = 8192;
  // Measured: expert 0 took ten times the tokens of any other in every layer.
  s.plan.routing.kind = RoutingSpec::Kind::kMeasured;
  std::vector<double> counts(s.model.routed_experts, 100.0);
  counts[0] = 1000;
  s.plan.routing.measured = {counts};
  const ExpertLoad measured = expert_load(expert_load_params(s));
  const auto& row = measured.factor[s.model.dense_layers];
  EXPECT_EQ(std::max_element(row.begin(), row.end()) - row.begin(), 0);  // GPU 0 holds expert 0
  EXPECT_GT(row[0], 1.5);
  // Drifting: the hot GPUs move as steps pass.
  s.plan.routing.kind = RoutingSpec::Kind::kDrifting;
  s.plan.routing.drift = 16;
  const auto busiest = [&](std::int64_t step) {
    s.plan.routing.step = step;
    const auto r = expert_load(expert_load_params(s)).factor[s.model.dense_layers];
    return std::max_element(r.begin(), r.end()) - r.begin();
  };
  EXPECT_NE(busiest(0), busiest(4));
}

}  // namespace
}  // namespace codesim::workloads
