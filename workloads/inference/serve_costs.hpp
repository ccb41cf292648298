#pragma once
// What one forward of a served model costs one GPU, layer by layer, for one micro-batch: the
// kernels it launches, priced by the compute cost model, and the bytes of its all-to-alls. Both
// serving engines (the closed form and the event-driven one) read these parts.
//
// A layer is cut where an MoE layer's all-to-alls cut it: `attention` runs before the dispatch
// (norms, projections, attention over the KV cache, tensor-parallel collectives, the gate), and
// `experts` between the dispatch and the combine and after it (routed experts, shared experts,
// the weighted sum). A dense layer is all compute, in `attention` and `experts` alike.

#include <cstdint>
#include <string>
#include <vector>

#include "models/compute_cost.hpp"
#include "workloads/inference/serve_scenario.hpp"

namespace codesim::workloads {

// One forward on one GPU, per micro-batch.
struct ForwardShape {
  bool prefill = false;
  double tokens = 0;     // new tokens of this GPU's share (decode: sequences x (1 + drafts))
  double sequences = 0;  // sequences they belong to (decode: one per sequence)
  double context = 0;    // cached tokens each sequence's new tokens attend to, on average
  int ep = 1;            // GPUs of the expert-parallel group
};

struct ServeKernel {
  std::string name;
  double seconds = 0;  // every launch
  double flops = 0;
  double bytes = 0;  // HBM
};

// Where an all-to-all's copies go, per GPU and exchange, in two stages: over the scale-out
// network to one GPU of each other node of the group (the one of the sender's index), and over
// NVLink between the GPUs of a node. A dispatch sends the scale-out stage first and forwards
// inside the node after; a combine goes back the other way.
struct AllToAllBytes {
  double per_remote_node = 0;  // one GPU to the same-index GPU of each other node
  double per_node_peer = 0;    // one GPU to each other GPU of its node (forwarded copies)
};

struct LayerServeCost {
  bool moe = false;
  double attention_s = 0;
  double experts_s = 0;
  double routed_s = 0;  // of experts_s: the routed experts at a balanced load
  // Each GPU's routed load over the group's mean, by its place in the EP group (empty: 1 for
  // all), and the busiest GPU's.
  std::vector<double> load;
  double busiest = 1;
  // experts_s on a GPU at `factor` times the mean load.
  double experts_at(double factor) const { return experts_s + routed_s * (factor - 1); }
  double load_of(int gpu_in_group) const {
    return load.empty() ? 1.0 : load[std::size_t(gpu_in_group) % load.size()];
  }
  AllToAllBytes dispatch, combine;
  double dispatch_s = 0, combine_s = 0;  // at the calibration's achieved rates, for the closed form
  std::vector<ServeKernel> kernels;
};

struct ForwardCost {
  std::vector<LayerServeCost> layers;  // the model's layers, then each MTP module's block
  double head_s = 0;                   // final norm, output head, sampling; MTP projections
  std::vector<ServeKernel> head_kernels;
  int nodes_in_group = 1;  // nodes an EP group spans
  int gpus_per_node_in_group = 1;
  double ib_GBps = 0;      // achieved per GPU, scale-out
  double nvlink_GBps = 0;  // achieved per GPU, NVLink
  double latency_s = 0;    // of one all-to-all stage
};

// Copies a token sends, by DeepEP's modes: decode's low-latency kernels send every copy to its
// expert's GPU (k copies, pure RDMA); prefill's normal kernels send one copy per node hosting
// its experts and forward it inside the node (expected_traffic.hpp).
AllToAllBytes exchange_bytes(const InferenceScenario& s, const ForwardShape& shape,
                             double bytes_per_copy, int nodes_in_group, int gpus_per_node);

ForwardCost price_forward(const InferenceScenario& s, const ForwardShape& shape,
                          const models::ComputeCostModel& compute);

// Sets each MoE layer's per-GPU load from serve.routing and serve.redundant_experts (EPLB places
// the replicas on a skewed router's sampled loads); a balanced router leaves every load at 1.
// Returns the busiest GPU's load averaged over the MoE layers.
double apply_expert_load(const InferenceScenario& s, ForwardCost& cost, int ep);

// Bytes of weights one GPU holds, and of KV cache one sequence takes on one GPU at `context`.
double weight_bytes_per_gpu(const InferenceScenario& s, int ep);
double kv_bytes_per_sequence_per_gpu(const InferenceScenario& s, double context);

}  // namespace codesim::workloads
