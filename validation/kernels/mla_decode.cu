#include <cfloat>

#include "validation/kernels/cuda_common.cuh"
#include "validation/kernels/mla_decode.cuh"

namespace codesim::validation::gpu {
namespace {

constexpr int kHeadsPerBlock = 8;
constexpr int kLanes = 32;
constexpr int kPerLane = kMlaWidth / kLanes;      // 18 of the 576 query/key elements
constexpr int kOutPerLane = kMlaLatent / kLanes;  // 16 of the 512 output elements

__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;
}

__global__ void __launch_bounds__(kHeadsPerBlock* kLanes) mla_decode_kernel(MlaDecodeArgs args) {
  const int request = blockIdx.x;
  const int head = blockIdx.y * kHeadsPerBlock + threadIdx.x / kLanes;
  const int lane = threadIdx.x % kLanes;
  if (head >= args.heads) return;
  const int64_t begin = args.token_offsets[request];
  const int64_t end = args.token_offsets[request + 1];

  // Lane l holds elements l, l + 32, ... of the query: strided so that a warp's loads of a
  // cache row are coalesced.
  const __nv_bfloat16* q = args.q + (int64_t(request) * args.heads + head) * kMlaWidth;
  float query[kPerLane];
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) query[i] = __bfloat162float(q[lane + i * kLanes]);

  float running_max = -FLT_MAX, running_sum = 0;
  float acc[kOutPerLane] = {};
  for (int64_t t = begin; t < end; ++t) {
    const __nv_bfloat16* row = args.cache + t * kMlaWidth;
    float key[kPerLane];
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) key[i] = __bfloat162float(row[lane + i * kLanes]);
    float dot = 0;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) dot = fmaf(query[i], key[i], dot);
    const float score = warp_sum(dot) * args.softmax_scale;
    const float new_max = fmaxf(running_max, score);
    const float rescale = __expf(running_max - new_max);
    const float weight = __expf(score - new_max);
    running_sum = running_sum * rescale + weight;
    running_max = new_max;
    // The latent part of the row is the value: elements lane + 32 i for i < 16.
#pragma unroll
    for (int i = 0; i < kOutPerLane; ++i) acc[i] = acc[i] * rescale + weight * key[i];
  }
  __nv_bfloat16* out = args.out + (int64_t(request) * args.heads + head) * kMlaLatent;
  const float inverse = running_sum > 0 ? 1.0f / running_sum : 0.0f;
#pragma unroll
  for (int i = 0; i < kOutPerLane; ++i)
    out[lane + i * kLanes] = __float2bfloat16_rn(acc[i] * inverse);
}

}  // namespace

void launch_mla_decode(const MlaDecodeArgs& args, cudaStream_t stream) {
  if (args.requests <= 0 || args.heads <= 0) throw GpuError("mla decode: empty batch");
  const dim3 grid(args.requests, (args.heads + kHeadsPerBlock - 1) / kHeadsPerBlock);
  mla_decode_kernel<<<grid, kHeadsPerBlock * kLanes, 0, stream>>>(args);
  CODESIM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace codesim::validation::gpu
