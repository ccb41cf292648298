#include "workloads/pipeline/bubble.hpp"

#include <gtest/gtest.h>

namespace codesim::workloads {
namespace {

TEST(Bubble, BubblesFollowTheV3ReportTable) {
  const ChunkTimes c{.f = 3, .b = 6, .w = 2, .fb = 8};
  EXPECT_DOUBLE_EQ(bubble_seconds(Schedule::k1F1B, 8, c), 7 * (3 + 6));
  EXPECT_DOUBLE_EQ(bubble_seconds(Schedule::kZeroBubble1P, 8, c), 7 * (3 + 6 - 4));
  EXPECT_DOUBLE_EQ(bubble_seconds(Schedule::kDualPipe, 8, c), 3 * (8 + 6 - 6));
  EXPECT_DOUBLE_EQ(bubble_seconds(Schedule::kDualPipeV, 4, c), 3 * (8 + 6 - 6));
}

TEST(Bubble, ActivationsInFlightAndPreconditions) {
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
