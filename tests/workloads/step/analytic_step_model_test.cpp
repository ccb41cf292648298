#include "workloads/step/analytic_step_model.hpp"

#include <gtest/gtest.h>

#include "../scenarios.hpp"
#include "workloads/step/chunk_costs.hpp"
#include "workloads/pipeline/schedules.hpp"
#include "workloads/pipeline/stages.hpp"
#include "workloads/training/scenario_check.hpp"

namespace codesim::workloads {
namespace {

using codesim::testing::deepseek_v3_on_2048_h800;
using codesim::testing::small_dense_gpt;

TEST(AnalyticStepModel, BreakdownAddsUpToTheStep) {
  const AnalyticStepModel model;
  for (const auto& s : {deepseek_v3_on_2048_h800(), small_dense_gpt()}) {
    const StepResult r = model.step(s, s.plan.global_batch_sequences);
    EXPECT_GT(r.step_time_s, 0);
    EXPECT_NEAR(r.breakdown.total(), r.step_time_s, 1e-12 * r.step_time_s);
    EXPECT_GT(r.breakdown.compute_s, 0);
    EXPECT_GT(r.breakdown.pipeline_bubble_s, 0);
  }
}

TEST(AnalyticStepModel, OneF1BIsWorkPlusTheTableBubble) {
  const auto s = small_dense_gpt();
  const ChunkCostModel costs(chunk_cost_params(s));
  const auto stages = split_stages(s.model, 4, {});
  const int n = s.micro_batches();
  ASSERT_EQ(n, 16);
  // Rank 0 or 3 is slowest (embedding or head); take the slowest by hand.
  double slowest = 0;
  for (const auto& stage : stages) {
    const ChunkCost c = costs.stage(stage);
    const double f = c.forward.compute_s + c.forward.comm_s;
    const double b = c.full_backward_compute_s() + c.backward_input.comm_s;
    slowest = std::max(slowest, n * (f + b) + 3 * (f + b));
  }
  const StepResult r = AnalyticStepModel().step(s, s.plan.global_batch_sequences);
  EXPECT_NEAR(r.step_time_s - r.breakdown.dp_comm_s - r.breakdown.optimizer_s, slowest,
              1e-9 * slowest);
}

// The SMs reserved for communication slow the compute of the overlapped pairs only. With links
// so fast that the all-to-all hides entirely, the share is compute x (pairs' share of the
// rank's forwards and backwards) x comm_sms / (132 - comm_sms).
TEST(AnalyticStepModel, ReservedCommunicationSmsSlowThePairsComputeByTheirShare) {
  auto s = deepseek_v3_on_2048_h800();
  s.cluster.node.nic_Gbps = 40000;
  s.cluster.node.nvlink_unidirectional_GBps = 20000;
  const AnalyticStepModel model;
  for (int comm_sms : {20, 32}) {
    s.plan.comm_sms = comm_sms;
    const StepResult r = model.step(s, s.plan.global_batch_sequences);
    ASSERT_EQ(r.breakdown.exposed_ep_comm_s, 0.0) << comm_sms;
    int pairs = 0;
    for (const PipelineOp& op : schedule_rank_ops(Schedule::kDualPipe, 16, r.slowest_rank, 120)) {
      pairs += op.kind == PipelineOp::Kind::kForwardBackward;
    }
    EXPECT_NEAR(r.breakdown.comm_sm_share_s / r.breakdown.compute_s,
                pairs / 120.0 * comm_sms / (132.0 - comm_sms), 1e-9)
        << comm_sms;
  }
}

TEST(AnalyticStepModel, SlowerNicsExposeTheAllToAll) {
  auto s = deepseek_v3_on_2048_h800();
  const AnalyticStepModel model;
  const StepResult fast = model.step(s, s.plan.global_batch_sequences);
  s.cluster.node.nic_Gbps = 100;
  const StepResult slow = model.step(s, s.plan.global_batch_sequences);
  EXPECT_NEAR(slow.network.ep_ib_achieved_GBps, fast.network.ep_ib_achieved_GBps / 4, 1e-9);
  EXPECT_GT(slow.breakdown.exposed_ep_comm_s, fast.breakdown.exposed_ep_comm_s);
  EXPECT_GT(slow.step_time_s, fast.step_time_s);
}

TEST(AnalyticStepModel, FewerNodesPerTokenMeanFewerIbBytes) {
  auto s = deepseek_v3_on_2048_h800();
  const AnalyticStepModel model;
  double previous = 0;
  for (int m = 1; m <= 8; ++m) {
    s.plan.max_nodes_per_token = m;
    const double bytes =
        model.step(s, s.plan.global_batch_sequences).network.ep_ib_bytes_per_token_per_moe_layer;
    EXPECT_GT(bytes, previous) << m;
    previous = bytes;
  }
}

}  // namespace
}  // namespace codesim::workloads
