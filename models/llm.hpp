#pragma once
// LLM architectures: the dimensions that parameter, FLOP and memory math is computed from.

#include <string>
#include <vector>

namespace codesim::models {

enum class AttentionKind {
  kMultiHead,    // MHA or GQA: per-head K and V cached
  kMultiLatent,  // MLA: a compressed latent plus a decoupled RoPE key cached
};

enum class FfnKind {
  kSwiGlu,  // gate, up and down projections
  kGelu,    // up and down projections
};

struct ModelConfig {
  std::string name;
  int layers = 0;
  int hidden = 0;
  int vocab = 0;
  bool tied_embeddings = false;

  AttentionKind attention = AttentionKind::kMultiHead;
  int heads = 0;
  int kv_heads = 0;       // GQA groups; equals heads for MHA; unused by MLA
  int head_dim = 0;       // Q/K head dim (MLA: the non-RoPE part)
  int v_head_dim = 0;     // V head dim
  int rope_head_dim = 0;  // MLA decoupled RoPE dim
  int kv_lora_rank = 0;   // MLA d_c
  int q_lora_rank = 0;    // MLA d_c'; 0 means Q is projected directly

  FfnKind ffn = FfnKind::kSwiGlu;
  int ffn_dim = 0;  // dense FFN width (all layers of a dense model, the first layers of an MoE)

  // Mixture of experts; routed_experts == 0 means a dense model.
  int dense_layers = 0;  // leading layers with a dense FFN
  int routed_experts = 0;
  int shared_experts = 0;
  int experts_per_token = 0;
  int expert_ffn_dim = 0;
  int expert_groups = 0;         // groups for group-limited routing (DeepSeek: one per node)
  int max_groups_per_token = 0;  // M of node-limited routing

  int mtp_depth = 0;  // multi-token prediction modules
  std::string source;

  bool is_moe() const { return routed_experts > 0; }
  int moe_layers() const { return is_moe() ? layers - dense_layers : 0; }
};

// The shipped presets (DeepSeek-V3, DeepSeek-V2, Llama 3.1 405B, Qwen2.5 72B), each under its own
// name; the command line's registry (cli/registry.hpp) is where a name is looked up.
const std::vector<ModelConfig>& model_presets();

}  // namespace codesim::models
