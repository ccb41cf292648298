#pragma once
// MLA decode attention in the absorbed form (reference.hpp's mla_decode_absorbed), BF16 in,
// FP32 softmax and accumulation, BF16 out, for a batch of requests of varied context lengths.
//
// Per request r and head h: s_t = (q[r,h] . cache[t]) * scale over the request's tokens t
// (576 = 512 latent + 64 RoPE), o[r,h] = softmax(s) . cache[t][0:512].
//
// What the kernel is: one block per (request, 8 heads), one warp per head, an online
// (running-max) softmax over the tokens one at a time, each token's cache row read by all eight
// warps (the L1 serves the repeats). The KV cache is one contiguous array with per-request
// offsets rather than FlashMLA's paged blocks of 64. Correct and simple; not FlashMLA's speed.

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace codesim::validation::gpu {

constexpr int kMlaLatent = 512;
constexpr int kMlaRope = 64;
constexpr int kMlaWidth = kMlaLatent + kMlaRope;

struct MlaDecodeArgs {
  const __nv_bfloat16* q = nullptr;        // requests x heads x 576
  const __nv_bfloat16* cache = nullptr;    // total tokens x 576
  const int64_t* token_offsets = nullptr;  // requests + 1 entries (device)
  __nv_bfloat16* out = nullptr;            // requests x heads x 512
  int requests = 0;
  int heads = 0;
  float softmax_scale = 0;
};

void launch_mla_decode(const MlaDecodeArgs& args, cudaStream_t stream);

}  // namespace codesim::validation::gpu
