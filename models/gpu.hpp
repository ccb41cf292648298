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

// The GPUs shipped as presets (H800, H100 SXM, H200, A100s, B200), each under its own name; the
// command line's registry (cli/registry.hpp) is where a name is looked up.
const std::vector<GpuSpec>& gpu_presets();
// The reference system's GPU, on which the published calibration was measured.
const GpuSpec& h800();

}  // namespace codesim::models
