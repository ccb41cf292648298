#include "models/gpu.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../presets.hpp"
#include "../reference.hpp"

namespace codesim::models {
namespace {

TEST(GpuPresets, AllRequiredPresetsExistWithSaneFigures) {
  std::vector<std::string> names;
  for (const GpuSpec& gpu : gpu_presets()) names.push_back(gpu.name);
  EXPECT_EQ(names, (std::vector<std::string>{"h800", "h100-sxm", "h200", "a100-sxm-80gb",
                                             "a100-pcie-40gb", "b200", "h20", "gb200"}));
  for (const std::string& name : names) {
    const GpuSpec& gpu = codesim::testing::gpu_preset(name);
    EXPECT_GT(gpu.sms, 0) << name;
    EXPECT_GT(gpu.bf16_dense_tflops, 0) << name;
    EXPECT_GE(gpu.fp8_dense_tflops, 0) << name;
    EXPECT_GT(gpu.hbm_bytes, 0) << name;
    EXPECT_GT(gpu.hbm_GBps, 0) << name;
    EXPECT_FALSE(gpu.source.empty()) << name;
  }
}

TEST(GpuPresets, H800MatchesPublishedFigures) {
  const GpuSpec& h800 = models::h800();
  EXPECT_EQ(h800.name, "h800");
  EXPECT_EQ(h800.sms, 132);
  EXPECT_DOUBLE_EQ(h800.bf16_dense_tflops, 989.4);
  EXPECT_DOUBLE_EQ(h800.fp8_dense_tflops, 1978.9);
  EXPECT_EQ(h800.hbm_bytes, 80'000'000'000);
  EXPECT_DOUBLE_EQ(h800.nvlink_unidirectional_GBps * 2, 400);  // 400 GB/s bidirectional
  EXPECT_DOUBLE_EQ(codesim::testing::gpu_preset("a100-pcie-40gb").bf16_dense_tflops, 312);
}

}  // namespace
}  // namespace codesim::models
