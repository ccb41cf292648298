#pragma once
// A serving estimate: decode's step and TPOT, prefill's chunks and TTFT, throughput per GPU,
// node and user, the KV cache and the largest batch that fits, and the closed-form bounds of the
// layout. Multi-token prediction: each step verifies the drafts of the last one and proposes
// `mtp_depth` more; the chain of drafts is accepted up to its first miss, so a step yields
// 1 + a + a^2 + ... + a^depth tokens on average.

#include <string>
#include <vector>

#include "workloads/inference/serve_step.hpp"

namespace codesim::workloads {

// Closed-form lower bounds of a decode layout's TPOT (per accepted token).
struct ServeBounds {
  // The layout's all-to-all bytes on its busiest link kind at the achieved rates: per MoE layer
  // and micro-batch, the larger of a GPU's scale-out bytes over its scale-out rate and its NVLink
  // bytes over its NVLink rate, dispatch and combine; no latency, no contention.
  double all_to_all_layer_s = 0;  // one MoE layer, every micro-batch
  double all_to_all_tpot_s = 0;
  // isca25 sec 2.3's closed form: every copy of a token (its k routed experts and the shared
  // ones) crosses the scale-out link (NVLink in a single-node group), dispatch in FP8 and combine
  // in BF16: per MoE layer, micro_batches x tokens x copies x hidden x 3 bytes over the per-GPU
  // bandwidth. Not a bound of this layout when some copies stay inside a node.
  double isca25_layer_s = 0;
  double isca25_tpot_s = 0;
  // Every micro-batch reads the GPU's weights and every sequence its KV cache from HBM.
  double hbm_tpot_s = 0;
  double compute_tpot_s = 0;      // the sum of the kernels
  double lower_bound_tpot_s = 0;  // the larger of compute and the layout's all-to-all
};

// The all-to-all bound of one MoE layer (seconds): tokens per micro-batch, copies per token.
double all_to_all_bound_s(double tokens_per_micro_batch, double copies, int hidden,
                          double bytes_per_second, int micro_batches);

struct ServeEstimate {
  std::string engine;  // "event-driven" or "closed-form"
  bool decode = false, prefill = false;
  // Decode.
  ForwardShape decode_shape;
  ForwardCost decode_cost;
  ServeStep decode_step;
  double tokens_per_step = 1;  // accepted per sequence
  double tpot_s = 0;
  double tokens_per_s_per_gpu = 0;
  double tokens_per_s_per_node = 0;
  double tokens_per_s_per_user = 0;
  ServeBounds bounds;
  double decode_load_max_over_mean = 1;  // the busiest GPU's routed load, mean over MoE layers
  // Prefill.
  ForwardShape prefill_shape;
  ForwardCost prefill_cost;
  ServeStep prefill_step;
  int prefill_chunks = 0;
  double ttft_s = 0;  // mean over the prompt mix
  struct PromptClass {
    int tokens = 0;
    double share = 0;
    int chunks = 0;
    double forward_s = 0;
    double ttft_s = 0;
  };
  std::vector<PromptClass> prompt_classes;  // prefill_* above are the longest prompt's
  double prefill_tokens_per_s_per_gpu = 0;
  double prefill_load_max_over_mean = 1;
  // Memory, per GPU (decode's layout when there is decode).
  double weights_bytes = 0;
  double kv_bytes = 0;
  double kv_bytes_per_sequence = 0;
  double capacity_bytes = 0;
  int max_batch_per_gpu = 0;
  std::vector<std::string> assumptions;
};

// `traced`: GPUs of the decode forward (the prefill forward, with no decode) whose spans the
// event engine records.
ServeEstimate estimate_serving(const InferenceScenario& s, bool event_driven,
                               const std::vector<int>& traced = {});

// The smallest decode batch per GPU (a multiple of the micro-batches, at most the largest that
// fits) whose sequences take in `request_rate` requests a second by the closed form: the
// decode GPUs hold batch x GPUs sequences, each staying output_tokens x TPOT(batch). 0 when
// no batch that fits keeps up.
int batch_for_request_rate(InferenceScenario s);

}  // namespace codesim::workloads
