#pragma once
// GPU hardware specifications: datasheet peaks, the numbers every cost model starts from.

#include <cstdint>
#include <string>
#include <vector>

namespace codesim::models {

struct GpuSpec {
  std::string name;
  int sms = 0;
  double bf16_dense_tflops = 0;  // dense tensor-core peak, no sparsity
  double fp8_dense_tflops = 0;   // 0 where the GPU has no FP8 tensor cores
  int64_t hbm_bytes = 0;
  double hbm_GBps = 0;                    // peak HBM bandwidth
  double nvlink_unidirectional_GBps = 0;  // per GPU, each direction; 0 without NVLink
  std::string source;                     // where the figures come from
};

// The GPUs shipped as presets, by name (`h800`, `h100-sxm`, ...). Throws std::out_of_range.
const GpuSpec& gpu_preset(const std::string& name);
std::vector<std::string> gpu_preset_names();

}  // namespace codesim::models
