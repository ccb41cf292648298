#pragma once
// The host-side face of the CUDA kernels: querying the device, checking each kernel against its
// CPU reference (reference.hpp), and timing each with CUDA events. Plain C++ declarations, no
// CUDA headers, so that the runner and the GoogleTest suite include it with any C++ compiler;
// the definitions are in the .cu files of this folder. Every function throws GpuError when CUDA
// reports an error.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace codesim::validation::gpu {

class GpuError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DeviceInfo {
  bool present = false;
  std::string problem;  // why there is no usable device, when !present
  int device_count = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  int sms = 0;
  int sm_clock_mhz = 0;      // peak SM clock as the driver reports it
  int memory_clock_mhz = 0;  // peak memory clock
  int memory_bus_bits = 0;
  int64_t global_memory_bytes = 0;
  int64_t l2_bytes = 0;
  int driver_version = 0;   // e.g. 13000 for 13.0 (cudaDriverGetVersion)
  int runtime_version = 0;  // cudaRuntimeGetVersion
  int cublaslt_version = 0;
};

// Device 0, selected. Never throws: no device or no driver gives present = false.
DeviceInfo query_device();

// Whether this build has cuBLASLt (the vendor reference and the GPU accumulation experiment);
// without it those functions throw GpuError.
bool have_cublaslt();

// Which FP8 GEMM kernel (fp8_gemm.cuh): kAuto takes the tensor cores where this build has
// machine code for them (compute capability 9.0) and the CUDA cores elsewhere.
enum class GemmKernel { kAuto, kTensorCores, kCudaCores };
bool tensor_core_gemm_available();

// --- checks against the CPU references ---------------------------------------------------

struct KernelCheck {
  double max_abs_error = 0;     // |kernel - reference| over all outputs
  double max_reference = 0;     // max |reference|
  double max_scaled_error = 0;  // max |kernel - reference| / (tolerance scale of that output)
  int64_t outputs = 0;
};

// Our FP8 GEMM (1x128 / 128x128 scaling, FP32 promotion every 128) against
// fp8_gemm_reference; K a multiple of 128. The scaled error divides each output's error by
// 2^-8 |reference| (the BF16 output's rounding, twice over) + 2^-8 sum |products| (the tensor
// cores' truncating accumulator within an interval).
KernelCheck check_fp8_gemm(int64_t m, int64_t n, int64_t k, uint64_t seed,
                           GemmKernel kernel = GemmKernel::kAuto);
// Grouped GEMM, contiguous layout: `rows_per_group` (multiples of 128) concatenated.
KernelCheck check_grouped_contiguous(const std::vector<int64_t>& rows_per_group, int64_t n,
                                     int64_t k, uint64_t seed,
                                     GemmKernel kernel = GemmKernel::kAuto);
// Grouped GEMM, masked layout: `valid_rows` of `capacity` per group.
KernelCheck check_grouped_masked(const std::vector<int64_t>& valid_rows, int64_t capacity,
                                 int64_t n, int64_t k, uint64_t seed,
                                 GemmKernel kernel = GemmKernel::kAuto);
// MLA decode (absorbed, BF16 in, FP32 accumulate, BF16 out) against mla_decode_absorbed on the
// BF16-rounded inputs; one request per entry of `contexts`.
KernelCheck check_mla_decode(int heads, const std::vector<int64_t>& contexts, uint64_t seed);
// The copy probe copies exactly: max_abs_error is the number of differing words.
KernelCheck check_hbm_copy(int64_t bytes);
// cuBLASLt's FP8 GEMM (per-tensor scales) against the double product of the quantized inputs.
KernelCheck check_cublaslt_fp8_gemm(int64_t m, int64_t n, int64_t k, uint64_t seed);
// cuBLASLt's BF16 GEMM against the double product of the BF16 inputs.
KernelCheck check_cublaslt_bf16_gemm(int64_t m, int64_t n, int64_t k, uint64_t seed);

// The accumulation-precision experiment on the GPU: an M x N x K FP8 GEMM of one quantized
// pair of random matrices through cuBLASLt with CUBLASLT_MATMUL_DESC_FAST_ACCUM on (the whole
// K accumulated inside the tensor cores) and off (promoted), each compared with the exact
// (double) product of the same quantized operands. Relative error: max |error| / max |exact|.
struct AccumulationResult {
  double without_promotion = 0;
  double with_promotion = 0;
};
AccumulationResult measure_accumulation_error(int64_t m, int64_t n, int64_t k, bool positive,
                                              uint64_t seed);

// --- timing --------------------------------------------------------------------------------

struct TimingOptions {
  int warmup = 3;
  int repeats = 20;
};

// Seconds per launch over `repeats` timed launches (each between two CUDA events) after
// `warmup` untimed ones.
struct Timing {
  double median_s = 0;
  double min_s = 0;
  double max_s = 0;
  int repeats = 0;
  double spread() const { return median_s > 0 ? (max_s - min_s) / median_s : 0; }
};

Timing time_fp8_gemm(int64_t m, int64_t n, int64_t k, const TimingOptions& options,
                     GemmKernel kernel = GemmKernel::kAuto);
Timing time_cublaslt_fp8_gemm(int64_t m, int64_t n, int64_t k, const TimingOptions& options);
Timing time_cublaslt_bf16_gemm(int64_t m, int64_t n, int64_t k, const TimingOptions& options);
Timing time_grouped_contiguous(int groups, int64_t m_per_group, int64_t n, int64_t k,
                               const TimingOptions& options, GemmKernel kernel = GemmKernel::kAuto);
Timing time_grouped_masked(int groups, int64_t m_per_group, int64_t n, int64_t k,
                           const TimingOptions& options, GemmKernel kernel = GemmKernel::kAuto);
// A batch of decode requests, one query token each, with the given context lengths.
Timing time_mla_decode(int heads, const std::vector<int64_t>& contexts,
                       const TimingOptions& options);
// Copies `bytes` from one device buffer to another (read + write = 2 x bytes of traffic).
Timing time_hbm_copy(int64_t bytes, const TimingOptions& options);

}  // namespace codesim::validation::gpu
