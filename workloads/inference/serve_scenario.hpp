#pragma once
// Everything one serving estimate needs, as plain values parsed and validated at the edge: the
// cluster, the model, and how it is served (the `serve:` section of a scenario).
//
// The layout is DeepSeek-V3's (v3_report sec 3.4): attention runs data-parallel over groups of
// `attention_tp` GPUs (tensor parallel inside a group, sequence parallel for what follows it);
// the MoE part runs expert-parallel over `ep` GPUs, each GPU taking its own share of the
// tokens. Decode splits each GPU's batch into `micro_batches` that overlap one's compute with
// the other's all-to-all; the all-to-all of decode holds no SMs (DeepEP's low-latency kernels
// post RDMA writes from a hook). Prefill runs prompts in chunks, two micro-batches of equal
// attention load.

#include <string>
#include <utility>
#include <vector>

#include "models/calibration.hpp"
#include "models/gpu.hpp"
#include "models/kernel.hpp"
#include "models/llm.hpp"
#include "topologies/cluster.hpp"
#include "workloads/plan/scenario.hpp"

namespace codesim::workloads {

enum class ServePhase { kPrefill, kDecode, kBoth };

struct ServePlan {
  ServePhase phase = ServePhase::kDecode;
  int prompt_tokens = 4096;  // per request: the context decode starts from
  // Or a mix of prompt lengths: (tokens, share of requests), shares summing to 1. Decode's costs
  // are linear in the context, so it takes the mix's mean; prefill runs each length apart.
  std::vector<std::pair<int, double>> prompt_mix;
  std::vector<std::pair<int, double>> prompts() const {
    return prompt_mix.empty() ? std::vector<std::pair<int, double>>{{prompt_tokens, 1.0}}
                              : prompt_mix;
  }
  double mean_prompt_tokens() const {
    double sum = 0;
    for (const auto& [tokens, share] : prompts()) sum += tokens * share;
    return sum;
  }
  int output_tokens = 1024;  // per request
  // Decode: sequences each GPU carries (its attention group holds attention_tp times as many);
  // prefill: prompt tokens each GPU takes per chunk.
  int batch_per_gpu = 32;
  // Decode: requests per second the decode GPUs take in, instead of a batch (0: none). Each
  // request stays output_tokens x TPOT, so by Little's law the batch is the rate times that;
  // the loader resolves it to the smallest batch that keeps up (serve_estimate.hpp).
  double request_rate = 0;
  int prefill_chunk_tokens = 4096;  // prefill: tokens per GPU per forward
  int attention_tp = 1;
  int ep = 0;                 // GPUs of an expert-parallel group; 0: the whole cluster (or phase)
  int redundant_experts = 0;  // extra expert replicas over the group (EPLB)
  // Node-limited routing's M (0: the model's); counts in prefill's normal-mode all-to-all, whose
  // copies go once per node. Decode's low-latency copies go one per expert whatever M is.
  int max_nodes_per_token = 0;
  // How tokens pick experts (balanced, or skewed: zipf, drifting, measured counts). A skewed
  // router loads some GPUs more; redundant experts are placed by EPLB on its loads
  // (workloads/moe/expert_load.hpp), and the busiest GPU of a group holds its all-to-all.
  RoutingSpec routing;
  int micro_batches = 2;
  // Prefill: SMs DeepEP's normal kernels hold while they run beside compute (its GEMMs and
  // attention run on the rest, in more waves). Decode's low-latency kernels hold none.
  int prefill_comm_sms = 20;
  int mtp_depth = 0;            // draft tokens proposed per step by the MTP modules
  double mtp_acceptance = 0;    // probability each draft is accepted (the chain stops at a miss)
  double prefix_cache_hit = 0;  // prefill: share of prompt tokens found in the KV cache
  // Prefill/decode disaggregation: nodes of each phase (0: every node runs the phase asked).
  int prefill_nodes = 0;
  int decode_nodes = 0;
  models::Precision gemm_precision = models::Precision::kFp8;
  int kv_bytes_per_element = 2;  // BF16 cache, as FlashMLA keeps it
  double reserved_gib = 2;       // CUDA context, communication buffers
};

struct InferenceScenario {
  std::string name;
  models::GpuSpec gpu;
  topo::ClusterSpec cluster;
  models::ModelConfig model;
  ServePlan serve;
  models::Calibration calibration;
  CostSpec cost;

  int gpus() const { return cluster.gpus(); }
  // GPUs of a phase: its nodes under disaggregation, else the cluster's.
  int phase_gpus(ServePhase phase) const {
    const int nodes = phase == ServePhase::kPrefill ? serve.prefill_nodes : serve.decode_nodes;
    return nodes > 0 ? nodes * cluster.node.gpus : gpus();
  }
  int ep(ServePhase phase) const { return serve.ep > 0 ? serve.ep : phase_gpus(phase); }
};

}  // namespace codesim::workloads
