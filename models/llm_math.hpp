#pragma once
// Pure math over a ModelConfig: parameter counts, FLOPs per token, KV-cache bytes.
// Conventions (each checked against published figures in tests/models/llm_math_test.cpp):
// - "activated" parameters are those a token's forward pass multiplies by: every linear layer it
//   goes through, the output head included, the input embedding (a lookup) excluded. This is the
//   convention of DeepSeek-V3's README_WEIGHTS.md (36.6B "including 0.9B for the output head").
// - FLOPs count a multiply-add as 2; training is 3x the forward pass; causal attention averages
//   seq/2 keys per query, non-causal seq. The MTP module is left out, as in isca25 Table 2.

#include <cstdint>

#include "models/llm.hpp"

namespace codesim::models {

enum class AttentionMask { kCausal, kFull };

struct ParamCounts {
  int64_t total = 0;      // main model, MTP modules excluded (DeepSeek's 671B convention)
  int64_t activated = 0;  // per token, see above
  int64_t embedding = 0;
  int64_t output_head = 0;
  int64_t mtp = 0;  // MTP modules' own parameters (embedding and head are shared)
};

int64_t attention_params(const ModelConfig& m);
int64_t dense_ffn_params(const ModelConfig& m);
int64_t expert_params(const ModelConfig& m);  // one routed or shared expert
int64_t router_params(const ModelConfig& m);
int64_t norm_params_per_layer(const ModelConfig& m);
// Parameters of transformer layer `layer` (0-based); layer == m.layers means an MTP module's block.
int64_t layer_params(const ModelConfig& m, int layer);
// Parameters of layer `layer` held by routed experts (0 for dense layers).
int64_t layer_routed_expert_params(const ModelConfig& m, int layer);
int64_t mtp_module_params(const ModelConfig& m);  // one module, shared embedding and head excluded

ParamCounts count_params(const ModelConfig& m);

// Dimensions of attention's two batched matmuls, per head.
int attention_qk_dim(const ModelConfig& m);
int attention_v_dim(const ModelConfig& m);

// Forward FLOPs per token of the attention score and value matmuls in one layer.
double attention_core_forward_flops_per_token(const ModelConfig& m, int seq_len,
                                              AttentionMask mask);
double forward_flops_per_token(const ModelConfig& m, int seq_len, AttentionMask mask);
double train_flops_per_token(const ModelConfig& m, int seq_len, AttentionMask mask);

// Bytes of KV cache per token across all layers, at `bytes_per_element` (2 for BF16).
int64_t kv_cache_bytes_per_token(const ModelConfig& m, int bytes_per_element = 2);
// ... in one layer: MLA's latent plus its RoPE key (d_c + d_r), or K and V of every KV group.
int64_t kv_cache_bytes_per_token_per_layer(const ModelConfig& m, int bytes_per_element = 2);

// Decode: the score and value matmuls of one new token over `context` cached tokens in one
// layer. MLA runs absorbed, as DeepSeek serves it (DeepSeek-V2 sec 2.1.2; FlashMLA): W_UK folds
// into the query and W_UV into the output, so each head scores against the cached latent and
// RoPE key (d_c + d_r) and sums the latent (d_c): 2 x context x (2 d_c + d_r) per head. MHA and
// GQA: 2 x context x (qk + v) per head.
double decode_attention_flops_per_token(const ModelConfig& m, int64_t context);

}  // namespace codesim::models
