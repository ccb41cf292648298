#include "workloads/step/chunk_costs.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "models/llm_math.hpp"
#include "workloads/pipeline/bubble.hpp"
#include "workloads/moe/expected_traffic.hpp"

namespace codesim::workloads {

using models::GemmShape;
using models::Precision;

ChunkCost& ChunkCost::operator+=(const ChunkCost& o) {
  forward.compute_s += o.forward.compute_s;
  forward.comm_s += o.forward.comm_s;
  backward_input.compute_s += o.backward_input.compute_s;
  backward_input.comm_s += o.backward_input.comm_s;
  backward_weight_s += o.backward_weight_s;
  return *this;
}

double overlapped_pair_slowdown(const models::GpuSpec& gpu, int comm_sms, Schedule schedule) {
  if (!overlaps_forward_and_backward(schedule) || comm_sms <= 0) return 1.0;
  return double(gpu.sms) / double(gpu.sms - comm_sms);
}

namespace {

// Backward of attention's matmuls: dQ, dK, dV and dP, plus recomputing the scores
// (FlashAttention's backward), 2.5x the forward FLOPs.
constexpr double kAttentionBackwardFactor = 2.5;

struct Adder {
  const models::ComputeCostModel& compute;
  ChunkCost& cost;

  // A linear layer: forward, then data and weight gradients with the forward's time (same
  // FLOPs; the calibration tables measure forward shapes only).
  void gemm(GemmShape shape, Precision precision, bool recomputed = false) {
    const double t = compute.gemm_seconds(shape, precision);
    cost.forward.compute_s += t;
    cost.backward_input.compute_s += t + (recomputed ? t : 0.0);
    cost.backward_weight_s += t;
  }
  void grouped(int groups, int64_t m_per_group, int64_t n, int64_t k, Precision precision) {
    const double t = compute.grouped_gemm_seconds(groups, m_per_group, n, k, precision);
    cost.forward.compute_s += t;
    cost.backward_input.compute_s += t;
    cost.backward_weight_s += t;
  }
  // A memory-bound element-wise kernel: backward reads and writes about twice as much.
  void memory(double bytes, bool recomputed = false) {
    const double t = compute.memory_seconds(bytes);
    cost.forward.compute_s += t;
    cost.backward_input.compute_s += 2 * t + (recomputed ? t : 0.0);
  }
  void attention(double flops) {
    const double t = compute.attention_seconds(flops);
    cost.forward.compute_s += t;
    cost.backward_input.compute_s += kAttentionBackwardFactor * t;
  }
};

}  // namespace

ChunkCostParams chunk_cost_params(const TrainingScenario& s) {
  ChunkCostParams p;
  p.model = s.model;
  p.gpu = s.gpu;
  p.calibration = s.calibration;
  p.node = s.cluster.node;
  p.tp = s.plan.tp;
  p.ep = s.plan.ep;
  p.max_nodes_per_token = s.max_nodes_per_token();
  p.sequence_length = s.plan.sequence_length;
  p.tokens = s.tokens_per_micro_batch();
  p.gemm_precision = s.plan.gemm_precision;
  p.recompute = s.plan.recompute;
  return p;
}

ChunkCostModel::ChunkCostModel(ChunkCostParams params)
    : params_(std::move(params)),
      compute_(params_.gpu, params_.calibration),
      tokens_(params_.tokens) {}

void ChunkCostModel::add_attention(ChunkCost& cost) const {
  const auto& m = params_.model;
  const auto& plan = params_;
  const int64_t t = tokens_;
  const int64_t h = m.hidden;
  const int64_t heads = m.heads / plan.tp;
  const Precision p = plan.gemm_precision;
  Adder add{compute_, cost};
  add.memory(4.0 * t * h, plan.recompute.rmsnorm);  // RMSNorm: read and write BF16
  if (m.attention == models::AttentionKind::kMultiLatent) {
    const bool up_recomputed = plan.recompute.mla_up_projection;
    const int64_t qk = m.head_dim + m.rope_head_dim;
    if (m.q_lora_rank > 0) {
      // The down-projections of Q and KV run as one GEMM (DeepGEMM's N = 2112 for V3).
      add.gemm({t, m.q_lora_rank + m.kv_lora_rank + m.rope_head_dim, h}, p);
      add.memory(4.0 * t * (m.q_lora_rank + m.kv_lora_rank), plan.recompute.rmsnorm);
      add.gemm({t, heads * qk, m.q_lora_rank}, p, up_recomputed);
    } else {
      add.gemm({t, heads * qk, h}, p);
      add.gemm({t, m.kv_lora_rank + m.rope_head_dim, h}, p);
      add.memory(4.0 * t * m.kv_lora_rank, plan.recompute.rmsnorm);
    }
    add.gemm({t, heads * (m.head_dim + m.v_head_dim), m.kv_lora_rank}, p, up_recomputed);
  } else {
    const int64_t kv_heads = std::max<int64_t>(1, m.kv_heads / plan.tp);
    add.gemm({t, heads * m.head_dim + kv_heads * (m.head_dim + m.v_head_dim), h}, p);
  }
  const double core_flops_per_token =
      models::attention_core_forward_flops_per_token(m, params_.sequence_length,
                                                     models::AttentionMask::kCausal) /
      plan.tp;
  add.attention(core_flops_per_token * double(t));
  add.gemm({t, h, heads * m.v_head_dim}, p);
  add.memory(6.0 * t * h);  // residual add: two reads, one write
  if (plan.tp > 1) {
    // Megatron TP: one all-reduce of the layer output forward and one backward, over NVLink.
    const double bytes = 2.0 * t * h * 2.0 * (plan.tp - 1) / plan.tp;
    const double rate = achieved_nvlink_GBps() * 1e9;
    cost.forward.comm_s += bytes / rate;
    cost.backward_input.comm_s += bytes / rate;
  }
}

void ChunkCostModel::add_dense_ffn(ChunkCost& cost) const {
  const auto& m = params_.model;
  const auto& plan = params_;
  const int64_t t = tokens_;
  const int64_t h = m.hidden;
  const int64_t ffn = m.ffn_dim / plan.tp;
  const int up_matrices = m.ffn == models::FfnKind::kSwiGlu ? 2 : 1;
  Adder add{compute_, cost};
  add.memory(4.0 * t * h, plan.recompute.rmsnorm);
  add.gemm({t, up_matrices * ffn, h}, plan.gemm_precision);
  add.memory(2.0 * t * (up_matrices + 1) * ffn);  // activation function
  add.gemm({t, h, ffn}, plan.gemm_precision);
  add.memory(6.0 * t * h);
}

void ChunkCostModel::add_moe_ffn(ChunkCost& cost, ChunkCost& routed) const {
  const auto& m = params_.model;
  const auto& plan = params_;
  const int64_t t = tokens_;
  const int64_t h = m.hidden;
  const int64_t ef = m.expert_ffn_dim;
  const int up_matrices = m.ffn == models::FfnKind::kSwiGlu ? 2 : 1;
  Adder add{compute_, cost};
  add.memory(4.0 * t * h, plan.recompute.rmsnorm);
  // The gate stays in BF16, as in DeepSeek-V3's FP8 recipe.
  add.gemm({t, m.routed_experts, h}, Precision::kBf16);
  // Routed experts, balanced: every expert of the EP group receives ep*t*k/E token copies.
  const int experts_per_gpu = m.routed_experts / plan.ep;
  const int64_t rows_per_expert =
      std::max<int64_t>(1, int64_t(plan.ep) * t * m.experts_per_token / m.routed_experts);
  Adder experts{compute_, routed};
  experts.grouped(experts_per_gpu, rows_per_expert, up_matrices * ef, h, plan.gemm_precision);
  experts.memory(2.0 * experts_per_gpu * rows_per_expert * (up_matrices + 1) * ef);
  experts.grouped(experts_per_gpu, rows_per_expert, h, ef, plan.gemm_precision);
  if (m.shared_experts > 0) {
    add.gemm({t, up_matrices * ef * m.shared_experts, h}, plan.gemm_precision);
    add.memory(2.0 * t * (up_matrices + 1) * ef * m.shared_experts);
    add.gemm({t, h, ef * m.shared_experts}, plan.gemm_precision);
  }
  add.memory(2.0 * t * h * (m.experts_per_token + 2));  // weighted sum of the combined copies
}

double ChunkCostModel::achieved_nvlink_GBps() const {
  // The calibration's achieved fraction of its GPU's NVLink, applied to this node's NVLink.
  const auto& cal = params_.calibration;
  return params_.node.nvlink_unidirectional_GBps * cal.nvlink_achieved_GBps /
         cal.measured_on.nvlink_unidirectional_GBps;
}

EpCommCost ChunkCostModel::ep_cost(double dispatch_bytes, double combine_bytes) const {
  const auto& m = params_.model;
  const auto& plan = params_;
  const auto& cal = params_.calibration;
  const auto& node = params_.node;
  EpCommCost out;
  if (!m.is_moe() || plan.ep <= 1) return out;
  const EpCopiesPerToken copies = expected_copies_per_token(
      {m.routed_experts, m.experts_per_token, plan.ep, node.gpus, params_.max_nodes_per_token});
  out.nvlink_GBps = achieved_nvlink_GBps();

  // Achieved per-GPU IB rate: DeepEP's measurement at the nearest EP size, scaled to this NIC.
  const models::EpBandwidthMeasurement* nearest = nullptr;
  for (const auto& row : cal.ep_all_to_all) {
    if (row.over_nvlink) continue;
    if (!nearest || std::abs(std::log2(double(row.ep) / plan.ep)) <
                        std::abs(std::log2(double(nearest->ep) / plan.ep))) {
      nearest = &row;
    }
  }
  const double nic_scale =
      params_.node.nic_bytes_per_second_per_gpu() * 8.0 / 1e9 / cal.nic_line_rate_Gbps;
  const double dispatch_ib_GBps = nearest ? nearest->dispatch_GBps * nic_scale : 0.0;
  const double combine_ib_GBps = nearest ? nearest->combine_GBps * nic_scale : 0.0;
  out.ib_GBps = dispatch_ib_GBps;

  const double t = double(tokens_);
  auto phase = [&](double bytes_per_copy, double ib_GBps) {
    const double ib_bytes = t * copies.remote_nodes * bytes_per_copy;
    const double nvlink_bytes = t * copies.nvlink_copies * bytes_per_copy;
    const double ib_s = ib_bytes > 0 ? ib_bytes / (ib_GBps * 1e9) : 0.0;
    // IB sends and NVLink forwarding run concurrently, as in DeepEP's normal kernels.
    return std::max(ib_s, nvlink_bytes / (out.nvlink_GBps * 1e9));
  };
  out.dispatch_s = phase(dispatch_bytes, dispatch_ib_GBps);
  out.combine_s = phase(combine_bytes, combine_ib_GBps);
  out.ib_bytes_per_token = copies.remote_nodes * (dispatch_bytes + combine_bytes);
  out.nvlink_bytes_per_token = copies.nvlink_copies * (dispatch_bytes + combine_bytes);
  return out;
}

EpCommCost ChunkCostModel::ep_forward() const {
  const int h = params_.model.hidden;
  const Precision p = params_.gemm_precision;
  return ep_cost(copy_bytes(Exchange::kForwardDispatch, p, h),
                 copy_bytes(Exchange::kForwardCombine, p, h));
}

EpCommCost ChunkCostModel::ep_backward() const {
  const int h = params_.model.hidden;
  const Precision p = params_.gemm_precision;
  return ep_cost(copy_bytes(Exchange::kBackwardCombine, p, h),
                 copy_bytes(Exchange::kBackwardDispatch, p, h));
}

double ChunkCostModel::pp_send_s() const {
  const double bytes = 2.0 * double(tokens_) * params_.model.hidden;
  return bytes / params_.node.nic_bytes_per_second_per_gpu();
}

bool ChunkCostModel::moe_layer(int layer) const {
  const auto& m = params_.model;
  return m.is_moe() && !(layer < m.layers && layer < m.dense_layers);
}

LayerParts ChunkCostModel::layer_parts(int layer) const {
  LayerParts parts;
  add_attention(parts.attention);
  parts.moe = moe_layer(layer);
  if (parts.moe) {
    add_moe_ffn(parts.ffn, parts.routed);
  } else {
    add_dense_ffn(parts.ffn);
  }
  return parts;
}

ChunkCost ChunkCostModel::layer(int layer) const {
  const LayerParts parts = layer_parts(layer);
  ChunkCost cost = parts.attention;
  cost += parts.ffn;
  cost += parts.routed;
  if (parts.moe) {
    const EpCommCost fwd = ep_forward();
    const EpCommCost bwd = ep_backward();
    cost.forward.comm_s += fwd.dispatch_s + fwd.combine_s;
    cost.backward_input.comm_s += bwd.dispatch_s + bwd.combine_s;
  }
  return cost;
}

ChunkCost ChunkCostModel::embedding() const {
  ChunkCost cost;
  Adder add{compute_, cost};
  add.memory(4.0 * double(tokens_) * params_.model.hidden);
  return cost;
}

ChunkCost ChunkCostModel::output_head() const {
  const auto& m = params_.model;
  ChunkCost cost;
  Adder add{compute_, cost};
  const double t = double(tokens_);
  add.memory(4.0 * t * m.hidden);
  // The output head stays in BF16 (DeepSeek-V3 sec 3.3.1); vocabulary split over TP.
  add.gemm({tokens_, m.vocab / params_.tp, m.hidden}, Precision::kBf16);
  add.memory(3.0 * 4.0 * t * m.vocab / params_.tp);  // softmax cross-entropy, FP32
  return cost;
}

ChunkCost ChunkCostModel::mtp_module_extras() const {
  const auto& m = params_.model;
  ChunkCost cost;
  Adder add{compute_, cost};
  add.memory(8.0 * double(tokens_) * m.hidden);  // two RMSNorms
  add.gemm({tokens_, m.hidden, 2 * int64_t{m.hidden}}, params_.gemm_precision);
  cost += output_head();
  return cost;
}

ChunkCost ChunkCostModel::mtp_module() const {
  ChunkCost cost = mtp_module_extras();
  cost += layer(params_.model.layers);
  return cost;
}

ChunkCost ChunkCostModel::stage(const Stage& stage) const {
  ChunkCost cost;
  if (stage.embedding) cost += embedding();
  for (int l = stage.first_layer; l < stage.first_layer + stage.layers; ++l) cost += layer(l);
  for (int i = 0; i < stage.mtp_modules; ++i) cost += mtp_module();
  if (stage.output_head) cost += output_head();
  return cost;
}

}  // namespace codesim::workloads
