#include "workloads/training/training_estimate.hpp"

#include <gtest/gtest.h>

#include "../scenarios.hpp"
#include "workloads/step/analytic_step_model.hpp"
#include "workloads/training/scenario_check.hpp"

namespace codesim::workloads {
namespace {

using codesim::testing::deepseek_v3_on_2048_h800;

// A step model that takes 10 s at any batch, so that the estimate's arithmetic can be checked
// by hand.
class TenSecondSteps final : public StepTimeModel {
 public:
  std::string name() const override { return "ten seconds"; }
  StepResult step(const TrainingScenario&, int) const override {
    StepResult r;
    r.step_time_s = 10;
    return r;
  }
  std::vector<std::string> assumptions(const TrainingScenario&) const override { return {"x"}; }
};

// DeepSeek-V3's plan, no ramp: 15360 x 4096 = 62,914,560 tokens a step on 2048 GPUs.
TEST(TrainingEstimate, HandWorkedFromAFixedStep) {
  auto s = deepseek_v3_on_2048_h800();
  s.plan.ramp = {};
  const TrainingEstimate e = estimate_training(s, TenSecondSteps());
  EXPECT_DOUBLE_EQ(e.tokens_per_step, 62914560.0);
  EXPECT_DOUBLE_EQ(e.tokens_per_day, 62914560.0 * 8640);
  // 2048 GPUs x 10 s = 5.689 GPU-hours a step; per 1e12 tokens: 5.689 / 62914560 * 1e12.
  EXPECT_NEAR(e.gpu_hours_per_trillion_tokens, 90422.454, 0.001);
  EXPECT_NEAR(e.gpu_hours_total, 90422.454 * 14.8, 0.02);
  EXPECT_NEAR(e.cost_usd, 2.0 * 90422.454 * 14.8, 0.04);  // $2 per GPU-hour
  // 3072 tokens per GPU-second x 250.45 GFLOPs per token (isca25 Table 2: 250), of 989.4 peak.
  EXPECT_NEAR(e.train_flops_per_token, 250.45e9, 0.01e9);
  EXPECT_NEAR(e.tflops_per_gpu, 769.38, 0.01);
  EXPECT_NEAR(e.mfu, 0.7776, 0.0001);
}

TEST(TrainingEstimate, RampCostsMoreThanTheFullBatchRate) {
  auto s = deepseek_v3_on_2048_h800();
  const AnalyticStepModel model;
  const TrainingEstimate with_ramp = estimate_training(s, model);
  s.plan.ramp = {};
  const TrainingEstimate without = estimate_training(s, model);
  EXPECT_DOUBLE_EQ(without.gpu_hours_total,
                   without.gpu_hours_per_trillion_tokens * s.plan.tokens_total / 1e12);
  EXPECT_GT(with_ramp.gpu_hours_total, without.gpu_hours_total);
  EXPECT_GT(with_ramp.ramp_gpu_hours, 0);
}

TEST(TrainingEstimate, RampBatchesAreWholeMicroBatchCounts) {
  const auto s = deepseek_v3_on_2048_h800();
  EXPECT_EQ(ramp_batch_sequences(s, 0), 3072);
  EXPECT_EQ(ramp_batch_sequences(s, 469e9), 15360);
  EXPECT_EQ(ramp_batch_sequences(s, 234.5e9) % (s.dp()), 0);
  EXPECT_EQ(ramp_batch_sequences(s, 234.5e9), 9216);  // (3072 + 15360) / 2
}

TEST(TrainingEstimate, DeepSeekV3IsAPlausibleFirstEstimate) {
  const auto s = deepseek_v3_on_2048_h800();
  EXPECT_TRUE(check_scenario(s).empty());
  const TrainingEstimate e = estimate_training(s, AnalyticStepModel());
  EXPECT_DOUBLE_EQ(e.tokens_per_step, 15360.0 * 4096);
  EXPECT_EQ(e.step.micro_batches, 120);
  EXPECT_GT(e.mfu, 0.2);
  EXPECT_LT(e.mfu, 0.8);
  EXPECT_LT(e.memory.total_bytes(), double(s.gpu.hbm_bytes));
  EXPECT_FALSE(e.assumptions.empty());
}

TEST(TrainingEstimate, IsDeterministic) {
  const auto s = deepseek_v3_on_2048_h800();
  const TrainingEstimate a = estimate_training(s, AnalyticStepModel());
  const TrainingEstimate b = estimate_training(s, AnalyticStepModel());
  EXPECT_EQ(a.step.step_time_s, b.step.step_time_s);
  EXPECT_EQ(a.gpu_hours_total, b.gpu_hours_total);
}

}  // namespace
}  // namespace codesim::workloads
