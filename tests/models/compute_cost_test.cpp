#include "models/compute_cost.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "../presets.hpp"
#include "../reference.hpp"

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
  // FlashAttention-3's training attention, as carried in validation/reference.
  const auto fa3 = published()["calibration_h800"]["flashattention3_h100_bf16_hd128"];
  std::size_t rows = 0;
  for (const auto& r : cal.attention_training) {
    const auto table = r.causal ? fa3["forward_causal"] : fa3["forward_noncausal"];
    bool found = false;
    for (const auto& point : table) {
      if (point[0].as<int>() != r.seq_len) continue;
      found = true;
      EXPECT_EQ(r.forward_tflops, point[1].as<double>()) << r.seq_len;
    }
    EXPECT_TRUE(found) << r.seq_len;
    if (!r.causal) {
      for (const auto& point : fa3["backward_noncausal"]) {
        if (point[0].as<int>() == r.seq_len) {
          EXPECT_EQ(r.backward_tflops, point[1].as<double>());
        }
      }
    }
    ++rows;
  }
  EXPECT_EQ(rows, fa3["forward_causal"].size() + fa3["forward_noncausal"].size());
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
  const ComputeCostModel a100(codesim::testing::gpu_preset("a100-sxm-80gb"),
                              h800_published_calibration());
  EXPECT_DOUBLE_EQ(a100.peak_flops(Precision::kFp8), 312e12);
}

// 16-bit GEMMs on an A100 (PCIe or SXM: the same GA100 compute) run at Fire-Flyer's measured
// 220 of 312 TFLOPS (published.yaml hardware.a100-pcie-40gb); Hopper has no 16-bit measurement
// and keeps the FP8 tables' fraction.
TEST(ComputeCost, SixteenBitGemmsRunAtTheirChipsMeasurement) {
  const double measured =
      published()["hardware"]["a100-pcie-40gb"]["measured_fp16_gemm_tflops"].as<double>();
  const GemmShape shape{8192, 8192, 8192};
  for (const char* name : {"a100-pcie-40gb", "a100-sxm-80gb"}) {
    const ComputeCostModel a100(codesim::testing::gpu_preset(name), h800_published_calibration());
    ASSERT_NE(a100.gemm_16bit(), nullptr) << name;
    EXPECT_DOUBLE_EQ(a100.gemm_efficiency(shape, Precision::kBf16), measured / 312) << name;
    // FP8 asked of a GPU without it: the 16-bit GEMM it runs instead.
    EXPECT_DOUBLE_EQ(a100.gemm_efficiency(shape, Precision::kFp8), measured / 312) << name;
    EXPECT_NEAR(a100.gemm_seconds(shape, Precision::kBf16), shape.flops() / (measured * 1e12),
                1e-12);
    // The measurement is an FP16 GEMM; BF16 runs on the same tensor cores at the same peak.
    EXPECT_DOUBLE_EQ(a100.gemm_seconds(shape, Precision::kFp16),
                     a100.gemm_seconds(shape, Precision::kBf16));
  }
  const ComputeCostModel h800 = h800_model();
  EXPECT_EQ(h800.gemm_16bit(), nullptr);
  EXPECT_DOUBLE_EQ(h800.gemm_efficiency(shape, Precision::kBf16),
                   h800.gemm_efficiency(shape, Precision::kFp8));
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

namespace codesim::models {
namespace {

Kernel memory_kernel(double bytes) {
  Kernel k;
  k.name = "copy";
  k.kind = KernelKind::kMemory;
  k.bytes = bytes;
  return k;
}

Kernel fp8_gemm(std::int64_t m, std::int64_t n, std::int64_t k) {
  Kernel g;
  g.name = "gemm";
  g.kind = KernelKind::kGemm;
  g.precision = Precision::kFp8;
  g.m = m, g.n = n, g.k = k;
  g.flops = 2.0 * m * n * k;
  g.bytes = double(m) * k + double(n) * k + 2.0 * m * n;
  return g;
}

TEST(KernelCost, TheRooflinePicksTheBound) {
  const auto model = h800_model();
  // 3 GB through HBM at FlashMLA's achieved 3000 GB/s: 1 ms.
  EXPECT_NEAR(model.kernel_seconds(memory_kernel(3e9)), 1e-3, 1e-12);
  // A measured shape is compute-bound at its measured TFLOPS.
  const Kernel big = fp8_gemm(4096, 7168, 16384);
  EXPECT_NEAR(big.flops / model.kernel_seconds(big) / 1e12, 1520, 1e-6);
  // The same GEMM with its bytes inflated past the compute time becomes memory-bound.
  Kernel heavy = big;
  heavy.bytes = 30e9;
  EXPECT_NEAR(model.kernel_seconds(heavy), 10e-3, 1e-12);
}

TEST(KernelCost, FewerSmsCostGemmsTheirWaves) {
  const auto model = h800_model();
  // 4096 x 7168 in 128 x 128 tiles: 32 x 56 = 1792 tiles; 14 waves on 132 SMs, 16 on 112, 28 on
  // 66.
  const Kernel g = fp8_gemm(4096, 7168, 16384);
  const double all = model.kernel_seconds(g);
  EXPECT_NEAR(model.kernel_seconds(g, {112, 1.0}) / all, 16.0 / 14.0, 1e-12);
  EXPECT_NEAR(model.kernel_seconds(g, {66, 1.0}) / all, 28.0 / 14.0, 1e-12);
  // 128 tiles fill one wave on 132 SMs and need two on 112.
  const Kernel narrow = fp8_gemm(4096, 512, 32768);
  EXPECT_NEAR(model.kernel_seconds(narrow, {112, 1.0}) / model.kernel_seconds(narrow), 2.0, 1e-12);
  // Memory-bound work does not care how many SMs it has, only how much HBM bandwidth.
  EXPECT_DOUBLE_EQ(model.kernel_seconds(memory_kernel(1e9), {66, 1.0}),
                   model.kernel_seconds(memory_kernel(1e9)));
}

TEST(KernelCost, CommunicationsShareOfHbmSlowsMemoryBoundKernelsOnly) {
  const auto model = h800_model();
  EXPECT_NEAR(
      model.kernel_seconds(memory_kernel(1e9), {0, 0.5}) / model.kernel_seconds(memory_kernel(1e9)),
      2.0, 1e-12);
  const Kernel g = fp8_gemm(4096, 7168, 16384);  // compute-bound: unchanged
  EXPECT_DOUBLE_EQ(model.kernel_seconds(g, {0, 0.5}), model.kernel_seconds(g));
}

TEST(KernelCost, TrainingAttentionRunsAtFlashAttention3sThroughput) {
  const auto model = h800_model();
  const auto fa3 = published()["calibration_h800"]["flashattention3_h100_bf16_hd128"];
  const double causal_4k = fa3["forward_causal"][3][1].as<double>();
  const double full_4k = fa3["forward_noncausal"][3][1].as<double>();
  const double backward_full_4k = fa3["backward_noncausal"][3][1].as<double>();
  EXPECT_NEAR(model.training_attention_efficiency(128, true, 4096, false) * 989.4, causal_4k, 1e-9);
  EXPECT_NEAR(model.training_attention_efficiency(128, false, 4096, true) * 989.4, backward_full_4k,
              1e-9);
  // No causal backward was measured: the non-causal one times the forward's causal ratio.
  EXPECT_NEAR(model.training_attention_efficiency(128, true, 4096, true) * 989.4,
              backward_full_4k * causal_4k / full_4k, 1e-9);
  // V3's 192-wide Q/K head takes the nearest measured head dim; between sequence lengths the
  // efficiency is interpolated in log2 of the length.
  EXPECT_DOUBLE_EQ(model.training_attention_efficiency(192, true, 4096, false),
                   model.training_attention_efficiency(128, true, 4096, false));
  const double at_2k = fa3["forward_causal"][2][1].as<double>();
  EXPECT_NEAR(model.training_attention_efficiency(128, true, 2896, false) * 989.4,
              (at_2k + causal_4k) / 2, 0.01);
  Kernel a;
  a.kind = KernelKind::kAttentionForward;
  a.heads = 128, a.head_dim_qk = 192, a.head_dim_v = 128, a.seq_len = 4096, a.sequences = 1;
  a.flops = 1e12;
  EXPECT_NEAR(a.flops / model.kernel_seconds(a) / 1e12, causal_4k, 1e-6);
}

TEST(KernelCost, EachLaunchPaysTheCalibratedOverhead) {
  Calibration c = h800_published_calibration();
  EXPECT_EQ(c.kernel_overhead_us, 0);  // no published measurement gives it
  c.kernel_overhead_us = 5;
  const ComputeCostModel model(codesim::testing::gpu_preset("h800"), c);
  Kernel k = memory_kernel(3e9);
  k.count = 3;
  EXPECT_NEAR(model.kernel_seconds(k), 3 * (1e-3 + 5e-6), 1e-12);
  k.latency_s = 2e-6;  // a notify's wait, per launch
  EXPECT_NEAR(model.kernel_seconds(k), 3 * (1e-3 + 7e-6), 1e-12);
}

}  // namespace
}  // namespace codesim::models
