#include "validation/kernels/cuda_common.cuh"
#include "validation/kernels/hbm_copy.cuh"

namespace codesim::validation::gpu {
namespace {

constexpr int kThreads = 512;
constexpr int kBlocksPerSm = 4;

__global__ void __launch_bounds__(kThreads)
    copy_kernel(const int4* __restrict__ source, int4* __restrict__ target, int64_t count) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i + stride < count; i += 2 * stride) {
    const int4 first = source[i];
    const int4 second = source[i + stride];
    target[i] = first;
    target[i + stride] = second;
  }
  if (i < count) target[i] = source[i];
}

}  // namespace

void launch_hbm_copy(const void* source, void* target, int64_t bytes, int sms,
                     cudaStream_t stream) {
  if (bytes <= 0 || bytes % 16 != 0) throw GpuError("hbm copy: bytes must be a multiple of 16");
  const int64_t count = bytes / 16;
  const int64_t wanted = (count + kThreads - 1) / kThreads;
  const int blocks = int(std::min<int64_t>(wanted, int64_t(std::max(sms, 1)) * kBlocksPerSm));
  copy_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const int4*>(source),
                                               static_cast<int4*>(target), count);
  CODESIM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace codesim::validation::gpu
