#pragma once
// cuBLASLt's GEMMs as the vendor reference beside ours. FP8: E4M3 A and B, one FP32 scale per
// tensor (cuBLASLt's scalar scaling on Hopper; its block-scaled modes need newer GPUs), FP32
// compute, BF16 output. BF16: BF16 A and B, no scales, FP32 compute, BF16 output: the 16-bit
// GEMM that dense BF16 and FP16 plans run (the calibration's measured 16-bit GEMM). Same layouts as
// fp8_gemm.cuh: C (M x N) = A (M x K) * B^T (N x K), which in cuBLAS's column-major terms is the
// "TN" problem D (N x M) = B^T^T * A^T that FP8 requires. `fast_accum` sets
// CUBLASLT_MATMUL_DESC_FAST_ACCUM: the whole K stays in the tensor cores' accumulator, without
// promotion. `fp32_output` writes FP32 instead of BF16 (for measuring accumulation error without
// BF16 rounding on top).

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace codesim::validation::gpu {

class CublasLtGemm {
 public:
  enum class Operands { kFp8E4M3, kBf16 };
  CublasLtGemm(int64_t m, int64_t n, int64_t k, Operands operands, bool fast_accum = false,
               bool fp32_output = false);
  ~CublasLtGemm();
  CublasLtGemm(const CublasLtGemm&) = delete;
  CublasLtGemm& operator=(const CublasLtGemm&) = delete;

  // a, b: E4M3 codes or BF16 words; a_scale, b_scale: device pointers to one float each (FP8
  // only; null for BF16); c: M x N of BF16 or FP32.
  void run(const void* a, const float* a_scale, const void* b, const float* b_scale, void* c,
           cudaStream_t stream);

 private:
  Operands operands_;
  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t operation_ = nullptr;
  cublasLtMatrixLayout_t a_layout_ = nullptr, b_layout_ = nullptr, c_layout_ = nullptr;
  cublasLtMatmulPreference_t preference_ = nullptr;
  cublasLtMatmulHeuristicResult_t heuristic_{};
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 32u << 20;
};

int cublaslt_version();

}  // namespace codesim::validation::gpu
