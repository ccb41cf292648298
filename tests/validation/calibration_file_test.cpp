// Calibration files (cli/calibration_reader) and `codesim calibrate`: a scenario's
// `calibration:` key changes the simulated GEMM times by what the file measured; bad files get
// the usual message; calibrate without a GPU exits 3 and writes nothing.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../cli/run_codesim.hpp"
#include "cli/calibration_reader.hpp"
#include "cli/scenario_error.hpp"
#include "cli/scenario_loader.hpp"
#include "models/compute_cost.hpp"
#include "models/gpu.hpp"
#include "validation/kernels/calibration_writer.hpp"

namespace codesim::cli {
namespace {

using codesim::testing::run_codesim;
using codesim::testing::scratch_dir;
namespace fs = std::filesystem;

const char* kScenario =
    "name: calibration-test\n"
    "cluster:\n"
    "  gpu: h800\n"
    "  nodes: 256\n"
    "  node: {gpus: 8, nvlink: 200GBps, nics: 8, nic: 400Gbps}\n"
    "  topology: {kind: mpft, planes: 8}\n"
    "model: deepseek-v3\n"
    "plan:\n"
    "  pp: 16\n"
    "  ep: 64\n"
    "  schedule: dualpipe\n"
    "  sequence_length: 4096\n"
    "  global_batch: 15360\n"
    "  tokens: 14.8e12\n"
    "  comm_sms: 20\n"
    "  precision: fp8\n"
    "  recompute: [rmsnorm, mla_up_projection]\n";

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A synthetic calibration: DeepGEMM's dense and grouped tables at `factor` times the published
// throughput, measured on an H800, with provenance as the runner writes it.
std::string synthetic_calibration(double factor) {
  std::string y =
      "calibration:\n"
      "  name: synthetic\n"
      "  measured_on: h800\n"
      "  provenance: {gpu: \"NVIDIA H800\", sms: 132, sm_clock_mhz: 1980, driver: \"13.0\", "
      "cuda_runtime: \"13.0\", date: \"2026-11-24T10:00:00Z\", warmup: 3, repeats: 20}\n"
      "  checks:\n"
      "    - {kernel: codesim_fp8_gemm, shape: \"m=200 n=384 k=1024\", max_abs_error: 0.01, "
      "max_scaled_error: 0.2, passed: true}\n"
      "  dense_fp8_gemm:\n";
  for (const auto& row : models::h800_published_calibration().dense_fp8_gemm) {
    y += "    - {kernel: codesim_fp8_gemm, m: " + std::to_string(row.m) +
         ", n: " + std::to_string(row.n) + ", k: " + std::to_string(row.k) +
         ", tflops: " + std::to_string(row.tflops * factor) +
         ", median_us: 10, repeats: 20, spread: 0.01}\n";
  }
  y += "  grouped_fp8_gemm:\n";
  for (const auto& row : models::h800_published_calibration().grouped_fp8_gemm) {
    y += "    - {layout: contiguous, groups: " + std::to_string(row.groups) +
         ", m_per_group: " + std::to_string(row.m_per_group) + ", n: " + std::to_string(row.n) +
         ", k: " + std::to_string(row.k) + ", tflops: " + std::to_string(row.tflops * factor) +
         "}\n";
  }
  y += "  mla_decode:\n"
       "    - {kernel: codesim_mla_decode, requests: 64, heads: 128, tokens: 262144, tflops: 330, "
       "GBps: 1500}\n"
       "  hbm_copy:\n"
       "    - {kernel: codesim_hbm_copy, bytes: 1073741824, GBps: 2500}\n";
  return y;
}

TEST(CalibrationFile, ScenarioKeyChangesGemmTimesByTheMeasuredFactor) {
  const auto dir = scratch_dir("calibration-factor");
  write(dir / "cal" / "half.yaml", synthetic_calibration(0.5));
  write(dir / "published.yaml", kScenario);
  write(dir / "measured.yaml", std::string(kScenario) + "calibration: cal/half.yaml\n");

  const auto published = load_training_scenario((dir / "published.yaml").string(), {});
  const auto measured = load_training_scenario((dir / "measured.yaml").string(), {});
  EXPECT_EQ(measured.calibration.name, "synthetic");
  EXPECT_NE(measured.calibration.provenance.find("NVIDIA H800"), std::string::npos);
  EXPECT_NE(measured.calibration.provenance.find("132 SMs"), std::string::npos);
  EXPECT_DOUBLE_EQ(measured.calibration.attention_bf16_tflops, 330);
  EXPECT_DOUBLE_EQ(measured.calibration.hbm_achieved_GBps, 2500);
  // What the file does not measure keeps the published figures.
  EXPECT_DOUBLE_EQ(measured.calibration.nvlink_achieved_GBps,
                   published.calibration.nvlink_achieved_GBps);

  const models::ComputeCostModel before(published.gpu, published.calibration);
  const models::ComputeCostModel after(measured.gpu, measured.calibration);
  // Compute-bound shapes of the table (M = 4096) and one between its points: half the
  // throughput, twice the time.
  for (const models::GemmShape shape :
       {models::GemmShape{4096, 7168, 2048}, models::GemmShape{4096, 24576, 1536},
        models::GemmShape{2048, 7168, 16384}}) {
    EXPECT_NEAR(after.gemm_seconds(shape, models::Precision::kFp8) /
                    before.gemm_seconds(shape, models::Precision::kFp8),
                2.0, 1e-9)
        << shape.m << "x" << shape.n << "x" << shape.k;
  }
  EXPECT_NEAR(after.grouped_gemm_seconds(8, 4096, 4096, 7168, models::Precision::kFp8) /
                  before.grouped_gemm_seconds(8, 4096, 4096, 7168, models::Precision::kFp8),
              2.0, 1e-9);
  EXPECT_NEAR(after.attention_seconds(1e12) / before.attention_seconds(1e12), 2.0, 1e-9);
}

TEST(CalibrationFile, SlowerGemmsLengthenTheSimulatedStep) {
  const auto dir = scratch_dir("calibration-step");
  write(dir / "cal" / "half.yaml", synthetic_calibration(0.5));
  write(dir / "published.yaml", kScenario);
  write(dir / "measured.yaml", std::string(kScenario) + "calibration: cal/half.yaml\n");
  auto step_time = [&](const std::string& scenario) {
    const auto json = dir / (scenario + ".json");
    const auto r = run_codesim(
        "train '" + (dir / scenario).string() + "' --json '" + json.string() + "'", dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto result = nlohmann::json::parse(codesim::testing::read_text(json));
    EXPECT_EQ(result["calibration"]["name"],
              scenario == "measured.yaml" ? "synthetic" : "h800-published");
    return result["step_time_s"].get<double>();
  };
  const double published = step_time("published.yaml");
  const double measured = step_time("measured.yaml");
  std::printf("[ calibration ] step time %.3f s published, %.3f s at half the GEMM throughput\n",
              published, measured);
  EXPECT_GT(measured, published * 1.05);
}

// --- what the runner writes reads back --------------------------------------------------

validation::CalibrationRecord made_up_record() {
  validation::CalibrationRecord r;
  r.device.present = true;
  r.device.name = "NVIDIA H100 80GB HBM3";
  r.device.compute_major = 9;
  r.device.sms = 132;
  r.device.sm_clock_mhz = 1980;
  r.device.memory_clock_mhz = 2619;
  r.device.driver_version = 13000;
  r.device.runtime_version = 13000;
  r.measured_on = validation::gpu_preset_for_device(r.device.name);
  r.date = "2026-11-24T10:00:00Z";
  r.note = "made up for a test";
  auto timing = [](double seconds) {
    validation::gpu::Timing t;
    t.median_s = t.min_s = seconds;
    t.max_s = seconds * 1.02;
    t.repeats = 20;
    return t;
  };
  r.checks.push_back({"codesim_fp8_gemm", "m=200 n=384 k=1024", {0.01, 30, 0.25, 76800}});
  r.dense.push_back({4096, 7168, 2048, timing(1e-3), "codesim_fp8_gemm_tensor_cores"});
  r.dense.push_back({128, 7168, 2048, timing(1e-4), "codesim_fp8_gemm_tensor_cores"});
  r.vendor.push_back({4096, 7168, 2048, timing(2e-4), "cublaslt_fp8_gemm"});
  r.bf16.push_back({4096, 7168, 2048, timing(2e-4), "cublaslt_bf16_gemm"});
  r.bf16.push_back({128, 7168, 2048, timing(4e-5), "cublaslt_bf16_gemm"});
  r.grouped.push_back(
      {"contiguous", 4, 8192, 4096, 7168, timing(2e-2), "codesim_grouped_fp8_gemm"});
  r.grouped.push_back({"masked", 1, 1024, 4096, 7168, timing(1e-3), "codesim_grouped_fp8_gemm"});
  r.mla.push_back({64, 128, 262144, timing(1e-3)});
  r.mla.push_back({128, 128, 524288, timing(1e-3)});
  r.copy.push_back({1 << 30, timing(1e-3)});
  r.accumulation.push_back({"normal", 256, 256, 4096, {0.005, 1e-4}});
  return r;
}

TEST(CalibrationFile, WhatTheRunnerWritesReadsBack) {
  const auto record = made_up_record();
  const auto dir = scratch_dir("calibration-runner-format");
  write(dir / "h100.yaml", validation::calibration_yaml(record));
  const auto c = read_calibration_file((dir / "h100.yaml").string());
  EXPECT_EQ(c.measured_on.name, "h100-sxm");
  EXPECT_EQ(c.name, "h100-sxm-measured-2026-11-24");
  EXPECT_NE(c.provenance.find("NVIDIA H100 80GB HBM3"), std::string::npos) << c.provenance;
  EXPECT_NE(c.provenance.find("driver 13.0"), std::string::npos) << c.provenance;
  EXPECT_NE(c.provenance.find("measured 2026-11-24T10:00:00Z"), std::string::npos);
  EXPECT_NE(c.provenance.find("made up for a test"), std::string::npos);
  ASSERT_EQ(c.dense_fp8_gemm.size(), 2u);
  EXPECT_EQ(c.dense_fp8_gemm[0].m, 4096);
  EXPECT_NEAR(c.dense_fp8_gemm[0].tflops, record.dense[0].tflops(), 1e-4);  // 60.13
  ASSERT_EQ(c.grouped_fp8_gemm.size(), 2u);
  EXPECT_EQ(c.grouped_fp8_gemm[1].m_per_group, 1024);
  EXPECT_NEAR(c.grouped_fp8_gemm[0].tflops, record.grouped[0].tflops(), 1e-3);
  EXPECT_NEAR(c.attention_bf16_tflops, record.mla[1].flops() / 1e-3 * 1e-12, 1e-3);
  EXPECT_NEAR(c.hbm_achieved_GBps, record.copy[0].GBps(), 1e-2);
  // The measured BF16 GEMM sets the chip's 16-bit GEMM level: its fastest shape (4096 x 7168 x
  // 2048 in 0.2 ms: 601.3 TFLOPS, written to 3 decimals), which BF16 and FP16 GEMMs on that chip
  // then run at.
  ASSERT_FALSE(c.gemm_16bit.empty());
  EXPECT_EQ(c.gemm_16bit[0].measured_on.name, "h100-sxm");
  EXPECT_NEAR(c.gemm_16bit[0].tflops, record.bf16[0].tflops(), 1e-3);
  const models::ComputeCostModel h100(c.measured_on, c);
  ASSERT_NE(h100.gemm_16bit(), nullptr);
  const models::GemmShape shape{8192, 8192, 8192};
  EXPECT_NEAR(h100.gemm_seconds(shape, models::Precision::kFp16),
              shape.flops() / (c.gemm_16bit[0].tflops * 1e12), 1e-12);
  EXPECT_DOUBLE_EQ(h100.gemm_seconds(shape, models::Precision::kBf16),
                   h100.gemm_seconds(shape, models::Precision::kFp16));
}

TEST(CalibrationFile, DeviceNamesMapToPresets) {
  EXPECT_EQ(validation::gpu_preset_for_device("NVIDIA H800"), "h800");
  EXPECT_EQ(validation::gpu_preset_for_device("NVIDIA H100 80GB HBM3"), "h100-sxm");
  EXPECT_EQ(validation::gpu_preset_for_device("NVIDIA H200"), "h200");
  EXPECT_EQ(validation::gpu_preset_for_device("NVIDIA A100-PCIE-40GB"), "a100-pcie-40gb");
  EXPECT_EQ(validation::gpu_preset_for_device("Tesla T4"), "");
  for (const char* name : {"NVIDIA H800", "NVIDIA H100 80GB HBM3", "NVIDIA H200", "NVIDIA B200",
                           "NVIDIA A100-SXM4-80GB", "NVIDIA A100-PCIE-40GB"}) {
    const auto preset = validation::gpu_preset_for_device(name);
    std::vector<std::string> presets;
    for (const auto& gpu : models::gpu_presets()) presets.push_back(gpu.name);
    EXPECT_NE(std::find(presets.begin(), presets.end(), preset), presets.end()) << name;
  }
}

// --- bad files -----------------------------------------------------------------------------

std::string error_of(const fs::path& scenario) {
  try {
    load_training_scenario(scenario.string(), {});
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

TEST(CalibrationFile, BadFilesNameTheFileLineAndKey) {
  const auto dir = scratch_dir("calibration-bad");
  write(dir / "scenario.yaml", std::string(kScenario) + "calibration: cal.yaml\n");
  auto with_file = [&](const std::string& text) {
    write(dir / "cal.yaml", text);
    return error_of(dir / "scenario.yaml");
  };
  const std::string cal = (dir / "cal.yaml").string();

  std::string e = with_file("calibration:\n  measured_on: h800\n  dense_fp8_gem: []\n");
  EXPECT_NE(e.find(cal + ":3"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'dense_fp8_gemm'"), std::string::npos) << e;

  e = with_file("calibration:\n  measured_on: h900\n");
  EXPECT_NE(e.find(cal + ":2"), std::string::npos) << e;
  EXPECT_NE(e.find("h100-sxm"), std::string::npos) << "valid presets listed: " << e;

  e = with_file(
      "calibration:\n  measured_on: h800\n  dense_fp8_gemm:\n"
      "    - {m: 64, n: 2112, k: 7168, tflops: 200}\n"
      "    - {m: 64, n: 2112, k: 7168, tflops: -3}\n");
  EXPECT_NE(e.find(cal + ":5"), std::string::npos) << e;
  EXPECT_NE(e.find("calibration.dense_fp8_gemm[1].tflops"), std::string::npos) << e;

  e = with_file("calibration:\n  dense_fp8_gemm: []\n  measured_on: h800\n");
  EXPECT_NE(e.find("non-empty list"), std::string::npos) << e;

  e = with_file(
      "calibration:\n  measured_on: h800\n  checks:\n"
      "    - {kernel: codesim_fp8_gemm, passed: false}\n");
  EXPECT_NE(e.find("failed its check"), std::string::npos) << e;

  write(dir / "missing.yaml", std::string(kScenario) + "calibration: nowhere.yaml\n");
  e = error_of(dir / "missing.yaml");
  EXPECT_NE(e.find((dir / "missing.yaml").string() + ":18"), std::string::npos) << e;
  EXPECT_NE(e.find("no such file"), std::string::npos) << e;
}

TEST(CalibrationFile, BadFileExitsTwoThroughTheBinary) {
  const auto dir = scratch_dir("calibration-bad-binary");
  write(dir / "cal.yaml", "calibration:\n  measured_on: h800\n  hbm_copy: 3\n");
  write(dir / "scenario.yaml", std::string(kScenario) + "calibration: cal.yaml\n");
  const auto json = dir / "out.json";
  const auto r = run_codesim(
      "train '" + (dir / "scenario.yaml").string() + "' --json '" + json.string() + "'", dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("cal.yaml:3"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(json));
}

// --- codesim calibrate ---------------------------------------------------------------------

TEST(CalibrateCommand, WithoutAGpuExitsThreeWithOneMessageAndWritesNothing) {
  // Hides any GPU from the CUDA runtime, so this checks the no-GPU path on every machine.
  ::setenv("CUDA_VISIBLE_DEVICES", "", 1);
  const auto dir = scratch_dir("calibrate-no-gpu");
  const auto out = dir / "cal.yaml";
  const auto r = run_codesim("calibrate --out '" + out.string() + "'", dir);
  ::unsetenv("CUDA_VISIBLE_DEVICES");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("codesim calibrate: error:"), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find("no CUDA GPU") != std::string::npos ||
              r.err.find("no CUDA kernels") != std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one message: " << r.err;
}

TEST(CalibrateCommand, RejectsBadArgumentsWithExitTwo) {
  const auto dir = scratch_dir("calibrate-bad-args");
  EXPECT_EQ(run_codesim("calibrate --repeats 0", dir).exit_code, 2);
  EXPECT_EQ(run_codesim("calibrate --frobnicate", dir).exit_code, 2);
  EXPECT_EQ(run_codesim("calibrate --runner /no/such/runner", dir).exit_code, 2);
}

}  // namespace
}  // namespace codesim::cli
