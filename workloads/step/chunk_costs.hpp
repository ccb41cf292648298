#pragma once
// Cost of one micro-batch through pieces of the model on one GPU: forward, backward for inputs,
// backward for weights, and the communication each pass waits on. Pure functions of the scenario
// and the calibrated cost models; the analytic step model and, later, the event-driven engine
// build on them.

#include <string>
#include <vector>

#include "models/calibration.hpp"
#include "models/compute_cost.hpp"
#include "models/gpu.hpp"
#include "models/llm.hpp"
#include "topologies/cluster.hpp"
#include "workloads/plan/plan.hpp"
#include "workloads/pipeline/stages.hpp"
#include "workloads/plan/scenario.hpp"

namespace codesim::workloads {

struct PassCost {
  double compute_s = 0;  // on all of the GPU's SMs
  double comm_s = 0;     // communication the pass cannot finish without
};

struct ChunkCost {
  PassCost forward;
  PassCost backward_input;       // B of zero-bubble notation, recomputation included
  double backward_weight_s = 0;  // W

  ChunkCost& operator+=(const ChunkCost& other);
  double full_backward_compute_s() const { return backward_input.compute_s + backward_weight_s; }
};

// Time of the expert-parallel all-to-alls of one MoE layer for one micro-batch.
struct EpCommCost {
  double dispatch_s = 0;
  double combine_s = 0;
  double ib_bytes_per_token = 0;  // dispatch + combine, per direction of the pass
  double nvlink_bytes_per_token = 0;
  double ib_GBps = 0;      // achieved, per GPU
  double nvlink_GBps = 0;  // achieved, per GPU
};

// One layer cut where an MoE layer's all-to-alls cut it, for the event-driven engine: the
// attention half (norm, attention, output projection, residual) and the FFN half (dense FFN, or
// the gate, routed and shared experts and the weighted sum). Communication is left out of both.
struct LayerParts {
  ChunkCost attention;
  ChunkCost ffn;     // for an MoE layer without its routed experts (gate, shared experts, sum)
  ChunkCost routed;  // an MoE layer's routed experts at a balanced load (grouped GEMMs)
  bool moe = false;  // the FFN half sits between a dispatch and a combine
};

// The comm-SM rule, stated once for both step models: while DualPipe's overlapped pair runs,
// communication kernels hold `comm_sms` of the GPU's SMs and compute runs on the rest, so it takes
// sms / (sms - comm_sms) as long. Elsewhere (a lone forward or backward, the trailing weight
// gradients) compute has every SM. 1 for schedules that overlap nothing.
double overlapped_pair_slowdown(const models::GpuSpec& gpu, int comm_sms, Schedule schedule);

// What the chunk cost model reads: the model, the GPU and its calibration, a node's links, and the
// plan's parallelism, precision and micro-batch.
struct ChunkCostParams {
  models::ModelConfig model;
  models::GpuSpec gpu;
  models::Calibration calibration;
  topo::NodeSpec node;
  int tp = 1;
  int ep = 1;
  int max_nodes_per_token = 0;  // node-limited routing M (resolved: the model's default applied)
  int sequence_length = 4096;
  std::int64_t tokens = 0;  // per micro-batch
  models::Precision gemm_precision = models::Precision::kFp8;
  Recompute recompute;
};
ChunkCostParams chunk_cost_params(const TrainingScenario& scenario);

class ChunkCostModel {
 public:
  explicit ChunkCostModel(ChunkCostParams params);

  ChunkCost layer(int layer) const;  // layer == model.layers: an MTP module's block
  LayerParts layer_parts(int layer) const;
  bool moe_layer(int layer) const;
  // An MTP module without its block: norms, projection, the shared output head.
  ChunkCost mtp_module_extras() const;
  ChunkCost embedding() const;
  ChunkCost output_head() const;  // final norm, head GEMM and cross-entropy
  ChunkCost mtp_module() const;   // its norms, projection, block and the shared head
  ChunkCost stage(const Stage& stage) const;

  // Forward all-to-all (FP8 dispatch, BF16 combine); the backward pass sends BF16 both ways.
  EpCommCost ep_forward() const;
  EpCommCost ep_backward() const;
  double pp_send_s() const;  // one micro-batch's activations to the next stage
  const models::ComputeCostModel& compute() const { return compute_; }

 private:
  EpCommCost ep_cost(double dispatch_bytes_per_copy, double combine_bytes_per_copy) const;
  double achieved_nvlink_GBps() const;  // per GPU, one direction
  void add_attention(ChunkCost& cost) const;
  void add_dense_ffn(ChunkCost& cost) const;
  void add_moe_ffn(ChunkCost& cost, ChunkCost& routed) const;

  ChunkCostParams params_;
  models::ComputeCostModel compute_;
  int64_t tokens_;
};

}  // namespace codesim::workloads
