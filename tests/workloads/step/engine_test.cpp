#include "workloads/step/engine.hpp"

#include <gtest/gtest.h>

#include "workloads/network/cluster_network.hpp"
#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/stages.hpp"

namespace codesim::workloads {
namespace {

using sim::Time;

// Fixed costs and free communication: every stage's F, B (input gradients), W in picoseconds.
struct Costs {
  Time f, b, w;
};

Segment compute(Time t) {
  Segment segment;
  segment.duration = t;
  segment.pair_duration = t;  // no SMs held for communication
  return segment;
}

Segment exchange(Exchange e) {
  Segment segment;
  segment.kind = Segment::Kind::kAllToAll;
  segment.exchange = e;
  return segment;
}

EngineInput fixed_input(Schedule schedule, int pp, int micro_batches, Costs c) {
  EngineInput in;
  in.schedule = schedule;
  in.pp = pp;
  in.micro_batches = micro_batches;
  const int stages = stage_count(schedule, pp);
  for (int s = 0; s < stages; ++s) {
    StagePasses passes;
    passes.forward = {compute(c.f)};
    passes.backward = {compute(c.b)};
    passes.backward_full = {compute(c.b + c.w)};
    passes.weight = {compute(c.w)};
    in.stages.push_back(passes);
  }
  return in;
}

// The bubble of every rank: step time minus its own compute.
std::vector<Time> bubbles(const EngineResult& run) {
  std::vector<Time> out;
  for (const RankTimes& r : run.ranks) out.push_back(run.step_time - r.compute);
  return out;
}

TEST(StepEngine, OneFOneBBubbleIsTheTableFormulaToThePicosecond) {
  const Costs c{sim::microseconds(300), sim::microseconds(450), sim::microseconds(200)};
  for (int pp : {2, 4, 8}) {
    for (int m : {pp, 2 * pp, 3 * pp + 1}) {
      const EngineResult run = run_step_engine(fixed_input(Schedule::k1F1B, pp, m, c));
      const Time full_b = c.b + c.w;
      EXPECT_EQ(run.step_time, (c.f + full_b) * (m + pp - 1)) << "pp " << pp << " m " << m;
      for (Time bubble : bubbles(run)) EXPECT_EQ(bubble, (c.f + full_b) * (pp - 1));
    }
  }
}

TEST(StepEngine, RunsEveryScheduleToTheEndWithEveryMicroBatch) {
  const Costs c{sim::microseconds(300), sim::microseconds(350), sim::microseconds(250)};
  for (Schedule schedule :
       {Schedule::k1F1B, Schedule::kZeroBubble1P, Schedule::kDualPipe, Schedule::kDualPipeV}) {
    for (int pp : {2, 4, 8}) {
      const int m = 4 * pp;
      const EngineResult run = run_step_engine(fixed_input(schedule, pp, m, c));
      // Every rank computes m micro-batches through each stage it holds, F + B + W each.
      const int held = int(PipelineMap(schedule, pp).stages_of(0).size());
      const int per_rank = schedule == Schedule::kDualPipe ? m : m * held;
      for (const RankTimes& r : run.ranks) {
        EXPECT_EQ(r.compute, (c.f + c.b + c.w) * per_rank) << int(schedule);
        EXPECT_LE(r.operations_done, run.step_time);
      }
    }
  }
}

// Free communication: ZB1P's bubble against the report's Table 2, with B the full backward (B + W
// here), for costs where ZB-H1's W fills the cool-down (W <= F, W <= B).
TEST(StepEngine, ZeroBubbleBubbleMatchesTheTable) {
  for (Costs c : {Costs{sim::microseconds(300), sim::microseconds(300), sim::microseconds(300)},
                  Costs{sim::microseconds(400), sim::microseconds(200), sim::microseconds(100)}}) {
    const Time full_b = c.b + c.w;
    for (int pp : {4, 6, 8}) {
      const EngineResult run = run_step_engine(fixed_input(Schedule::kZeroBubble1P, pp, 4 * pp, c));
      for (Time b : bubbles(run)) EXPECT_EQ(b, (c.f + full_b - c.w * 2) * (pp - 1)) << pp;
    }
  }
}

// DualPipe and DualPipeV against Table 2 with free communication, where an F&B overlaps nothing:
// F&B = F + B + W (the pair's backward is a full one). The formula is exact when a forward and an
// input backward take equal time, as in the DualPipe README's figure; with F != B the simulated
// bubble departs from it (e.g. F = 200, B = 300, W = 100 us, pp 4: 600 us against 700), since
// which chunk waits on which then depends on the costs.
TEST(StepEngine, DualPipeBubblesMatchTheTable) {
  for (Costs c : {Costs{sim::microseconds(300), sim::microseconds(300), sim::microseconds(300)},
                  Costs{sim::microseconds(300), sim::microseconds(300), sim::microseconds(200)},
                  Costs{sim::microseconds(300), sim::microseconds(300), sim::microseconds(100)}}) {
    const Time full_b = c.b + c.w;
    const Time fb = c.f + full_b;
    for (int pp : {4, 6, 8}) {
      for (Schedule schedule : {Schedule::kDualPipe, Schedule::kDualPipeV}) {
        const EngineResult run = run_step_engine(fixed_input(schedule, pp, 4 * pp, c));
        ChunkTimes t{c.f.seconds(), full_b.seconds(), c.w.seconds(), fb.seconds()};
        const Time expected = sim::from_seconds_ceil(bubble_seconds(schedule, pp, t));
        Time worst;
        for (Time b : bubbles(run)) worst = std::max(worst, b);
        EXPECT_EQ(worst, expected) << int(schedule) << " pp " << pp;
      }
    }
  }
}

// The 16-GPU toy below: 2 nodes of 8 GPUs on an 8-plane fat-tree, NVLink at 160 GB/s, pp 2
// with 8 replicas forming one EP group per stage, one MoE layer per stage.
topo::ClusterSpec toy_cluster() {
  topo::ClusterSpec cluster;
  cluster.nodes = 2;
  cluster.node = {8, 160, 8, 400};
  cluster.fabric.kind = topo::TopologyKind::kMultiPlaneFatTree;
  cluster.fabric.planes = 8;
  return cluster;
}

EngineInput toy_input(Schedule schedule, int micro_batches) {
  EngineInput in;
  in.schedule = schedule;
  in.pp = 2;
  in.replicas = 8;
  in.ep = 8;
  in.micro_batches = micro_batches;
  StagePasses stage;
  stage.forward = {compute(sim::microseconds(100)), exchange(Exchange::kForwardDispatch),
                   compute(sim::microseconds(200)), exchange(Exchange::kForwardCombine)};
  stage.backward_full = {exchange(Exchange::kBackwardCombine), compute(sim::microseconds(400)),
                         exchange(Exchange::kBackwardDispatch), compute(sim::microseconds(200))};
  // Split backward (DualPipe's zero-bubble steps): the same, its W of 100 us apart.
  stage.backward = stage.backward_full;
  stage.backward.back().duration -= sim::microseconds(100);
  stage.backward.back().pair_duration -= sim::microseconds(100);
  stage.weight = {compute(sim::microseconds(100))};
  in.stages = {stage, stage};
  for (auto& e : in.exchanges) e.nvlink_per_peer = 1.6e6;
  in.pp_bytes = 10e6;
  return in;
}

// A 16-GPU toy worked out by hand: 2 nodes of 8 GPUs on an 8-plane fat-tree, pp 2 (stage 0 on
// node 0, stage 1 on node 1), 8 replicas forming one EP group per stage (its node), 1F1B with 2
// micro-batches, one MoE layer per stage.
//   forward:  attention 100 us | dispatch | experts 200 us | combine
//   backward: combine' | experts 400 us | dispatch' | attention 200 us   (full backward)
// Every all-to-all sends 1.6 MB from each GPU to each of the 7 others of its node over NVLink
// (160 GB/s per GPU and direction). Each GPU's NVLink port carries 7 flows each way, so each
// gets 160/7 GB/s: X = 3.33 us (isca25's NVLink latency) + 7 x 1.6 MB / 160 GB/s = 73.33 us.
// A pipeline send is 10 MB from GPU d of one node to GPU d of the other, over the NICs of plane d
// (50 GB/s; PCIe at 64 GB/s is not the bottleneck): P = 2.8 us (two NIC-leaf links, IB same
// leaf) + 10 MB / 50 GB/s = 202.8 us.
// So F = 300 + 2X = 446.66 us, and a full backward Bf = 600 + 2X = 746.66 us. In 1F1B, rank 0
// runs F0 F1 B0 B1 and rank 1 F0 B0 F1 B1:
//   rank 1: F0 from F + P to 2F + P, B0 to 2F + P + Bf, F1 to 3F + P + Bf, B1 to 3F + P + 2Bf
//   rank 0: B0 waits for its gradient, 2F + 2P + Bf, and ends at 2F + 2P + 2Bf; B1 waits for
//           3F + 2P + 2Bf and ends the step at 3F + 2P + 3Bf = 3985.56 us.
TEST(StepEngine, SixteenGpuToyPlanMatchesTheHandWorkedStep) {
  ClusterNetwork network(toy_cluster(), LinkEfficiency{1.0, 1.0});
  const EngineResult run = run_step_engine(toy_input(Schedule::k1F1B, 2), &network);

  const double x = 73.33, p = 202.8, f = 300 + 2 * x, bf = 600 + 2 * x;
  const double step_us = 3 * f + 2 * p + 3 * bf;
  EXPECT_NEAR(run.step_time.seconds() * 1e6, step_us, 1e-4);  // within 100 ps
  const RankTimes& rank0 = run.ranks[0];
  EXPECT_EQ(rank0.compute, sim::microseconds(1800));
  EXPECT_NEAR(rank0.wait_all_to_all.seconds() * 1e6, 8 * x, 1e-4);
  EXPECT_NEAR(rank0.wait_pipeline.seconds() * 1e6, step_us - 1800 - 8 * x, 1e-4);
  EXPECT_NEAR(run.ranks[8].operations_done.seconds() * 1e6, 3 * f + p + 2 * bf, 1e-4);
  // Every GPU of a stage runs the same timeline.
  for (int r = 1; r < 8; ++r) EXPECT_EQ(run.ranks[r].finish, rank0.finish);
  EXPECT_EQ(run.exchanges_run[0], 4u);  // 2 micro-batches x 2 stages
}

// ZeRO-1 on the same toy: each stage's 8 replicas (one node) reduce-scatter 1e8 FP32 gradients
// over NVLink. Stage 1 ends its operations P + Bf before stage 0 (its last backward is earlier)
// and starts its reduce-scatter then; both take as long, so stage 1 then waits P + Bf for stage
// 0's (the global gradient norm) before the optimizer, and every GPU ends together.
TEST(StepEngine, ZeroOneReduceScattersAsEachStagesGradientsAreDone) {
  ClusterNetwork network(toy_cluster(), LinkEfficiency{1.0, 1.0});
  EngineInput in = toy_input(Schedule::k1F1B, 2);
  in.dense_params = {1e8, 1e8};
  in.optimizer = {sim::microseconds(10), sim::microseconds(10)};
  const EngineResult run = run_step_engine(in, &network);
  const double x = 73.33, p = 202.8, bf = 600 + 2 * x;
  const RankTimes& stage0 = run.ranks[0];
  const RankTimes& stage1 = run.ranks[8];
  EXPECT_NEAR((stage0.operations_done - stage1.operations_done).seconds() * 1e6, p + bf, 1e-4);
  EXPECT_NEAR(stage1.zero_wait.seconds() * 1e6, p + bf, 1e-4);
  EXPECT_EQ(stage0.zero_wait, Time::zero());
  EXPECT_EQ(stage0.dp_comm, stage1.dp_comm);
  // A ring of 8 moves 7/8 of 4e8 bytes out of each GPU at 160 GB/s: more than 2 ms.
  EXPECT_GT(stage0.dp_comm.seconds(), 7.0 / 8 * 4e8 / 160e9);
  for (const RankTimes& r : run.ranks) {
    EXPECT_EQ(r.finish, stage0.finish);
    EXPECT_EQ(r.optimizer, sim::microseconds(10));
    EXPECT_EQ(r.finish, r.operations_done + r.zero_wait + r.dp_comm + r.optimizer);
  }
}

// A failed plane: GPU 3's pipeline sends detour over NVLink to another rail and share its NICs,
// so the step is slower, and every rank still finishes.
TEST(StepEngine, AFailedPlaneIsRoutedAroundAndCostsTime) {
  auto run_toy = [](std::vector<int> failed_planes) {
    topo::ClusterSpec cluster;
    cluster.nodes = 2;
    cluster.node = {8, 160, 8, 400};
    cluster.fabric.kind = topo::TopologyKind::kMultiPlaneFatTree;
    cluster.fabric.failures.planes = std::move(failed_planes);
    ClusterNetwork network(cluster, LinkEfficiency{1.0, 1.0});
    EngineInput in = fixed_input(Schedule::k1F1B, 2, 4,
                                 {sim::microseconds(100), sim::microseconds(100), Time::zero()});
    in.replicas = 8;
    in.pp_bytes = 10e6;
    return run_step_engine(in, &network);
  };
  const EngineResult healthy = run_toy({});
  const EngineResult failed = run_toy({3});
  EXPECT_GT(failed.step_time, healthy.step_time);
  for (const RankTimes& r : failed.ranks) EXPECT_GT(r.finish, Time::zero());
}

// DualPipe's overlapped pair: in an F&B, one micro-batch's compute runs while the other's
// all-to-all is in flight. The 16-GPU toy under DualPipe (pp 2, 8 micro-batches), traced: some
// all-to-all span of GPU 0 runs at the same time as a compute span of another micro-batch, and
// the compute stream waits on all-to-alls for less time than they take.
TEST(StepEngine, TheOverlappedPairComputesDuringTheOtherMicroBatchsAllToAll) {
  ClusterNetwork network(toy_cluster(), LinkEfficiency{1.0, 1.0});
  EngineInput in = toy_input(Schedule::kDualPipe, 8);
  in.trace_ranks = {0};
  const EngineResult run = run_step_engine(in, &network);

  std::vector<TraceSpan> compute_spans, exchange_spans;
  for (const TraceSpan& span : run.trace) {
    (span.stream == TraceSpan::Stream::kCompute ? compute_spans : exchange_spans).push_back(span);
  }
  ASSERT_FALSE(exchange_spans.empty());
  Time in_exchanges;
  for (const TraceSpan& e : exchange_spans) in_exchanges += e.end - e.start;
  int overlapped = 0;
  for (const TraceSpan& c : compute_spans) {
    for (const TraceSpan& e : exchange_spans) {
      overlapped += c.start < e.end && e.start < c.end &&
                    (c.micro_batch != e.micro_batch || c.direction != e.direction);
    }
  }
  EXPECT_GT(overlapped, 0) << "no compute ran during another micro-batch's all-to-all";
  EXPECT_LT(run.ranks[0].wait_all_to_all, in_exchanges);
}

}  // namespace
}  // namespace codesim::workloads
