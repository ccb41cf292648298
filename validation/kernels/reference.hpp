#pragma once
// CPU references of the calibration kernels' math: FP8 E4M3 and BF16 rounding, DeepSeek-V3's
// fine-grained FP8 scaling (1x128 activation tiles, 128x128 weight blocks), GEMM with FP32
// promotion every 128 along K, an emulation of the tensor cores' limited-precision accumulator,
// grouped GEMM in DeepGEMM's contiguous and masked layouts, and MLA decode attention in the
// absorbed form. Pure C++20, no CUDA: built in every configuration, and the CUDA kernels are
// checked against it.
//
// Layouts (row-major throughout, K contiguous, as DeepGEMM's "NT" GEMM): A is M x K, B is N x K,
// C = A * B^T is M x N.

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace codesim::validation {

// --- number formats ------------------------------------------------------------------------

// E4M3 as in the OCP FP8 spec and CUDA's __nv_fp8_e4m3 ("E4M3FN"): 1 sign bit, 4 exponent bits
// (bias 7), 3 mantissa bits, subnormals, no infinities; S.1111.111 is NaN, so the largest finite
// magnitude is 448 (S.1111.110) and the smallest subnormal 2^-9.
constexpr double kE4m3Max = 448.0;
constexpr double kE4m3MinSubnormal = 1.0 / 512.0;
constexpr uint8_t kE4m3Nan = 0x7F;

// Round to nearest, ties to even; magnitudes beyond 448 (infinities included) saturate to +-448;
// NaN becomes 0x7F.
uint8_t e4m3_encode(double x);
double e4m3_decode(uint8_t code);
bool e4m3_is_nan(uint8_t code);

// BF16 as the upper half of an IEEE binary32, rounded to nearest even.
uint16_t bf16_encode(float x);
float bf16_decode(uint16_t bits);
inline float bf16_round(float x) {
  return bf16_decode(bf16_encode(x));
}

// --- fine-grained FP8 scaling --------------------------------------------------------------

// A matrix quantized to E4M3 with one FP32 scale per block of block_rows x block_cols:
// value(r, c) = e4m3_decode(codes[r * cols + c]) * scales[(r / block_rows) * col_blocks + c /
// block_cols]. The scale of a block is its largest magnitude over 448 (1 for an all-zero block),
// so that the largest element lands on 448.
struct Fp8Matrix {
  int64_t rows = 0, cols = 0;
  int64_t block_rows = 1, block_cols = 128;
  std::vector<uint8_t> codes;
  std::vector<float> scales;

  int64_t row_blocks() const { return (rows + block_rows - 1) / block_rows; }
  int64_t col_blocks() const { return (cols + block_cols - 1) / block_cols; }
  float scale(int64_t r, int64_t c) const {
    return scales[(r / block_rows) * col_blocks() + c / block_cols];
  }
  double value(int64_t r, int64_t c) const {
    return e4m3_decode(codes[r * cols + c]) * double(scale(r, c));
  }
};

Fp8Matrix quantize_e4m3(std::span<const float> values, int64_t rows, int64_t cols,
                        int64_t block_rows, int64_t block_cols);
// DeepSeek-V3's recipe: activations per 1 x 128 tile, weights per 128 x 128 block.
inline Fp8Matrix quantize_activations(std::span<const float> a, int64_t m, int64_t k) {
  return quantize_e4m3(a, m, k, 1, 128);
}
inline Fp8Matrix quantize_weights(std::span<const float> b, int64_t n, int64_t k) {
  return quantize_e4m3(b, n, k, 128, 128);
}
std::vector<double> dequantize(const Fp8Matrix& q);

// --- GEMM ----------------------------------------------------------------------------------

// C = A * B^T in double from plain values (a: m x k, b: n x k).
std::vector<double> gemm_double(std::span<const double> a, std::span<const double> b, int64_t m,
                                int64_t n, int64_t k);

// How the FP8 GEMM accumulates, the model the emulation follows:
//  - The K dimension is walked in MMA steps of `mma_k` (32: one Hopper FP8 WGMMA instruction).
//  - Inside a promotion interval of `promotion_interval_k` (128 = 4 WGMMAs, DeepSeek-V3's
//    choice; 0 = never promote, the whole K stays in the tensor core), the products of one step
//    are added to the tensor-core accumulator. With `accumulator_bits` = b > 0 the step is done
//    as the limited-precision adder is understood to work: the products (exact: an E4M3 x E4M3
//    product has at most 8 significant bits) and the running accumulator are aligned to the
//    largest exponent among them, every addend is truncated toward zero to b significant bits
//    of that largest one (bits below 2^(e_max - b + 1) are dropped), and the aligned addends are
//    summed exactly. With b = 0 the accumulator is an ordinary FP32 register, products added in
//    K order.
//  - At the end of each interval the accumulator is multiplied by the interval's two scales
//    (A's 1 x 128 tile, B's 128 x 128 block) and added in FP32 to the output register (CUDA
//    cores), so scales must be constant along K over an interval.
struct AccumulatorModel {
  int mma_k = 32;
  int promotion_interval_k = 128;
  int accumulator_bits = 0;
};

// The FP8 GEMM of quantized operands under `model`: a is m x k (any K block width that
// `model`'s interval fits inside), b is n x k. Throws std::invalid_argument on a shape mismatch
// or when scales change inside a promotion interval.
std::vector<float> fp8_gemm_emulated(const Fp8Matrix& a, const Fp8Matrix& b,
                                     const AccumulatorModel& model);
// What the CUDA kernels compute: FP32 partial sums promoted (scaled and added) every 128 of K.
inline std::vector<float> fp8_gemm_reference(const Fp8Matrix& a, const Fp8Matrix& b) {
  return fp8_gemm_emulated(a, b, {32, 128, 0});
}

// One aligned, truncating MMA step of the limited-precision accumulator (see AccumulatorModel).
double limited_precision_accumulate(double accumulator, std::span<const double> products, int bits);

// --- grouped GEMM (MoE experts) ------------------------------------------------------------

// Contiguous layout (training forward, prefill): the rows of all experts are concatenated in A
// (total_m x k); expert g owns rows [offsets[g], offsets[g + 1]). B holds the experts' weights
// stacked: groups x (n x k), each quantized in 128 x 128 blocks. C is total_m x n.
struct GroupedContiguous {
  std::vector<int64_t> offsets;  // groups + 1 entries, offsets[0] = 0; DeepGEMM aligns each to
                                 // the M block (128), which the kernel requires
};
// Masked layout (decoding): A is groups x capacity x k; only the first valid_rows[g] rows of
// expert g are computed, the rest of C (groups x capacity x n) is left zero.
struct GroupedMasked {
  int64_t capacity = 0;
  std::vector<int64_t> valid_rows;
};

// `a`: all rows quantized 1 x 128; `b`: groups * n rows, quantized 128 x 128 (n a multiple of
// 128 so that no block straddles two experts).
std::vector<float> grouped_gemm_contiguous_reference(const Fp8Matrix& a, const Fp8Matrix& b,
                                                     int64_t n, const GroupedContiguous& layout);
std::vector<float> grouped_gemm_masked_reference(const Fp8Matrix& a, const Fp8Matrix& b, int64_t n,
                                                 const GroupedMasked& layout);

// --- MLA decode attention, absorbed form ---------------------------------------------------

// DeepSeek-V3's MLA at decode: each of `heads` query heads attends over a request's cached
// latent vectors c_t (kv_lora_rank = 512) and decoupled RoPE keys r_t (64). In the absorbed form
// W_UK is folded into the query (q_latent = W_UK^T q_nope, 512) and W_UV is applied after the
// attention, so the kernel computes, per request and head,
//   s_t = (q_latent . c_t + q_rope . r_t) * softmax_scale,  o = sum_t softmax(s)_t c_t  (512).
struct MlaDims {
  int heads = 128;
  int kv_lora_rank = 512;
  int rope_dim = 64;
  int qk_nope_dim = 128;  // per-head dims of the non-absorbed form
  int v_dim = 128;
  double softmax_scale() const;  // 1 / sqrt(qk_nope_dim + rope_dim)
};

// One request: q is heads x (kv_lora_rank + rope_dim) (latent then rope), cache is
// context x (kv_lora_rank + rope_dim) (c_t then r_t). Returns heads x kv_lora_rank.
std::vector<double> mla_decode_absorbed(const MlaDims& dims, std::span<const double> q,
                                        std::span<const double> cache, int64_t context);

// The same attention computed the plain way, for checking the absorption: per head h,
// k_t = W_UK[h] c_t (qk_nope_dim), v_t = W_UV[h] c_t (v_dim); q_nope is heads x qk_nope_dim,
// q_rope heads x rope_dim; w_uk and w_uv are heads x (qk_nope_dim | v_dim) x kv_lora_rank.
// Returns heads x v_dim.
std::vector<double> mla_decode_naive(const MlaDims& dims, std::span<const double> q_nope,
                                     std::span<const double> q_rope, std::span<const double> cache,
                                     int64_t context, std::span<const double> w_uk,
                                     std::span<const double> w_uv);

// --- test data -----------------------------------------------------------------------------

// Deterministic standard-normal values from `seed`, as float.
std::vector<float> normal_values(int64_t count, uint64_t seed, double stddev = 1.0);

}  // namespace codesim::validation
