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

// GPT-3 175B (Brown et al., "Language Models are Few-Shot Learners", 2020, Table 2.1: 96
// layers, d_model 12288, 96 heads of 128, context 2048), as NVIDIA/Megatron-LM's
// examples/gpt3/train_gpt3_175b_distributed.sh trains it: GELU FFN of 4 d_model, learned
// positions, the GPT-2 vocabulary of 50257 padded to 51200 (a multiple of 128 x tp 8).
ModelConfig gpt3_175b() {
  ModelConfig m = dense_gqa("gpt3-175b", 96, 12288, 96, 96, 4 * 12288, 51200,
                            "GPT-3 paper (arXiv 2005.14165) Table 2.1; Megatron-LM "
                            "examples/gpt3/train_gpt3_175b_distributed.sh");
  m.ffn = FfnKind::kGelu;
  return m;
}

// Megatron-LM's GPT shapes beyond GPT-3 (GELU FFN of 4h, GPT-2 vocabulary padded to 51200):
// MT-NLG 530B (Smith et al., "Using DeepSpeed and Megatron to Train Megatron-Turing NLG 530B",
// arXiv 2201.11990, sec 3: 105 layers, hidden 20480, 128 heads) and the 1T model of Narayanan
// et al., "Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM",
// SC'21, Table 1 (128 layers, hidden 25600, 160 heads: 1008B).
ModelConfig megatron_gpt(std::string name, int layers, int hidden, int heads, std::string source) {
  ModelConfig m = dense_gqa(std::move(name), layers, hidden, heads, heads, 4 * hidden, 51200,
                            std::move(source));
  m.ffn = FfnKind::kGelu;
  return m;
}

// Mixtral 8x7B (Jiang et al., "Mixtral of Experts", arXiv 2401.04088, Table 1; config.json):
// 32 layers, every one sparse, 8 experts of 14336 and 2 per token, GQA with 8 KV heads.
ModelConfig mixtral_8x7b() {
  ModelConfig m = dense_gqa("mixtral-8x7b", 32, 4096, 32, 8, 14336, 32000,
                            "Mixtral of Experts (arXiv 2401.04088) Table 1; config.json");
  m.routed_experts = 8;
  m.experts_per_token = 2;
  m.expert_ffn_dim = 14336;
  return m;
}

const std::vector<ModelConfig>& presets() {
  static const std::vector<ModelConfig> kPresets = {
      deepseek_v3(),
      deepseek_v2(),
      dense_gqa("llama-3.1-405b", 126, 16384, 128, 8, 53248, 128256,
                "Llama 3.1 405B model card (GQA, 8 KV heads)"),
      dense_gqa("llama-3-70b", 80, 8192, 64, 8, 28672, 128256,
                "Llama 3 70B model card and config.json (GQA, 8 KV heads)"),
      dense_gqa("llama-3-8b", 32, 4096, 32, 8, 14336, 128256,
                "Llama 3 8B model card and config.json (GQA, 8 KV heads)"),
      gpt3_175b(),
      megatron_gpt("mt-nlg-530b", 105, 20480, 128, "MT-NLG 530B (arXiv 2201.11990) sec 3"),
      megatron_gpt("megatron-1t", 128, 25600, 160,
                   "Megatron-LM at scale (Narayanan et al., SC'21, arXiv 2104.04473) Table 1"),
      mixtral_8x7b(),
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
