#include "models/llm.hpp"

namespace codesim::models {
namespace {

ModelConfig deepseek_v3() {
  ModelConfig m;
  m.name = "deepseek-v3";
  m.layers = 61;
  m.hidden = 7168;
  m.vocab = 129280;
  m.attention = AttentionKind::kMultiLatent;
  m.heads = 128;
  m.kv_heads = 128;
  m.head_dim = 128;
  m.v_head_dim = 128;
  m.rope_head_dim = 64;
  m.kv_lora_rank = 512;
  m.q_lora_rank = 1536;
  m.ffn_dim = 18432;
  m.dense_layers = 3;
  m.routed_experts = 256;
  m.shared_experts = 1;
  m.experts_per_token = 8;
  m.expert_ffn_dim = 2048;
  m.expert_groups = 8;
  m.max_groups_per_token = 4;
  m.mtp_depth = 1;
  m.source =
      "DeepSeek-V3 Technical Report (arXiv 2412.19437) sec 4.2; inference/configs/config_671B.json";
  return m;
}

ModelConfig deepseek_v2() {
  ModelConfig m;
  m.name = "deepseek-v2";
  m.layers = 60;
  m.hidden = 5120;
  m.vocab = 102400;
  m.attention = AttentionKind::kMultiLatent;
  m.heads = 128;
  m.kv_heads = 128;
  m.head_dim = 128;
  m.v_head_dim = 128;
  m.rope_head_dim = 64;
  m.kv_lora_rank = 512;
  m.q_lora_rank = 1536;
  m.ffn_dim = 12288;  // intermediate_size of the dense first layer, DeepSeek-V2 config.json
  m.dense_layers = 1;
  m.routed_experts = 160;
  m.shared_experts = 2;
  m.experts_per_token = 6;
  m.expert_ffn_dim = 1536;
  m.expert_groups = 8;
  m.max_groups_per_token = 3;
  m.source = "DeepSeek-V2 Technical Report (arXiv 2405.04434); config.json";
  return m;
}

ModelConfig dense_gqa(std::string name, int layers, int hidden, int heads, int kv_heads,
                      int ffn_dim, int vocab, std::string source) {
  ModelConfig m;
  m.name = std::move(name);
  m.layers = layers;
  m.hidden = hidden;
  m.vocab = vocab;
  m.attention = AttentionKind::kMultiHead;
  m.heads = heads;
  m.kv_heads = kv_heads;
  m.head_dim = hidden / heads;
  m.v_head_dim = hidden / heads;
  m.ffn_dim = ffn_dim;
  m.source = std::move(source);
  return m;
}

const std::vector<ModelConfig>& presets() {
  static const std::vector<ModelConfig> kPresets = {
      deepseek_v3(),
      deepseek_v2(),
      dense_gqa("llama-3.1-405b", 126, 16384, 128, 8, 53248, 128256,
                "Llama 3.1 405B model card (GQA, 8 KV heads)"),
      dense_gqa("qwen2.5-72b", 80, 8192, 64, 8, 29568, 152064,
                "Qwen2.5-72B model card (GQA, 8 KV heads)"),
  };
  return kPresets;
}

}  // namespace

const std::vector<ModelConfig>& model_presets() {
  return presets();
}

}  // namespace codesim::models
