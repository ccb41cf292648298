// The CUDA kernels against their CPU references, on GPU 0. Without a GPU (or in a build without
// nvcc) every test is skipped with the reason, so that a run that checked nothing says so.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#ifdef CODESIM_HAVE_CUDA_KERNELS
#include "validation/kernels/device_api.hpp"
#endif

namespace codesim::validation {
namespace {

#ifdef CODESIM_HAVE_CUDA_KERNELS

class KernelsOnGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto device = gpu::query_device();
    if (!device.present) {
      GTEST_SKIP() << "no CUDA GPU (" << device.problem
                   << "): the kernels were compiled but not run; run this test on a GPU machine";
    }
  }
};

void expect_within_tolerance(const gpu::KernelCheck& check, const std::string& what) {
  EXPECT_GT(check.outputs, 0) << what;
  EXPECT_LE(check.max_scaled_error, 1.0) << what << ": max |error| " << check.max_abs_error
                                         << " against max |reference| " << check.max_reference;
}

// Both FP8 GEMM paths: the CUDA-core kernel everywhere, the tensor-core kernel where this build
// has machine code for it (compute capability 9.0).
std::vector<std::pair<gpu::GemmKernel, std::string>> gemm_kernels() {
  std::vector<std::pair<gpu::GemmKernel, std::string>> kernels = {
      {gpu::GemmKernel::kCudaCores, "CUDA cores"}};
  if (gpu::tensor_core_gemm_available()) {
    kernels.push_back({gpu::GemmKernel::kTensorCores, "tensor cores"});
  } else {
    std::printf("[ note ] no tensor-core FP8 GEMM on this GPU; the CUDA-core kernel only\n");
  }
  return kernels;
}

TEST_F(KernelsOnGpu, Fp8GemmMatchesTheReference) {
  for (const auto& [kernel, name] : gemm_kernels()) {
    expect_within_tolerance(gpu::check_fp8_gemm(200, 384, 1024, 1, kernel), name + " 200x384x1024");
    expect_within_tolerance(gpu::check_fp8_gemm(64, 2112, 512, 2, kernel), name + " 64x2112x512");
    expect_within_tolerance(gpu::check_fp8_gemm(1, 128, 128, 3, kernel), name + " 1x128x128");
  }
}

TEST_F(KernelsOnGpu, GroupedContiguousMatchesTheReference) {
  for (const auto& [kernel, name] : gemm_kernels()) {
    expect_within_tolerance(gpu::check_grouped_contiguous({128, 256, 128}, 256, 512, 4, kernel),
                            name + " contiguous [128, 256, 128]");
  }
}

TEST_F(KernelsOnGpu, GroupedMaskedMatchesTheReference) {
  for (const auto& [kernel, name] : gemm_kernels()) {
    expect_within_tolerance(gpu::check_grouped_masked({5, 128, 0, 77}, 128, 256, 512, 5, kernel),
                            name + " masked [5, 128, 0, 77] of 128");
  }
}

TEST_F(KernelsOnGpu, MlaDecodeMatchesTheReference) {
  expect_within_tolerance(gpu::check_mla_decode(16, {1, 37, 300, 1024}, 6),
                          "16 heads, contexts 1, 37, 300, 1024");
}

TEST_F(KernelsOnGpu, HbmCopyCopiesExactly) {
  const auto check = gpu::check_hbm_copy(64 << 20);
  EXPECT_EQ(check.max_abs_error, 0) << "words that differ after the copy";
}

TEST_F(KernelsOnGpu, CublasLtFp8GemmMatchesTheExactProduct) {
  expect_within_tolerance(gpu::check_cublaslt_fp8_gemm(128, 256, 1024, 7), "128x256x1024");
}

TEST_F(KernelsOnGpu, CublasLtBf16GemmMatchesTheExactProduct) {
  expect_within_tolerance(gpu::check_cublaslt_bf16_gemm(128, 256, 512, 9), "128x256x512");
}

TEST_F(KernelsOnGpu, AccumulationErrorWithAndWithoutPromotion) {
  for (bool positive : {false, true}) {
    const auto r = gpu::measure_accumulation_error(256, 256, 4096, positive, 8);
    std::printf(
        "[ accumulation ] GPU, K=4096 %s inputs: without promotion %.3f%%, with %.4f%% "
        "(published: about 2%% without)\n",
        positive ? "|N(0,1)|" : "N(0,1)", 100 * r.without_promotion, 100 * r.with_promotion);
    EXPECT_LE(r.with_promotion, r.without_promotion);
  }
}

#else

TEST(KernelsOnGpu, NotBuilt) {
  GTEST_SKIP() << "this build has no CUDA compiler, so the kernels were not built or run";
}

#endif

}  // namespace
}  // namespace codesim::validation
