#include "workloads/step/layer_kernels.hpp"

#include <algorithm>
#include <mutex>
#include <set>
#include <string>

#include "models/llm_math.hpp"
#include "workloads/moe/token_copies.hpp"

namespace codesim::workloads {
namespace {

using models::Kernel;
using models::KernelKind;
using models::KernelStream;
using models::Precision;

// Kernel names are static strings; a derived name is kept here for the program's life.
const char* interned(const std::string& name) {
  static std::mutex mutex;
  static std::set<std::string> names;
  const std::lock_guard<std::mutex> lock(mutex);
  return names.insert(name).first->c_str();
}

// Full recomputation: a piece's backward starts by running its forward's compute again.
void add_full_recompute(PieceKernels& piece) {
  std::vector<Kernel> again;
  for (const Kernel& k : piece.forward) {
    if (k.stream != KernelStream::kCompute) continue;
    Kernel r = k;
    r.name = interned(std::string(k.name) + " (recomputed)");
    again.push_back(r);
  }
  piece.backward.insert(piece.backward.begin(), again.begin(), again.end());
}

constexpr double kBf16 = 2;
constexpr double kFp32 = 4;
// FP8 activations carry one FP32 scale per 128 values (1x128 tiles).
constexpr double kFp8WithScales = 1.0 + 4.0 / 128;

// Appends kernels to one pass's list.
class Pass {
 public:
  Pass(std::vector<Kernel>& out, const KernelShapes& s) : out_(out), s_(s) {}

  bool fp8() const { return s_.gemm_precision == Precision::kFp8; }

  void add(Kernel k) { out_.push_back(k); }

  // An HBM-bound kernel moving `bytes` (read and written).
  void memory(const char* name, double bytes, int count = 1) {
    Kernel k;
    k.name = name;
    k.kind = KernelKind::kMemory;
    k.bytes = bytes;
    k.count = count;
    add(k);
  }

  // Y[m x n] = A[m x k] B[n x k]^T at `precision`: FP8 operands (with their scales) or BF16, BF16
  // output.
  void gemm(const char* name, std::int64_t m, std::int64_t n, std::int64_t k, Precision precision) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    Kernel g;
    g.name = name;
    g.kind = KernelKind::kGemm;
    g.precision = precision;
    g.m = m, g.n = n, g.k = k;
    g.flops = 2.0 * double(m) * double(n) * double(k);
    const double in = precision == Precision::kFp8 ? kFp8WithScales : kBf16;
    g.bytes = (double(m) * k + double(n) * k) * in + double(m) * n * kBf16;
    add(g);
  }

  void grouped(const char* name, int groups, std::int64_t m, std::int64_t n, std::int64_t k,
               Precision precision) {
    if (groups <= 0 || m <= 0 || n <= 0 || k <= 0) return;
    Kernel g;
    g.name = name;
    g.kind = KernelKind::kGroupedGemm;
    g.precision = precision;
    g.groups = groups;
    g.m = m, g.n = n, g.k = k;
    g.flops = 2.0 * groups * double(m) * double(n) * double(k);
    const double in = precision == Precision::kFp8 ? kFp8WithScales : kBf16;
    g.bytes = groups * ((double(m) * k + double(n) * k) * in + double(m) * n * kBf16);
    add(g);
  }

  // The FP8 cast of a BF16 activation, per token in 1x128 tiles (FP8 plans only).
  void cast(const char* name, double rows, double cols) {
    if (fp8()) memory(name, rows * cols * (kBf16 + kFp8WithScales));
  }
  // A weight gradient's operand cast per channel and transposed (FP8 plans only): from its cached
  // FP8 copy or from BF16.
  void cast_transpose(const char* name, double rows, double cols, bool from_fp8) {
    if (fp8()) memory(name, rows * cols * ((from_fp8 ? kFp8WithScales : kBf16) + kFp8WithScales));
  }

  void attention(bool backward, double flops, double bytes) {
    const auto& m = s_.model;
    Kernel a;
    a.name = backward ? "attention backward (scores recomputed)" : "attention forward";
    a.kind = backward ? KernelKind::kAttentionBackward : KernelKind::kAttentionForward;
    a.heads = m.heads / s_.tp;
    a.head_dim_qk = models::attention_qk_dim(m);
    a.head_dim_v = models::attention_v_dim(m);
    a.seq_len = s_.sequence_length;
    a.sequences = int(std::max<std::int64_t>(1, s_.tokens / std::max(1, s_.sequence_length)));
    a.causal = true;
    a.flops = flops;
    a.bytes = bytes;
    add(a);
  }

  // A communication-stream kernel (DeepEP's casts, layout and notify kernels).
  void comm(const char* name, double bytes, double latency_s = 0) {
    Kernel k;
    k.name = name;
    k.kind = KernelKind::kMemory;
    k.stream = KernelStream::kCommunication;
    k.bytes = bytes;
    k.latency_s = latency_s;
    add(k);
  }

 private:
  std::vector<Kernel>& out_;
  const KernelShapes& s_;
};

// One linear layer Y[t x out] = X[t x in] W[out x in]^T in its three passes. `input_cast`: the
// forward casts X first (false where the producer already wrote FP8, e.g. a fused SwiGLU);
// `recomputed`: B runs the forward again (MLA's recomputed up-projections).
struct Linear {
  const char* forward;
  const char* data_gradient;
  const char* weight_gradient;
  std::int64_t in = 0;
  std::int64_t out = 0;
  bool input_cast = true;
  bool recomputed = false;
};

void add_linear(PieceKernels& piece, const KernelShapes& s, const Linear& l, Precision precision) {
  const std::int64_t t = s.tokens;
  KernelShapes fp = s;
  fp.gemm_precision = precision;
  Pass f(piece.forward, fp), b(piece.backward, fp), w(piece.weight, fp);
  if (l.input_cast) f.cast("fp8 cast per token (GEMM input)", t, l.in);
  f.gemm(l.forward, t, l.out, l.in, precision);
  if (l.recomputed) {
    if (l.input_cast) b.cast("fp8 cast per token (recomputed GEMM input)", t, l.in);
    b.gemm(l.forward, t, l.out, l.in, precision);
  }
  b.cast("fp8 cast per token (output gradient)", t, l.out);
  b.gemm(l.data_gradient, t, l.in, l.out, precision);
  w.cast_transpose("fp8 cast and transpose per channel (GEMM input)", t, l.in, true);
  w.cast_transpose("fp8 cast and transpose per channel (output gradient)", t, l.out, false);
  w.gemm(l.weight_gradient, l.out, l.in, t, precision);
}

// RMSNorm of rows x width in all passes: read and write BF16 forward; backward reads the input
// and the gradient, writes the input gradient, then folds the per-block weight gradients.
void add_rmsnorm(PieceKernels& piece, const KernelShapes& s, double rows, double width,
                 bool recomputed) {
  Pass f(piece.forward, s), b(piece.backward, s);
  f.memory("rmsnorm forward", 2 * rows * width * kBf16);
  if (recomputed) b.memory("rmsnorm forward (recomputed)", 2 * rows * width * kBf16);
  b.memory("rmsnorm backward", 3 * rows * width * kBf16);
  // Partial weight gradients of each thread block, reduced: small next to the rows.
  b.memory("rmsnorm backward finalize", width * kFp32 * 2);
}

// A residual add (two reads, one write) forward, and its gradient's fan-out backward.
void add_residual(PieceKernels& piece, const KernelShapes& s) {
  const double bytes = 3.0 * s.residual_rows() * s.model.hidden * kBf16;
  Pass(piece.forward, s).memory("residual add", bytes);
  Pass(piece.backward, s).memory("residual gradient add", bytes);
}

void add_attention(PieceKernels& piece, const KernelShapes& s) {
  const auto& m = s.model;
  const std::int64_t t = s.tokens;
  const std::int64_t h = m.hidden;
  const std::int64_t heads = m.heads / s.tp;
  const Precision p = s.gemm_precision;
  const bool norm_recomputed = s.recompute.rmsnorm;
  add_rmsnorm(piece, s, s.residual_rows(), double(h), norm_recomputed);
  Pass f(piece.forward, s), b(piece.backward, s);
  const int qk = models::attention_qk_dim(m);
  const int v = models::attention_v_dim(m);
  if (m.attention == models::AttentionKind::kMultiLatent) {
    const bool up_recomputed = s.recompute.mla_up_projection;
    const std::int64_t down = m.q_lora_rank + m.kv_lora_rank + m.rope_head_dim;
    if (m.q_lora_rank > 0) {
      // The down-projections of Q and KV run as one GEMM (DeepGEMM's N = 2112 for V3).
      add_linear(piece, s,
                 {"gemm: MLA down-projection (q, kv)", "gemm: MLA down-projection, data gradient",
                  "gemm: MLA down-projection, weight gradient", h, down},
                 p);
      // The two latents are normalised apart.
      add_rmsnorm(piece, s, double(t), double(m.q_lora_rank), norm_recomputed);
      add_rmsnorm(piece, s, double(t), double(m.kv_lora_rank), norm_recomputed);
      add_linear(piece, s,
                 {"gemm: MLA q up-projection", "gemm: MLA q up-projection, data gradient",
                  "gemm: MLA q up-projection, weight gradient", m.q_lora_rank, heads * qk, true,
                  up_recomputed},
                 p);
    } else {
      add_linear(piece, s,
                 {"gemm: q projection", "gemm: q projection, data gradient",
                  "gemm: q projection, weight gradient", h, heads * qk},
                 p);
      add_linear(
          piece, s,
          {"gemm: MLA kv down-projection", "gemm: MLA kv down-projection, data gradient",
           "gemm: MLA kv down-projection, weight gradient", h, m.kv_lora_rank + m.rope_head_dim},
          p);
      add_rmsnorm(piece, s, double(t), double(m.kv_lora_rank), norm_recomputed);
    }
    add_linear(piece, s,
               {"gemm: MLA kv up-projection", "gemm: MLA kv up-projection, data gradient",
                "gemm: MLA kv up-projection, weight gradient", m.kv_lora_rank,
                heads * (m.head_dim + m.v_head_dim), true, up_recomputed},
               p);
    // RoPE on the decoupled query and key parts, and the key assembled per head from its
    // shared RoPE part and its per-head part.
    const double rope = 2.0 * t * (heads + 1) * m.rope_head_dim * kBf16;
    f.memory("rotary embedding", rope / 2, 2);
    f.memory("key assembly (per-head nope + shared rope)", 2.0 * t * heads * qk * kBf16);
    if (up_recomputed) {
      b.memory("rotary embedding (recomputed)", rope / 2, 2);
      b.memory("key assembly (recomputed)", 2.0 * t * heads * qk * kBf16);
    }
    b.memory("rotary embedding backward", rope / 2, 2);
    b.memory("key gradient split (nope, rope)", 2.0 * t * heads * qk * kBf16);
  } else {
    const std::int64_t kv_heads = std::max<std::int64_t>(1, m.kv_heads / s.tp);
    add_linear(piece, s,
               {"gemm: qkv projection", "gemm: qkv projection, data gradient",
                "gemm: qkv projection, weight gradient", h,
                heads * m.head_dim + kv_heads * (m.head_dim + m.v_head_dim)},
               p);
    const double rope = 2.0 * t * (heads + kv_heads) * m.head_dim * kBf16;
    f.memory("rotary embedding", rope / 2, 2);
    b.memory("rotary embedding backward", rope / 2, 2);
  }
  // The fused attention kernels: Q, K, V in, the output and its log-sum-exp out; backward reads
  // them and the output gradient, writes the three input gradients.
  const double core = models::attention_core_forward_flops_per_token(
                          m, s.sequence_length, models::AttentionMask::kCausal) /
                      s.tp * double(t);
  const double qkv_bytes = double(t) * heads * (2.0 * qk + v) * kBf16;
  const double out_bytes = double(t) * heads * (v * kBf16 + kFp32);
  f.attention(false, core, qkv_bytes + out_bytes);
  // FlashAttention's backward: dQ, dK, dV and dP with the scores recomputed, 2.5x the forward.
  b.attention(true, 2.5 * core, 2 * qkv_bytes + 2 * out_bytes);
  add_linear(
      piece, s,
      {"gemm: attention output projection", "gemm: attention output projection, data gradient",
       "gemm: attention output projection, weight gradient", heads * v, h},
      p);
  add_residual(piece, s);
}

// SwiGLU of rows x width (gate and up in, width out), forward with the routing weight and the FP8
// cast of its output fused (the down projection's input); backward recomputes the forward from
// the cached FP8 inputs.
void add_swiglu(PieceKernels& piece, const KernelShapes& s, double rows, double width,
                bool weighted) {
  Pass f(piece.forward, s), b(piece.backward, s);
  const double out = f.fp8() ? kFp8WithScales : kBf16;
  f.memory(weighted ? "swiglu forward, weighted, fp8 cast" : "swiglu forward, fp8 cast",
           rows * (2 * width * kBf16 + width * out));
  b.memory(
      weighted ? "swiglu backward (forward recomputed), weighted" : "swiglu backward",
      rows * (2 * width * (f.fp8() ? kFp8WithScales : kBf16) + width * kBf16 + 2 * width * kBf16));
}

// The names of one FFN's GEMMs in their three passes.
struct FfnNames {
  Linear up;
  Linear down;
};
constexpr FfnNames kDenseFfn = {
    {"gemm: FFN up (gate, up)", "gemm: FFN up, data gradient", "gemm: FFN up, weight gradient"},
    {"gemm: FFN down", "gemm: FFN down, data gradient", "gemm: FFN down, weight gradient"}};
constexpr FfnNames kSharedExperts = {
    {"gemm: shared experts up (gate, up)", "gemm: shared experts up, data gradient",
     "gemm: shared experts up, weight gradient"},
    {"gemm: shared experts down", "gemm: shared experts down, data gradient",
     "gemm: shared experts down, weight gradient"}};

// An FFN of the micro-batch's tokens: up (gate and up as one GEMM), SwiGLU, down.
void add_ffn(PieceKernels& piece, const KernelShapes& s, const FfnNames& names,
             std::int64_t width) {
  const std::int64_t h = s.model.hidden;
  const Precision p = s.gemm_precision;
  const bool swiglu = s.model.ffn == models::FfnKind::kSwiGlu;
  Linear up = names.up;
  up.in = h;
  up.out = (swiglu ? 2 : 1) * width;
  add_linear(piece, s, up, p);
  add_swiglu(piece, s, double(s.tokens), double(width), false);
  // The down projection's input is the SwiGLU's FP8 output: no separate cast.
  Linear down = names.down;
  down.in = width;
  down.out = h;
  down.input_cast = false;
  add_linear(piece, s, down, p);
}

void add_routed_experts(PieceKernels& piece, const KernelShapes& s) {
  const auto& m = s.model;
  const std::int64_t h = m.hidden;
  const std::int64_t ef = m.expert_ffn_dim;
  const int local = m.routed_experts / s.ep;
  const std::int64_t rows = routed_rows_per_expert(s);
  const double received = double(local) * rows;
  const Precision p = s.gemm_precision;
  Pass f(piece.forward, s), b(piece.backward, s), w(piece.weight, s);
  // The received copies are already FP8 (the dispatch sent them cast).
  f.grouped("grouped gemm: routed experts up (gate, up)", local, rows, 2 * ef, h, p);
  add_swiglu(piece, s, received, double(ef), true);
  f.grouped("grouped gemm: routed experts down", local, rows, h, ef, p);
  b.cast("fp8 cast per token (expert output gradient)", received, double(h));
  b.grouped("grouped gemm: routed experts down, data gradient", local, rows, ef, h, p);
  b.cast("fp8 cast per token (swiglu input gradient)", received, 2.0 * ef);
  b.grouped("grouped gemm: routed experts up, data gradient", local, rows, h, 2 * ef, p);
  // Weight gradients: each expert's rows transposed (and cast) along its tokens.
  w.cast_transpose("fp8 cast and transpose per channel (expert inputs)", received, double(h), true);
  w.cast_transpose("fp8 cast and transpose per channel (swiglu output)", received, double(ef),
                   true);
  w.cast_transpose("fp8 cast and transpose per channel (expert output gradient)", received,
                   double(h), false);
  w.cast_transpose("fp8 cast and transpose per channel (swiglu input gradient)", received, 2.0 * ef,
                   false);
  w.grouped("grouped gemm: routed experts up, weight gradient", local, 2 * ef, h, rows, p);
  w.grouped("grouped gemm: routed experts down, weight gradient", local, h, ef, rows, p);
}

void add_gate(PieceKernels& piece, const KernelShapes& s) {
  const auto& m = s.model;
  const std::int64_t t = s.tokens;
  add_linear(piece, s,
             {"gemm: gate (bf16)", "gemm: gate, data gradient (bf16)",
              "gemm: gate, weight gradient (bf16)", m.hidden, m.routed_experts, false},
             Precision::kBf16);
  Pass f(piece.forward, s), b(piece.backward, s);
  const double scores = double(t) * m.routed_experts * kFp32;
  const double chosen = double(t) * m.experts_per_token * (kFp32 + 8);
  f.memory("gate sigmoid and bias", 2 * scores);
  f.memory("gate group scores (top-2 sum) and top groups", scores);
  f.memory("gate top-k within the kept groups", scores + chosen);
  f.memory("gate weights normalised", 2 * chosen);
  b.memory("gate backward (weights, sigmoid)", 2 * scores + 2 * chosen);
}

void add_dispatch(PieceKernels& piece, const KernelShapes& s) {
  const auto& m = s.model;
  const double t = double(s.tokens);
  const double h = m.hidden;
  const double received = double(m.routed_experts / s.ep) * routed_rows_per_expert(s);
  const double fp8_copy = dispatch_bytes_per_copy_fp8(m.hidden);
  const double bf16_copy = combine_bytes_per_copy_bf16(m.hidden);
  const bool fp8 = s.gemm_precision == Precision::kFp8;
  Pass f(piece.forward, s), b(piece.backward, s);
  // Communication stream, before the data moves: DeepEP's FP8 cast of the tokens, the layout of
  // where each goes, and the notify that exchanges the counts.
  if (fp8) f.comm("fp8 cast per token (dispatch)", t * h * (kBf16 + kFp8WithScales));
  f.comm("dispatch layout", t * m.experts_per_token * 8 * 2);
  f.comm("notify dispatch", 0, s.notify_latency_s);
  // Compute stream, after: the received copies permuted into each expert's rows, and the maps.
  f.memory("expert token counts and mapping", received * 8 * 2);
  f.memory("permute received tokens into expert order",
           2 * received * (fp8 ? fp8_copy : bf16_copy));
  // B: the dispatch's gradient goes back along the combine's pattern, after the permutation's
  // gradient; its notify reuses the forward's layout.
  b.memory("permute gradients back to the dispatch order", 2 * received * bf16_copy);
  b.comm("notify (cached layout)", 0, s.notify_latency_s);
}

void add_combine(PieceKernels& piece, const KernelShapes& s) {
  const auto& m = s.model;
  const double t = double(s.tokens);
  const double copies = t * m.experts_per_token;
  const double bf16_copy = combine_bytes_per_copy_bf16(m.hidden);
  Pass f(piece.forward, s), b(piece.backward, s);
  f.comm("notify (cached layout)", 0, s.notify_latency_s);
  // After the combine: each token's copies weighted and summed, then the FFN's residual.
  f.memory("weighted sum of each token's expert copies", copies * bf16_copy + t * bf16_copy);
  // B, before the combine's gradient goes out: the sum's gradient fanned out to the copies.
  b.memory("gradient of the weighted sum, to each copy", t * bf16_copy + copies * bf16_copy);
  b.comm("notify (cached layout)", 0, s.notify_latency_s);
}

}  // namespace

std::int64_t routed_rows_per_expert(const KernelShapes& s) {
  const auto& m = s.model;
  if (!m.is_moe()) return 0;
  return std::max<std::int64_t>(
      1, std::int64_t(s.ep) * s.moe_tokens() * m.experts_per_token / m.routed_experts);
}

namespace {

LayerKernels stored_layer_kernels(const KernelShapes& s, int layer) {
  const auto& m = s.model;
  LayerKernels out;
  out.moe = is_moe_layer(m, layer);
  add_attention(out.attention, s);
  add_rmsnorm(out.attention, s, s.residual_rows(), double(m.hidden), s.recompute.rmsnorm);
  if (!out.moe) {
    add_ffn(out.experts, s, kDenseFfn, m.ffn_dim / s.tp);
    add_residual(out.experts, s);
    return out;
  }
  // The routed path on this GPU's own rows (KernelShapes::moe_tokens), as if tp were 1.
  KernelShapes routed = s;
  routed.tokens = s.moe_tokens();
  routed.tp = 1;
  add_gate(out.attention, routed);
  if (s.ep > 1) add_dispatch(out.dispatch, routed);
  add_routed_experts(out.routed, routed);
  if (m.shared_experts > 0) {
    add_ffn(out.experts, s, kSharedExperts,
            std::int64_t{m.expert_ffn_dim} * m.shared_experts / s.tp);
  }
  if (s.ep > 1) add_combine(out.combine, routed);
  add_residual(out.combine, s);
  return out;
}

}  // namespace

bool is_moe_layer(const models::ModelConfig& m, int layer) {
  return m.is_moe() && !(layer < m.layers && layer < m.dense_layers);
}

LayerKernels layer_kernels(const KernelShapes& s, int layer) {
  if (!s.recompute.full) return stored_layer_kernels(s, layer);
  // Everything is run again, so nothing is recomputed apart.
  KernelShapes whole = s;
  whole.recompute.rmsnorm = whole.recompute.mla_up_projection = false;
  LayerKernels out = stored_layer_kernels(whole, layer);
  for (PieceKernels* p : {&out.attention, &out.dispatch, &out.routed, &out.experts, &out.combine}) {
    add_full_recompute(*p);
  }
  return out;
}

PieceKernels embedding_kernels(const KernelShapes& s) {
  PieceKernels out;
  const double rows = double(s.tokens) * s.model.hidden * kBf16;
  Pass(out.forward, s).memory("embedding lookup", 2 * rows);
  // The embedding's gradient scatters into its table (a weight gradient).
  Pass(out.weight, s).memory("embedding gradient scatter-add", 3 * rows);
  return out;
}

PieceKernels output_head_kernels(const KernelShapes& s) {
  PieceKernels out;
  const auto& m = s.model;
  const std::int64_t vocab = m.vocab / s.tp;
  add_rmsnorm(out, s, s.residual_rows(), double(m.hidden), false);
  // The head stays BF16 (DeepSeek-V3 sec 3.3.1); vocabulary split over tensor parallelism.
  add_linear(out, s,
             {"gemm: output head (bf16)", "gemm: output head, data gradient (bf16)",
              "gemm: output head, weight gradient (bf16)", m.hidden, vocab, false},
             Precision::kBf16);
  // Softmax cross-entropy over FP32 logits: forward reads them, backward writes their gradient.
  const double logits = double(s.tokens) * vocab * kFp32;
  Pass(out.forward, s).memory("softmax cross-entropy", 2 * logits);
  Pass(out.backward, s).memory("softmax cross-entropy backward", 2 * logits);
  return out;
}

PieceKernels mtp_extra_kernels(const KernelShapes& s) {
  PieceKernels out;
  const auto& m = s.model;
  // The previous depth's hidden state and the next token's embedding, each normalised, then
  // projected from 2h back to h.
  add_rmsnorm(out, s, s.residual_rows(), double(m.hidden), false);
  add_rmsnorm(out, s, s.residual_rows(), double(m.hidden), false);
  add_linear(out, s,
             {"gemm: MTP projection", "gemm: MTP projection, data gradient",
              "gemm: MTP projection, weight gradient", 2 * std::int64_t{m.hidden}, m.hidden},
             s.gemm_precision);
  return out;
}

}  // namespace codesim::workloads
