#include "models/compute_cost.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "../reference.hpp"
#include "../presets.hpp"

namespace codesim::models {
namespace {

using codesim::testing::published;

ComputeCostModel h800_model() {
  return ComputeCostModel(codesim::testing::gpu_preset("h800"), h800_published_calibration());
}

TEST(ComputeCost, DefaultCalibrationCarriesThePublishedTables) {
  const auto& cal = h800_published_calibration();
  const auto dense = published()["calibration_h800"]["deepgemm_dense_fp8"];
  ASSERT_EQ(cal.dense_fp8_gemm.size(), dense.size());
  for (size_t i = 0; i < dense.size(); ++i) {
    EXPECT_EQ(cal.dense_fp8_gemm[i].m, dense[i][0].as<int64_t>());
    EXPECT_EQ(cal.dense_fp8_gemm[i].n, dense[i][1].as<int64_t>());
    EXPECT_EQ(cal.dense_fp8_gemm[i].k, dense[i][2].as<int64_t>());
    EXPECT_EQ(cal.dense_fp8_gemm[i].tflops, dense[i][3].as<double>());
  }
  const auto grouped = published()["calibration_h800"]["deepgemm_grouped_fp8"];
  ASSERT_EQ(cal.grouped_fp8_gemm.size(), grouped.size());
  for (size_t i = 0; i < grouped.size(); ++i) {
    EXPECT_EQ(cal.grouped_fp8_gemm[i].m_per_group, grouped[i][1].as<int64_t>());
    EXPECT_EQ(cal.grouped_fp8_gemm[i].tflops, grouped[i][4].as<double>());
  }
  const auto flashmla = published()["calibration_h800"]["flashmla_decode"];
  EXPECT_EQ(cal.attention_bf16_tflops, flashmla["compute_bound_tflops"].as<double>());
  EXPECT_EQ(cal.hbm_achieved_GBps, flashmla["memory_bound_gbps"].as<double>());
  EXPECT_EQ(cal.nvlink_achieved_GBps,
            published()["calibration_h800"]["nvlink_achieved_gbps"].as<double>());
}

TEST(ComputeCost, MeasuredShapesReproduceTheirMeasurement) {
  const auto model = h800_model();
  for (const auto& row : h800_published_calibration().dense_fp8_gemm) {
    const GemmShape shape{row.m, row.n, row.k};
    const double tflops = shape.flops() / model.gemm_seconds(shape, Precision::kFp8) / 1e12;
    EXPECT_NEAR(tflops, row.tflops, row.tflops * 1e-9) << row.m << "x" << row.n << "x" << row.k;
  }
}

TEST(ComputeCost, InterpolatesInLog2MBetweenMeasurements) {
  const auto model = h800_model();
  // N=7168, K=16384: 645 TFLOPS at M=128 and 1520 at M=4096; M=724 is halfway in log2 M
  // (log2 724 = 9.4998), so efficiency is the mean within the rounding of M.
  const double peak = 1978.9;
  const double expected = (645.0 + 1520.0) / 2 / peak;
  EXPECT_NEAR(model.gemm_efficiency({724, 7168, 16384}), expected, 1e-3);
  // Beyond the table the efficiency is clamped, never extrapolated.
  EXPECT_DOUBLE_EQ(model.gemm_efficiency({65536, 7168, 16384}), 1520.0 / peak);
  EXPECT_DOUBLE_EQ(model.gemm_efficiency({8, 7168, 16384}), 336.0 / peak);
}

TEST(ComputeCost, UnmeasuredNKUsesTheNearestMeasuredShape) {
  const auto model = h800_model();
  // N=7000, K=16000 is nearest to N=7168, K=16384 in log distance.
  EXPECT_DOUBLE_EQ(model.gemm_efficiency({4096, 7000, 16000}), 1520.0 / 1978.9);
}

TEST(ComputeCost, GroupedGemmsInterpolateOverRowsPerGroup) {
  const auto model = h800_model();
  EXPECT_DOUBLE_EQ(model.grouped_gemm_efficiency(8192, 4096, 7168), 1346.0 / 1978.9);
  EXPECT_DOUBLE_EQ(model.grouped_gemm_efficiency(256, 4096, 7168), 932.0 / 1978.9);
  const double mid = model.grouped_gemm_efficiency(2048, 4096, 7168);  // between 1024 and 4096
  EXPECT_NEAR(mid, (1233.0 + 1346.0) / 2 / 1978.9, 1e-9);
}

TEST(ComputeCost, EfficiencyCarriesOverToAnotherGpu) {
  const ComputeCostModel b200(codesim::testing::gpu_preset("b200"), h800_published_calibration());
  const ComputeCostModel h800 = h800_model();
  const GemmShape shape{4096, 7168, 2048};
  // Same fraction of a peak 4500/1978.9 times higher, unless HBM bounds it.
  EXPECT_NEAR(h800.gemm_seconds(shape, Precision::kFp8) / b200.gemm_seconds(shape, Precision::kFp8),
              4500 / 1978.9, 1e-9);
  // A GPU without FP8 runs FP8 GEMMs at its BF16 peak.
  const ComputeCostModel a100(codesim::testing::gpu_preset("a100-sxm-80gb"), h800_published_calibration());
  EXPECT_DOUBLE_EQ(a100.peak_flops(Precision::kFp8), 312e12);
}

TEST(ComputeCost, AttentionAndMemoryBoundRates) {
  const auto model = h800_model();
  EXPECT_DOUBLE_EQ(model.attention_seconds(660e12), 1.0);
  EXPECT_DOUBLE_EQ(model.memory_seconds(3000e9), 1.0);
}

TEST(ComputeCost, TinyShapesAreBoundByMemoryTraffic) {
  const auto model = h800_model();
  const GemmShape thin{1, 32768, 32768};  // a GEMV: 1 GiB of weights for 2 GFLOP
  const double bytes = 32768.0 * 32768 + 32768 + 2 * 32768;
  EXPECT_DOUBLE_EQ(model.gemm_seconds(thin, Precision::kFp8), bytes / 3000e9);
}

}  // namespace
}  // namespace codesim::models
