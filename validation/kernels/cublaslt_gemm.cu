#include <string>

#include "validation/kernels/cublaslt_gemm.cuh"
#include "validation/kernels/cuda_common.cuh"

namespace codesim::validation::gpu {
namespace {

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw GpuError(std::string("cuBLASLt: ") + what + " failed with status " +
                   std::to_string(int(status)));
  }
}

}  // namespace

CublasLtGemm::CublasLtGemm(int64_t m, int64_t n, int64_t k, Operands operands, bool fast_accum,
                           bool fp32_output)
    : operands_(operands) {
  const bool fp8 = operands == Operands::kFp8E4M3;
  const cudaDataType_t type = fp8 ? CUDA_R_8F_E4M3 : CUDA_R_16BF;
  // Column-major view: D (N x M) = op_T(B stored K x N) * op_N(A stored K x M).
  check_cublas(cublasLtCreate(&handle_), "cublasLtCreate");
  check_cublas(cublasLtMatmulDescCreate(&operation_, CUBLAS_COMPUTE_32F, CUDA_R_32F),
               "cublasLtMatmulDescCreate");
  const cublasOperation_t transpose = CUBLAS_OP_T, plain = CUBLAS_OP_N;
  check_cublas(cublasLtMatmulDescSetAttribute(operation_, CUBLASLT_MATMUL_DESC_TRANSA, &transpose,
                                              sizeof(transpose)),
               "set TRANSA");
  check_cublas(cublasLtMatmulDescSetAttribute(operation_, CUBLASLT_MATMUL_DESC_TRANSB, &plain,
                                              sizeof(plain)),
               "set TRANSB");
  if (fp8) {
    const int8_t fast = fast_accum ? 1 : 0;
    check_cublas(cublasLtMatmulDescSetAttribute(operation_, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast,
                                                sizeof(fast)),
                 "set FAST_ACCUM");
  }
  check_cublas(cublasLtMatrixLayoutCreate(&a_layout_, type, uint64_t(k), uint64_t(n), k),
               "layout of B");
  check_cublas(cublasLtMatrixLayoutCreate(&b_layout_, type, uint64_t(k), uint64_t(m), k),
               "layout of A");
  check_cublas(cublasLtMatrixLayoutCreate(&c_layout_, fp32_output ? CUDA_R_32F : CUDA_R_16BF,
                                          uint64_t(n), uint64_t(m), n),
               "layout of C");
  CODESIM_CUDA_CHECK(cudaMalloc(&workspace_, workspace_bytes_));
  check_cublas(cublasLtMatmulPreferenceCreate(&preference_), "preference");
  check_cublas(
      cublasLtMatmulPreferenceSetAttribute(preference_, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                           &workspace_bytes_, sizeof(workspace_bytes_)),
      "workspace preference");
  int found = 0;
  check_cublas(cublasLtMatmulAlgoGetHeuristic(handle_, operation_, a_layout_, b_layout_, c_layout_,
                                              c_layout_, preference_, 1, &heuristic_, &found),
               "cublasLtMatmulAlgoGetHeuristic");
  if (found == 0) {
    throw GpuError(std::string("cuBLASLt: no ") + (fp8 ? "FP8" : "BF16") +
                   " algorithm for this shape");
  }
}

CublasLtGemm::~CublasLtGemm() {
  if (workspace_) cudaFree(workspace_);
  if (preference_) cublasLtMatmulPreferenceDestroy(preference_);
  if (c_layout_) cublasLtMatrixLayoutDestroy(c_layout_);
  if (b_layout_) cublasLtMatrixLayoutDestroy(b_layout_);
  if (a_layout_) cublasLtMatrixLayoutDestroy(a_layout_);
  if (operation_) cublasLtMatmulDescDestroy(operation_);
  if (handle_) cublasLtDestroy(handle_);
}

void CublasLtGemm::run(const void* a, const float* a_scale, const void* b, const float* b_scale,
                       void* c, cudaStream_t stream) {
  if (operands_ == Operands::kFp8E4M3) {
    // cuBLAS's A is our B and its B our A, so the scales swap too.
    check_cublas(cublasLtMatmulDescSetAttribute(operation_, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER,
                                                &b_scale, sizeof(b_scale)),
                 "set A_SCALE_POINTER");
    check_cublas(cublasLtMatmulDescSetAttribute(operation_, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER,
                                                &a_scale, sizeof(a_scale)),
                 "set B_SCALE_POINTER");
  }
  const float alpha = 1.0f, beta = 0.0f;
  check_cublas(
      cublasLtMatmul(handle_, operation_, &alpha, b, a_layout_, a, b_layout_, &beta, c, c_layout_,
                     c, c_layout_, &heuristic_.algo, workspace_, workspace_bytes_, stream),
      "cublasLtMatmul");
}

int cublaslt_version() {
  return int(cublasLtGetVersion());
}

}  // namespace codesim::validation::gpu
