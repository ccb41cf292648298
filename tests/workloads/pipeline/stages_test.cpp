#include "workloads/pipeline/stages.hpp"

#include <gtest/gtest.h>

#include "models/llm.hpp"
#include "../../presets.hpp"

namespace codesim::workloads {
namespace {

TEST(Stages, DeepSeekV3SplitsIntoSixteenStagesOfFourSlots) {
  const auto& v3 = codesim::testing::model_preset("deepseek-v3");
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

TEST(Stages, ImpossibleSplitSaysWhatIsValid) {
  const auto& v3 = codesim::testing::model_preset("deepseek-v3");
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

}  // namespace
}  // namespace codesim::workloads
