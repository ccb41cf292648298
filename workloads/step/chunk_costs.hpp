#pragma once
// Cost of one micro-batch through pieces of the model on one GPU: forward, backward for inputs,
// backward for weights, and the communication each pass waits on, priced kernel by kernel
// (step/layer_kernels.hpp says what runs, models/compute_cost.hpp what each kernel costs).
//
// Every pass has two compute prices: on every SM, and in an overlapped pair. The comm-SM rule,
// stated once here (pair_context): while DualPipe's F&B pair runs, DeepEP's kernels hold
// `comm_sms` of the SMs and stream the all-to-all through HBM, so compute kernels run on the
// other SMs (GEMMs and attention slower by their wave counts) with the HBM bandwidth the
// communication leaves (memory-bound kernels slower by that share). Elsewhere (a lone forward or
// backward, the trailing weight gradients) compute has the whole GPU.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/calibration.hpp"
#include "models/compute_cost.hpp"
#include "models/gpu.hpp"
#include "models/kernel.hpp"
#include "models/llm.hpp"
#include "topologies/cluster.hpp"
#include "workloads/moe/token_copies.hpp"
#include "workloads/pipeline/stages.hpp"
#include "workloads/plan/plan.hpp"
#include "workloads/plan/scenario.hpp"
#include "workloads/step/layer_kernels.hpp"

namespace codesim::workloads {

struct PassCost {
  double compute_s = 0;       // on every SM
  double pair_compute_s = 0;  // in an overlapped pair (pair_context)
  double comm_s = 0;          // communication the pass cannot finish without
  // Tensor-parallel collectives' bytes over NVLink at the achieved rate, in series with the
  // compute (their ring steps' latencies are in compute_s).
  double tp_comm_s = 0;
};

struct ChunkCost {
  PassCost forward;
  PassCost backward_input;   // B of zero-bubble notation, recomputation included
  PassCost backward_weight;  // W

  ChunkCost& operator+=(const ChunkCost& other);
  double full_backward_compute_s() const {
    return backward_input.compute_s + backward_weight.compute_s;
  }
  double full_backward_pair_compute_s() const {
    return backward_input.pair_compute_s + backward_weight.pair_compute_s;
  }
};

// Time of the expert-parallel all-to-alls of one MoE layer for one micro-batch, at DeepEP's
// measured bandwidth (the analytic model's price; the event engine plays them as flows).
struct EpCommCost {
  double dispatch_s = 0;
  double combine_s = 0;
  double ib_bytes_per_token = 0;  // dispatch + combine, per direction of the pass
  double nvlink_bytes_per_token = 0;
  double dispatch_bytes_per_token = 0;  // IB and NVLink, out of one GPU
  double combine_bytes_per_token = 0;
  double ib_GBps = 0;      // achieved, per GPU
  double nvlink_GBps = 0;  // achieved, per GPU
};

// One layer cut where an MoE layer's all-to-alls cut it: the compute before the dispatch, between
// dispatch and combine (routed experts apart, their time scales with the GPU's load) and after
// the combine, and the communication-stream kernels each all-to-all runs before its data moves.
// A layer without all-to-alls is all `before`.
struct LayerParts {
  ChunkCost before;   // attention, the FFN norm, the gate
  ChunkCost between;  // the permutation of the received copies, the shared experts
  ChunkCost routed;   // the routed experts at a balanced load
  ChunkCost after;    // the weighted sum of the returned copies, the residual
  // Communication-stream work before each all-to-all's data (DeepEP's cast, layout, notify), by
  // Exchange: seconds.
  double exchange_setup_s[kExchanges] = {0, 0, 0, 0};
  bool moe = false;  // cut at a dispatch and a combine
};

// What the chunk cost model reads: the model, the GPU and its calibration, a node's links, and the
// plan's parallelism, precision, SMs for communication and micro-batch.
struct ChunkCostParams {
  models::ModelConfig model;
  models::GpuSpec gpu;
  models::Calibration calibration;
  topo::NodeSpec node;
  int tp = 1;
  bool sequence_parallel = true;
  int cp = 1;  // context parallel: `tokens` are one GPU's share of the micro-batch
  int ep = 1;
  int max_nodes_per_token = 0;  // node-limited routing M (resolved: the model's default applied)
  int sequence_length = 4096;
  std::int64_t tokens = 0;  // per micro-batch
  models::Precision gemm_precision = models::Precision::kFp8;
  Recompute recompute;
  int comm_sms = 0;  // SMs the communication kernels hold in an overlapped pair
};
ChunkCostParams chunk_cost_params(const TrainingScenario& scenario);

// Megatron-LM's tensor-parallel traffic for one layer and one pass (forward, or backward), per
// GPU: two all-reduces of the block outputs (attention, FFN) without sequence parallelism, an
// all-gather and a reduce-scatter around each block with it (Korthikanti et al., "Reducing
// Activation Recomputation in Large Transformer Models", 2022, sec 4.2.2: the same volume).
// Rings over the group: an all-reduce moves 2 (t - 1) / t of the buffer per GPU in 2 (t - 1)
// steps, an all-gather or reduce-scatter (t - 1) / t in t - 1.
struct TensorParallelTraffic {
  int collectives = 0;
  double bytes_per_gpu = 0;
  int ring_steps = 0;
};
TensorParallelTraffic tensor_parallel_traffic(double tokens, int hidden, int tp,
                                              bool sequence_parallel);
// Bytes each GPU sends to the next pipeline stage per micro-batch: its 1/tp of the BF16
// activations (sequence parallelism splits them; without it Megatron-LM's scatter-gather
// optimisation sends a slice and all-gathers it over NVLink on arrival).
double pipeline_send_bytes(double tokens, int hidden, int tp);

// Context parallelism's ring attention in one layer (Liu et al., "Ring Attention", 2023; as
// Megatron-Core and Transformer Engine run it): each GPU holds `tokens` of every sequence's
// 2 x cp chunks, and in cp - 1 steps passes the K and V blocks it holds to the next GPU of the
// ring while it computes attention on the block it has; in the backward the blocks travel with
// their gradients (dK, dV). Bytes each GPU sends in one pass, BF16: K and V of its tokens for its
// tp shard of the heads (GQA's KV heads; MLA's per-head keys and values, after the
// up-projection).
struct ContextRingTraffic {
  int steps = 0;  // cp - 1
  double forward_bytes_per_gpu = 0;
  double backward_bytes_per_gpu = 0;  // K, V and dK, dV
};
ContextRingTraffic context_ring_traffic(const models::ModelConfig& model, double tokens, int tp,
                                        int cp);

// What the cost model assumes, each with its source: the lines both step models print under
// --explain (compute, attention, element-wise rates, the comm-SM rule, the optimizer, memory,
// the stage split).
std::vector<std::string> cost_model_assumptions(const TrainingScenario& scenario);

// One kernel of a pass, priced: every launch, on every SM and in an overlapped pair.
struct PricedKernel {
  models::Kernel kernel;
  double seconds = 0;
  double pair_seconds = 0;
};

class ChunkCostModel {
 public:
  explicit ChunkCostModel(ChunkCostParams params);

  // Kernel contexts: the whole GPU, and what an overlapped pair leaves compute.
  const models::KernelContext& full_context() const { return full_; }
  const models::KernelContext& pair_context() const { return pair_; }
  const KernelShapes& shapes() const { return shapes_; }

  LayerKernels kernels(int layer) const;  // layer == model.layers: an MTP module's block
  // The fused attention kernel of a layer's forward (or input-gradient backward), priced: what
  // ring attention's K/V exchange overlaps.
  PricedKernel attention_core(int layer, bool backward) const;
  // This plan's ring attention traffic per layer (zero without context parallelism).
  ContextRingTraffic context_ring() const;
  std::vector<PricedKernel> price(const std::vector<models::Kernel>& kernels) const;
  // The compute-stream kernels of a piece, every pass; communication-stream ones are left out.
  ChunkCost cost(const PieceKernels& piece) const;
  // The communication-stream kernels of a pass, in seconds.
  double comm_stream_seconds(const std::vector<models::Kernel>& kernels) const;

  ChunkCost layer(int layer) const;  // its compute, and its all-to-alls at DeepEP's rate
  LayerParts layer_parts(int layer) const;
  bool moe_layer(int layer) const;
  ChunkCost mtp_module_extras() const;  // norms and projection; its block and head apart
  ChunkCost embedding() const;
  ChunkCost output_head() const;  // final norm, head GEMM and cross-entropy
  ChunkCost mtp_module() const;   // its norms, projection, block and the shared head
  ChunkCost stage(const Stage& stage) const;

  // Forward all-to-all (FP8 dispatch, BF16 combine); the backward pass sends BF16 both ways.
  EpCommCost ep_forward() const;
  EpCommCost ep_backward() const;
  double pp_send_s() const;  // one micro-batch's activations to the next stage
  // One layer's tensor-parallel collectives in a pass (in series with its compute; 0 for tp 1):
  // the bytes each GPU sends round the group's ring, and the ring steps' latencies.
  struct TensorParallelPass {
    double bytes_per_gpu = 0;
    double latency_s = 0;
  };
  TensorParallelPass tensor_parallel_pass(bool backward) const;
  double achieved_nvlink_GBps() const;  // per GPU, one direction
  const models::ComputeCostModel& compute() const { return compute_; }

 private:
  EpCommCost ep_cost(double dispatch_bytes_per_copy, double combine_bytes_per_copy) const;
  LayerParts price_layer_parts(int layer) const;
  void add_tensor_parallel(ChunkCost& cost) const;

  ChunkCostParams params_;
  models::ComputeCostModel compute_;
  KernelShapes shapes_;
  models::KernelContext full_;
  models::KernelContext pair_;
  // layer_parts of a dense and of an MoE layer, priced on first use: every layer of a kind, every
  // stage split a search tries and every step of a batch ramp asks for them again.
  mutable std::optional<LayerParts> layer_parts_[2];
};

}  // namespace codesim::workloads
