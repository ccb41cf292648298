#include "workloads/step/analytic_step_model.hpp"

#include <gtest/gtest.h>

#include "../scenarios.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/schedules.hpp"
#include "workloads/pipeline/stages.hpp"
#include "workloads/step/chunk_costs.hpp"
#include "workloads/training/scenario_check.hpp"

namespace codesim::workloads {
namespace {

using codesim::testing::deepseek_v3_on_2048_h800;
using codesim::testing::small_dense_gpt;

// DeepSeek-V3's step is mostly compute with a short bubble (120 micro-batches over 16 ranks); a
// small dense plan with 16 micro-batches over 4 ranks idles more. Every part is there.
TEST(AnalyticStepModel, ComputeDominatesAndEveryPartIsThere) {
  const AnalyticStepModel model;
  const auto v3 = deepseek_v3_on_2048_h800();
  const StepResult r = model.step(v3, v3.plan.global_batch_sequences);
  EXPECT_GT(r.breakdown.compute_s, 0.5 * r.step_time_s);
  EXPECT_GT(r.breakdown.pipeline_bubble_s, 0);
  EXPECT_LT(r.breakdown.pipeline_bubble_s, 0.2 * r.step_time_s);
  EXPECT_GT(r.breakdown.comm_sm_share_s, 0);
  EXPECT_GT(r.breakdown.dp_comm_s, 0);
  EXPECT_GT(r.breakdown.optimizer_s, 0);
  const auto gpt = small_dense_gpt();
  const StepResult g = model.step(gpt, gpt.plan.global_batch_sequences);
  // 1F1B's bubble is (pp - 1) / (micro-batches + pp - 1) = 3/19 of the operations' time.
  EXPECT_GT(g.breakdown.pipeline_bubble_s, 0.8 * 3.0 / 19 * g.step_time_s);
  EXPECT_GT(g.breakdown.pipeline_bubble_s / g.step_time_s,
            2 * r.breakdown.pipeline_bubble_s / r.step_time_s);
  EXPECT_EQ(g.breakdown.comm_sm_share_s, 0);    // 1F1B overlaps nothing
  EXPECT_EQ(g.breakdown.exposed_ep_comm_s, 0);  // no experts
}

// The SMs and HBM bandwidth communication holds slow the compute of the overlapped pairs only:
// the share is what the slowest rank's F&B operations cost at the pair's price beyond their cost on
// the whole GPU, worked out here from the stages' costs and the schedule's own order. More SMs
// for communication, a larger share.
TEST(AnalyticStepModel, ReservedCommunicationSmsSlowThePairsComputeOnly) {
  auto s = deepseek_v3_on_2048_h800();
  const AnalyticStepModel model;
  const auto stages = split_stages(s.model, 16, {});
  const PipelineMap map(Schedule::kDualPipe, 16);
  double previous = 0;
  for (int comm_sms : {10, 20, 32}) {
    s.plan.comm_sms = comm_sms;
    const ChunkCostModel costs(chunk_cost_params(s));
    const StepResult r = model.step(s, s.plan.global_batch_sequences);
    double extra = 0, in_pairs = 0;
    for (const PipelineOp& op : schedule_rank_ops(Schedule::kDualPipe, 16, r.slowest_rank, 120)) {
      if (op.kind != PipelineOp::Kind::kForwardBackward) continue;
      const ChunkCost f = costs.stage(stages[map.place({r.slowest_rank, op.chunk}).position]);
      const ChunkCost b =
          costs.stage(stages[map.place({r.slowest_rank, op.backward_chunk}).position]);
      in_pairs += f.forward.compute_s + b.full_backward_compute_s();
      extra += f.forward.pair_compute_s + b.full_backward_pair_compute_s() - f.forward.compute_s -
               b.full_backward_compute_s();
    }
    EXPECT_GT(in_pairs, 0.5 * r.breakdown.compute_s);
    EXPECT_NEAR(r.breakdown.comm_sm_share_s, extra, 1e-9 * extra) << comm_sms;
    EXPECT_GT(r.breakdown.comm_sm_share_s, previous) << comm_sms;
    previous = r.breakdown.comm_sm_share_s;
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
