// plan.stage_layers: auto. The balanced split must be the best contiguous split there is (checked
// against every split of small models), keep to the memory it is given, and on DeepSeek-V3 pace
// the pipeline better than the split by slots.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>

#include "../scenarios.hpp"
#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/rank_memory.hpp"
#include "workloads/step/stage_balance.hpp"

namespace codesim::workloads {
namespace {

// The slowest pipeline rank's pace under a split, priced as the stages' reported work.
double slowest_pace(const ChunkCostModel& costs, const models::ModelConfig& m, Schedule schedule,
                    int pp, const std::vector<int>& counts) {
  const auto stages = split_stages(m, stage_count(schedule, pp), counts);
  const auto paces =
      rank_pace(stage_work(costs, stages, overlaps_forward_and_backward(schedule)), schedule);
  return *std::max_element(paces.begin(), paces.end());
}

// Every split of `layers` into `stages` contiguous parts of at most `cap` layers.
void each_split(int layers, int stages, int cap, const std::function<void(std::vector<int>&)>& f) {
  std::vector<int> counts(stages, 0);
  std::function<void(int, int)> go = [&](int k, int left) {
    if (k == stages - 1) {
      if (left > cap) return;
      counts[k] = left;
      f(counts);
      return;
    }
    for (int a = 0; a <= std::min(cap, left); ++a) {
      counts[k] = a;
      go(k + 1, left - a);
    }
  };
  go(0, layers);
}

struct Case {
  const char* name;
  Schedule schedule;
  int pp;
  int layers;
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.name;
}

class BalancedSplit : public ::testing::TestWithParam<Case> {};

// The dynamic programming against every split: the same slowest pace, exactly.
TEST_P(BalancedSplit, IsTheBestOfEverySplit) {
  const Case& c = GetParam();
  auto s = codesim::testing::deepseek_v3_on_2048_h800();
  s.model.layers = c.layers;  // the first 3 dense, the rest MoE: pieces of unequal work
  s.plan.schedule = c.schedule;
  s.plan.pp = c.pp;
  const ChunkCostModel costs(chunk_cost_params(s));
  const std::vector<int> got = balanced_stage_layers(costs, c.schedule, c.pp);
  const int stages = stage_count(c.schedule, c.pp);
  ASSERT_EQ(int(got.size()), stages);
  EXPECT_EQ(std::accumulate(got.begin(), got.end(), 0), c.layers);
  const int cap = 2 * ((c.layers + stages - 1) / stages) + 2;
  double best = 1e300;
  std::vector<int> best_split;
  each_split(c.layers, stages, cap, [&](std::vector<int>& counts) {
    const double v = slowest_pace(costs, s.model, c.schedule, c.pp, counts);
    if (v < best) {
      best = v;
      best_split = counts;
    }
  });
  const double found = slowest_pace(costs, s.model, c.schedule, c.pp, got);
  EXPECT_NEAR(found, best, 1e-9 * best) << c.name;
  // And it beats (or ties) the even split by slots where there is one.
  if (pipeline_slots(s.model) % stages == 0) {
    EXPECT_LE(found, slowest_pace(costs, s.model, c.schedule, c.pp, {}) * (1 + 1e-12));
  }
}

INSTANTIATE_TEST_SUITE_P(SmallModels, BalancedSplit,
                         ::testing::Values(Case{"one_f_one_b_4_stages", Schedule::k1F1B, 4, 14},
                                           Case{"zb_h1_4_stages", Schedule::kZeroBubble1P, 4, 11},
                                           Case{"dualpipe_4_ranks", Schedule::kDualPipe, 4, 13},
                                           Case{"dualpipe_6_ranks", Schedule::kDualPipe, 6, 10},
                                           Case{"dualpipev_2_ranks", Schedule::kDualPipeV, 2, 12}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

// Interleaved 1F1B: each of the pp x v chunks balanced in turn; the largest chunk's work is the
// least of every split's, and no more than the split by slots gives.
TEST(BalancedSplit, InterleavedBalancesEachChunk) {
  auto s = codesim::testing::small_dense_gpt();
  s.plan.schedule = Schedule::kInterleaved1F1B;
  s.plan.pp = 2;
  s.plan.virtual_stages = 2;
  const ChunkCostModel costs(chunk_cost_params(s));
  const std::vector<int> got = balanced_stage_layers(costs, s.plan.schedule, 2, {}, 2);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(std::accumulate(got.begin(), got.end(), 0), s.model.layers);
  auto largest = [&](const std::vector<int>& counts) {
    double most = 0;
    for (const StageWork& w : stage_work(costs, split_stages(s.model, 4, counts), false)) {
      most = std::max(most, w.total_s());
    }
    return most;
  };
  double best = 1e300;
  each_split(s.model.layers, 4, s.model.layers,
             [&](std::vector<int>& counts) { best = std::min(best, largest(counts)); });
  EXPECT_NEAR(largest(got), best, 1e-9 * best);
  EXPECT_LE(largest(got), largest({}) * (1 + 1e-12));
  // The scenario's own: every chunk fits, and the plan checks.
  s.plan.global_batch_sequences = 64;
  s.plan.stage_layers = balanced_stage_layers(s);
  EXPECT_EQ(s.plan.stage_layers, got);
}

TEST(BalancedSplit, KeepsToTheMemoryItIsGiven) {
  auto s = codesim::testing::deepseek_v3_on_2048_h800();
  s.model.layers = 13;
  s.plan.pp = 4;
  const ChunkCostModel costs(chunk_cost_params(s));
  const PipelineMap map(s.plan.schedule, s.plan.pp);
  // A rank fits when its stages hold no more than `most` layers together.
  auto at_most = [&](int most) {
    return [&map, most](int rank, const std::vector<Stage>& stages) {
      int held = 0;
      for (int k : map.stages_of(rank)) held += stages[k].layers;
      return held <= most;
    };
  };
  const std::vector<int> free = balanced_stage_layers(costs, s.plan.schedule, s.plan.pp);
  const std::vector<int> tight =
      balanced_stage_layers(costs, s.plan.schedule, s.plan.pp, at_most(7));
  ASSERT_EQ(tight.size(), 4u);
  for (int r = 0; r < s.plan.pp / 2; ++r) EXPECT_LE(tight[r] + tight[3 - r], 7);
  EXPECT_GE(slowest_pace(costs, s.model, s.plan.schedule, s.plan.pp, tight),
            slowest_pace(costs, s.model, s.plan.schedule, s.plan.pp, free));
  // 13 layers cannot go to two ranks of at most 6.
  EXPECT_TRUE(balanced_stage_layers(costs, s.plan.schedule, s.plan.pp, at_most(6)).empty());
}

TEST(BalancedSplit, PacesDeepSeekV3BetterThanSlotsAndFits) {
  const auto s = codesim::testing::deepseek_v3_on_2048_h800();
  const ChunkCostModel costs(chunk_cost_params(s));
  const std::vector<int> got = balanced_stage_layers(s);
  ASSERT_EQ(got.size(), 16u);
  const double balanced = slowest_pace(costs, s.model, s.plan.schedule, s.plan.pp, got);
  const double slots = slowest_pace(costs, s.model, s.plan.schedule, s.plan.pp, {});
  EXPECT_LT(balanced, 0.95 * slots);
  // The last stage carries the MTP module and both output heads, so it keeps the fewest layers.
  EXPECT_EQ(*std::min_element(got.begin(), got.end()), got.back());
  const auto stages = split_stages(s.model, 16, got);
  EXPECT_LE(peak_rank_memory(memory_params(s), stages).total_bytes(), double(s.gpu.hbm_bytes));
}

TEST(BalancedSplit, RankPaceOfDualPipeIsTheLongerPair) {
  // Rank 0 holds stages 0 and 3: its pairs are F0 + (B3 + W3) and F3 + (B0 + W0).
  std::vector<StageWork> w(4);
  const double f[] = {1, 2, 2, 5}, b[] = {2, 3, 3, 6}, wt[] = {1, 1, 1, 4};
  for (int k = 0; k < 4; ++k) {
    w[k].forward_s = f[k];
    w[k].backward_s = b[k];
    w[k].weight_s = wt[k];
  }
  const auto dual = rank_pace(w, Schedule::kDualPipe);
  ASSERT_EQ(dual.size(), 2u);
  EXPECT_DOUBLE_EQ(dual[0], std::max(1.0 + 6 + 4, 5.0 + 2 + 1));
  EXPECT_DOUBLE_EQ(dual[1], std::max(2.0 + 3 + 1, 2.0 + 3 + 1));
  const auto one = rank_pace(w, Schedule::k1F1B);
  ASSERT_EQ(one.size(), 4u);
  EXPECT_DOUBLE_EQ(one[3], 15.0);
}

}  // namespace
}  // namespace codesim::workloads
