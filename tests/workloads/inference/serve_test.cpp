// Serving: KV-cache bytes and decode attention FLOPs against hand-worked numbers, isca25's
// closed-form all-to-all bound, the decode step with free communication against the sum of its
// kernels, the overlapped step between the larger of compute and all-to-all and the
// unoverlapped step, and TPOT against the scale-up bandwidth.

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "../scenarios.hpp"
#include "models/llm_math.hpp"
#include "workloads/inference/serve_estimate.hpp"

namespace codesim::workloads {
namespace {

using codesim::testing::gpu_preset;
using codesim::testing::model_preset;

// DeepSeek-V3 decode as v3_report sec 3.4.2 lays it out: 40 nodes of 8 H800, attention TP4,
// EP320 with 64 redundant instances, two micro-batches of 16 sequences per GPU.
InferenceScenario v3_decode_on_h800() {
  InferenceScenario s;
  s.name = "v3-decode";
  s.gpu = gpu_preset("h800");
  s.cluster.nodes = 40;
  s.cluster.node = {8, 200, 8, 400};
  s.model = model_preset("deepseek-v3");
  s.serve.batch_per_gpu = 32;
  s.serve.attention_tp = 4;
  s.serve.ep = 320;
  s.serve.redundant_experts = 64;
  s.calibration = models::h800_published_calibration();
  return s;
}

// DeepSeek-V3 decode on one NVL72-style rack: 72 GPUs on one NVLink domain.
InferenceScenario v3_decode_on_nvl72(double nvlink_GBps) {
  InferenceScenario s = v3_decode_on_h800();
  s.gpu = gpu_preset("gb200");
  s.cluster.nodes = 1;
  s.cluster.node = {72, nvlink_GBps, 72, 400};
  s.cluster.fabric.kind = topo::TopologyKind::kFatTree2;
  s.serve.attention_tp = 1;
  s.serve.ep = 72;
  s.serve.redundant_experts = 32;
  return s;
}

TEST(ServeMath, KvCacheBytesAndDecodeAttentionFlopsByHand) {
  const auto v3 = model_preset("deepseek-v3");
  // MLA caches the 512-wide latent and the 64-wide RoPE key: 576 BF16 values a layer.
  EXPECT_EQ(models::kv_cache_bytes_per_token_per_layer(v3), 1152);
  EXPECT_EQ(models::kv_cache_bytes_per_token(v3), 1152 * 61);  // 70,272: isca25 Table 1
  // Absorbed: 128 heads, each scoring 576 and summing 512 values per cached token.
  EXPECT_DOUBLE_EQ(models::decode_attention_flops_per_token(v3, 4096),
                   2.0 * 4096 * 128 * (512 + 64 + 512));
  const auto llama = model_preset("llama-3.1-405b");
  // GQA: 8 KV heads of 128 for K and for V.
  EXPECT_EQ(models::kv_cache_bytes_per_token_per_layer(llama), 8 * 256 * 2);
  EXPECT_EQ(models::kv_cache_bytes_per_token(llama), 516096);  // isca25 Table 1
  EXPECT_DOUBLE_EQ(models::decode_attention_flops_per_token(llama, 1000), 2.0 * 1000 * 128 * 256);
}

TEST(ServeMath, Isca25AllToAllBoundByHand) {
  // isca25 sec 2.3: 32 tokens a micro-batch, 9 experts each, 7K hidden, 1 byte out and 2 back,
  // 50 GB/s: 120.96 us a micro-batch, two of them a layer.
  EXPECT_NEAR(all_to_all_bound_s(32, 9, 7000, 50e9, 1) * 1e6, 120.96, 1e-9);
  EXPECT_NEAR(all_to_all_bound_s(32, 9, 7000, 50e9, 2) * 1e6, 241.92, 1e-9);
}

TEST(ServeStep, FreeCommunicationGivesTheSumOfTheKernels) {
  const InferenceScenario s = v3_decode_on_h800();
  const models::ComputeCostModel compute(s.gpu, s.calibration);
  ForwardShape shape{false, 16, 16, 4608, 320};
  ForwardCost cost = price_forward(s, shape, compute);
  double kernels = 0;
  for (auto& l : cost.layers) {
    for (const auto& k : l.kernels) kernels += k.seconds;
    l.dispatch = l.combine = {};  // free communication
    l.dispatch_s = l.combine_s = 0;
  }
  for (const auto& k : cost.head_kernels) kernels += k.seconds;
  const int n = 2;
  const ServeStep event = event_forward(s, cost, n, 320, 320);
  const ServeStep closed = closed_form_forward(cost, n);
  // The event engine's clock is in picoseconds: each operation rounds by at most half of one.
  EXPECT_NEAR(event.forward_s, n * kernels, 1e-9);
  EXPECT_NEAR(closed.forward_s, n * kernels, 1e-9 * n * kernels);
  EXPECT_NEAR(event.compute_only_s, n * kernels, 1e-9 * n * kernels);
  EXPECT_EQ(event.flows, 0u);
}

TEST(ServeStep, OverlapNeverExceedsTheUnoverlappedStepNorBeatsEitherLoad) {
  // 8 nodes, EP64, data-parallel attention: a small layout where the all-to-all matters.
  InferenceScenario s = v3_decode_on_h800();
  s.cluster.nodes = 8;
  s.serve.attention_tp = 1;
  s.serve.ep = 64;
  s.serve.redundant_experts = 0;
  s.serve.prompt_tokens = 2048;
  const models::ComputeCostModel compute(s.gpu, s.calibration);
  for (const int batch : {8, 64}) {
    const ForwardShape shape{false, batch / 2.0, batch / 2.0, 2560, 64};
    const ForwardCost cost = price_forward(s, shape, compute);
    // The all-to-all alone: compute taken away.
    ForwardCost comm_only = cost;
    for (auto& l : comm_only.layers) l.attention_s = l.experts_s = 0;
    comm_only.head_s = 0;
    const ServeStep all_to_all = event_forward(s, comm_only, 2, 64, 64);
    const ServeStep event = event_forward(s, cost, 2, 64, 64);
    const ServeStep closed = closed_form_forward(cost, 2);
    SCOPED_TRACE(batch);
    EXPECT_GT(all_to_all.forward_s, 0);
    EXPECT_GE(event.forward_s, std::max(event.compute_only_s, all_to_all.forward_s) - 1e-9);
    EXPECT_LT(event.forward_s, event.unoverlapped_s);
    EXPECT_GE(closed.forward_s, closed.compute_only_s - 1e-12);
    EXPECT_LE(closed.forward_s, closed.unoverlapped_s + 1e-12);
    // One micro-batch overlaps nothing.
    const ServeStep one = closed_form_forward(cost, 1);
    EXPECT_NEAR(one.forward_s, one.unoverlapped_s, 1e-12);
  }
}

TEST(ServeEstimate, TpotFallsAsTheScaleUpBandwidthRises) {
  // From a scale-up domain where the all-to-all is exposed to one where compute hides it.
  std::vector<double> tpot;
  for (const double nvlink : {10.0, 20.0, 40.0, 900.0}) {
    const ServeEstimate e = estimate_serving(v3_decode_on_nvl72(nvlink), true);
    SCOPED_TRACE(nvlink);
    EXPECT_GE(e.tpot_s, e.bounds.lower_bound_tpot_s - 1e-9);  // less the clock's rounding
    if (!tpot.empty()) {
      EXPECT_LE(e.tpot_s, tpot.back());
    }
    tpot.push_back(e.tpot_s);
  }
  EXPECT_LT(tpot[1], tpot[0]);
  EXPECT_LT(tpot[2], tpot[1]);
  EXPECT_LT(tpot.back(), 0.8 * tpot.front());
}

TEST(ServeEstimate, DecodeOnH800MatchesItsParts) {
  const InferenceScenario s = v3_decode_on_h800();
  const ServeEstimate event = estimate_serving(s, true);
  const ServeEstimate closed = estimate_serving(s, false);
  // Every GPU's 32 sequences advance one token a step (no MTP here).
  EXPECT_DOUBLE_EQ(event.tokens_per_step, 1.0);
  EXPECT_DOUBLE_EQ(event.tokens_per_s_per_gpu, 32 / event.decode_step.forward_s);
  EXPECT_DOUBLE_EQ(event.tokens_per_s_per_node, 8 * event.tokens_per_s_per_gpu);
  EXPECT_GE(event.tpot_s, event.bounds.lower_bound_tpot_s);
  EXPECT_GE(closed.tpot_s, closed.bounds.lower_bound_tpot_s);
  // Flows share links, the closed form does not: the event engine is never faster.
  EXPECT_GE(event.tpot_s, closed.tpot_s * (1 - 1e-9));
  // KV cache: 128 sequences of the attention group, each GPU holding every latent.
  EXPECT_DOUBLE_EQ(event.kv_bytes, 32 * 4.0 * (4096 + 1024) * 1152 * 61);
  // The dispatch: each GPU sends 16 x 8 copies; of every 320 GPUs' worth, 312 are remote.
  const ForwardCost& f = event.decode_cost;
  const auto& d = f.layers.back().dispatch;
  const double copy = 7168 + 7168 / 128 * 4;
  EXPECT_NEAR(d.per_remote_node * (f.nodes_in_group - 1), 16 * 8 * copy * 312 / 320, 1e-6);
  EXPECT_EQ(f.nodes_in_group, 40);
}

TEST(ServeEstimate, MtpMultipliesTheTokensOfAStep) {
  InferenceScenario s = v3_decode_on_h800();
  s.serve.mtp_depth = 1;
  s.serve.mtp_acceptance = 0.85;
  const ServeEstimate with = estimate_serving(s, false);
  const ServeEstimate without = estimate_serving(v3_decode_on_h800(), false);
  EXPECT_DOUBLE_EQ(with.tokens_per_step, 1.85);
  // The step verifies twice the tokens and runs the MTP block, so it is longer, but not 1.85x.
  EXPECT_GT(with.decode_step.forward_s, without.decode_step.forward_s);
  EXPECT_LT(with.tpot_s, without.tpot_s);
}

TEST(ServeEstimate, PrefillChunksAndCacheHits) {
  InferenceScenario s = v3_decode_on_h800();
  s.cluster.nodes = 4;
  s.serve.phase = ServePhase::kPrefill;
  s.serve.ep = 32;
  s.serve.redundant_experts = 32;
  s.serve.prompt_tokens = 32768;
  s.serve.prefill_chunk_tokens = 4096;
  const ServeEstimate cold = estimate_serving(s, true);
  // 32768 tokens over an attention group of 4 GPUs taking 4096 each: 2 chunks.
  EXPECT_EQ(cold.prefill_chunks, 2);
  EXPECT_DOUBLE_EQ(cold.ttft_s, 2 * cold.prefill_step.forward_s);
  s.serve.prefix_cache_hit = 0.5;
  const ServeEstimate warm = estimate_serving(s, true);
  EXPECT_EQ(warm.prefill_chunks, 1);
  EXPECT_LT(warm.ttft_s, cold.ttft_s);
  EXPECT_FALSE(warm.decode);
}

TEST(ServeEstimate, RedundantExpertsPlacedByEplbEvenASkewedLoad) {
  // Prefill on EP32 under a Zipf router: without redundancy the hottest GPU gates every layer.
  InferenceScenario s = v3_decode_on_h800();
  s.cluster.nodes = 4;
  s.serve.phase = ServePhase::kPrefill;
  s.serve.ep = 32;
  s.serve.prompt_tokens = 8192;
  s.serve.redundant_experts = 0;
  const ServeEstimate balanced = estimate_serving(s, true);
  s.serve.routing.kind = RoutingSpec::Kind::kZipf;
  s.serve.routing.exponent = 1.0;
  const ServeEstimate skewed = estimate_serving(s, true);
  s.serve.redundant_experts = 32;
  const ServeEstimate placed = estimate_serving(s, true);
  EXPECT_DOUBLE_EQ(balanced.prefill_load_max_over_mean, 1.0);
  EXPECT_GT(skewed.prefill_load_max_over_mean, 2.0);
  EXPECT_LT(placed.prefill_load_max_over_mean, 1.5);
  EXPECT_GT(skewed.ttft_s, placed.ttft_s);
  EXPECT_GT(placed.ttft_s, balanced.ttft_s * (1 - 1e-9));
  // The closed form waits for the busiest GPU too.
  s.serve.redundant_experts = 0;
  InferenceScenario even = s;
  even.serve.routing = {};
  EXPECT_GT(estimate_serving(s, false).ttft_s, estimate_serving(even, false).ttft_s);
}

}  // namespace
}  // namespace codesim::workloads
