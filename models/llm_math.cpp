#include "models/llm_math.hpp"

namespace codesim::models {

int64_t attention_params(const ModelConfig& m) {
  const int64_t h = m.hidden;
  const int64_t heads = m.heads;
  if (m.attention == AttentionKind::kMultiLatent) {
    const int64_t qk_dim = m.head_dim + m.rope_head_dim;
    int64_t q = 0;
    if (m.q_lora_rank > 0) {
      q = h * m.q_lora_rank + m.q_lora_rank /* q_a norm */ +
          int64_t{m.q_lora_rank} * heads * qk_dim;
    } else {
      q = h * heads * qk_dim;
    }
    const int64_t kv_down = h * (m.kv_lora_rank + m.rope_head_dim) + m.kv_lora_rank /* norm */;
    const int64_t kv_up = int64_t{m.kv_lora_rank} * heads * (m.head_dim + m.v_head_dim);
    const int64_t out = heads * m.v_head_dim * h;
    return q + kv_down + kv_up + out;
  }
  const int64_t q = h * heads * m.head_dim;
  const int64_t kv = h * int64_t{m.kv_heads} * (m.head_dim + m.v_head_dim);
  const int64_t out = heads * m.v_head_dim * h;
  return q + kv + out;
}

static int64_t ffn_params(const ModelConfig& m, int64_t width) {
  const int64_t matrices = m.ffn == FfnKind::kSwiGlu ? 3 : 2;
  return matrices * m.hidden * width;
}

int64_t dense_ffn_params(const ModelConfig& m) {
  return ffn_params(m, m.ffn_dim);
}
int64_t expert_params(const ModelConfig& m) {
  return ffn_params(m, m.expert_ffn_dim);
}

int64_t router_params(const ModelConfig& m) {
  // Gate weights plus the per-expert bias of auxiliary-loss-free balancing.
  return m.is_moe() ? int64_t{m.routed_experts} * m.hidden + m.routed_experts : 0;
}

int64_t norm_params_per_layer(const ModelConfig& m) {
  return 2 * int64_t{m.hidden};
}

static bool is_dense_ffn_layer(const ModelConfig& m, int layer) {
  return !m.is_moe() || (layer < m.layers && layer < m.dense_layers);
}

int64_t layer_routed_expert_params(const ModelConfig& m, int layer) {
  return is_dense_ffn_layer(m, layer) ? 0 : int64_t{m.routed_experts} * expert_params(m);
}

int64_t layer_params(const ModelConfig& m, int layer) {
  int64_t ffn = 0;
  if (is_dense_ffn_layer(m, layer)) {
    ffn = dense_ffn_params(m);
  } else {
    ffn = int64_t{m.shared_experts} * expert_params(m) + router_params(m) +
          layer_routed_expert_params(m, layer);
  }
  return attention_params(m) + norm_params_per_layer(m) + ffn;
}

int64_t mtp_module_params(const ModelConfig& m) {
  // Two RMSNorms (of the hidden state and of the embedding), a 2h -> h projection, one block.
  const int64_t h = m.hidden;
  return 2 * h + 2 * h * h + layer_params(m, m.layers);
}

ParamCounts count_params(const ModelConfig& m) {
  ParamCounts c;
  c.embedding = int64_t{m.vocab} * m.hidden;
  c.output_head = m.tied_embeddings ? 0 : int64_t{m.vocab} * m.hidden;
  const int64_t final_norm = m.hidden;
  c.total = c.embedding + c.output_head + final_norm;
  // Activated: the output head multiplies every token even when tied to the embedding.
  c.activated = int64_t{m.vocab} * m.hidden + final_norm;
  for (int layer = 0; layer < m.layers; ++layer) {
    const int64_t all = layer_params(m, layer);
    c.total += all;
    const int64_t routed = layer_routed_expert_params(m, layer);
    const int64_t routed_active = routed == 0 ? 0 : int64_t{m.experts_per_token} * expert_params(m);
    c.activated += all - routed + routed_active;
  }
  c.mtp = int64_t{m.mtp_depth} * mtp_module_params(m);
  return c;
}

int attention_qk_dim(const ModelConfig& m) {
  return m.attention == AttentionKind::kMultiLatent ? m.head_dim + m.rope_head_dim : m.head_dim;
}

int attention_v_dim(const ModelConfig& m) {
  return m.v_head_dim;
}

double attention_core_forward_flops_per_token(const ModelConfig& m, int seq_len,
                                              AttentionMask mask) {
  const double keys = mask == AttentionMask::kCausal ? seq_len / 2.0 : double(seq_len);
  return 2.0 * keys * m.heads * (attention_qk_dim(m) + attention_v_dim(m));
}

double forward_flops_per_token(const ModelConfig& m, int seq_len, AttentionMask mask) {
  const ParamCounts c = count_params(m);
  // Norms and the router bias are not multiplied; everything else activated is a matmul weight.
  const double norms = double(m.layers) * norm_params_per_layer(m) + m.hidden;
  const double bias = m.is_moe() ? double(m.moe_layers()) * m.routed_experts : 0.0;
  const double matmul_weights = double(c.activated) - norms - bias;
  return 2.0 * matmul_weights + m.layers * attention_core_forward_flops_per_token(m, seq_len, mask);
}

double train_flops_per_token(const ModelConfig& m, int seq_len, AttentionMask mask) {
  return 3.0 * forward_flops_per_token(m, seq_len, mask);
}

int64_t kv_cache_bytes_per_token_per_layer(const ModelConfig& m, int bytes_per_element) {
  const int64_t elements = m.attention == AttentionKind::kMultiLatent
                               ? int64_t{m.kv_lora_rank} + m.rope_head_dim
                               : int64_t{m.kv_heads} * (m.head_dim + m.v_head_dim);
  return elements * bytes_per_element;
}

int64_t kv_cache_bytes_per_token(const ModelConfig& m, int bytes_per_element) {
  return kv_cache_bytes_per_token_per_layer(m, bytes_per_element) * m.layers;
}

double decode_attention_flops_per_token(const ModelConfig& m, int64_t context) {
  const double per_key = m.attention == AttentionKind::kMultiLatent
                             ? 2.0 * m.kv_lora_rank + m.rope_head_dim
                             : double(attention_qk_dim(m) + attention_v_dim(m));
  return 2.0 * double(context) * m.heads * per_key;
}

}  // namespace codesim::models
