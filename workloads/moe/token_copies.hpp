#pragma once
// What one token costs the all-to-all: the bytes of a copy, and where DeepEP sends the copies.
// Every EP traffic model (expected_traffic.hpp, sampled_traffic.hpp, routed_traffic.hpp) counts
// copies by this rule; the bytes come from here.
//
// DeepEP's normal (internode) kernels: a token goes once to each node hosting one of its
// experts, to the GPU with the sender's in-node index: over IB when the node is remote, and for
// the sender's own node straight into the sender's own RDMA receive buffer (no IB). The GPU it
// lands on (the sender itself, for the own node) forwards it over NVLink to each other GPU of
// that node that hosts one of its experts. Dispatch copies are FP8 with one FP32 scale per 128
// values; the combine sends BF16 copies back along the reversed paths.

#include <bit>
#include <cstdint>

#include "models/compute_cost.hpp"

namespace codesim::workloads {

// Bytes of one token copy: FP8 with one FP32 scale per 128 values, or BF16.
constexpr double dispatch_bytes_per_copy_fp8(int hidden) {
  return hidden + (hidden / 128) * 4.0;
}
constexpr double combine_bytes_per_copy_bf16(int hidden) {
  return 2.0 * hidden;
}

// The four all-to-alls of an MoE layer: the forward's dispatch and combine, and the backward's
// two, which carry gradients the other way round.
enum class Exchange : std::uint8_t {
  kForwardDispatch,
  kForwardCombine,
  kBackwardCombine,   // gradient of the combine, sent along the dispatch's pattern
  kBackwardDispatch,  // gradient of the dispatch, back along the combine's pattern
};
constexpr int kExchanges = 4;

// A copy's bytes in each all-to-all: the forward dispatch in FP8 when the GEMMs are (DeepSeek-V3
// sec 3.3), everything else in BF16.
constexpr double copy_bytes(Exchange exchange, models::Precision gemm_precision, int hidden) {
  return exchange == Exchange::kForwardDispatch && gemm_precision == models::Precision::kFp8
             ? dispatch_bytes_per_copy_fp8(hidden)
             : combine_bytes_per_copy_bf16(hidden);
}

// Whether an all-to-all carries tokens towards the experts' GPUs (the forward dispatch, and the
// combine's gradient along the same pattern) rather than back from them.
constexpr bool towards_experts(Exchange exchange) {
  return exchange == Exchange::kForwardDispatch || exchange == Exchange::kBackwardCombine;
}

// One token's copies to one node by DeepEP's rule. GPUs are numbered node * gpus_per_node +
// in-node index; `gpu_mask` has bit i set when the node's GPU i hosts one of the token's experts
// (at most 64 GPUs per node). Calls on_ib(landing) when the node is remote, then
// on_nvlink(landing, gpu) for every other GPU of the mask.
template <class OnIb, class OnNvlink>
void deepep_node_copies(int node, std::uint64_t gpu_mask, int sender_node, int sender_index,
                        int gpus_per_node, OnIb&& on_ib, OnNvlink&& on_nvlink) {
  const int landing = node * gpus_per_node + sender_index;
  if (node != sender_node) on_ib(landing);
  gpu_mask &= ~(std::uint64_t(1) << sender_index);  // the landing GPU's own experts: no NVLink
  for (; gpu_mask != 0; gpu_mask &= gpu_mask - 1) {
    on_nvlink(landing, node * gpus_per_node + std::countr_zero(gpu_mask));
  }
}

}  // namespace codesim::workloads
