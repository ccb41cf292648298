#pragma once
// One forward of a served model on every GPU of a phase: decode's step (every sequence's next
// token) or one prefill chunk. Two ways to time it from the same ForwardCost:
//
//  - closed form: per MoE layer, with n micro-batches taking turns on the compute stream while
//    the others' all-to-alls are in flight, the layer takes the longest of the compute stream's
//    load n (a + e), the all-to-all's load n (d + c), and one micro-batch's own chain
//    a + d + e + c (attention, dispatch, experts, combine); a dense layer takes n (a + e);
//  - event-driven: every GPU's compute stream runs the micro-batches' attention and expert parts
//    in DeepSeek's order (each layer: attention of every micro-batch, then their experts), each
//    waiting for its inputs; every all-to-all is flows over the cluster's topology, sharing links
//    by max-min fairness, in two stages (dispatch: over the scale-out network to the sender's-index
//    GPU of each other node, which forwards over NVLink once all its inbound copies are in;
//    combine: back the other way), and holds no SMs.

#include <cstdint>
#include <vector>

#include "workloads/inference/serve_costs.hpp"
#include "workloads/network/link_use.hpp"

namespace codesim::workloads {

// Peak memory of `codesim infer`'s event-driven engine per GPU of the cluster, measured (peak
// RSS, 2026-12-04): examples/serve/deepseek-v3-decode-h800-320.yaml, 42.9 MB for 320 GPUs. For
// refusing up front what the machine cannot hold.
inline constexpr double kServeEngineBytesPerGpu = 134e3;

// One span of a traced GPU: an operation of its compute stream, or one of its all-to-alls from
// the end of its own part to the arrival of everything it waits for.
struct ServeSpan {
  int gpu = 0;
  bool compute = true;
  const char* what = "";  // attention, experts, dense layer, head; dispatch, combine
  int layer = 0;
  int micro_batch = 0;
  double start_s = 0, end_s = 0;
};

struct ServeStep {
  double forward_s = 0;
  double compute_only_s = 0;  // with free communication: the sum of its kernels
  double unoverlapped_s = 0;  // micro-batches one after another, communication not overlapped
  double attention_s = 0;     // of the compute stream, summed over layers and micro-batches
  double experts_s = 0;
  double head_s = 0;
  double all_to_all_s = 0;          // of one micro-batch's all-to-alls, summed over layers
  double all_to_all_exposed_s = 0;  // forward_s - compute_only_s
  std::uint64_t events = 0;
  std::uint64_t flows = 0;
  std::vector<LinkUse> links;
  std::vector<ServeSpan> trace;  // of the traced GPUs, in the order spans ended
};

ServeStep closed_form_forward(const ForwardCost& cost, int micro_batches);

// `gpus`: the phase's GPUs (the first `gpus` of the cluster), in EP groups of `ep` consecutive.
// `traced`: GPUs whose spans are recorded.
ServeStep event_forward(const InferenceScenario& s, const ForwardCost& cost, int micro_batches,
                        int gpus, int ep, const std::vector<int>& traced = {});

}  // namespace codesim::workloads
