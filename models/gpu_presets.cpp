#include "models/gpu.hpp"

namespace codesim::models {
namespace {

constexpr int64_t kGB = 1'000'000'000;

const std::vector<GpuSpec>& presets() {
  static const std::vector<GpuSpec> kPresets = {
      {"h800", 132, 989.4, 1978.9, 80 * kGB, 3350, 200,
       "published.yaml hardware.h800 (GH100 compute as H100 SXM; NVLink 400 GB/s bidirectional)"},
      {"h100-sxm", 132, 989.4, 1978.9, 80 * kGB, 3350, 450,
       "published.yaml hardware.h100-sxm; NVLink 900 GB/s bidirectional"},
      {"h200", 132, 989.4, 1978.9, 141 * kGB, 4800, 450,
       "NVIDIA H200 SXM datasheet: GH100 compute, 141 GB HBM3e at 4.8 TB/s, NVLink 900 GB/s"},
      {"a100-sxm-80gb", 108, 312, 0, 80 * kGB, 2039, 300,
       "NVIDIA A100 datasheet: 312 TFLOPS BF16 dense, 80 GB HBM2e at 2039 GB/s, NVLink 600 GB/s"},
      {"a100-pcie-40gb", 108, 312, 0, 40 * kGB, 1555, 300,
       "published.yaml hardware.a100-pcie-40gb (fireflyer Table I); HBM2 1555 GB/s per datasheet; "
       "NVLink bridge to one peer, 600 GB/s bidirectional"},
      {"b200", 148, 2250, 4500, 180 * kGB, 8000, 900,
       "NVIDIA HGX B200 datasheet: 2.25 PFLOPS BF16 / 4.5 PFLOPS FP8 dense per GPU, 180 GB HBM3e "
       "at 8 TB/s, NVLink 5 1.8 TB/s bidirectional"},
      {"h20", 78, 148, 296, 96 * kGB, 4000, 450,
       "NVIDIA H20 product brief: 148 TFLOPS BF16 / 296 TFLOPS FP8 dense, 96 GB HBM3 at 4.0 TB/s, "
       "NVLink 900 GB/s bidirectional; 78 SMs as reported for the part (not in the brief)"},
      {"gb200", 148, 2500, 5000, 186 * kGB, 8000, 900,
       "NVIDIA GB200 NVL72 datasheet, per GPU: 2.5 PFLOPS BF16 / 5 PFLOPS FP8 dense, 186 GB HBM3e "
       "at 8 TB/s, NVLink 5 1.8 TB/s bidirectional (published.yaml hardware.gb200-nvl72: 900 GB/s "
       "a direction)"},
  };
  return kPresets;
}

}  // namespace

const std::vector<GpuSpec>& gpu_presets() {
  return presets();
}

const GpuSpec& h800() {
  return presets().front();
}

}  // namespace codesim::models
