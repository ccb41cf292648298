#include "validation/kernels/reference.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

namespace codesim::validation {

// --- number formats ------------------------------------------------------------------------

uint8_t e4m3_encode(double x) {
  if (std::isnan(x)) return kE4m3Nan;
  const uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  const double magnitude = std::fabs(x);
  if (magnitude >= kE4m3Max) return sign | 0x7E;
  // std::nearbyint rounds half to even in the default rounding mode; the divisions are by
  // powers of two, so exact.
  if (magnitude < 1.0 / 64.0) {
    // Subnormal range: a multiple of 2^-9; a result of 8 is the smallest normal, code 0x08.
    return sign | uint8_t(std::nearbyint(magnitude / kE4m3MinSubnormal));
  }
  int exponent = 0;
  std::frexp(magnitude, &exponent);  // magnitude = f * 2^exponent, f in [0.5, 1)
  const int unbiased = exponent - 1;
  const double quantum = std::ldexp(1.0, unbiased - 3);
  const int significand = int(std::nearbyint(magnitude / quantum));  // 8..16; 16 carries
  const int code = ((unbiased + 7) << 3) + (significand - 8);
  return sign | uint8_t(std::min(code, 0x7E));
}

double e4m3_decode(uint8_t code) {
  const double sign = (code & 0x80) ? -1.0 : 1.0;
  const int exponent = (code >> 3) & 0xF;
  const int mantissa = code & 0x7;
  if (exponent == 0xF && mantissa == 0x7) return std::numeric_limits<double>::quiet_NaN();
  if (exponent == 0) return sign * mantissa * kE4m3MinSubnormal;
  return sign * std::ldexp(1.0 + mantissa / 8.0, exponent - 7);
}

bool e4m3_is_nan(uint8_t code) {
  return (code & 0x7F) == 0x7F;
}

uint16_t bf16_encode(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  if (std::isnan(x)) return uint16_t((bits >> 16) | 0x40);
  const uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);
  return uint16_t((bits + rounding) >> 16);
}

float bf16_decode(uint16_t bits) {
  return std::bit_cast<float>(uint32_t(bits) << 16);
}

// --- fine-grained FP8 scaling --------------------------------------------------------------

Fp8Matrix quantize_e4m3(std::span<const float> values, int64_t rows, int64_t cols,
                        int64_t block_rows, int64_t block_cols) {
  if (int64_t(values.size()) != rows * cols || block_rows <= 0 || block_cols <= 0) {
    throw std::invalid_argument("quantize_e4m3: values do not match rows x cols");
  }
  Fp8Matrix q;
  q.rows = rows;
  q.cols = cols;
  q.block_rows = block_rows;
  q.block_cols = block_cols;
  q.codes.resize(values.size());
  q.scales.assign(q.row_blocks() * q.col_blocks(), 1.0f);
  for (int64_t rb = 0; rb < q.row_blocks(); ++rb) {
    for (int64_t cb = 0; cb < q.col_blocks(); ++cb) {
      const int64_t r_end = std::min(rows, (rb + 1) * block_rows);
      const int64_t c_end = std::min(cols, (cb + 1) * block_cols);
      float amax = 0;
      for (int64_t r = rb * block_rows; r < r_end; ++r) {
        for (int64_t c = cb * block_cols; c < c_end; ++c) {
          amax = std::max(amax, std::fabs(values[r * cols + c]));
        }
      }
      const float scale = amax > 0 ? float(amax / kE4m3Max) : 1.0f;
      q.scales[rb * q.col_blocks() + cb] = scale;
      for (int64_t r = rb * block_rows; r < r_end; ++r) {
        for (int64_t c = cb * block_cols; c < c_end; ++c) {
          q.codes[r * cols + c] = e4m3_encode(double(values[r * cols + c]) / double(scale));
        }
      }
    }
  }
  return q;
}

std::vector<double> dequantize(const Fp8Matrix& q) {
  std::vector<double> out(q.codes.size());
  for (int64_t r = 0; r < q.rows; ++r) {
    for (int64_t c = 0; c < q.cols; ++c) out[r * q.cols + c] = q.value(r, c);
  }
  return out;
}

// --- GEMM ----------------------------------------------------------------------------------

std::vector<double> gemm_double(std::span<const double> a, std::span<const double> b, int64_t m,
                                int64_t n, int64_t k) {
  std::vector<double> c(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p) sum += a[i * k + p] * b[j * k + p];
      c[i * n + j] = sum;
    }
  }
  return c;
}

double limited_precision_accumulate(double accumulator, std::span<const double> products,
                                    int bits) {
  double largest = std::fabs(accumulator);
  for (double p : products) largest = std::max(largest, std::fabs(p));
  if (largest == 0) return 0;
  int exponent = 0;
  std::frexp(largest, &exponent);  // leading bit of the largest addend at 2^(exponent - 1)
  const double quantum = std::ldexp(1.0, exponent - bits);
  // Each addend is a multiple of `quantum` below 2^bits quanta, so at most 33 of them sum
  // exactly in a double.
  double sum = std::trunc(accumulator / quantum) * quantum;
  for (double p : products) sum += std::trunc(p / quantum) * quantum;
  return sum;
}

std::vector<float> fp8_gemm_emulated(const Fp8Matrix& a, const Fp8Matrix& b,
                                     const AccumulatorModel& model) {
  if (a.cols != b.cols) throw std::invalid_argument("fp8_gemm_emulated: A and B differ in K");
  const int64_t m = a.rows, n = b.rows, k = a.cols;
  const int64_t interval = model.promotion_interval_k > 0 ? model.promotion_interval_k : k;
  if (model.mma_k <= 0 || interval % model.mma_k != 0) {
    throw std::invalid_argument("fp8_gemm_emulated: the interval must be whole MMA steps");
  }
  if (a.block_cols % interval != 0 && a.block_cols < k) {
    throw std::invalid_argument("fp8_gemm_emulated: A's scales change inside an interval");
  }
  if (b.block_cols % interval != 0 && b.block_cols < k) {
    throw std::invalid_argument("fp8_gemm_emulated: B's scales change inside an interval");
  }
  std::vector<double> a_values(a.codes.size()), b_values(b.codes.size());
  for (size_t i = 0; i < a.codes.size(); ++i) a_values[i] = e4m3_decode(a.codes[i]);
  for (size_t i = 0; i < b.codes.size(); ++i) b_values[i] = e4m3_decode(b.codes[i]);

  std::vector<float> c(m * n, 0.0f);
  std::vector<double> products(model.mma_k);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float output = 0;  // FP32 register on the CUDA cores
      for (int64_t k0 = 0; k0 < k; k0 += interval) {
        const int64_t k_end = std::min(k, k0 + interval);
        double limited = 0;  // the tensor core's accumulator in the limited model
        float fp32 = 0;      // the same accumulator as a plain FP32 register
        for (int64_t s = k0; s < k_end; s += model.mma_k) {
          const int64_t s_end = std::min(k_end, s + model.mma_k);
          products.assign(s_end - s, 0.0);
          for (int64_t p = s; p < s_end; ++p) {
            products[p - s] = a_values[i * k + p] * b_values[j * k + p];
          }
          if (model.accumulator_bits > 0) {
            limited = limited_precision_accumulate(limited, products, model.accumulator_bits);
          } else {
            for (double product : products) fp32 += float(product);
          }
        }
        const float partial = model.accumulator_bits > 0 ? float(limited) : fp32;
        output += partial * (a.scale(i, k0) * b.scale(j, k0));
      }
      c[i * n + j] = output;
    }
  }
  return c;
}

// --- grouped GEMM --------------------------------------------------------------------------

namespace {

// Rows [row_begin, row_end) of `q` as a matrix of their own (scales follow the rows).
Fp8Matrix slice_rows(const Fp8Matrix& q, int64_t row_begin, int64_t row_end) {
  if (row_begin % q.block_rows != 0) {
    throw std::invalid_argument("slice_rows: a group must start on a scale block");
  }
  Fp8Matrix s;
  s.rows = row_end - row_begin;
  s.cols = q.cols;
  s.block_rows = q.block_rows;
  s.block_cols = q.block_cols;
  s.codes.assign(q.codes.begin() + row_begin * q.cols, q.codes.begin() + row_end * q.cols);
  const int64_t rb0 = row_begin / q.block_rows;
  const int64_t rb1 = (row_end + q.block_rows - 1) / q.block_rows;
  s.scales.assign(q.scales.begin() + rb0 * q.col_blocks(), q.scales.begin() + rb1 * q.col_blocks());
  return s;
}

}  // namespace

std::vector<float> grouped_gemm_contiguous_reference(const Fp8Matrix& a, const Fp8Matrix& b,
                                                     int64_t n, const GroupedContiguous& layout) {
  const int64_t groups = int64_t(layout.offsets.size()) - 1;
  if (groups < 1 || layout.offsets.front() != 0 || layout.offsets.back() != a.rows ||
      b.rows != groups * n) {
    throw std::invalid_argument("grouped_gemm_contiguous_reference: layout does not match");
  }
  std::vector<float> c(a.rows * n, 0.0f);
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t begin = layout.offsets[g], end = layout.offsets[g + 1];
    if (end <= begin) continue;
    const auto part =
        fp8_gemm_reference(slice_rows(a, begin, end), slice_rows(b, g * n, (g + 1) * n));
    std::copy(part.begin(), part.end(), c.begin() + begin * n);
  }
  return c;
}

std::vector<float> grouped_gemm_masked_reference(const Fp8Matrix& a, const Fp8Matrix& b, int64_t n,
                                                 const GroupedMasked& layout) {
  const int64_t groups = int64_t(layout.valid_rows.size());
  if (groups < 1 || a.rows != groups * layout.capacity || b.rows != groups * n) {
    throw std::invalid_argument("grouped_gemm_masked_reference: layout does not match");
  }
  std::vector<float> c(a.rows * n, 0.0f);
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t valid = std::min(layout.valid_rows[g], layout.capacity);
    if (valid <= 0) continue;
    const int64_t begin = g * layout.capacity;
    const auto part =
        fp8_gemm_reference(slice_rows(a, begin, begin + valid), slice_rows(b, g * n, (g + 1) * n));
    std::copy(part.begin(), part.end(), c.begin() + begin * n);
  }
  return c;
}

// --- MLA decode ----------------------------------------------------------------------------

double MlaDims::softmax_scale() const {
  return 1.0 / std::sqrt(double(qk_nope_dim + rope_dim));
}

namespace {

// softmax(scores) in place, subtracting the maximum first.
void softmax(std::vector<double>& scores) {
  const double top = *std::max_element(scores.begin(), scores.end());
  double total = 0;
  for (double& s : scores) total += (s = std::exp(s - top));
  for (double& s : scores) s /= total;
}

}  // namespace

std::vector<double> mla_decode_absorbed(const MlaDims& dims, std::span<const double> q,
                                        std::span<const double> cache, int64_t context) {
  const int64_t width = dims.kv_lora_rank + dims.rope_dim;
  if (int64_t(q.size()) != dims.heads * width || int64_t(cache.size()) != context * width ||
      context < 1) {
    throw std::invalid_argument("mla_decode_absorbed: sizes do not match the dimensions");
  }
  std::vector<double> out(dims.heads * dims.kv_lora_rank, 0.0);
  std::vector<double> scores(context);
  for (int h = 0; h < dims.heads; ++h) {
    for (int64_t t = 0; t < context; ++t) {
      double dot = 0;
      for (int64_t d = 0; d < width; ++d) dot += q[h * width + d] * cache[t * width + d];
      scores[t] = dot * dims.softmax_scale();
    }
    softmax(scores);
    for (int64_t t = 0; t < context; ++t) {
      for (int d = 0; d < dims.kv_lora_rank; ++d) {
        out[h * dims.kv_lora_rank + d] += scores[t] * cache[t * width + d];
      }
    }
  }
  return out;
}

std::vector<double> mla_decode_naive(const MlaDims& dims, std::span<const double> q_nope,
                                     std::span<const double> q_rope, std::span<const double> cache,
                                     int64_t context, std::span<const double> w_uk,
                                     std::span<const double> w_uv) {
  const int64_t width = dims.kv_lora_rank + dims.rope_dim;
  const int64_t rank = dims.kv_lora_rank;
  std::vector<double> out(dims.heads * dims.v_dim, 0.0);
  std::vector<double> scores(context), key(dims.qk_nope_dim), value(dims.v_dim);
  for (int h = 0; h < dims.heads; ++h) {
    std::vector<std::vector<double>> values(context);
    for (int64_t t = 0; t < context; ++t) {
      const double* latent = &cache[t * width];
      for (int i = 0; i < dims.qk_nope_dim; ++i) {
        double sum = 0;
        for (int64_t d = 0; d < rank; ++d) {
          sum += w_uk[(int64_t(h) * dims.qk_nope_dim + i) * rank + d] * latent[d];
        }
        key[i] = sum;
      }
      for (int i = 0; i < dims.v_dim; ++i) {
        double sum = 0;
        for (int64_t d = 0; d < rank; ++d) {
          sum += w_uv[(int64_t(h) * dims.v_dim + i) * rank + d] * latent[d];
        }
        value[i] = sum;
      }
      double dot = 0;
      for (int i = 0; i < dims.qk_nope_dim; ++i) dot += q_nope[h * dims.qk_nope_dim + i] * key[i];
      for (int i = 0; i < dims.rope_dim; ++i) {
        dot += q_rope[h * dims.rope_dim + i] * latent[rank + i];
      }
      scores[t] = dot * dims.softmax_scale();
      values[t] = value;
    }
    softmax(scores);
    for (int64_t t = 0; t < context; ++t) {
      for (int i = 0; i < dims.v_dim; ++i) out[h * dims.v_dim + i] += scores[t] * values[t][i];
    }
  }
  return out;
}

// --- test data -----------------------------------------------------------------------------

std::vector<float> normal_values(int64_t count, uint64_t seed, double stddev) {
  // Box-Muller over mt19937_64 bits: the same numbers from every standard library, which
  // std::normal_distribution does not promise.
  std::mt19937_64 bits(seed);
  auto uniform = [&] { return (double(bits() >> 11) + 0.5) * 0x1.0p-53; };
  std::vector<float> out(count);
  for (int64_t i = 0; i < count; i += 2) {
    const double radius = std::sqrt(-2.0 * std::log(uniform())) * stddev;
    const double angle = 2.0 * std::numbers::pi * uniform();
    out[i] = float(radius * std::cos(angle));
    if (i + 1 < count) out[i + 1] = float(radius * std::sin(angle));
  }
  return out;
}

}  // namespace codesim::validation
