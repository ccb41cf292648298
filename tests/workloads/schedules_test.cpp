#include "workloads/schedules.hpp"

#include <gtest/gtest.h>

#include <map>

namespace codesim::workloads {
namespace {

std::string pattern(const std::vector<PipelineOp>& ops) {
  std::string out;
  for (const auto& op : ops) out += (out.empty() ? "" : " ") + op_label(op);
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
  add("F0B1 F1B0", chunks / 2 - pp + r + 1);
  add("B1 F1B0", h - r - 1);
  add("B1 B0", r + 1);
  add("W B0", h - r - 1);
  add("W", r + 1);
  return out;
}

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

TEST(Schedules, OneFOneB) {
  EXPECT_EQ(pattern(one_f_one_b_rank_ops(4, 0, 6)), "F0 F0 F0 F0 B0 F0 B0 F0 B0 B0 B0 B0");
  EXPECT_EQ(pattern(one_f_one_b_rank_ops(4, 3, 6)), "F0 B0 F0 B0 F0 B0 F0 B0 F0 B0 F0 B0");
  EXPECT_EQ(pattern(one_f_one_b_rank_ops(4, 0, 2)), "F0 F0 B0 B0");
}

}  // namespace
}  // namespace codesim::workloads
