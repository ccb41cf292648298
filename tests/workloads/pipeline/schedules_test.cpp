#include "workloads/pipeline/schedules.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/schedule_replay.hpp"
#include "workloads/pipeline/stages.hpp"

namespace codesim::workloads {
namespace {

// Where a rank's chunk sits, from the one pipeline map: its micro-batch stream (DualPipe's
// direction), its stage (= position along the stream), the stream's stages and micro-batches.
const char* label(Schedule schedule) {
  static const char* const kLabels[] = {"1f1b", "zb1p", "dualpipe", "dualpipev", "interleaved"};
  return kLabels[int(schedule)];
}

struct ChunkPlace {
  int direction = 0;
  int stage = 0;
  int stages = 1;
  int micro_batches = 0;
};
ChunkPlace chunk_place(Schedule schedule, int pp, int rank, int chunk, int micro_batches,
                       int virtual_stages = 1) {
  const PipelineMap map(schedule, pp, virtual_stages);
  const PipelineMap::Place place = map.place({rank, chunk});
  return {place.direction, place.position, map.length(),
          map.micro_batches_per_direction(micro_batches)};
}

using Kind = PipelineOp::Kind;

std::string pattern(const std::vector<PipelineOp>& ops) {
  std::string out;
  for (const auto& op : ops) out += (out.empty() ? "" : " ") + op_label(op);
  return out;
}

// Like pattern(), with a split backward (its W comes later) written B0' or B1'.
std::string split_pattern(const std::vector<PipelineOp>& ops) {
  std::string out;
  for (const auto& op : ops) {
    out += (out.empty() ? "" : " ") + op_label(op);
    if (op.kind == Kind::kBackward && op.split_backward) out += "'";
  }
  return out;
}

// Micro-batch numbers spelled out: F0.3 is chunk 0's forward of micro-batch 3, W0.1 the weight
// backward of chunk 0's micro-batch 1, F0.3B1.1 an F&B.
std::string numbered_pattern(const std::vector<PipelineOp>& ops) {
  std::string out;
  for (const auto& op : ops) {
    const char* kind = op.kind == Kind::kBackward ? "B" : op.kind == Kind::kWeight ? "W" : "F";
    out += (out.empty() ? "" : " ") + std::string(kind) + std::to_string(op.chunk) + "." +
           std::to_string(op.micro_batch);
    if (op.kind == Kind::kForwardBackward) {
      out +=
          "B" + std::to_string(op.backward_chunk) + "." + std::to_string(op.backward_micro_batch);
    }
  }
  return out;
}

std::string repeat(const std::string& unit, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += (out.empty() ? "" : " ") + unit;
  return out;
}

// published.yaml dualpipe.per_rank_steps, r = min(rank, PP-1-rank), from dualpipe.py.
std::string published_dualpipe_pattern(int pp, int rank, int chunks) {
  const int r = std::min(rank, pp - 1 - rank);
  const int h = pp / 2;
  std::string out;
  auto add = [&](const std::string& unit, int times) {
    const std::string part = repeat(unit, times);
    if (!part.empty()) out += (out.empty() ? "" : " ") + part;
  };
  add("F0", (h - r - 1) * 2);
  add("F0 F1", r + 1);
  add("B1 W F1", h - r - 1);
  // The table's "F0B1 F1B0"; dualpipe.py's step 4 runs the middle ranks' (r = PP/2 - 1) first
  // pair unoverlapped, F0 then B1 ("We don't overlap these two chunks to further reduce bubble
  // size"), a detail the table leaves out.
  const int main_steps = chunks / 2 - pp + r + 1;
  if (r == h - 1 && main_steps > 0) {
    add("F0 B1 F1B0", 1);
    add("F0B1 F1B0", main_steps - 1);
  } else {
    add("F0B1 F1B0", main_steps);
  }
  add("B1 F1B0", h - r - 1);
  add("B1 B0", r + 1);
  add("W B0", h - r - 1);
  add("W", r + 1);
  return out;
}

// deepseek-ai/DualPipe dualpipe/dualpipev.py, DualPipeV.step(), transcribed loop by loop:
// the step counts, the last rank's unoverlapped first F0 / B1 of step 4, and the enable_zb
// switch of step 6 (`if i == step_6 // 2 and rank % 2 == 1` before the B1,
// `... rank % 2 == 0` before the B0). B1' / B0': a backward run with enable_zb=True.
std::string dualpipev_py_pattern(int num_ranks, int rank, int num_chunks) {
  std::vector<std::string> out;
  for (int i = 0; i < (num_ranks - rank - 1) * 2; ++i) out.push_back("F0");  // step 1
  for (int i = 0; i < rank + 1; ++i) {                                       // step 2
    out.push_back("F0");
    out.push_back("F1");
  }
  for (int i = 0; i < num_ranks - rank - 1; ++i) {  // step 3
    out.push_back("B1'");
    out.push_back("W");
    out.push_back("F1");
  }
  for (int i = 0; i < num_chunks - num_ranks * 2 + rank + 1; ++i) {  // step 4
    if (i == 0 && rank == num_ranks - 1) {
      out.push_back("F0");
      out.push_back("B1");
    } else {
      out.push_back("F0B1");
    }
    out.push_back("F1B0");
  }
  for (int i = 0; i < num_ranks - rank - 1; ++i) {  // step 5
    out.push_back("B1");
    out.push_back("F1B0");
  }
  const int step_6 = rank + 1;
  bool enable_zb = false;
  for (int i = 0; i < step_6; ++i) {  // step 6
    if (i == step_6 / 2 && rank % 2 == 1) enable_zb = true;
    out.push_back(enable_zb ? "B1'" : "B1");
    if (i == step_6 / 2 && rank % 2 == 0) enable_zb = true;
    out.push_back(enable_zb ? "B0'" : "B0");
  }
  for (int i = 0; i < num_ranks - rank - 1; ++i) {  // step 7
    out.push_back("W");
    out.push_back("B0'");
  }
  for (int i = 0; i < rank + 1; ++i) out.push_back("W");  // step 8
  std::string joined;
  for (const auto& s : out) joined += (joined.empty() ? "" : " ") + s;
  return joined;
}

// ---- Whole-pipeline checks -------------------------------------------------------------------

struct Case {
  Schedule schedule;
  int pp;
  int micro_batches;
  int virtual_stages = 1;
};

std::string describe(const Case& c) {
  return std::string(label(c.schedule)) + " pp " + std::to_string(c.pp) + " m " +
         std::to_string(c.micro_batches) + " v " + std::to_string(c.virtual_stages);
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (int pp : {1, 2, 3, 4, 5, 8}) {
    for (int m : {1, 2, pp, pp + 1, 2 * pp, 3 * pp + 1, 24}) {
      cases.push_back({Schedule::k1F1B, pp, m});
      cases.push_back({Schedule::kZeroBubble1P, pp, m});
      if (m >= 2 * pp) cases.push_back({Schedule::kDualPipeV, pp, m});
      if (pp % 2 == 0 && m % 2 == 0 && m >= 2 * pp) cases.push_back({Schedule::kDualPipe, pp, m});
      if (m % pp == 0) {
        for (int v : {2, 3}) cases.push_back({Schedule::kInterleaved1F1B, pp, m, v});
      }
    }
  }
  return cases;
}

int chunks_of(const Case& c) {
  return PipelineMap(c.schedule, c.pp, c.virtual_stages).chunks();
}
int chunks_of(Schedule schedule) {
  return chunks_of(Case{schedule, 2, 4});
}

// Unit costs: b is the input backward, a full (unsplit) backward costs b + w, F&B costs fb.
struct Costs {
  double f = 1, b = 1, w = 1, fb = 3;
};

struct Execution {
  bool deadlock = false;
  double makespan = 0;
  std::vector<double> busy;  // per rank
};

// The schedule replayed (schedule_replay.hpp) with these unit costs and free communication.
Execution execute(Schedule schedule, int pp, int micro_batches, const Costs& cost,
                  int virtual_stages = 1) {
  ReplayCosts costs;
  costs.send_s = [](int, int, int) { return 0.0; };
  costs.duration = [&](const PipelineOp& op, int, int) {
    switch (op.kind) {
      case Kind::kForward:
        return cost.f;
      case Kind::kBackward:
        return op.split_backward ? cost.b : cost.b + cost.w;
      case Kind::kWeight:
        return cost.w;
      case Kind::kForwardBackward:
        return cost.fb;
    }
    return 0.0;
  };
  Execution run;
  try {
    const ReplayResult replay = replay_schedule(schedule, pp, micro_batches, costs, virtual_stages);
    run.busy = replay.busy;
    run.makespan = replay.makespan;
  } catch (const std::logic_error&) {
    run.deadlock = true;
  }
  return run;
}

TEST(Schedules, EveryChunkRunsEachMicroBatchOnceInOrder) {
  for (const Case& c : all_cases()) {
    for (int rank = 0; rank < c.pp; ++rank) {
      SCOPED_TRACE(describe(c) + " rank " + std::to_string(rank));
      const auto ops = schedule_rank_ops(c.schedule, c.pp, rank, c.micro_batches, c.virtual_stages);
      // (kind, chunk) -> micro-batches in order; positions of each B and W.
      std::map<std::pair<char, int>, std::vector<int>> seen;
      std::map<std::pair<int, int>, size_t> split_at;  // (chunk, mb) -> position of split B
      std::map<std::pair<int, int>, size_t> weight_at;
      for (size_t i = 0; i < ops.size(); ++i) {
        const PipelineOp& op = ops[i];
        ASSERT_GE(op.chunk, 0);
        ASSERT_LT(op.chunk, chunks_of(c));
        switch (op.kind) {
          case Kind::kForward:
            seen[{'F', op.chunk}].push_back(op.micro_batch);
            break;
          case Kind::kBackward:
            seen[{'B', op.chunk}].push_back(op.micro_batch);
            if (op.split_backward) split_at[{op.chunk, op.micro_batch}] = i;
            break;
          case Kind::kWeight:
            seen[{'W', op.chunk}].push_back(op.micro_batch);
            EXPECT_FALSE(op.split_backward);
            weight_at[{op.chunk, op.micro_batch}] = i;
            break;
          case Kind::kForwardBackward:
            ASSERT_TRUE(chunks_of(c) == 2);
            EXPECT_NE(op.chunk, op.backward_chunk);
            seen[{'F', op.chunk}].push_back(op.micro_batch);
            seen[{'B', op.backward_chunk}].push_back(op.backward_micro_batch);
            break;
        }
      }
      for (int chunk = 0; chunk < chunks_of(c); ++chunk) {
        const int m = chunk_place(c.schedule, c.pp, rank, chunk, c.micro_batches, c.virtual_stages)
                          .micro_batches;
        for (char kind : {'F', 'B'}) {
          const auto& list = seen[{kind, chunk}];
          ASSERT_EQ(int(list.size()), m) << kind << chunk;
          for (int i = 0; i < m; ++i) EXPECT_EQ(list[i], i) << kind << chunk;
        }
        const auto& weights = seen[{'W', chunk}];
        EXPECT_TRUE(std::is_sorted(weights.begin(), weights.end())) << "W" << chunk;
        // Each micro-batch's weight gradients once: what ZeRO-1 counts down before the chunk's
        // reduce-scatter.
        EXPECT_EQ(
            std::count_if(ops.begin(), ops.end(),
                          [&](const PipelineOp& op) { return weight_gradient_chunk(op) == chunk; }),
            m)
            << "weight gradients of chunk " << chunk;
      }
      // One W for each split B, after it; none for a full backward.
      ASSERT_EQ(split_at.size(), weight_at.size());
      for (const auto& [key, b_at] : split_at) {
        auto w = weight_at.find(key);
        ASSERT_NE(w, weight_at.end()) << "chunk " << key.first << " mb " << key.second;
        EXPECT_GT(w->second, b_at);
      }
      // The forward of a micro-batch precedes its backward on the same chunk.
      std::map<std::pair<int, int>, size_t> forward_at;
      for (size_t i = 0; i < ops.size(); ++i) {
        const PipelineOp& op = ops[i];
        if (op.kind == Kind::kForward || op.kind == Kind::kForwardBackward) {
          forward_at[{op.chunk, op.micro_batch}] = i;
        }
        if (op.kind == Kind::kBackward) {
          EXPECT_TRUE(forward_at.count({op.chunk, op.micro_batch}));
        }
        if (op.kind == Kind::kForwardBackward) {
          EXPECT_TRUE(forward_at.count({op.backward_chunk, op.backward_micro_batch}));
        }
      }
    }
  }
}

TEST(Schedules, EveryScheduleRunsWithoutDeadlock) {
  for (const Case& c : all_cases()) {
    const Execution run = execute(c.schedule, c.pp, c.micro_batches, Costs{}, c.virtual_stages);
    EXPECT_FALSE(run.deadlock) << describe(c);
  }
}

TEST(Schedules, ChunkPlacesMatchThePipelineStages) {
  for (Schedule s :
       {Schedule::k1F1B, Schedule::kZeroBubble1P, Schedule::kDualPipe, Schedule::kDualPipeV}) {
    for (int pp : {2, 4, 8}) {
      const int m = 4 * pp;
      std::set<std::pair<int, int>> places;  // (direction, stage) over all ranks and chunks
      for (int rank = 0; rank < pp; ++rank) {
        for (int chunk = 0; chunk < chunks_of(s); ++chunk) {
          const ChunkPlace at = chunk_place(s, pp, rank, chunk, m);
          EXPECT_EQ(at.stages, stage_count(s, pp));
          places.insert({at.direction, at.stage});
        }
      }
      // Every stage of every stream is held exactly once.
      const int directions = s == Schedule::kDualPipe ? 2 : 1;
      EXPECT_EQ(int(places.size()), directions * stage_count(s, pp)) << int(s) << " pp " << pp;
    }
  }
  // DualPipe: chunk 0 is the direction entering at the rank's own end of the pipeline.
  EXPECT_EQ(chunk_place(Schedule::kDualPipe, 8, 1, 0, 20).direction, 0);
  EXPECT_EQ(chunk_place(Schedule::kDualPipe, 8, 6, 0, 20).direction, 1);
  EXPECT_EQ(chunk_place(Schedule::kDualPipe, 8, 6, 0, 20).stage, 1);
  EXPECT_EQ(chunk_place(Schedule::kDualPipe, 8, 6, 1, 20).stage, 6);
  EXPECT_EQ(chunk_place(Schedule::kDualPipe, 8, 6, 1, 20).micro_batches, 10);
  EXPECT_EQ(chunk_place(Schedule::kDualPipeV, 4, 3, 1, 10).stage, 4);
  EXPECT_EQ(chunk_place(Schedule::kDualPipeV, 4, 0, 1, 10).stage, 7);
}

// The closed form the analytic step model uses agrees with the generators, rank by rank.
TEST(Schedules, OverlappedPairsCountTheGeneratorsPairs) {
  for (Schedule s :
       {Schedule::kDualPipe, Schedule::kDualPipeV, Schedule::k1F1B, Schedule::kZeroBubble1P}) {
    for (int pp : {2, 4, 8, 16}) {
      for (int m : {2 * pp, 2 * pp + 2, 4 * pp, 120}) {
        if (m < 2 * pp) continue;
        for (int rank = 0; rank < pp; ++rank) {
          int pairs = 0;
          for (const PipelineOp& op : schedule_rank_ops(s, pp, rank, m)) {
            pairs += op.kind == PipelineOp::Kind::kForwardBackward;
          }
          EXPECT_EQ(overlapped_pairs(s, pp, rank, m), pairs)
              << int(s) << " pp " << pp << " m " << m << " rank " << rank;
        }
      }
    }
  }
  EXPECT_EQ(overlapped_pairs(Schedule::kDualPipe, 16, 0, 8), 0);  // too few micro-batches
}

TEST(Schedules, ScheduleRankOpsDispatches) {
  EXPECT_EQ(schedule_rank_ops(Schedule::k1F1B, 4, 1, 8), one_f_one_b_rank_ops(4, 1, 8));
  EXPECT_EQ(schedule_rank_ops(Schedule::kZeroBubble1P, 4, 1, 8), zero_bubble_1p_rank_ops(4, 1, 8));
  EXPECT_EQ(schedule_rank_ops(Schedule::kDualPipe, 4, 1, 8), dualpipe_rank_ops(4, 1, 8));
  EXPECT_EQ(schedule_rank_ops(Schedule::kDualPipeV, 4, 1, 8), dualpipev_rank_ops(4, 1, 8));
  EXPECT_THROW(schedule_rank_ops(Schedule::kDualPipeV, 4, 0, 7), std::invalid_argument);
  EXPECT_THROW(schedule_rank_ops(Schedule::kZeroBubble1P, 4, 4, 8), std::invalid_argument);
}

// ---- ZB-H1 -----------------------------------------------------------------------------------

TEST(Schedules, ZeroBubbleH1Order) {
  // Qi et al. 2024, figure 3 top: stage i runs F of x, B of x-(p-1-i), W of x-(p-1) per slot.
  EXPECT_EQ(numbered_pattern(zero_bubble_1p_rank_ops(4, 0, 6)),
            "F0.0 F0.1 F0.2 F0.3 B0.0 W0.0 F0.4 B0.1 W0.1 F0.5 B0.2 W0.2 B0.3 W0.3 B0.4 W0.4 "
            "B0.5 W0.5");
  EXPECT_EQ(numbered_pattern(zero_bubble_1p_rank_ops(4, 1, 6)),
            "F0.0 F0.1 F0.2 B0.0 F0.3 B0.1 W0.0 F0.4 B0.2 W0.1 F0.5 B0.3 W0.2 B0.4 W0.3 B0.5 "
            "W0.4 W0.5");
  EXPECT_EQ(numbered_pattern(zero_bubble_1p_rank_ops(4, 2, 6)),
            "F0.0 F0.1 B0.0 F0.2 B0.1 F0.3 B0.2 W0.0 F0.4 B0.3 W0.1 F0.5 B0.4 W0.2 B0.5 W0.3 "
            "W0.4 W0.5");
  EXPECT_EQ(numbered_pattern(zero_bubble_1p_rank_ops(4, 3, 6)),
            "F0.0 B0.0 F0.1 B0.1 F0.2 B0.2 F0.3 B0.3 W0.0 F0.4 B0.4 W0.1 F0.5 B0.5 W0.2 W0.3 "
            "W0.4 W0.5");
  // Every backward is split.
  for (const auto& op : zero_bubble_1p_rank_ops(8, 5, 20)) {
    if (op.kind == Kind::kBackward) {
      EXPECT_TRUE(op.split_backward);
    }
  }
}

TEST(Schedules, ZeroBubbleH1KeepsOneFOneBsOrderOfForwardsAndBackwards) {
  for (int pp : {2, 4, 8}) {
    for (int m : {1, 3, pp, 2 * pp + 1}) {
      for (int rank = 0; rank < pp; ++rank) {
        std::vector<PipelineOp> without_w;
        for (auto op : zero_bubble_1p_rank_ops(pp, rank, m)) {
          if (op.kind == Kind::kWeight) continue;
          op.split_backward = false;
          without_w.push_back(op);
        }
        EXPECT_EQ(without_w, one_f_one_b_rank_ops(pp, rank, m))
            << "pp " << pp << " m " << m << " rank " << rank;
      }
    }
  }
}

TEST(Schedules, ZeroBubbleH1InFlightActivationsStayWithinOneFOneBs) {
  // A micro-batch holds activations from its F until its W; 1F1B's peak is pp, on rank 0.
  for (int pp : {2, 4, 8}) {
    for (int rank = 0; rank < pp; ++rank) {
      int held = 0, peak = 0;
      for (const auto& op : zero_bubble_1p_rank_ops(pp, rank, 3 * pp)) {
        held += op.kind == Kind::kForward ? 1 : op.kind == Kind::kWeight ? -1 : 0;
        peak = std::max(peak, held);
      }
      EXPECT_LE(peak, pp) << "pp " << pp << " rank " << rank;
    }
  }
}

TEST(Schedules, ZeroBubbleH1BubbleIsTheTable2Formula) {
  // The paper's assumption T_F = T_B = T_W (B: input backward); in DeepSeek-V3 table 2's terms
  // F = 1, B (full backward) = 2, W = 1, so (PP-1)(F+B-2W) = PP-1: a third of 1F1B's (PP-1)(F+B).
  ChunkTimes table;
  table.f = 1;
  table.b = 2;
  table.w = 1;
  for (int pp : {2, 3, 4, 8, 16}) {
    for (int m : {pp, pp + 1, 2 * pp, 24}) {
      const Execution zb = execute(Schedule::kZeroBubble1P, pp, m, Costs{});
      ASSERT_FALSE(zb.deadlock);
      for (double busy : zb.busy) EXPECT_DOUBLE_EQ(busy, 3.0 * m);
      EXPECT_DOUBLE_EQ(zb.makespan - 3.0 * m, bubble_seconds(Schedule::kZeroBubble1P, pp, table))
          << "pp " << pp << " m " << m;
      EXPECT_DOUBLE_EQ(zb.makespan, 3.0 * m + pp - 1);

      const Execution one_f_one_b = execute(Schedule::k1F1B, pp, m, Costs{});
      EXPECT_DOUBLE_EQ(one_f_one_b.makespan - 3.0 * m, bubble_seconds(Schedule::k1F1B, pp, table))
          << "pp " << pp << " m " << m;
    }
  }
  // It also holds away from equal costs, with a slower forward or a lighter W.
  for (const Costs& cost : {Costs{2, 1, 1, 4}, Costs{1, 1, 0.5, 2.5}}) {
    table.f = cost.f;
    table.b = cost.b + cost.w;
    table.w = cost.w;
    for (int pp : {2, 4, 8}) {
      const int m = 3 * pp;
      const Execution zb = execute(Schedule::kZeroBubble1P, pp, m, cost);
      EXPECT_DOUBLE_EQ(zb.makespan - m * (cost.f + cost.b + cost.w),
                       bubble_seconds(Schedule::kZeroBubble1P, pp, table))
          << "pp " << pp << " f " << cost.f << " w " << cost.w;
    }
  }
}

TEST(Schedules, DualPipeAndDualPipeVBubblesAreTheTable2FormulaAtUnitCosts) {
  // F = B (input) = W = 1 and an F&B that overlaps nothing (F + full B = 3): every rank is busy
  // 3 per micro-batch and chunk, and idle the table's (PP/2-1)(F&B+B-3W), PP counting stages.
  ChunkTimes table;
  table.f = 1;
  table.b = 2;
  table.w = 1;
  table.fb = 3;
  for (int pp : {2, 4, 8}) {
    for (int m : {2 * pp, 2 * pp + 2, 40}) {
      const Execution dualpipe = execute(Schedule::kDualPipe, pp, m, Costs{});
      for (double busy : dualpipe.busy) EXPECT_DOUBLE_EQ(busy, 3.0 * m);
      EXPECT_DOUBLE_EQ(dualpipe.makespan - 3.0 * m, bubble_seconds(Schedule::kDualPipe, pp, table))
          << "pp " << pp << " m " << m;
      const Execution v = execute(Schedule::kDualPipeV, pp, m, Costs{});
      for (double busy : v.busy) EXPECT_DOUBLE_EQ(busy, 6.0 * m);
      EXPECT_DOUBLE_EQ(v.makespan - 6.0 * m, bubble_seconds(Schedule::kDualPipeV, pp, table))
          << "pp " << pp << " m " << m;
    }
  }
}

// ---- DualPipe --------------------------------------------------------------------------------

TEST(Schedules, DualPipeRanksFollowThePublishedSteps) {
  for (int pp : {2, 4, 8, 16}) {
    for (int chunks : {2 * pp, 2 * pp + 2, 120}) {
      if (chunks < 2 * pp) continue;
      for (int rank = 0; rank < pp; ++rank) {
        EXPECT_EQ(pattern(dualpipe_rank_ops(pp, rank, chunks)),
                  published_dualpipe_pattern(pp, rank, chunks))
            << "pp " << pp << " rank " << rank << " chunks " << chunks;
      }
    }
  }
}

TEST(Schedules, DualPipeRunsEveryMicroBatchOnceThroughEachChunk) {
  const int pp = 8, chunks = 20;
  for (int rank = 0; rank < pp; ++rank) {
    std::map<std::pair<char, int>, std::vector<int>> seen;  // (F/B/W, chunk) -> micro-batches
    int split = 0;
    for (const auto& op : dualpipe_rank_ops(pp, rank, chunks)) {
      switch (op.kind) {
        case PipelineOp::Kind::kForward:
          seen[{'F', op.chunk}].push_back(op.micro_batch);
          break;
        case PipelineOp::Kind::kBackward:
          seen[{'B', op.chunk}].push_back(op.micro_batch);
          split += op.split_backward;
          break;
        case PipelineOp::Kind::kWeight:
          seen[{'W', op.chunk}].push_back(op.micro_batch);
          --split;
          break;
        case PipelineOp::Kind::kForwardBackward:
          seen[{'F', op.chunk}].push_back(op.micro_batch);
          seen[{'B', op.backward_chunk}].push_back(op.backward_micro_batch);
          break;
      }
    }
    EXPECT_EQ(split, 0) << "every split backward has its W";
    for (char kind : {'F', 'B'}) {
      for (int chunk : {0, 1}) {
        const auto& list = seen[{kind, chunk}];
        ASSERT_EQ(int(list.size()), chunks / 2) << kind << chunk << " rank " << rank;
        for (int i = 0; i < chunks / 2; ++i) EXPECT_EQ(list[i], i);
      }
    }
  }
}

TEST(Schedules, DualPipeRejectsImpossiblePlans) {
  EXPECT_THROW(dualpipe_rank_ops(5, 0, 20), std::invalid_argument);
  EXPECT_THROW(dualpipe_rank_ops(8, 0, 14), std::invalid_argument);
  EXPECT_THROW(dualpipe_rank_ops(8, 0, 17), std::invalid_argument);
}

// ---- DualPipeV -------------------------------------------------------------------------------

TEST(Schedules, DualPipeVMatchesDualPipeVPyForFourRanksAndTenMicroBatches) {
  // deepseek-ai/DualPipe dualpipe/dualpipev.py, DualPipeV.step() with num_ranks = 4,
  // num_chunks = 10. Rank 0: step 1 (4-0-1)*2 = 6 x F0; step 2 1 x F0 F1; step 3 3 x B1 W F1
  // (enable_zb=True); step 4 10-8+0+1 = 3 x F0B1 F1B0; step 5 3 x B1 F1B0; step 6 1 x B1 B0
  // (i == 1//2 == 0, rank even: zb switched on between the B1 and the B0); step 7 3 x W B0
  // (enable_zb=True); step 8 1 x W.
  EXPECT_EQ(split_pattern(dualpipev_rank_ops(4, 0, 10)),
            "F0 F0 F0 F0 F0 F0 F0 F1 B1' W F1 B1' W F1 B1' W F1 F0B1 F1B0 F0B1 F1B0 F0B1 F1B0 "
            "B1 F1B0 B1 F1B0 B1 F1B0 B1 B0' W B0' W B0' W B0' W");
  // Rank 3, the last: step 2 4 x F0 F1; step 4 10-8+3+1 = 6 x F0B1 F1B0, the first F0B1 run as
  // F0 then B1 ("We don't overlap these two chunks to further reduce bubble size"); step 6
  // 4 x B1 B0 with zb switched on at i == 4//2 == 2 before the B1 (rank odd); step 8 4 x W.
  EXPECT_EQ(split_pattern(dualpipev_rank_ops(4, 3, 10)),
            "F0 F1 F0 F1 F0 F1 F0 F1 F0 B1 F1B0 F0B1 F1B0 F0B1 F1B0 F0B1 F1B0 F0B1 F1B0 F0B1 "
            "F1B0 B1 B0 B1 B0 B1' B0' B1' B0' W W W W");
}

TEST(Schedules, DualPipeVFollowsDualPipeVPyForEveryRank) {
  for (int pp : {1, 2, 3, 4, 5, 8}) {
    for (int m : {2 * pp, 2 * pp + 1, 3 * pp, 40}) {
      for (int rank = 0; rank < pp; ++rank) {
        EXPECT_EQ(split_pattern(dualpipev_rank_ops(pp, rank, m)), dualpipev_py_pattern(pp, rank, m))
            << "pp " << pp << " rank " << rank << " m " << m;
      }
    }
  }
}

TEST(Schedules, DualPipeVWeightsFollowTheirBackwardsFirstInFirstOut) {
  // dualpipev.py's _weight_chunk pops WeightGradStore in FIFO order.
  EXPECT_EQ(numbered_pattern(dualpipev_rank_ops(2, 0, 4)),
            "F0.0 F0.1 F0.2 F1.0 B1.0 W1.0 F1.1 F0.3B1.1 F1.2B0.0 B1.2 F1.3B0.1 B1.3 B0.2 W0.2 "
            "B0.3 W0.3");
}

TEST(Schedules, DualPipeVRejectsImpossiblePlans) {
  EXPECT_THROW(dualpipev_rank_ops(4, 0, 7), std::invalid_argument);
  EXPECT_THROW(dualpipev_rank_ops(4, 4, 8), std::invalid_argument);
  EXPECT_THROW(dualpipev_rank_ops(0, 0, 8), std::invalid_argument);
  EXPECT_NO_THROW(dualpipev_rank_ops(3, 2, 7));  // odd counts are fine: no halves to share
}

// ---- 1F1B ------------------------------------------------------------------------------------

TEST(Schedules, OneFOneB) {
  EXPECT_EQ(pattern(one_f_one_b_rank_ops(4, 0, 6)), "F0 F0 F0 F0 B0 F0 B0 F0 B0 B0 B0 B0");
  EXPECT_EQ(pattern(one_f_one_b_rank_ops(4, 3, 6)), "F0 B0 F0 B0 F0 B0 F0 B0 F0 B0 F0 B0");
  EXPECT_EQ(pattern(one_f_one_b_rank_ops(4, 0, 2)), "F0 F0 B0 B0");
}

// Megatron-LM's interleaved order (schedules.hpp's example), unit by unit.
TEST(Schedules, InterleavedOneFOneBFollowsMegatronsOrder) {
  EXPECT_EQ(numbered_pattern(interleaved_1f1b_rank_ops(2, 0, 4, 2)),
            "F0.0 F0.1 F1.0 F1.1 F0.2 B1.0 F0.3 B1.1 F1.2 B0.0 F1.3 B0.1 B1.2 B1.3 B0.2 B0.3");
  EXPECT_EQ(numbered_pattern(interleaved_1f1b_rank_ops(2, 1, 4, 2)),
            "F0.0 F0.1 F1.0 B1.0 F1.1 B1.1 F0.2 B0.0 F0.3 B0.1 F1.2 B1.2 F1.3 B1.3 B0.2 B0.3");
  // Warm-up: 2 (pp - rank - 1) + (v - 1) pp forwards, all of them when that covers m v.
  for (int rank = 0; rank < 4; ++rank) {
    const auto ops = interleaved_1f1b_rank_ops(4, rank, 8, 3);
    const auto first_backward = std::find_if(
        ops.begin(), ops.end(), [](const PipelineOp& op) { return op.kind == Kind::kBackward; });
    EXPECT_EQ(first_backward - ops.begin(), 2 * (4 - rank - 1) + 2 * 4 + 1) << rank;
    EXPECT_EQ(ops.size(), 2u * 8 * 3);
  }
  const auto all_warm = interleaved_1f1b_rank_ops(4, 0, 4, 2);  // 6 + 4 > m v = 8
  EXPECT_TRUE(std::all_of(all_warm.begin(), all_warm.begin() + 8,
                          [](const PipelineOp& op) { return op.kind == Kind::kForward; }));
}

TEST(Schedules, InterleavedOneFOneBRejectsWhatMegatronRejects) {
  EXPECT_THROW(interleaved_1f1b_rank_ops(4, 0, 6, 2), std::invalid_argument);  // m % pp != 0
  EXPECT_THROW(interleaved_1f1b_rank_ops(4, 0, 8, 1), std::invalid_argument);
  EXPECT_THROW(interleaved_1f1b_rank_ops(4, 4, 8, 2), std::invalid_argument);
  EXPECT_THROW(schedule_rank_ops(Schedule::k1F1B, 4, 0, 8, 2), std::invalid_argument);
  EXPECT_NE(micro_batch_requirement(Schedule::kInterleaved1F1B, 4, 6, 2), "");
  EXPECT_EQ(micro_batch_requirement(Schedule::kInterleaved1F1B, 4, 8, 2), "");
}

// With fixed costs and free sends every rank is busy m v (f + b) and the step is that plus
// Megatron-LM's bubble (pp - 1)(F + B) / v = (pp - 1)(f + b), f and b one chunk's passes.
TEST(Schedules, InterleavedOneFOneBBubbleIsMegatronsFormula) {
  for (const Costs& cost : {Costs{1, 1, 1, 3}, Costs{1, 1.5, 0.5, 3}, Costs{2, 1, 1, 4}}) {
    ChunkTimes chunk;
    chunk.f = cost.f;
    chunk.b = cost.b + cost.w;
    for (int pp : {2, 3, 4, 8}) {
      for (int v : {2, 3, 4}) {
        for (int m : {pp, 2 * pp, 4 * pp}) {
          SCOPED_TRACE("pp " + std::to_string(pp) + " v " + std::to_string(v) + " m " +
                       std::to_string(m));
          const Execution run = execute(Schedule::kInterleaved1F1B, pp, m, cost, v);
          ASSERT_FALSE(run.deadlock);
          const double work = m * v * (cost.f + cost.b + cost.w);
          for (double busy : run.busy) EXPECT_DOUBLE_EQ(busy, work);
          EXPECT_DOUBLE_EQ(run.makespan - work,
                           bubble_seconds(Schedule::kInterleaved1F1B, pp, chunk));
          // 1F1B's bubble over the same model (chunks v times longer), divided by v.
          Costs whole = cost;
          whole.f *= v;
          whole.b *= v;
          whole.w *= v;
          const Execution plain = execute(Schedule::k1F1B, pp, m, whole);
          EXPECT_NEAR((plain.makespan - work) / v, run.makespan - work, 1e-9);
        }
      }
    }
  }
}

// The memory model's units in flight are the generator's own peak on its busiest rank: forwards
// whose backward has not yet run (Megatron-LM: 1 + (pp - 1) / (pp v) times 1F1B's).
TEST(Schedules, ActivationUnitsInFlightAreTheGeneratorsPeak) {
  for (const Case& c : all_cases()) {
    int peak = 0;
    for (int rank = 0; rank < c.pp; ++rank) {
      int held = 0;
      for (const PipelineOp& op :
           schedule_rank_ops(c.schedule, c.pp, rank, c.micro_batches, c.virtual_stages)) {
        if (op.kind == Kind::kForward) peak = std::max(peak, ++held);
        if (op.kind == Kind::kBackward) --held;
        if (op.kind == Kind::kForwardBackward) peak = std::max(peak, held + 1);
      }
    }
    if (c.schedule == Schedule::k1F1B || c.schedule == Schedule::kInterleaved1F1B) {
      EXPECT_EQ(peak,
                activation_units_in_flight(c.schedule, c.pp, c.micro_batches, c.virtual_stages))
          << describe(c);
    }
  }
}

}  // namespace
}  // namespace codesim::workloads
