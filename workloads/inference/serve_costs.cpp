#include "workloads/inference/serve_costs.hpp"

#include <algorithm>
#include <cmath>

#include "models/llm_math.hpp"
#include "workloads/moe/expected_traffic.hpp"
#include "workloads/moe/expert_load.hpp"
#include "workloads/moe/token_copies.hpp"

namespace codesim::workloads {
namespace {

using models::Kernel;
using models::KernelKind;
using models::Precision;

double element_bytes(Precision p) {
  return p == Precision::kFp8 ? 1.0 : 2.0;
}

// Builds a layer's (or the head's) kernel list and its time.
class Kernels {
 public:
  Kernels(const models::ComputeCostModel& compute, std::vector<ServeKernel>& out,
          models::KernelContext context = {})
      : compute_(compute), out_(out), context_(context) {}

  // A GEMM of m x n output over k (per group), weights in `p`; activations in and out BF16 but
  // for FP8 GEMMs, whose input is FP8. Its bytes: input, weights, output.
  double gemm(const char* name, double m, double n, double k, Precision p, int groups = 1) {
    if (m <= 0) return 0;
    Kernel kernel;
    kernel.name = name;
    kernel.kind = groups > 1 ? KernelKind::kGroupedGemm : KernelKind::kGemm;
    kernel.precision = p;
    kernel.groups = groups;
    kernel.m = std::max<std::int64_t>(1, std::llround(m));
    kernel.n = std::llround(n);
    kernel.k = std::llround(k);
    kernel.flops = 2.0 * m * n * k * groups;
    kernel.bytes = groups * (element_bytes(p) * (m * k + k * n) + 2.0 * m * n);
    return add(kernel);
  }
  // A memory-bound kernel moving `bytes` through HBM.
  double memory(const char* name, double bytes) {
    Kernel kernel;
    kernel.name = name;
    kernel.kind = KernelKind::kMemory;
    kernel.bytes = bytes;
    return add(kernel);
  }
  // Attention over the KV cache: the larger of its FLOPs at the attention kernel's rate and its
  // bytes at the achieved HBM bandwidth (FlashMLA's published roofline on H800), per launch.
  double attention(const char* name, double flops, double bytes) {
    const double s = std::max(compute_.attention_seconds(flops), compute_.memory_seconds(bytes)) +
                     compute_.calibration().kernel_overhead_us * 1e-6;
    out_.push_back({name, s, flops, bytes});
    return s;
  }
  // A prefill attention kernel over whole chunks (FlashAttention-style, compute-bound).
  double prefill_attention(const char* name, double flops, double bytes, int head_dim, int heads,
                           int seq_len, int sequences) {
    Kernel kernel;
    kernel.name = name;
    kernel.kind = KernelKind::kAttentionForward;
    kernel.flops = flops;
    kernel.bytes = bytes;
    kernel.head_dim_qk = head_dim;
    kernel.heads = heads;
    kernel.seq_len = std::max(1, seq_len);
    kernel.sequences = std::max(1, sequences);
    kernel.causal = true;
    return add(kernel);
  }
  // Communication that holds the compute stream (tensor-parallel collectives over NVLink).
  double transfer(const char* name, double bytes, double bytes_per_second, double latency_s) {
    const double s = bytes / bytes_per_second + latency_s;
    out_.push_back({name, s, 0, bytes});
    return s;
  }

 private:
  double add(const Kernel& kernel) {
    const double s = compute_.kernel_seconds(kernel, context_);
    out_.push_back({kernel.name, s, kernel.flops, kernel.bytes});
    return s;
  }
  const models::ComputeCostModel& compute_;
  std::vector<ServeKernel>& out_;
  models::KernelContext context_;
};

// Achieved per-GPU rates of the scenario's links, from the calibration's achieved fractions.
void link_rates(const InferenceScenario& s, ForwardCost& f) {
  const auto& c = s.calibration;
  const double nic_Gbps = s.cluster.nic_bytes_per_second_per_gpu() * 8 / 1e9;
  f.ib_GBps = c.nic_line_rate_Gbps > 0 ? c.ib_achieved_GBps * nic_Gbps / c.nic_line_rate_Gbps
                                       : nic_Gbps / 8;
  const double nvlink = s.cluster.node.nvlink_unidirectional_GBps > 0
                            ? s.cluster.node.nvlink_unidirectional_GBps
                            : s.gpu.nvlink_unidirectional_GBps;
  f.nvlink_GBps = c.measured_on.nvlink_unidirectional_GBps > 0
                      ? c.nvlink_achieved_GBps * nvlink / c.measured_on.nvlink_unidirectional_GBps
                      : nvlink;
  f.latency_s = (f.nodes_in_group > 1 ? c.latency.ib_cross_leaf_us : c.latency.nvlink_us) * 1e-6;
}

}  // namespace

AllToAllBytes exchange_bytes(const InferenceScenario& s, const ForwardShape& shape,
                             double bytes_per_copy, int nodes, int gpn) {
  const auto& m = s.model;
  AllToAllBytes out;
  const double t = shape.tokens;
  const int k = m.experts_per_token;
  if (!shape.prefill) {
    // Low-latency mode: each of a token's k copies goes to its expert's GPU, every GPU of the
    // group equally likely (balanced). The copies for a remote node cross the scale-out network
    // to the GPU of the sender's index there, which forwards them; the sender's own node's
    // copies go over NVLink.
    const double per_gpu = t * k / shape.ep * bytes_per_copy;
    out.per_remote_node = per_gpu * gpn;
    out.per_node_peer = per_gpu * nodes;  // the landing GPU forwards every node's copies
    return out;
  }
  // Normal mode: a copy per node hosting one of the token's experts, forwarded inside it.
  EpTrafficShape shape_of;
  shape_of.experts = m.routed_experts + s.serve.redundant_experts;
  shape_of.experts_per_token = k;
  shape_of.ep = shape.ep;
  shape_of.gpus_per_node = gpn;
  shape_of.max_nodes_per_token =
      s.serve.max_nodes_per_token > 0 ? s.serve.max_nodes_per_token : m.max_groups_per_token;
  const EpCopiesPerToken copies = expected_copies_per_token(shape_of);
  out.per_remote_node = nodes > 1 ? t * copies.remote_nodes / (nodes - 1) * bytes_per_copy : 0;
  // Each GPU of a node lands copies from one sender of every node (its own included) and
  // forwards them to the node's other GPUs.
  out.per_node_peer =
      gpn > 1 ? t * copies.nvlink_copies / (nodes * double(gpn - 1)) * nodes * bytes_per_copy : 0;
  return out;
}

ForwardCost price_forward(const InferenceScenario& s, const ForwardShape& shape,
                          const models::ComputeCostModel& compute) {
  const auto& m = s.model;
  const auto& plan = s.serve;
  const Precision p = plan.gemm_precision;
  const int tp = plan.attention_tp;
  const int gpn = s.cluster.node.gpus;
  ForwardCost f;
  f.gpus_per_node_in_group = std::min(shape.ep, gpn);
  f.nodes_in_group = std::max(1, shape.ep / gpn);
  link_rates(s, f);

  const double t = shape.tokens;  // this GPU's tokens (MoE part)
  const double T = t * tp;        // its attention group's tokens (attention runs on all)
  const double seqs = shape.sequences * tp;
  const int heads = m.heads / tp;
  const double h = m.hidden;
  const double kv_layer =
      double(models::kv_cache_bytes_per_token_per_layer(m, plan.kv_bytes_per_element));
  const bool mla = m.attention == models::AttentionKind::kMultiLatent;
  // Tokens each new token attends to: the cache, and in prefill the chunk's own causal prefix.
  const double chunk_per_sequence = shape.sequences > 0 ? t / shape.sequences : t;
  const double keys = shape.context + (shape.prefill ? chunk_per_sequence / 2 : 1);
  const double nvlink = f.nvlink_GBps * 1e9;
  const double nvlink_latency = s.calibration.latency.nvlink_us * 1e-6;

  // Prefill's all-to-all kernels hold SMs beside compute (its overlapped micro-batches keep
  // them running): every compute kernel of a prefill forward runs on the rest.
  models::KernelContext context;
  if (shape.prefill && plan.prefill_comm_sms > 0 &&
      f.nodes_in_group * f.gpus_per_node_in_group > 1) {
    context.sms = std::max(1, s.gpu.sms - plan.prefill_comm_sms);
  }
  const int layers = m.layers + plan.mtp_depth;
  for (int layer = 0; layer < layers; ++layer) {
    LayerServeCost c;
    const bool is_mtp = layer >= m.layers;
    c.moe = m.is_moe() && (is_mtp || layer >= m.dense_layers);
    Kernels a(compute, c.kernels, context);
    // Attention, on the attention group's T tokens with heads / tp.
    if (tp > 1) {
      c.attention_s += a.transfer("tensor-parallel all-gather (attention input)",
                                  T * h * 2 * (tp - 1) / tp, nvlink, nvlink_latency);
    }
    c.attention_s += a.memory("rmsnorm (attention input)", T * h * 2 * 2);
    if (mla) {
      double q_in = h;
      if (m.q_lora_rank > 0) {
        c.attention_s += a.gemm("gemm: MLA q down-projection", T, m.q_lora_rank, h, p);
        c.attention_s += a.memory("rmsnorm (q latent)", T * m.q_lora_rank * 2 * 2);
        q_in = m.q_lora_rank;
      }
      c.attention_s += a.gemm("gemm: MLA q up-projection", T,
                              double(heads) * (m.head_dim + m.rope_head_dim), q_in, p);
      c.attention_s +=
          a.gemm("gemm: MLA kv down-projection", T, m.kv_lora_rank + m.rope_head_dim, h, p);
      c.attention_s += a.memory(
          "rmsnorm and rotary (kv latent, q rope)",
          T * (m.kv_lora_rank + m.rope_head_dim) * 2 * 2 + T * heads * m.rope_head_dim * 2 * 2);
      if (!shape.prefill) {
        // Absorbed: the query into the latent space, attention over the latent cache, the
        // output back out of it (batched per head, BF16).
        c.attention_s += a.gemm("gemm: absorbed query into the latent (W_UK)", T, m.kv_lora_rank,
                                m.head_dim, Precision::kBf16, heads);
        c.attention_s += a.attention(
            "attention: MLA decode over the latent cache (FlashMLA)",
            T * heads / double(m.heads) *
                models::decode_attention_flops_per_token(m, std::llround(keys)),
            seqs * keys * kv_layer + T * heads * (m.kv_lora_rank + m.rope_head_dim) * 2.0 * 2);
        c.attention_s += a.gemm("gemm: absorbed output out of the latent (W_UV)", T, m.v_head_dim,
                                m.kv_lora_rank, Precision::kBf16, heads);
      } else {
        // Prefill: keys and values decompressed from the latent, attention over whole chunks.
        c.attention_s += a.gemm("gemm: MLA kv up-projection", T,
                                double(heads) * (m.head_dim + m.v_head_dim), m.kv_lora_rank, p);
        const int qk = m.head_dim + m.rope_head_dim;
        c.attention_s += a.prefill_attention(
            "attention forward (prefill chunk)", 2.0 * T * heads * keys * (qk + m.v_head_dim),
            T * heads * (2.0 * qk + m.v_head_dim) * 2, qk, heads,
            int(std::llround(chunk_per_sequence)), int(std::llround(seqs)));
      }
      c.attention_s +=
          a.gemm("gemm: attention output projection", T, h, double(heads) * m.v_head_dim, p);
    } else {
      const int kv_heads = std::max(1, m.kv_heads / tp);
      c.attention_s +=
          a.gemm("gemm: qkv projection", T, double(heads + 2 * kv_heads) * m.head_dim, h, p);
      c.attention_s += a.memory("rotary embedding", T * (heads + kv_heads) * m.head_dim * 2 * 2);
      const double flops = 2.0 * T * heads * keys * (m.head_dim + m.v_head_dim);
      if (!shape.prefill) {
        c.attention_s +=
            a.attention("attention: decode over the KV cache", flops,
                        seqs * keys * kv_layer / std::min(tp, std::max(1, m.kv_heads)));
      } else {
        c.attention_s +=
            a.prefill_attention("attention forward (prefill chunk)", flops,
                                T * (heads + 2 * kv_heads) * m.head_dim * 2.0, m.head_dim, heads,
                                int(std::llround(chunk_per_sequence)), int(std::llround(seqs)));
      }
      c.attention_s +=
          a.gemm("gemm: attention output projection", T, h, double(heads) * m.v_head_dim, p);
    }
    if (tp > 1) {
      c.attention_s += a.transfer("tensor-parallel reduce-scatter (attention output)",
                                  T * h * 2 * (tp - 1) / tp, nvlink, nvlink_latency);
    }
    c.attention_s += a.memory("residual add and rmsnorm (FFN input)", t * h * 2 * 4);
    Kernels e(compute, c.kernels, context);
    if (c.moe) {
      const int instances = m.routed_experts + plan.redundant_experts;
      const int per_gpu = std::max(1, instances / shape.ep);
      c.attention_s += a.gemm("gemm: gate (bf16)", t, m.routed_experts, h, Precision::kBf16);
      c.attention_s += a.memory("gate scores and top-k", t * m.routed_experts * 4 * 3);
      // Routed experts at a balanced load: every instance gets the same share of the copies.
      const double rows = t * m.experts_per_token * shape.ep / instances;
      const double ffn = m.expert_ffn_dim;
      c.routed_s +=
          e.gemm("grouped gemm: routed experts gate and up", rows, 2 * ffn, h, p, per_gpu);
      c.routed_s += e.memory("swiglu (routed experts)", rows * per_gpu * ffn * 2 * 3);
      c.routed_s += e.gemm("grouped gemm: routed experts down", rows, h, ffn, p, per_gpu);
      c.experts_s += c.routed_s;
      if (m.shared_experts > 0) {
        const double shared = ffn * m.shared_experts;
        c.experts_s += e.gemm("gemm: shared experts gate and up", t, 2 * shared, h, p);
        c.experts_s += e.memory("swiglu (shared experts)", t * shared * 2 * 3);
        c.experts_s += e.gemm("gemm: shared experts down", t, h, shared, p);
      }
      c.experts_s += e.memory("combine: weighted sum of the returned copies",
                              t * (m.experts_per_token + 1) * h * 2);
      const double dispatch_copy = p == Precision::kFp8 ? dispatch_bytes_per_copy_fp8(m.hidden)
                                                        : combine_bytes_per_copy_bf16(m.hidden);
      c.dispatch =
          exchange_bytes(s, shape, dispatch_copy, f.nodes_in_group, f.gpus_per_node_in_group);
      c.combine = exchange_bytes(s, shape, combine_bytes_per_copy_bf16(m.hidden), f.nodes_in_group,
                                 f.gpus_per_node_in_group);
      auto stage_s = [&](const AllToAllBytes& x) {
        const double ib = x.per_remote_node * (f.nodes_in_group - 1) / (f.ib_GBps * 1e9);
        const double nv = x.per_node_peer * (f.gpus_per_node_in_group - 1) / nvlink;
        return ib + nv + f.latency_s;
      };
      c.dispatch_s = stage_s(c.dispatch);
      c.combine_s = stage_s(c.combine);
    } else {
      const double ffn = m.ffn_dim;
      c.experts_s += e.gemm("gemm: FFN gate and up", t, 2 * ffn, h, p);
      c.experts_s += e.memory("swiglu", t * ffn * 2 * 3);
      c.experts_s += e.gemm("gemm: FFN down", t, h, ffn, p);
      c.experts_s += e.memory("residual add", t * h * 2 * 3);
    }
    f.layers.push_back(std::move(c));
  }
  // Once per forward: the final norm, the output head and sampling over the sequences' last
  // tokens (decode: every new token is scored), and each MTP module's input projection.
  Kernels head(compute, f.head_kernels);
  const double scored = shape.prefill ? shape.sequences : t;
  f.head_s += head.memory("rmsnorm (final)", t * h * 2 * 2);
  f.head_s += head.gemm("gemm: output head (bf16)", scored, m.vocab, h, Precision::kBf16);
  f.head_s += head.memory("softmax and sampling", scored * m.vocab * 4 * 2);
  for (int d = 0; d < plan.mtp_depth; ++d) {
    f.head_s += head.gemm("gemm: MTP projection of [embedding; hidden]", t, h, 2 * h, p);
    f.head_s += head.gemm("gemm: MTP output head (bf16)", scored, m.vocab, h, Precision::kBf16);
  }
  return f;
}

double apply_expert_load(const InferenceScenario& s, ForwardCost& cost, int ep) {
  // A balanced router loads every instance alike, redundant ones included: nothing to sample.
  if (s.serve.routing.kind == RoutingSpec::Kind::kBalanced) return 1.0;
  ExpertLoadParams params;
  params.model = s.model;
  params.ep = ep;
  params.gpus_per_node = cost.gpus_per_node_in_group;
  params.max_nodes_per_token =
      s.serve.max_nodes_per_token > 0 ? s.serve.max_nodes_per_token : s.model.max_groups_per_token;
  params.routing = s.serve.routing;
  params.routing.redundant_experts = s.serve.redundant_experts;
  const ExpertLoad load = expert_load(params);
  if (load.factor.empty()) return 1.0;
  for (std::size_t l = 0; l < cost.layers.size(); ++l) {
    LayerServeCost& layer = cost.layers[l];
    if (!layer.moe) continue;
    const auto& row = load.factor[std::min(l, load.factor.size() - 1)];
    if (row.empty()) continue;
    layer.load = row;
    layer.busiest = *std::max_element(row.begin(), row.end());
  }
  return load.mean_max_over_mean;
}

double weight_bytes_per_gpu(const InferenceScenario& s, int ep) {
  const auto& m = s.model;
  const double w = element_bytes(s.serve.gemm_precision);
  const int tp = s.serve.attention_tp;
  const int layers = m.layers + s.serve.mtp_depth;
  double bytes = 0;
  for (int layer = 0; layer < layers; ++layer) {
    const bool moe = m.is_moe() && (layer >= m.layers || layer >= m.dense_layers);
    bytes += double(models::attention_params(m)) / tp * w;
    if (moe) {
      const int instances = m.routed_experts + s.serve.redundant_experts;
      bytes += double(instances) / ep * models::expert_params(m) * w;
      bytes += double(m.shared_experts) * models::expert_params(m) * w;
      bytes += double(models::router_params(m)) * 2;
    } else {
      bytes += double(models::dense_ffn_params(m)) * w;
    }
  }
  // Embedding and output head (BF16), shared by the MTP modules.
  bytes += 2.0 * double(m.vocab) * m.hidden * 2;
  return bytes;
}

double kv_bytes_per_sequence_per_gpu(const InferenceScenario& s, double context) {
  const auto& m = s.model;
  const int layers = m.layers + s.serve.mtp_depth;
  const double per_token =
      double(models::kv_cache_bytes_per_token_per_layer(m, s.serve.kv_bytes_per_element)) * layers;
  // Each GPU of an attention group carries the group's sequences: MLA's latent is every head's,
  // so each GPU holds all of it; GQA splits the KV heads over the group.
  const int tp = s.serve.attention_tp;
  const double share = m.attention == models::AttentionKind::kMultiLatent
                           ? tp
                           : double(tp) / std::min(tp, std::max(1, m.kv_heads));
  return per_token * context * share;
}

}  // namespace codesim::workloads
