#pragma once
// The kernels a DeepSeek-style FP8 (or BF16) training step launches for one micro-batch through
// one layer, pass by pass, each with its shape, FLOPs and HBM bytes from the model and plan
// shapes: tokens per micro-batch, hidden size, heads and head dims, expert tokens per GPU after
// routing, and FP8's 1x128 activation / 128x128 weight scaling. What they cost is
// models/compute_cost's business (ComputeCostModel::kernel_seconds); this file only says what
// runs.
//
// A layer is cut where an MoE layer's all-to-alls cut it, in four pieces:
//   attention  norm, attention (MLA or GQA), output projection, residual, the FFN norm and, for
//              an MoE layer, the gate and its top-k;
//   dispatch   the communication stream's kernels before the dispatch (DeepEP's FP8 cast, layout
//              and notify) and the dispatch itself, then on the compute stream the permutation of
//              the received copies into the experts' layout;
//   experts    the routed experts (grouped GEMMs and their SwiGLU, kept apart: their time scales
//              with the GPU's load) and the shared experts, or a dense layer's FFN;
//   combine    the combine (communication stream) and, after it, the weighted sum of each
//              token's copies and the residual (compute stream).
// Each piece has a forward (F), an input-gradient backward (B, recomputation included) and a
// weight-gradient pass (W). In B the pieces run in reverse and the all-to-alls carry gradients:
// the combine's gradient goes out along the dispatch's pattern first.
//
// Conventions, DeepSeek-V3's recipe (report sec 3.3) where it has one:
// - FP8 GEMMs take FP8 inputs: every activation is cast per token in 1x128 tiles before its GEMM
//   (a separate kernel, as the profile shows), weights are FP8 in 128x128 blocks (cast once per
//   step, not per micro-batch: left out). Outputs are BF16.
// - Data gradients dX = dY W run as GEMMs of shape (tokens, in, out); weight gradients
//   dW = dY^T X as (out, in, tokens), both operands cast and transposed per channel first.
// - The gate and the output head stay BF16; so does attention (FlashAttention-style fused
//   kernels, forward and backward with the scores recomputed).
// - With recomputation, RMSNorm and the MLA up-projections run again in B.

#include <cstdint>
#include <vector>

#include "models/kernel.hpp"
#include "models/llm.hpp"
#include "workloads/plan/plan.hpp"

namespace codesim::workloads {

// What the inventory reads.
struct KernelShapes {
  models::ModelConfig model;
  std::int64_t tokens = 0;  // per micro-batch, on one GPU
  int sequence_length = 4096;
  int tp = 1;
  // Megatron-LM's sequence parallelism: with tp > 1 the residual stream, its norms and adds
  // are split over the tensor-parallel group (all-gather / reduce-scatter around each block).
  bool sequence_parallel = true;
  int ep = 1;
  models::Precision gemm_precision = models::Precision::kFp8;
  Recompute recompute;
  // Rows of the residual stream one GPU holds: tokens, or tokens / tp under sequence parallelism.
  double residual_rows() const {
    return sequence_parallel && tp > 1 ? double(tokens) / tp : double(tokens);
  }
  // Tokens one GPU routes through an MoE block: its rows of the residual stream. With tp > 1
  // (sequence parallelism required) each GPU of the group routes its own share of the sequence
  // and the routed experts are not split by tensor parallelism (Megatron-Core's expert tensor
  // parallelism 1): the gate, the all-to-alls, the routed experts and the combine see these
  // rows; the shared experts are split like a dense FFN, over all the tokens.
  std::int64_t moe_tokens() const { return sequence_parallel && tp > 1 ? tokens / tp : tokens; }
  // A notify's wait: one exchange of counts across the EP group over the network.
  double notify_latency_s = 0;
};

// One piece's kernels in each pass.
struct PieceKernels {
  std::vector<models::Kernel> forward;
  std::vector<models::Kernel> backward;  // B
  std::vector<models::Kernel> weight;    // W
};

enum class LayerPiece : std::uint8_t { kAttention, kDispatch, kExperts, kCombine };
constexpr int kLayerPieces = 4;

struct LayerKernels {
  bool moe = false;  // the FFN sits between a dispatch and a combine
  PieceKernels attention;
  PieceKernels dispatch;  // communication-stream kernels, then the compute-stream permutation
  PieceKernels routed;    // the routed experts, at a balanced load
  PieceKernels experts;   // the shared experts, or a dense layer's FFN
  PieceKernels combine;   // the combine (communication stream), then the weighted sum
};

// Layer `layer` (0-based; model.layers: an MTP module's block). A dense layer has no dispatch,
// routed experts or combine.
LayerKernels layer_kernels(const KernelShapes& shapes, int layer);

// Whether layer `layer` is an MoE layer: the one thing about a layer its kernels depend on, so
// that layers of one kind launch the same kernels (what ChunkCostModel prices once).
bool is_moe_layer(const models::ModelConfig& model, int layer);

// The pieces outside the layers: the embedding lookup; the final norm, head GEMM and
// cross-entropy; an MTP module's own norms and projection (its block is a layer, its head the
// output head's).
PieceKernels embedding_kernels(const KernelShapes& shapes);
PieceKernels output_head_kernels(const KernelShapes& shapes);
PieceKernels mtp_extra_kernels(const KernelShapes& shapes);

// Rows one GPU's experts receive in a micro-batch at a balanced load: every token's k copies
// spread evenly over the experts of the EP group.
std::int64_t routed_rows_per_expert(const KernelShapes& shapes);

}  // namespace codesim::workloads
