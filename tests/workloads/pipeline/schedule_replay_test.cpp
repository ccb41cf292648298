#include "workloads/pipeline/schedule_replay.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

namespace codesim::workloads {
namespace {

// 1F1B, 2 ranks, 2 micro-batches, stage 0 costs F = 1, B = 2 and stage 1 F = 3, B = 4; a send
// takes 0.5. Rank 0 runs F0 F1 B0 B1, rank 1 F0 B0 F1 B1:
//   rank 0: F0 [0, 1], F1 [1, 2]                 (outputs at rank 1 at 1.5 and 2.5)
//   rank 1: F0 [1.5, 4.5], B0 [4.5, 8.5]         (gradient at rank 0 at 9)
//   rank 0: B0 [9, 11]
//   rank 1: F1 [8.5, 11.5], B1 [11.5, 15.5]      (gradient at rank 0 at 16)
//   rank 0: B1 [16, 18]
TEST(ScheduleReplay, OneFOneBByHand) {
  ReplayCosts costs;
  costs.send_s = [](int from, int to, int together) {
    EXPECT_NE(from, to);
    EXPECT_EQ(together, 1);
    return 0.5;
  };
  costs.duration = [](const PipelineOp& op, int forward_stage, int backward_stage) {
    if (op.kind == PipelineOp::Kind::kForward) return forward_stage == 0 ? 1.0 : 3.0;
    return backward_stage == 0 ? 2.0 : 4.0;
  };
  const ReplayResult r = replay_schedule(Schedule::k1F1B, 2, 2, costs);
  EXPECT_DOUBLE_EQ(r.makespan, 18);
  EXPECT_DOUBLE_EQ(r.finish[0], 18);
  EXPECT_DOUBLE_EQ(r.finish[1], 15.5);
  EXPECT_DOUBLE_EQ(r.busy[0], 6);
  EXPECT_DOUBLE_EQ(r.busy[1], 14);
  // Each rank's one chunk has its gradients when its last B ends.
  EXPECT_DOUBLE_EQ(r.gradients_done[0][0], 18);
  EXPECT_DOUBLE_EQ(r.gradients_done[1][0], 15.5);
}

// DualPipe: a rank's two chunks finish their weight gradients at different times, the later at
// the rank's last operation (a W).
TEST(ScheduleReplay, EachChunksGradientsAreDoneAtItsLastWeightGradient) {
  ReplayCosts costs;
  costs.send_s = [](int, int, int) { return 0.1; };
  costs.duration = [](const PipelineOp& op, int, int) {
    return op.kind == PipelineOp::Kind::kForwardBackward ? 3.0 : 1.0;
  };
  const ReplayResult r = replay_schedule(Schedule::kDualPipe, 4, 16, costs);
  for (int rank = 0; rank < 4; ++rank) {
    ASSERT_EQ(r.gradients_done[rank].size(), 2u);
    const double first = std::min(r.gradients_done[rank][0], r.gradients_done[rank][1]);
    const double last = std::max(r.gradients_done[rank][0], r.gradients_done[rank][1]);
    EXPECT_GT(first, 0);
    EXPECT_LT(first, last) << rank;
    EXPECT_DOUBLE_EQ(last, r.finish[rank]) << rank;
  }
}

// DualPipeV on one rank: its two stages meet on that rank, so nothing is ever sent, whatever a
// send would cost; the step is the sum of the work.
TEST(ScheduleReplay, ASendToTheSameRankIsFree) {
  ReplayCosts costs;
  costs.send_s = [](int, int, int) -> double { throw std::logic_error("no send expected"); };
  costs.duration = [](const PipelineOp&, int, int) { return 1.0; };
  const ReplayResult r = replay_schedule(Schedule::kDualPipeV, 1, 4, costs);
  EXPECT_DOUBLE_EQ(r.makespan, r.busy[0]);
}

// DualPipe's F&B sends its two outputs together: the replay says so, so that the caller can
// charge them the sender's shared port.
TEST(ScheduleReplay, AnOverlappedPairSendsItsTwoOutputsTogether) {
  int together_two = 0;
  ReplayCosts costs;
  costs.send_s = [&](int, int, int together) {
    together_two += together == 2;
    return 0.0;
  };
  costs.duration = [](const PipelineOp&, int, int) { return 1.0; };
  replay_schedule(Schedule::kDualPipe, 4, 16, costs);
  EXPECT_GT(together_two, 0);
}

TEST(ScheduleReplay, RejectsWhatTheScheduleCannotRun) {
  ReplayCosts costs;
  costs.send_s = [](int, int, int) { return 0.0; };
  costs.duration = [](const PipelineOp&, int, int) { return 1.0; };
  EXPECT_THROW(replay_schedule(Schedule::kDualPipe, 4, 6, costs), std::invalid_argument);
}

}  // namespace
}  // namespace codesim::workloads
