#include "workloads/pipeline/rank_memory.hpp"

#include "models/llm_math.hpp"
#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/pipeline_map.hpp"

namespace codesim::workloads {

MemoryParams memory_params(const TrainingScenario& s) {
  MemoryParams p;
  p.model = s.model;
  p.schedule = s.plan.schedule;
  p.pp = s.plan.pp;
  p.virtual_stages = s.plan.virtual_stages;
  p.tp = s.plan.tp;
  p.sequence_parallel = s.plan.sequence_parallel;
  p.ep = s.plan.ep;
  p.zero_stage = s.plan.zero_stage;
  p.gemm_precision = s.plan.gemm_precision;
  p.recompute = s.plan.recompute;
  p.dp = s.gradient_replicas();
  p.expert_dp = s.expert_dp();
  p.micro_batches = s.micro_batches();
  p.tokens_per_micro_batch = s.tokens_per_micro_batch();
  return p;
}

std::vector<MemoryItem> layer_activation_items(const MemoryParams& s, bool moe_layer) {
  const auto& m = s.model;
  const auto& plan = s;
  const double h = m.hidden;
  const double tp = plan.tp;
  const bool fp8 = plan.gemm_precision == models::Precision::kFp8;
  // Inputs of FP8 linear layers are cached in FP8 for their backward pass (V3 sec 3.3.2).
  const double linear_input = fp8 ? 1.0 : 2.0;
  const double heads = m.heads / tp;
  std::vector<MemoryItem> items;
  auto add = [&](std::string name, double bytes) {
    if (bytes > 0) items.push_back({std::move(name), bytes});
  };
  // With tp > 1, Megatron-style sequence parallelism splits the residual stream over the group;
  // without it every GPU of the group keeps the whole of it (Korthikanti et al. 2022, eq. 2-4).
  const double sp = plan.sequence_parallel ? tp : 1;
  if (plan.recompute.full) {
    // Korthikanti et al. 2022 sec 5: the layer's input only; its backward runs it again.
    add("layer input (BF16; the rest recomputed)", 2 * h / sp);
    return items;
  }

  add("attention residual input (BF16)", 2 * h / sp);
  add("attention RMSNorm output", plan.recompute.rmsnorm ? 0 : linear_input * h / sp);
  if (m.attention == models::AttentionKind::kMultiLatent) {
    add("MLA latents c_q, c_kv (up-projection inputs)",
        linear_input * (m.q_lora_rank + m.kv_lora_rank) + 2.0 * m.rope_head_dim);
    const double qkv = 2.0 * heads * (2.0 * (m.head_dim + m.rope_head_dim) + m.v_head_dim);
    add("MLA up-projected Q, K, V", plan.recompute.mla_up_projection ? 0 : qkv);
  } else {
    const double kv_heads = std::max(1.0, m.kv_heads / tp);
    add("Q, K, V", 2.0 * (heads * m.head_dim + kv_heads * (m.head_dim + m.v_head_dim)));
  }
  add("attention output (o_proj input, BF16)", 2.0 * heads * m.v_head_dim);
  add("softmax log-sum-exp (FP32)", 4.0 * heads);
  add("FFN residual input (BF16)", 2 * h / sp);
  add("FFN RMSNorm output", plan.recompute.rmsnorm ? 0 : linear_input * h / sp);
  const int up_matrices = m.ffn == models::FfnKind::kSwiGlu ? 2 : 1;
  // With FP8, the activation function's input is cached and its output recomputed (V3 3.3.2).
  auto ffn_items = [&](const std::string& what, double copies, double width) {
    add(what + " activation input", copies * linear_input * up_matrices * width);
    add(what + " down-projection input", fp8 ? 0 : copies * 2.0 * width);
  };
  if (moe_layer) {
    // Each GPU routes its own rows of the residual stream (layer_kernels.hpp, moe_tokens).
    add("router scores (FP32)", 4.0 * m.routed_experts / sp);
    const double copies = m.experts_per_token / sp;
    add("dispatched token copies (expert inputs)", copies * (fp8 ? h + h / 128 * 4 : 2 * h));
    ffn_items("routed experts'", copies, m.expert_ffn_dim);
    ffn_items("shared experts'", m.shared_experts, m.expert_ffn_dim / tp);
  } else {
    ffn_items("dense FFN", 1, m.ffn_dim / tp);
  }
  return items;
}

static double sum_bytes(const std::vector<MemoryItem>& items) {
  double total = 0;
  for (const auto& item : items) total += item.bytes_per_token;
  return total;
}

LayerActivationBytes layer_activation_bytes(const MemoryParams& s) {
  LayerActivationBytes out;
  for (int layer = 0; layer <= s.model.layers; ++layer) {
    out.layer_params.push_back(double(models::layer_params(s.model, layer)));
    out.routed_params.push_back(double(models::layer_routed_expert_params(s.model, layer)));
  }
  const PipelineMap map(s.schedule, s.pp, s.virtual_stages);
  for (int rank = 0; rank < s.pp; ++rank) out.stages_of_rank.push_back(map.stages_of(rank));
  out.dense = sum_bytes(layer_activation_items(s, false));
  out.moe = s.model.is_moe() ? sum_bytes(layer_activation_items(s, true)) : 0.0;
  // Full recomputation rebuilds one layer's activations at a time in the backward: the largest
  // layer's, for one micro-batch, on top of the inputs kept.
  if (s.recompute.full) {
    MemoryParams stored = s;
    stored.recompute.full = false;
    for (bool moe : {false, true}) {
      if (moe && !s.model.is_moe()) continue;
      out.recompute_working_set =
          std::max(out.recompute_working_set,
                   sum_bytes(layer_activation_items(stored, moe)) * s.tokens_per_micro_batch);
    }
  }
  return out;
}

StageParams stage_params(const MemoryParams& s, const Stage& st) {
  return stage_params(s, st, layer_activation_bytes(s));
}

StageParams stage_params(const MemoryParams& s, const Stage& st,
                         const LayerActivationBytes& activations) {
  const auto& m = s.model;
  const double dense_layer_act = activations.dense;
  const double moe_layer_act = activations.moe;
  StageParams out;
  if (st.embedding) out.dense += double(m.vocab) * m.hidden / s.tp;
  if (st.output_head) {
    out.dense += double(m.vocab) * m.hidden / s.tp + m.hidden;
    out.activation_bytes_per_token +=
        2.0 * m.hidden;  // final hidden state; fused CE keeps no logits
  }
  auto add_layer = [&](int layer) {
    const double routed = activations.routed_params[layer];
    out.dense += (activations.layer_params[layer] - routed) / s.tp;
    out.expert += routed / s.ep;
    out.activation_bytes_per_token += routed > 0 ? moe_layer_act : dense_layer_act;
  };
  for (int l = st.first_layer; l < st.first_layer + st.layers; ++l) add_layer(l);
  for (int i = 0; i < st.mtp_modules; ++i) {
    out.dense += (double(models::mtp_module_params(m)) - activations.layer_params[m.layers]) / s.tp;
    add_layer(m.layers);
    out.activation_bytes_per_token += 4.0 * m.hidden;  // MTP's two normalised inputs
  }
  return out;
}

RankMemory rank_memory(const MemoryParams& s, const std::vector<Stage>& stages, int rank) {
  return rank_memory(s, stages, rank, layer_activation_bytes(s));
}

RankMemory rank_memory(const MemoryParams& s, const std::vector<Stage>& stages, int rank,
                       const LayerActivationBytes& activations) {
  RankMemory r;
  r.rank = rank;
  double largest_stage_activation = 0;
  for (int index : activations.stages_of_rank[rank]) {
    const StageParams st = stage_params(s, stages[index], activations);
    r.dense_params += st.dense;
    r.expert_params += st.expert;
    largest_stage_activation = std::max(largest_stage_activation,
                                        st.activation_bytes_per_token * s.tokens_per_micro_batch);
  }

  const double params = r.dense_params + r.expert_params;
  r.weights_bytes = params * kWeightBytes;
  r.gradients_bytes = params * kGradientBytes;
  const bool zero = s.zero_stage >= 1;
  r.optimizer_shard_params =
      r.dense_params / (zero ? s.dp : 1) + r.expert_params / (zero ? s.expert_dp : 1);
  r.optimizer_bytes = kOptimizerBytes * r.optimizer_shard_params;
  r.activations_bytes =
      activations.recompute_working_set +
      activation_units_in_flight(s.schedule, s.pp, s.micro_batches, s.virtual_stages) *
          largest_stage_activation;
  r.reserved_bytes = kReservedBytes;
  return r;
}

RankMemory peak_rank_memory(const MemoryParams& s, const std::vector<Stage>& stages) {
  RankMemory peak;
  for (int rank = 0; rank < s.pp; ++rank) {
    RankMemory r = rank_memory(s, stages, rank);
    if (rank == 0 || r.total_bytes() > peak.total_bytes()) peak = r;
  }
  return peak;
}

}  // namespace codesim::workloads
