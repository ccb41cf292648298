#pragma once
// HBM copy-bandwidth probe: a grid-stride copy with 16-byte accesses, coalesced across each warp,
// two loads in flight per thread before the first store; a grid of a few blocks per SM.

#include <cuda_runtime.h>

#include <cstdint>

namespace codesim::validation::gpu {

// Copies `bytes` (a multiple of 16, both pointers 16-byte aligned) from `source` to `target`.
void launch_hbm_copy(const void* source, void* target, int64_t bytes, int sms, cudaStream_t stream);

}  // namespace codesim::validation::gpu
