#pragma once
// One GPU kernel as the cost model sees it: what kind of work, its shape (for GEMMs and
// attention, whose efficiency depends on it), its FLOPs and HBM bytes per launch, and how many
// times it is launched. workloads/step/layer_kernels.hpp lists the kernels a training step runs;
// ComputeCostModel::kernel_seconds prices one under a KernelContext.

#include <cstdint>

namespace codesim::models {

// GEMM operand precisions. FP16 and BF16 run on the same tensor cores at the same peak on every
// preset GPU (A100, H100, H800, H200, B200), so they cost the same; FP16 is kept apart because
// plans name it (Megatron-LM's GPT-3 and 1T runs train in FP16 with loss scaling).
enum class Precision { kFp8, kBf16, kFp16 };

enum class KernelKind : std::uint8_t {
  kGemm,               // dense GEMM, m x n output, k inner
  kGroupedGemm,        // `groups` GEMMs of m (per group) x n x k in one launch (MoE experts)
  kAttentionForward,   // FlashAttention-style fused attention, training shapes
  kAttentionBackward,  // its backward (dQ, dK, dV with the scores recomputed)
  kMemory,             // element-wise, normalisation, casts, permutations: HBM-bound
};

// The stream a kernel runs on: compute, or the communication stream whose kernels (DeepEP's)
// hold the SMs reserved for them.
enum class KernelStream : std::uint8_t { kCompute, kCommunication };

struct Kernel {
  const char* name = "";  // a static string: what the kernel does, e.g. "rmsnorm forward"
  KernelKind kind = KernelKind::kMemory;
  KernelStream stream = KernelStream::kCompute;
  Precision precision = Precision::kBf16;
  // GEMMs (per group): the output is m x n, the inner dimension k.
  int groups = 1;
  std::int64_t m = 0, n = 0, k = 0;
  // Attention: heads, query and key/value head dims, the sequence, and the causal mask.
  int heads = 0;
  int head_dim_qk = 0;
  int head_dim_v = 0;
  int seq_len = 0;
  int sequences = 0;
  bool causal = true;
  double flops = 0;      // per launch
  double bytes = 0;      // HBM bytes read and written, per launch
  double latency_s = 0;  // a wait beyond its work, per launch (a notify's network round trip)
  int count = 1;         // launches

  double total_flops() const { return flops * count; }
  double total_bytes() const { return bytes * count; }
};

// What a kernel can use while it runs: the SMs left to it (all, or those communication kernels
// leave in an overlapped pair) and the share of the GPU's achieved HBM bandwidth left to it.
struct KernelContext {
  int sms = 0;                // 0: every SM of the GPU
  double hbm_fraction = 1.0;  // of the achieved HBM bandwidth
};

}  // namespace codesim::models
