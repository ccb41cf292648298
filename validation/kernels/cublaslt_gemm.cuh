#pragma once
// cuBLASLt's FP8 GEMM as the vendor reference beside ours: E4M3 A and B, one FP32 scale per
// tensor (cuBLASLt's scalar scaling on Hopper; its block-scaled modes need newer GPUs), FP32
// compute, BF16 output. Same layouts as fp8_gemm.cuh: C (M x N) = A (M x K) * B^T (N x K), which
// in cuBLAS's column-major terms is the "TN" problem D (N x M) = B^T^T * A^T that FP8 requires.
// `fast_accum` sets CUBLASLT_MATMUL_DESC_FAST_ACCUM: the whole K stays in the tensor cores'
// accumulator, without promotion. `fp32_output` writes FP32 instead of BF16 (for measuring
// accumulation error without BF16 rounding on top).

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace codesim::validation::gpu {

class CublasLtFp8Gemm {
 public:
  CublasLtFp8Gemm(int64_t m, int64_t n, int64_t k, bool fast_accum, bool fp32_output = false);
  ~CublasLtFp8Gemm();
  CublasLtFp8Gemm(const CublasLtFp8Gemm&) = delete;
  CublasLtFp8Gemm& operator=(const CublasLtFp8Gemm&) = delete;

  // a_scale, b_scale: device pointers to one float each; c: M x N of BF16 or FP32.
  void run(const uint8_t* a, const float* a_scale, const uint8_t* b, const float* b_scale, void* c,
           cudaStream_t stream);

 private:
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
