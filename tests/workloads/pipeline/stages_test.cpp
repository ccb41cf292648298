#include "workloads/pipeline/stages.hpp"

#include <gtest/gtest.h>

#include "models/llm.hpp"

namespace codesim::workloads {
namespace {

TEST(Pipeline, DeepSeekV3SplitsIntoSixteenStagesOfFourSlots) {
  const auto& v3 = models::model_preset("deepseek-v3");
  EXPECT_EQ(pipeline_slots(v3), 64);
  const auto stages = split_stages(v3, 16, {});
  ASSERT_EQ(stages.size(), 16u);
  EXPECT_TRUE(stages[0].embedding);
  EXPECT_EQ(stages[0].layers, 3);
  for (int s = 1; s < 15; ++s) {
    EXPECT_EQ(stages[s].layers, 4) << s;
    EXPECT_FALSE(stages[s].embedding || stages[s].output_head) << s;
  }
  EXPECT_EQ(stages[15].layers, 2);
  EXPECT_TRUE(stages[15].output_head);
  EXPECT_EQ(stages[15].mtp_modules, 1);
  EXPECT_EQ(stages[15].first_layer + stages[15].layers, 61);
}

TEST(Pipeline, ImpossibleSplitSaysWhatIsValid) {
  const auto& v3 = models::model_preset("deepseek-v3");
  try {
    split_stages(v3, 12, {});
    FAIL() << "12 stages cannot share 64 slots";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("64 pipeline slots"), std::string::npos) << message;
    EXPECT_NE(message.find("1, 2, 4, 8, 16, 32, 64"), std::string::npos) << message;
  }
  EXPECT_THROW(split_stages(v3, 2, {30, 30}), std::invalid_argument);  // 60 != 61 layers
  const auto explicit_split = split_stages(v3, 2, {30, 31});
  EXPECT_EQ(explicit_split[1].first_layer, 30);
}

TEST(Pipeline, BidirectionalSchedulesHoldTwoStagesPerRank) {
  EXPECT_EQ(stages_of_rank(Schedule::kDualPipe, 16, 0), (std::vector<int>{0, 15}));
  EXPECT_EQ(stages_of_rank(Schedule::kDualPipe, 16, 5), (std::vector<int>{5, 10}));
  EXPECT_EQ(stages_of_rank(Schedule::kDualPipeV, 8, 0), (std::vector<int>{0, 15}));
  EXPECT_EQ(stages_of_rank(Schedule::k1F1B, 16, 5), (std::vector<int>{5}));
  EXPECT_EQ(stage_count(Schedule::kDualPipeV, 8), 16);
}

TEST(Pipeline, BubblesFollowTheV3ReportTable) {
  const ChunkTimes c{.f = 3, .b = 6, .w = 2, .fb = 8};
  EXPECT_DOUBLE_EQ(bubble_seconds(Schedule::k1F1B, 8, c), 7 * (3 + 6));
  EXPECT_DOUBLE_EQ(bubble_seconds(Schedule::kZeroBubble1P, 8, c), 7 * (3 + 6 - 4));
  EXPECT_DOUBLE_EQ(bubble_seconds(Schedule::kDualPipe, 8, c), 3 * (8 + 6 - 6));
  EXPECT_DOUBLE_EQ(bubble_seconds(Schedule::kDualPipeV, 4, c), 3 * (8 + 6 - 6));
}

TEST(Pipeline, ActivationsInFlightAndPreconditions) {
  EXPECT_EQ(activation_units_in_flight(Schedule::k1F1B, 16, 120), 16);
  EXPECT_EQ(activation_units_in_flight(Schedule::kDualPipe, 16, 120), 17);
  EXPECT_EQ(activation_units_in_flight(Schedule::k1F1B, 16, 4), 4);
  EXPECT_EQ(micro_batch_requirement(Schedule::kDualPipe, 16, 120), "");
  EXPECT_NE(micro_batch_requirement(Schedule::kDualPipe, 16, 30), "");   // < 2 * PP
  EXPECT_NE(micro_batch_requirement(Schedule::kDualPipe, 16, 33), "");   // odd
  EXPECT_NE(micro_batch_requirement(Schedule::kDualPipe, 15, 120), "");  // odd PP
  EXPECT_EQ(micro_batch_requirement(Schedule::k1F1B, 16, 4), "");
}

}  // namespace
}  // namespace codesim::workloads
