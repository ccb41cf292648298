#pragma once
// FP8 E4M3 GEMM with DeepSeek-V3's fine-grained scaling, dense and grouped (MoE experts).
//
// C (M x N, BF16) = A (M x K, E4M3, one FP32 scale per 1 x 128 tile) * B^T (B: N x K, E4M3,
// one FP32 scale per 128 x 128 block). Partial sums over each 128 of K are kept in FP32 and
// promoted: multiplied by the two scales and added to the FP32 output registers, as in
// reference.hpp's fp8_gemm_reference. K must be a multiple of 128.
//
// What the kernels are, honestly: two paths over the same 64 x 64 output tiles and the same
// promotion every 128 of K.
//  - Tensor cores (compute capability 9.0, from the sm_90a machine code): mma.sync m16n8k32
//    E4M3 -> FP32, 4 warps, one promotion interval of A and B staged in shared memory at a time.
//    Warp-level MMA, not Hopper's warpgroup WGMMA, and no TMA or multi-stage pipelining yet: a
//    first version, well below DeepGEMM.
//  - CUDA cores (any GPU from sm_80, through the compute_80 PTX): FP8 converted to FP32 when
//    staged, FMA, 4 x 4 outputs per thread. The portable fallback and correctness baseline.

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace codesim::validation::gpu {

struct Fp8GemmArgs {
  const uint8_t* a = nullptr;       // M x K
  const float* a_scales = nullptr;  // M x (K / 128)
  const uint8_t* b = nullptr;       // N x K (groups x N x K when grouped)
  const float* b_scales = nullptr;  // ceil(N / 128) x (K / 128) (per group when grouped)
  __nv_bfloat16* c = nullptr;       // M x N
  int m = 0, n = 0, k = 0;
};

enum class Fp8GemmPath { kAuto, kTensorCores, kCudaCores };

// Whether kAuto takes the tensor-core path on the current device.
bool fp8_gemm_tensor_cores_available();

void launch_fp8_gemm(const Fp8GemmArgs& args, cudaStream_t stream,
                     Fp8GemmPath path = Fp8GemmPath::kAuto);

// Contiguous layout: A holds the rows of all groups back to back; `tile_groups` gives for each
// 64-row tile of A the group whose weights it multiplies (-1: padding, skipped). Group starts
// must be multiples of 64 (DeepGEMM aligns them to 128). B holds groups x N x K with N a
// multiple of 128.
void launch_grouped_fp8_gemm_contiguous(const Fp8GemmArgs& args, const int* tile_groups, int groups,
                                        cudaStream_t stream, Fp8GemmPath path = Fp8GemmPath::kAuto);

// Masked layout: A is groups x capacity x K (args.m = capacity); group g computes only its
// first valid_rows[g] rows (a device array), writing C (groups x capacity x N).
void launch_grouped_fp8_gemm_masked(const Fp8GemmArgs& args, const int* valid_rows, int groups,
                                    cudaStream_t stream, Fp8GemmPath path = Fp8GemmPath::kAuto);

}  // namespace codesim::validation::gpu
