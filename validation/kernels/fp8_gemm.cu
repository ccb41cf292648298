#include <cuda_fp8.h>

#include "validation/kernels/cuda_common.cuh"
#include "validation/kernels/fp8_gemm.cuh"

namespace codesim::validation::gpu {
namespace {

constexpr int kTileM = 64;
constexpr int kTileN = 64;
constexpr int kChunkK = 32;       // K staged in shared memory at a time
constexpr int kPromotionK = 128;  // FP32 promotion interval = scale block along K
constexpr int kMicro = 4;         // the CUDA-core path: 16 x 16 threads, 4 x 4 outputs each

__device__ __forceinline__ float e4m3_to_float(uint8_t code) {
  const __half_raw h = __nv_cvt_fp8_to_halfraw(static_cast<__nv_fp8_storage_t>(code), __NV_E4M3);
  return __half2float(__half(h));
}

// Stages rows [row0, row0 + 64) x K [k0, k0 + 32) of an FP8 matrix into shared memory as FP32,
// transposed (tile[k][row]) so that the compute loop reads 4 consecutive rows as one float4.
// Rows at or beyond `rows` are zero.
__device__ __forceinline__ void stage_tile(float (*tile)[kTileM + 4], const uint8_t* matrix,
                                           int rows, int k, int row0, int k0) {
  const int t = threadIdx.x;
  const int row = t / 4;        // 64 rows, 4 threads per row
  const int col = (t % 4) * 8;  // 8 bytes each: 32 bytes of K per row
  uint2 bytes = make_uint2(0, 0);
  if (row0 + row < rows) {
    bytes = *reinterpret_cast<const uint2*>(matrix + int64_t(row0 + row) * k + k0 + col);
  }
  const uint8_t* b = reinterpret_cast<const uint8_t*>(&bytes);
#pragma unroll
  for (int i = 0; i < 8; ++i) tile[col + i][row] = e4m3_to_float(b[i]);
}

// The portable path. One 64 x 64 tile of C from A rows [m0, m0 + 64) (valid below `rows`) and
// B rows [n0, n0 + 64): FP8 staged as FP32 in shared memory, FMA on the CUDA cores.
struct FmaTile {
  static constexpr int kThreads = 256;
  __device__ static void run(const uint8_t* a, const float* a_scales, const uint8_t* b,
                             const float* b_scales, __nv_bfloat16* c, int rows, int n, int k,
                             int m0, int n0);
};

__device__ void FmaTile::run(const uint8_t* a, const float* a_scales, const uint8_t* b,
                             const float* b_scales, __nv_bfloat16* c, int rows, int n, int k,
                             int m0, int n0) {
  __shared__ __align__(16) float a_tile[kChunkK][kTileM + 4];
  __shared__ __align__(16) float b_tile[kChunkK][kTileN + 4];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int k_blocks = k / kPromotionK;
  float out[kMicro][kMicro] = {};
  float partial[kMicro][kMicro] = {};

  for (int k0 = 0; k0 < k; k0 += kChunkK) {
    stage_tile(a_tile, a, rows, k, m0, k0);
    stage_tile(b_tile, b, n, k, n0, k0);
    __syncthreads();
#pragma unroll 8
    for (int kk = 0; kk < kChunkK; ++kk) {
      const float4 av = *reinterpret_cast<const float4*>(&a_tile[kk][ty * kMicro]);
      const float4 bv = *reinterpret_cast<const float4*>(&b_tile[kk][tx * kMicro]);
      const float as[kMicro] = {av.x, av.y, av.z, av.w};
      const float bs[kMicro] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
      for (int i = 0; i < kMicro; ++i) {
#pragma unroll
        for (int j = 0; j < kMicro; ++j) partial[i][j] = fmaf(as[i], bs[j], partial[i][j]);
      }
    }
    __syncthreads();
    if ((k0 + kChunkK) % kPromotionK == 0) {
      // Promotion: the interval's FP32 partial sums, scaled, into the output registers.
      const int kb = k0 / kPromotionK;
      const float b_scale = b_scales[(n0 / 128) * k_blocks + kb];
#pragma unroll
      for (int i = 0; i < kMicro; ++i) {
        const int row = m0 + ty * kMicro + i;
        const float a_scale = row < rows ? a_scales[int64_t(row) * k_blocks + kb] : 0.0f;
#pragma unroll
        for (int j = 0; j < kMicro; ++j) {
          out[i][j] += partial[i][j] * (a_scale * b_scale);
          partial[i][j] = 0;
        }
      }
    }
  }
#pragma unroll
  for (int i = 0; i < kMicro; ++i) {
    const int row = m0 + ty * kMicro + i;
    if (row >= rows) continue;
#pragma unroll
    for (int j = 0; j < kMicro; ++j) {
      const int col = n0 + tx * kMicro + j;
      if (col < n) c[int64_t(row) * n + col] = __float2bfloat16_rn(out[i][j]);
    }
  }
}

// The tensor-core path (compute capability 9.0, from the sm_90a machine code): the same 64 x 64
// tile and promotion, with mma.sync m16n8k32 E4M3 x E4M3 -> FP32 on 128 threads. Each warp owns
// a 32 x 32 quarter (2 x 4 MMA tiles); one promotion interval (128 of K) of A and B is staged in
// shared memory as FP8 at a time, rows padded by 16 bytes so that fragment loads hit 32 banks.
// Fragments as the PTX ISA lays out m16n8k32 for 8-bit types, with g = lane / 4, t = lane % 4:
// A a0..a3 = (row g, k 4t..4t+3), (row g + 8, same k), (row g, k 16 + 4t..), (row g + 8, same);
// B b0, b1 = (k 4t..4t+3, col g), (k 16 + 4t.., col g); C c0, c1 = row g, cols 2t, 2t + 1;
// c2, c3 = row g + 8. The lowest byte of a register holds the element of lowest index.
struct MmaTile {
  static constexpr int kThreads = 128;
  __device__ static void run(const uint8_t* a, const float* a_scales, const uint8_t* b,
                             const float* b_scales, __nv_bfloat16* c, int rows, int n, int k,
                             int m0, int n0);
};

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
constexpr int kStageRow = kPromotionK + 16;  // bytes per staged row, padded

// Stages rows [row0, row0 + 64) x K [k0, k0 + 128) of an FP8 matrix, 16 bytes per load; rows at
// or beyond `rows` are zero.
__device__ __forceinline__ void stage_fp8(uint8_t* tile, const uint8_t* matrix, int rows, int k,
                                          int row0, int k0) {
  constexpr int kLoadsPerRow = kPromotionK / 16;
#pragma unroll
  for (int i = 0; i < kTileM * kLoadsPerRow / MmaTile::kThreads; ++i) {
    const int index = threadIdx.x + i * MmaTile::kThreads;
    const int row = index / kLoadsPerRow;
    const int col = (index % kLoadsPerRow) * 16;
    uint4 bytes = make_uint4(0, 0, 0, 0);
    if (row0 + row < rows) {
      bytes = *reinterpret_cast<const uint4*>(matrix + int64_t(row0 + row) * k + k0 + col);
    }
    *reinterpret_cast<uint4*>(tile + row * kStageRow + col) = bytes;
  }
}

__device__ __forceinline__ uint32_t load_u32(const uint8_t* p) {
  return *reinterpret_cast<const uint32_t*>(p);
}
#endif

__device__ void MmaTile::run(const uint8_t* a, const float* a_scales, const uint8_t* b,
                             const float* b_scales, __nv_bfloat16* c, int rows, int n, int k,
                             int m0, int n0) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  __shared__ __align__(16) uint8_t a_tile[kTileM * kStageRow];
  __shared__ __align__(16) uint8_t b_tile[kTileN * kStageRow];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;
  const int warp_m = (warp / 2) * 32, warp_n = (warp % 2) * 32;
  const int k_blocks = k / kPromotionK;
  float out[2][4][4] = {};

  for (int k0 = 0; k0 < k; k0 += kPromotionK) {
    stage_fp8(a_tile, a, rows, k, m0, k0);
    stage_fp8(b_tile, b, n, k, n0, k0);
    __syncthreads();
    float partial[2][4][4] = {};
#pragma unroll
    for (int kk = 0; kk < kPromotionK; kk += 32) {
      uint32_t af[2][4], bf[4][2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const uint8_t* base = a_tile + (warp_m + i * 16 + g) * kStageRow + kk + 4 * t;
        af[i][0] = load_u32(base);
        af[i][1] = load_u32(base + 8 * kStageRow);
        af[i][2] = load_u32(base + 16);
        af[i][3] = load_u32(base + 8 * kStageRow + 16);
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const uint8_t* base = b_tile + (warp_n + j * 8 + g) * kStageRow + kk + 4 * t;
        bf[j][0] = load_u32(base);
        bf[j][1] = load_u32(base + 16);
      }
#pragma unroll
      for (int i = 0; i < 2; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          float* d = partial[i][j];
          asm volatile(
              "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 "
              "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
              : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
              : "r"(af[i][0]), "r"(af[i][1]), "r"(af[i][2]), "r"(af[i][3]), "r"(bf[j][0]),
                "r"(bf[j][1]));
        }
      }
    }
    __syncthreads();
    // Promotion: the interval's partial sums, scaled, into the FP32 output registers.
    const int kb = k0 / kPromotionK;
    const float b_scale = b_scales[(n0 / 128) * k_blocks + kb];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = m0 + warp_m + i * 16 + g + half * 8;
        const float scale = row < rows ? a_scales[int64_t(row) * k_blocks + kb] * b_scale : 0.0f;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          out[i][j][2 * half] += partial[i][j][2 * half] * scale;
          out[i][j][2 * half + 1] += partial[i][j][2 * half + 1] * scale;
        }
      }
    }
  }
#pragma unroll
  for (int i = 0; i < 2; ++i) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = m0 + warp_m + i * 16 + g + half * 8;
      if (row >= rows) continue;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int col = n0 + warp_n + j * 8 + 2 * t;
        if (col < n) c[int64_t(row) * n + col] = __float2bfloat16_rn(out[i][j][2 * half]);
        if (col + 1 < n) {
          c[int64_t(row) * n + col + 1] = __float2bfloat16_rn(out[i][j][2 * half + 1]);
        }
      }
    }
  }
#else
  // No FP8 MMA below sm_89, and this library carries sm_90a code only: never launched there.
  __trap();
#endif
}

template <typename Tile>
__global__ void __launch_bounds__(Tile::kThreads) fp8_gemm_kernel(Fp8GemmArgs args) {
  Tile::run(args.a, args.a_scales, args.b, args.b_scales, args.c, args.m, args.n, args.k,
            blockIdx.y * kTileM, blockIdx.x * kTileN);
}

template <typename Tile>
__global__ void __launch_bounds__(Tile::kThreads)
    grouped_contiguous_kernel(Fp8GemmArgs args, const int* tile_groups) {
  const int group = tile_groups[blockIdx.y];
  if (group < 0) return;
  const int64_t b_offset = int64_t(group) * args.n * args.k;
  const int64_t b_scale_offset = int64_t(group) * (args.n / 128) * (args.k / kPromotionK);
  Tile::run(args.a, args.a_scales, args.b + b_offset, args.b_scales + b_scale_offset, args.c,
            args.m, args.n, args.k, blockIdx.y * kTileM, blockIdx.x * kTileN);
}

template <typename Tile>
__global__ void __launch_bounds__(Tile::kThreads)
    grouped_masked_kernel(Fp8GemmArgs args, const int* valid_rows) {
  const int group = blockIdx.z;
  const int rows = min(valid_rows[group], args.m);
  const int m0 = blockIdx.y * kTileM;
  if (m0 >= rows) return;
  const int k_blocks = args.k / kPromotionK;
  const int64_t a_offset = int64_t(group) * args.m * args.k;
  const int64_t b_offset = int64_t(group) * args.n * args.k;
  const int64_t b_scale_offset = int64_t(group) * (args.n / 128) * k_blocks;
  Tile::run(args.a + a_offset, args.a_scales + int64_t(group) * args.m * k_blocks,
            args.b + b_offset, args.b_scales + b_scale_offset,
            args.c + int64_t(group) * args.m * args.n, rows, args.n, args.k, m0,
            blockIdx.x * kTileN);
}

void check_shape(const Fp8GemmArgs& args, bool grouped) {
  if (args.m <= 0 || args.n <= 0 || args.k <= 0 || args.k % kPromotionK != 0 ||
      (grouped && args.n % 128 != 0) || args.n % 8 != 0) {
    throw GpuError("fp8 gemm: K must be a multiple of 128 (and N of 128 when grouped)");
  }
}

// The tensor-core path needs the sm_90a machine code that this library carries: compute
// capability 9.0 (the compute_80 PTX beside it has no FP8 MMA).
bool tensor_cores_here() {
  int device = 0, major = 0, minor = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return false;
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
  return major == 9 && minor == 0;
}

bool use_tensor_cores(Fp8GemmPath path) {
  if (path == Fp8GemmPath::kCudaCores) return false;
  static const bool available = tensor_cores_here();
  if (path == Fp8GemmPath::kTensorCores && !available) {
    throw GpuError("fp8 gemm: the tensor-core path needs a compute capability 9.0 GPU");
  }
  return available;
}

}  // namespace

bool fp8_gemm_tensor_cores_available() {
  return use_tensor_cores(Fp8GemmPath::kAuto);
}

void launch_fp8_gemm(const Fp8GemmArgs& args, cudaStream_t stream, Fp8GemmPath path) {
  check_shape(args, false);
  const dim3 grid((args.n + kTileN - 1) / kTileN, (args.m + kTileM - 1) / kTileM);
  if (use_tensor_cores(path)) {
    fp8_gemm_kernel<MmaTile><<<grid, MmaTile::kThreads, 0, stream>>>(args);
  } else {
    fp8_gemm_kernel<FmaTile><<<grid, FmaTile::kThreads, 0, stream>>>(args);
  }
  CODESIM_CUDA_CHECK(cudaGetLastError());
}

void launch_grouped_fp8_gemm_contiguous(const Fp8GemmArgs& args, const int* tile_groups, int groups,
                                        cudaStream_t stream, Fp8GemmPath path) {
  check_shape(args, true);
  if (groups <= 0) throw GpuError("grouped fp8 gemm: no groups");
  const dim3 grid((args.n + kTileN - 1) / kTileN, (args.m + kTileM - 1) / kTileM);
  if (use_tensor_cores(path)) {
    grouped_contiguous_kernel<MmaTile><<<grid, MmaTile::kThreads, 0, stream>>>(args, tile_groups);
  } else {
    grouped_contiguous_kernel<FmaTile><<<grid, FmaTile::kThreads, 0, stream>>>(args, tile_groups);
  }
  CODESIM_CUDA_CHECK(cudaGetLastError());
}

void launch_grouped_fp8_gemm_masked(const Fp8GemmArgs& args, const int* valid_rows, int groups,
                                    cudaStream_t stream, Fp8GemmPath path) {
  check_shape(args, true);
  if (groups <= 0) throw GpuError("grouped fp8 gemm: no groups");
  const dim3 grid((args.n + kTileN - 1) / kTileN, (args.m + kTileM - 1) / kTileM, groups);
  if (use_tensor_cores(path)) {
    grouped_masked_kernel<MmaTile><<<grid, MmaTile::kThreads, 0, stream>>>(args, valid_rows);
  } else {
    grouped_masked_kernel<FmaTile><<<grid, FmaTile::kThreads, 0, stream>>>(args, valid_rows);
  }
  CODESIM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace codesim::validation::gpu
