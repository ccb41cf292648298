#pragma once
// The calibration YAML that codesim-calibrate-runner writes, by hand (the runner builds with the
// CUDA toolkit alone, without yaml-cpp). Pure C++, so that a CPU test can write a record of
// made-up measurements and read it back through cli/calibration_reader.

#include <cstdint>
#include <string>
#include <vector>

#include "validation/kernels/device_api.hpp"

namespace codesim::validation {

struct CalibrationRecord {
  gpu::DeviceInfo device;
  std::string measured_on;  // codesim GPU preset
  std::string date;         // UTC, ISO 8601
  gpu::TimingOptions timing;
  std::string note;  // anything the reader of the file should know, e.g. a fallback taken

  struct Check {
    std::string kernel, shape;
    gpu::KernelCheck result;
    bool passed() const { return result.max_scaled_error <= 1.0; }
  };
  struct Gemm {
    int64_t m = 0, n = 0, k = 0;
    gpu::Timing timing;
    std::string kernel;  // default: codesim_fp8_gemm (dense) or cublaslt_fp8_gemm (vendor)
    double tflops() const;
  };
  struct Grouped {
    std::string layout;  // contiguous or masked
    int groups = 0;
    int64_t m_per_group = 0, n = 0, k = 0;
    gpu::Timing timing;
    std::string kernel;  // default: codesim_grouped_fp8_gemm
    double tflops() const;
  };
  struct MlaDecode {
    int requests = 0, heads = 0;
    int64_t tokens = 0;  // summed over the requests
    gpu::Timing timing;
    double flops() const;  // 2 x heads x tokens x (576 + 512): scores and values
    double bytes() const;  // the KV cache read once, plus queries and outputs
  };
  struct Copy {
    int64_t bytes = 0;
    gpu::Timing timing;
    double GBps() const;  // bytes read plus bytes written
  };
  struct Accumulation {
    std::string data;  // normal or abs_normal
    int64_t m = 0, n = 0, k = 0;
    gpu::AccumulationResult result;
  };

  std::vector<Check> checks;
  std::vector<Gemm> dense, vendor;
  std::vector<Gemm> bf16;  // cuBLASLt BF16: the 16-bit GEMM of dense BF16 and FP16 plans
  std::vector<Grouped> grouped;
  std::vector<MlaDecode> mla;
  std::vector<Copy> copy;
  std::vector<Accumulation> accumulation;
};

// The codesim GPU preset for a CUDA device name ("NVIDIA H100 80GB HBM3" -> "h100-sxm"), or ""
// when there is none.
std::string gpu_preset_for_device(const std::string& device_name);

std::string calibration_yaml(const CalibrationRecord& record);

}  // namespace codesim::validation
