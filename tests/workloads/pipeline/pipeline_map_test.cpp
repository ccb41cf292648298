#include "workloads/pipeline/pipeline_map.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace codesim::workloads {
namespace {

TEST(PipelineMap, PlacesAgreeWithTheStagesEachRankHolds) {
  for (Schedule schedule :
       {Schedule::k1F1B, Schedule::kZeroBubble1P, Schedule::kDualPipe, Schedule::kDualPipeV}) {
    for (int pp : {2, 4, 8}) {
      const PipelineMap map(schedule, pp);
      for (int d = 0; d < map.directions(); ++d) {
        for (int i = 0; i < map.length(); ++i) {
          const PipelineMap::Slot slot = map.slot({d, i});
          const PipelineMap::Place back = map.place(slot);
          EXPECT_EQ(back.direction, d);
          EXPECT_EQ(back.position, i);
          const std::vector<int> held = map.stages_of(slot.rank);
          EXPECT_NE(std::find(held.begin(), held.end(), i), held.end())
              << int(schedule) << " pp " << pp << " position " << i;
        }
      }
    }
  }
}

TEST(PipelineMap, InterleavedRanksHoldEveryPpthStage) {
  for (int v : {2, 4}) {
    const PipelineMap map(Schedule::kInterleaved1F1B, 4, v);
    EXPECT_EQ(map.length(), 4 * v);
    EXPECT_EQ(map.chunks(), v);
    EXPECT_EQ(map.directions(), 1);
    for (int i = 0; i < map.length(); ++i) {
      const PipelineMap::Slot slot = map.slot({0, i});
      EXPECT_EQ(slot.rank, i % 4);
      EXPECT_EQ(slot.chunk, i / 4);
      EXPECT_EQ(map.place(slot).position, i);
    }
  }
  EXPECT_EQ(PipelineMap(Schedule::kInterleaved1F1B, 4, 3).stages_of(1),
            (std::vector<int>{1, 5, 9}));
  EXPECT_EQ(stage_count(Schedule::kInterleaved1F1B, 16, 4), 64);
  EXPECT_THROW(PipelineMap(Schedule::kInterleaved1F1B, 4, 1), std::invalid_argument);
  EXPECT_THROW(PipelineMap(Schedule::k1F1B, 4, 2), std::invalid_argument);
}

TEST(PipelineMap, DualPipeChunkZeroIsTheDirectionStartingAtTheRanksEnd) {
  const PipelineMap map(Schedule::kDualPipe, 8);
  EXPECT_EQ(map.place({0, 0}).direction, 0);  // rank 0 feeds direction 0
  EXPECT_EQ(map.place({7, 0}).direction, 1);  // rank 7 feeds direction 1
  EXPECT_EQ(map.place({7, 0}).position, 0);
  EXPECT_EQ(map.place({5, 1}).direction, 0);
  EXPECT_EQ(map.place({5, 1}).position, 5);
}

TEST(PipelineMap, BidirectionalSchedulesHoldTwoStagesPerRank) {
  EXPECT_EQ(PipelineMap(Schedule::kDualPipe, 16).stages_of(0), (std::vector<int>{0, 15}));
  EXPECT_EQ(PipelineMap(Schedule::kDualPipe, 16).stages_of(5), (std::vector<int>{5, 10}));
  EXPECT_EQ(PipelineMap(Schedule::kDualPipeV, 8).stages_of(0), (std::vector<int>{0, 15}));
  EXPECT_EQ(PipelineMap(Schedule::k1F1B, 16).stages_of(5), (std::vector<int>{5}));
  // Chunk 0 of a second-half DualPipe rank is direction 1: its stages come in that order.
  EXPECT_EQ(PipelineMap(Schedule::kDualPipe, 16).stages_of(10), (std::vector<int>{5, 10}));
  EXPECT_EQ(PipelineMap(Schedule::kDualPipe, 16).stages_of(15), (std::vector<int>{0, 15}));
  EXPECT_EQ(stage_count(Schedule::kDualPipeV, 8), 16);
  EXPECT_EQ(PipelineMap(Schedule::kDualPipeV, 8).length(), 16);
  EXPECT_EQ(PipelineMap(Schedule::kDualPipe, 8).chunks(), 2);
  EXPECT_EQ(PipelineMap(Schedule::kZeroBubble1P, 8).chunks(), 1);
  EXPECT_THROW(PipelineMap(Schedule::kDualPipe, 7), std::invalid_argument);
}

}  // namespace
}  // namespace codesim::workloads
