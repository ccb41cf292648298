#include "models/llm_math.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "../presets.hpp"
#include "../reference.hpp"

namespace codesim::models {
namespace {

using codesim::testing::published;

double relative_error(double value, double reference) {
  return std::abs(value - reference) / reference;
}

TEST(LlmMath, KvCacheBytesPerTokenMatchesIsca25Exactly) {
  const auto expected = published()["expected_model_math"]["kv_cache_bytes_per_token_bf16"];
  for (const char* name : {"deepseek-v3", "qwen2.5-72b", "llama-3.1-405b"}) {
    EXPECT_EQ(kv_cache_bytes_per_token(codesim::testing::model_preset(name)),
              expected[name].as<int64_t>())
        << name;
  }
}

// Models' own published sizes; "47B" and "13B" are rounded to two figures.
TEST(LlmMath, DenseAndMixtralPresetsHaveTheirPublishedSizes) {
  for (const char* name :
       {"gpt3-175b", "mt-nlg-530b", "megatron-1t", "llama-3-8b", "llama-3-70b", "mixtral-8x7b"}) {
    const auto p = published()["params"][name];
    const ParamCounts c = count_params(codesim::testing::model_preset(name));
    EXPECT_LT(relative_error(double(c.total), p["total"].as<double>()), 0.01)
        << name << " " << c.total;
    if (p["activated"]) {
      EXPECT_EQ(std::lround(double(c.activated) / 1e9),
                std::lround(p["activated"].as<double>() / 1e9))
          << name << " " << c.activated;
    }
  }
}

TEST(LlmMath, DeepSeekV3ParameterCounts) {
  const auto p = published()["params"]["deepseek-v3"];
  const ParamCounts c = count_params(codesim::testing::model_preset("deepseek-v3"));
  EXPECT_LT(relative_error(double(c.total), p["total"].as<double>()), 0.01) << c.total;
  // Activated: within 1% of the precise count of the released weights (36.6B), and 37B to the
  // two significant figures the report gives. Our 36.63B is 1.01% below the rounded 37B.
  EXPECT_LT(relative_error(double(c.activated), p["activated_precise"].as<double>()), 0.01)
      << c.activated;
  EXPECT_EQ(std::lround(double(c.activated) / 1e9), std::lround(p["activated"].as<double>() / 1e9));
  EXPECT_LT(relative_error(double(c.mtp), p["mtp_unique"].as<double>()), 0.01) << c.mtp;
}

TEST(LlmMath, DeepSeekV2ParameterCounts) {
  const auto p = published()["params"]["deepseek-v2"];
  const ParamCounts c = count_params(codesim::testing::model_preset("deepseek-v2"));
  EXPECT_LT(relative_error(double(c.total), p["total"].as<double>()), 0.01) << c.total;
  EXPECT_EQ(std::lround(double(c.activated) / 1e9), std::lround(p["activated"].as<double>() / 1e9))
      << c.activated;
}

TEST(LlmMath, TrainingFlopsPerTokenMatchIsca25Table2) {
  const auto gflops = published()["expected_model_math"]["training_gflops_per_token_seq4096"];
  auto ours = [](const char* name) {
    return train_flops_per_token(codesim::testing::model_preset(name), 4096,
                                 AttentionMask::kCausal) /
           1e9;
  };
  EXPECT_LT(relative_error(ours("deepseek-v3"), gflops["deepseek-v3"].as<double>()), 0.01);
  EXPECT_LT(relative_error(ours("deepseek-v2"), gflops["deepseek-v2"].as<double>()), 0.01);
  EXPECT_LT(relative_error(ours("llama-3.1-405b"), gflops["llama-405b-dense"].as<double>()), 0.02);
}

TEST(LlmMath, NonCausalAttentionCountsEveryKey) {
  const auto& v3 = codesim::testing::model_preset("deepseek-v3");
  const double causal = train_flops_per_token(v3, 4096, AttentionMask::kCausal);
  const double full = train_flops_per_token(v3, 4096, AttentionMask::kFull);
  const double reference = published()["expected_model_math"]
                                      ["training_gflops_per_token_seq4096_noncausal"]["deepseek-v3"]
                                          .as<double>();
  EXPECT_LT(relative_error(full / 1e9, reference), 0.01);
  // The difference is exactly the causal half of the attention matmuls, three passes, 61 layers.
  const double per_layer = attention_core_forward_flops_per_token(v3, 4096, AttentionMask::kCausal);
  EXPECT_DOUBLE_EQ(full - causal, 3.0 * 61 * per_layer);
}

// isca25 Table 2 lists "Qwen-72B Dense" at 394 GFLOPs/token. The Qwen2.5-72B config gives about
// 445: 6 x 70.9B matmul weights (80 layers of GQA attention and a 29568-wide SwiGLU, plus the
// head) is 426 GFLOPs, and causal attention over 4096 tokens adds 16. The paper does not say
// which Qwen configuration it counted; 394 is what a ~24.6K-wide FFN would give, so the row is
// reported beside ours rather than matched.
TEST(LlmMath, QwenRowIsReportedNotMatched) {
  const auto gflops = published()["expected_model_math"]["training_gflops_per_token_seq4096"];
  const double ours = train_flops_per_token(codesim::testing::model_preset("qwen2.5-72b"), 4096,
                                            AttentionMask::kCausal) /
                      1e9;
  const double theirs = gflops["qwen-72b-dense"].as<double>();
  std::cout << "qwen2.5-72b training GFLOPs/token at 4096: codesim " << ours << ", isca25 "
            << theirs << " (" << 100 * (ours - theirs) / theirs << "%)\n";
  EXPECT_NEAR(ours, 445, 4);
  EXPECT_GT(relative_error(ours, theirs), 0.1);
}

TEST(LlmMath, DenseGptMatchesTheTextbookCount) {
  ModelConfig gpt;
  gpt.name = "gpt";
  gpt.layers = 2;
  gpt.hidden = 64;
  gpt.vocab = 100;
  gpt.heads = 4;
  gpt.kv_heads = 4;
  gpt.head_dim = 16;
  gpt.v_head_dim = 16;
  gpt.ffn = FfnKind::kGelu;
  gpt.ffn_dim = 256;
  // Per layer: 4 h^2 attention + 2 h f FFN + 2 h norms.
  const int64_t per_layer = 4 * 64 * 64 + 2 * 64 * 256 + 2 * 64;
  const ParamCounts c = count_params(gpt);
  EXPECT_EQ(c.total, 2 * per_layer + 2 * 100 * 64 + 64);
  EXPECT_EQ(c.activated, 2 * per_layer + 100 * 64 + 64);
  // Forward FLOPs: 2 per matmul weight, plus 2 * keys * heads * (qk + v) per layer.
  const double matmul = 2.0 * (2 * (4 * 64 * 64 + 2 * 64 * 256) + 100 * 64);
  const double attention = 2 * 2.0 * 8 * 4 * (16 + 16);  // 16 tokens causal: 8 keys on average
  EXPECT_DOUBLE_EQ(forward_flops_per_token(gpt, 16, AttentionMask::kCausal), matmul + attention);
}

}  // namespace
}  // namespace codesim::models
