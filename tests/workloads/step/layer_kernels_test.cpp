#include "workloads/step/layer_kernels.hpp"

#include <gtest/gtest.h>

#include <string>

#include "../../presets.hpp"
#include "../scenarios.hpp"
#include "workloads/step/chunk_costs.hpp"

namespace codesim::workloads {
namespace {

using models::Kernel;
using models::KernelKind;
using models::KernelStream;

// DeepSeek-V3's shapes on the reference plan: 4096 tokens a micro-batch, EP64, FP8, RMSNorm and
// MLA up-projections recomputed.
KernelShapes v3() {
  KernelShapes s;
  s.model = codesim::testing::model_preset("deepseek-v3");
  s.tokens = 4096;
  s.sequence_length = 4096;
  s.ep = 64;
  s.gemm_precision = models::Precision::kFp8;
  s.recompute = {true, true};
  return s;
}

const Kernel& find(const std::vector<Kernel>& list, const std::string& name, int nth = 0) {
  for (const Kernel& k : list) {
    if (k.name == name && nth-- == 0) return k;
  }
  ADD_FAILURE() << "no kernel " << name;
  static const Kernel kNone;
  return kNone;
}

int count(const std::vector<Kernel>& list, const std::string& prefix) {
  int n = 0;
  for (const Kernel& k : list) n += std::string(k.name).rfind(prefix, 0) == 0 ? k.count : 0;
  return n;
}

TEST(LayerKernels, GemmShapesFlopsAndBytesByHand) {
  const LayerKernels k = layer_kernels(v3(), 10);
  ASSERT_TRUE(k.moe);
  // The fused MLA down-projection: 4096 tokens x (1536 + 512 + 64) x 7168, FP8 operands with one
  // FP32 scale per 128, BF16 output.
  const Kernel& down = find(k.attention.forward, "gemm: MLA down-projection (q, kv)");
  EXPECT_EQ(down.kind, KernelKind::kGemm);
  EXPECT_EQ(down.m, 4096);
  EXPECT_EQ(down.n, 2112);
  EXPECT_EQ(down.k, 7168);
  EXPECT_DOUBLE_EQ(down.flops, 2.0 * 4096 * 2112 * 7168);
  EXPECT_DOUBLE_EQ(down.bytes,
                   (4096.0 * 7168 + 2112.0 * 7168) * (1 + 4.0 / 128) + 4096.0 * 2112 * 2);
  // Both backward GEMMs have their own shapes: the data gradient (tokens, in, out) and the
  // weight gradient (out, in, tokens). The output projection: 128 heads x 128 -> 7168.
  const Kernel& dgrad =
      find(k.attention.backward, "gemm: attention output projection, data gradient");
  EXPECT_EQ(dgrad.m, 4096);
  EXPECT_EQ(dgrad.n, 16384);
  EXPECT_EQ(dgrad.k, 7168);
  const Kernel& wgrad =
      find(k.attention.weight, "gemm: attention output projection, weight gradient");
  EXPECT_EQ(wgrad.m, 7168);
  EXPECT_EQ(wgrad.n, 16384);
  EXPECT_EQ(wgrad.k, 4096);
  // Routed experts at a balanced load: 64 GPUs x 4096 tokens x 8 copies over 256 experts, 8192
  // rows for each of a GPU's 4 experts.
  EXPECT_EQ(routed_rows_per_expert(v3()), 8192);
  const Kernel& up = find(k.routed.forward, "grouped gemm: routed experts up (gate, up)");
  EXPECT_EQ(up.kind, KernelKind::kGroupedGemm);
  EXPECT_EQ(up.groups, 4);
  EXPECT_EQ(up.m, 8192);
  EXPECT_EQ(up.n, 4096);
  EXPECT_EQ(up.k, 7168);
  EXPECT_DOUBLE_EQ(up.flops, 2.0 * 4 * 8192 * 4096 * 7168);
  const Kernel& wup = find(k.routed.weight, "grouped gemm: routed experts up, weight gradient");
  EXPECT_EQ(wup.m, 4096);
  EXPECT_EQ(wup.n, 7168);
  EXPECT_EQ(wup.k, 8192);
  // The gate stays BF16.
  EXPECT_EQ(find(k.attention.forward, "gemm: gate (bf16)").precision, models::Precision::kBf16);
}

TEST(LayerKernels, AttentionAndMemoryKernelsByHand) {
  const LayerKernels k = layer_kernels(v3(), 10);
  const Kernel& fa = find(k.attention.forward, "attention forward");
  EXPECT_EQ(fa.head_dim_qk, 192);
  EXPECT_EQ(fa.head_dim_v, 128);
  EXPECT_EQ(fa.heads, 128);
  EXPECT_TRUE(fa.causal);
  // Causal: each query sees seq / 2 keys on average (the FLOP convention of isca25 Table 2 and of
  // FlashAttention's benchmarks); QK^T and PV are 2 FLOPs per multiply-add.
  EXPECT_DOUBLE_EQ(fa.flops, 4096.0 * 128 * 2 * (192 + 128) * 2048);
  const Kernel& fb = find(k.attention.backward, "attention backward (scores recomputed)");
  EXPECT_DOUBLE_EQ(fb.flops, 2.5 * fa.flops);
  // RMSNorm of the layer input: read and write 4096 x 7168 in BF16.
  EXPECT_DOUBLE_EQ(find(k.attention.forward, "rmsnorm forward").bytes, 2.0 * 4096 * 7168 * 2);
  // A per-token FP8 cast reads BF16 and writes FP8 with its scales.
  EXPECT_DOUBLE_EQ(find(k.attention.forward, "fp8 cast per token (GEMM input)").bytes,
                   4096.0 * 7168 * (2 + 1 + 4.0 / 128));
  // The dispatch's cast runs on the communication stream, its permutation on compute.
  EXPECT_EQ(find(k.dispatch.forward, "fp8 cast per token (dispatch)").stream,
            KernelStream::kCommunication);
  EXPECT_EQ(find(k.dispatch.forward, "permute received tokens into expert order").stream,
            KernelStream::kCompute);
}

TEST(LayerKernels, RecomputationAndPrecisionChangeWhatRuns) {
  KernelShapes s = v3();
  const LayerKernels with = layer_kernels(s, 10);
  s.recompute = {};
  const LayerKernels without = layer_kernels(s, 10);
  EXPECT_EQ(count(with.attention.backward, "rmsnorm forward (recomputed)"), 4);
  EXPECT_EQ(count(without.attention.backward, "rmsnorm forward (recomputed)"), 0);
  EXPECT_EQ(count(with.attention.backward, "gemm: MLA q up-projection") -
                count(with.attention.backward, "gemm: MLA q up-projection, "),
            1);
  s.gemm_precision = models::Precision::kBf16;
  const LayerKernels bf16 = layer_kernels(s, 10);
  EXPECT_GT(count(with.attention.forward, "fp8 cast"), 0);
  EXPECT_EQ(count(bf16.attention.forward, "fp8 cast"), 0);
  EXPECT_EQ(count(bf16.routed.weight, "fp8 cast"), 0);
}

TEST(LayerKernels, ADenseLayerHasNoAllToAll) {
  const LayerKernels dense = layer_kernels(v3(), 0);  // V3's first 3 layers are dense
  EXPECT_FALSE(dense.moe);
  EXPECT_TRUE(dense.dispatch.forward.empty());
  EXPECT_TRUE(dense.routed.forward.empty());
  EXPECT_TRUE(dense.combine.forward.empty());
  EXPECT_EQ(find(dense.experts.forward, "gemm: FFN up (gate, up)").n, 2 * 18432);
}

// A pass's compute cost is the sum of its compute-stream kernels' times, on the whole GPU and in
// a pair; the communication-stream kernels are what the all-to-alls wait for before their data.
TEST(LayerKernels, APassCostsTheSumOfItsKernels) {
  const auto s = codesim::testing::deepseek_v3_on_2048_h800();
  const ChunkCostModel costs(chunk_cost_params(s));
  const LayerKernels k = costs.kernels(10);
  double full = 0, pair = 0, comm = 0;
  for (const PricedKernel& p : costs.price(k.attention.forward)) {
    (p.kernel.stream == KernelStream::kCompute ? full : comm) += p.seconds;
    if (p.kernel.stream == KernelStream::kCompute) pair += p.pair_seconds;
  }
  const ChunkCost c = costs.cost(k.attention);
  EXPECT_NEAR(c.forward.compute_s, full, 1e-15);
  EXPECT_NEAR(c.forward.pair_compute_s, pair, 1e-15);
  EXPECT_GT(pair, full);  // 112 of 132 SMs, and the HBM the all-to-all leaves
  const LayerParts parts = costs.layer_parts(10);
  EXPECT_NEAR(parts.before.forward.compute_s, full, 1e-15);
  EXPECT_NEAR(parts.exchange_setup_s[int(Exchange::kForwardDispatch)],
              costs.comm_stream_seconds(k.dispatch.forward), 1e-15);
  EXPECT_GT(parts.exchange_setup_s[int(Exchange::kForwardDispatch)], 0);
}

// Megatron-LM's tensor-parallel traffic per layer and pass (Korthikanti et al. 2022, sec 4.2.2):
// two all-reduces without sequence parallelism, two all-gathers and two reduce-scatters with
// it, the same bytes: 4 (t - 1) / t of the block output per GPU.
TEST(LayerKernels, TensorParallelTrafficIsMegatronsVolume) {
  const double tokens = 4096, h = 16384;
  for (int t : {2, 4, 8}) {
    const double buffer = tokens * h * 2;
    const TensorParallelTraffic plain = tensor_parallel_traffic(tokens, int(h), t, false);
    const TensorParallelTraffic sp = tensor_parallel_traffic(tokens, int(h), t, true);
    EXPECT_EQ(plain.collectives, 2);
    EXPECT_EQ(sp.collectives, 4);
    EXPECT_DOUBLE_EQ(plain.bytes_per_gpu, 4.0 * (t - 1) / t * buffer);
    EXPECT_DOUBLE_EQ(sp.bytes_per_gpu, plain.bytes_per_gpu);
    EXPECT_EQ(sp.ring_steps, plain.ring_steps);
    EXPECT_EQ(sp.ring_steps, 4 * (t - 1));
  }
  EXPECT_EQ(tensor_parallel_traffic(tokens, int(h), 1, true).bytes_per_gpu, 0);
  // A pipeline send carries one GPU's slice.
  EXPECT_DOUBLE_EQ(pipeline_send_bytes(tokens, int(h), 8), tokens * h * 2 / 8);
}

// Ring attention's volume: in each of cp - 1 steps a GPU passes on the K and V of its tokens for
// its heads, BF16; the backward passes their gradients with them. Llama 3.1 405B at 128K tokens
// with TP8 CP16 (Llama 3 Table 4): 8192 tokens a GPU, one KV head of 128 + 128 per GPU.
TEST(LayerKernels, ContextRingVolumesAreTheKvBlocksOfCpMinusOneSteps) {
  const auto llama = codesim::testing::model_preset("llama-3.1-405b");
  const ContextRingTraffic r = context_ring_traffic(llama, 8192, 8, 16);
  EXPECT_EQ(r.steps, 15);
  EXPECT_DOUBLE_EQ(r.forward_bytes_per_gpu, 15.0 * 8192 * 1 * (128 + 128) * 2);
  EXPECT_DOUBLE_EQ(r.backward_bytes_per_gpu, 2 * r.forward_bytes_per_gpu);
  // MLA passes each head's key (nope + rope) and value after the up-projection.
  const auto v3 = codesim::testing::model_preset("deepseek-v3");
  EXPECT_DOUBLE_EQ(context_ring_traffic(v3, 2048, 1, 2).forward_bytes_per_gpu,
                   1.0 * 2048 * 128 * (192 + 128) * 2);
  EXPECT_EQ(context_ring_traffic(llama, 8192, 8, 1).forward_bytes_per_gpu, 0);
}

// Context parallelism splits every sequence over cp GPUs: each holds 1/cp of the tokens (its
// GEMMs, activations and attention FLOPs all 1/cp, the attention over the whole sequence) and
// the ZeRO-1 shards span dp x cp GPUs.
TEST(LayerKernels, ContextParallelismSplitsTheTokensOfEverySequence) {
  auto s = codesim::testing::small_dense_gpt();
  s.cluster.nodes = 4;
  const ChunkCostModel one(chunk_cost_params(s));
  const int dp = s.dp();
  s.plan.cp = 2;
  const ChunkCostModel two(chunk_cost_params(s));
  EXPECT_EQ(s.dp() * 2, dp);
  EXPECT_EQ(s.gradient_replicas(), dp);
  const LayerKernels a = one.kernels(1), b = two.kernels(1);
  EXPECT_DOUBLE_EQ(find(b.attention.forward, "attention forward").flops * 2,
                   find(a.attention.forward, "attention forward").flops);
  EXPECT_EQ(find(b.attention.forward, "attention forward").seq_len, s.plan.sequence_length);
  EXPECT_DOUBLE_EQ(find(b.experts.forward, "gemm: FFN up (gate, up)").flops * 2,
                   find(a.experts.forward, "gemm: FFN up (gate, up)").flops);
}

// Sequence parallelism splits the residual stream's norms and adds over the group; the GEMMs
// are split either way.
TEST(LayerKernels, SequenceParallelismSplitsTheNormsAndResidualAdds) {
  auto s = codesim::testing::small_dense_gpt();
  s.plan.tp = 4;
  s.plan.sequence_parallel = true;
  const ChunkCostModel with(chunk_cost_params(s));
  s.plan.sequence_parallel = false;
  const ChunkCostModel without(chunk_cost_params(s));
  const LayerKernels a = with.kernels(1), b = without.kernels(1);
  EXPECT_DOUBLE_EQ(find(a.attention.forward, "rmsnorm forward").bytes * 4,
                   find(b.attention.forward, "rmsnorm forward").bytes);
  EXPECT_DOUBLE_EQ(find(a.experts.forward, "residual add").bytes * 4,
                   find(b.experts.forward, "residual add").bytes);
  EXPECT_DOUBLE_EQ(find(a.experts.forward, "gemm: FFN up (gate, up)").flops,
                   find(b.experts.forward, "gemm: FFN up (gate, up)").flops);
}

// Full recomputation (Megatron-LM's granularity "full"): each piece's backward runs its
// forward's compute again, so B's FLOPs and bytes grow by exactly F's; W does not change.
TEST(LayerKernels, FullRecomputationRunsEachForwardAgainInItsBackward) {
  auto s = codesim::testing::small_dense_gpt();
  s.plan.recompute = {};
  const ChunkCostModel stored(chunk_cost_params(s));
  s.plan.recompute.full = true;
  const ChunkCostModel full(chunk_cost_params(s));
  auto sum = [](const std::vector<Kernel>& list, bool flops) {
    double total = 0;
    for (const Kernel& k : list) total += flops ? k.total_flops() : k.bytes * k.count;
    return total;
  };
  const LayerKernels a = stored.kernels(2), b = full.kernels(2);
  for (auto piece : {&LayerKernels::attention, &LayerKernels::experts}) {
    for (bool flops : {true, false}) {
      EXPECT_DOUBLE_EQ(sum((b.*piece).backward, flops),
                       sum((a.*piece).backward, flops) + sum((a.*piece).forward, flops));
      EXPECT_DOUBLE_EQ(sum((b.*piece).weight, flops), sum((a.*piece).weight, flops));
      EXPECT_DOUBLE_EQ(sum((b.*piece).forward, flops), sum((a.*piece).forward, flops));
    }
  }
  EXPECT_EQ(std::string(find(b.experts.backward, "gemm: FFN up (gate, up) (recomputed)").name),
            "gemm: FFN up (gate, up) (recomputed)");
  // The layer's compute: the backward is longer by the forward's time.
  const ChunkCost ca = stored.layer(2), cb = full.layer(2);
  EXPECT_NEAR(cb.backward_input.compute_s, ca.backward_input.compute_s + ca.forward.compute_s,
              1e-12);
}

}  // namespace
}  // namespace codesim::workloads
