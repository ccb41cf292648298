#include "models/compute_cost.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

namespace codesim::models {
namespace {

struct EfficiencyPoint {
  double log2_m;
  double efficiency;
};

double log_distance(int64_t n, int64_t k, int64_t n2, int64_t k2) {
  return std::abs(std::log2(double(n) / double(n2))) + std::abs(std::log2(double(k) / double(k2)));
}

double interpolate(std::vector<EfficiencyPoint> points, double log2_m) {
  std::sort(points.begin(), points.end(),
            [](const auto& a, const auto& b) { return a.log2_m < b.log2_m; });
  if (log2_m <= points.front().log2_m) return points.front().efficiency;
  if (log2_m >= points.back().log2_m) return points.back().efficiency;
  for (size_t i = 1; i < points.size(); ++i) {
    if (log2_m <= points[i].log2_m) {
      const auto& lo = points[i - 1];
      const auto& hi = points[i];
      if (hi.log2_m == lo.log2_m) return hi.efficiency;
      const double t = (log2_m - lo.log2_m) / (hi.log2_m - lo.log2_m);
      return lo.efficiency + t * (hi.efficiency - lo.efficiency);
    }
  }
  return points.back().efficiency;
}

// Steps 1 and 2 of the method in the header, over any table with m, n, k and tflops.
template <typename Row, typename MOf>
double table_efficiency(const std::vector<Row>& rows, MOf m_of, int64_t m, int64_t n, int64_t k,
                        double peak_tflops) {
  if (rows.empty()) throw std::invalid_argument("calibration has no GEMM measurements");
  double best = std::numeric_limits<double>::infinity();
  std::pair<int64_t, int64_t> nearest{0, 0};
  for (const auto& row : rows) {
    const double d = log_distance(n, k, row.n, row.k);
    if (d < best) {
      best = d;
      nearest = {row.n, row.k};
    }
  }
  std::vector<EfficiencyPoint> points;
  for (const auto& row : rows) {
    if (row.n == nearest.first && row.k == nearest.second) {
      points.push_back({std::log2(double(m_of(row))), row.tflops / peak_tflops});
    }
  }
  return interpolate(std::move(points), std::log2(double(std::max<int64_t>(m, 1))));
}

// Output tiles of one 128 x 128 block each, the unit a persistent GEMM kernel hands to an SM.
constexpr std::int64_t kGemmTile = 128;
// Query rows of one head per attention work unit.
constexpr std::int64_t kAttentionTile = 128;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

// How much longer `tiles` work units take on `sms` SMs than on `all`: the ratio of their waves.
double wave_ratio(std::int64_t tiles, int sms, int all) {
  if (tiles <= 0 || sms <= 0 || sms >= all) return 1.0;
  return double(ceil_div(tiles, sms)) / double(ceil_div(tiles, all));
}

}  // namespace

ComputeCostModel::ComputeCostModel(GpuSpec gpu, Calibration calibration)
    : gpu_(std::move(gpu)),
      calibration_(std::move(calibration)),
      measured_on_(calibration_.measured_on) {}

const Gemm16Measurement* ComputeCostModel::gemm_16bit() const {
  for (const Gemm16Measurement& g : calibration_.gemm_16bit) {
    if (g.measured_on.sms == gpu_.sms &&
        g.measured_on.bf16_dense_tflops == gpu_.bf16_dense_tflops && g.tflops > 0) {
      return &g;
    }
  }
  return nullptr;
}

double ComputeCostModel::gemm_16bit_fraction(Precision precision) const {
  const bool fp8 = precision == Precision::kFp8 && gpu_.fp8_dense_tflops > 0;
  const Gemm16Measurement* g = fp8 ? nullptr : gemm_16bit();
  return g ? g->tflops / g->measured_on.bf16_dense_tflops : 0.0;
}

double ComputeCostModel::gemm_efficiency(const GemmShape& shape, Precision precision) const {
  if (const double measured = gemm_16bit_fraction(precision); measured > 0) return measured;
  return table_efficiency(
      calibration_.dense_fp8_gemm, [](const GemmMeasurement& r) { return r.m; }, shape.m, shape.n,
      shape.k, measured_on_.fp8_dense_tflops);
}

double ComputeCostModel::grouped_gemm_efficiency(int64_t m_per_group, int64_t n, int64_t k,
                                                 Precision precision) const {
  if (const double measured = gemm_16bit_fraction(precision); measured > 0) return measured;
  return table_efficiency(
      calibration_.grouped_fp8_gemm, [](const GroupedGemmMeasurement& r) { return r.m_per_group; },
      m_per_group, n, k, measured_on_.fp8_dense_tflops);
}

double ComputeCostModel::peak_flops(Precision precision) const {
  const bool fp8 = precision == Precision::kFp8 && gpu_.fp8_dense_tflops > 0;
  return (fp8 ? gpu_.fp8_dense_tflops : gpu_.bf16_dense_tflops) * 1e12;
}

double ComputeCostModel::achieved_hbm_bytes_per_second() const {
  return calibration_.hbm_achieved_GBps / measured_on_.hbm_GBps * gpu_.hbm_GBps * 1e9;
}

double ComputeCostModel::gemm_time(double flops, double efficiency, double bytes,
                                   Precision precision) const {
  const double compute = flops / (efficiency * peak_flops(precision));
  return std::max(compute, bytes / achieved_hbm_bytes_per_second());
}

static double operand_bytes(double m, double n, double k, Precision precision) {
  const double in = precision == Precision::kFp8 ? 1.0 : 2.0;
  return (m * k + k * n) * in + m * n * 2.0 /* BF16 output */;
}

double ComputeCostModel::gemm_seconds(const GemmShape& shape, Precision precision) const {
  if (shape.m <= 0 || shape.n <= 0 || shape.k <= 0) return 0.0;
  return gemm_time(shape.flops(), gemm_efficiency(shape, precision),
                   operand_bytes(double(shape.m), double(shape.n), double(shape.k), precision),
                   precision);
}

double ComputeCostModel::grouped_gemm_seconds(int groups, int64_t m_per_group, int64_t n, int64_t k,
                                              Precision precision) const {
  if (groups <= 0 || m_per_group <= 0) return 0.0;
  const double flops = 2.0 * groups * double(m_per_group) * double(n) * double(k);
  const double bytes = groups * operand_bytes(double(m_per_group), double(n), double(k), precision);
  return gemm_time(flops, grouped_gemm_efficiency(m_per_group, n, k, precision), bytes, precision);
}

double ComputeCostModel::attention_seconds(double flops) const {
  const double efficiency = calibration_.attention_bf16_tflops / measured_on_.bf16_dense_tflops;
  return flops / (efficiency * gpu_.bf16_dense_tflops * 1e12);
}

double ComputeCostModel::memory_seconds(double bytes) const {
  return bytes / achieved_hbm_bytes_per_second();
}

double ComputeCostModel::training_attention_efficiency(int head_dim, bool causal, int seq_len,
                                                       bool backward) const {
  const auto& rows = calibration_.attention_training;
  const double peak = measured_on_.bf16_dense_tflops;
  if (rows.empty()) return calibration_.attention_bf16_tflops / peak;
  // The measured head dim nearest in log2.
  int nearest = rows.front().head_dim;
  for (const auto& r : rows) {
    if (std::abs(std::log2(double(r.head_dim) / head_dim)) <
        std::abs(std::log2(double(nearest) / head_dim))) {
      nearest = r.head_dim;
    }
  }
  auto curve = [&](bool mask, bool bwd) {
    std::vector<EfficiencyPoint> points;
    for (const auto& r : rows) {
      const double tflops = bwd ? r.backward_tflops : r.forward_tflops;
      if (r.head_dim == nearest && r.causal == mask && tflops > 0) {
        points.push_back({std::log2(double(r.seq_len)), tflops / peak});
      }
    }
    return points;
  };
  const double log2_seq = std::log2(double(std::max(seq_len, 1)));
  auto forward = [&](bool mask) {
    auto points = curve(mask, false);
    if (points.empty()) points = curve(!mask, false);
    if (points.empty()) throw std::invalid_argument("calibration: no training attention forward");
    return interpolate(std::move(points), log2_seq);
  };
  if (!backward) return forward(causal);
  auto points = curve(causal, true);
  if (!points.empty()) return interpolate(std::move(points), log2_seq);
  points = curve(!causal, true);
  if (points.empty()) return forward(causal);  // no backward measured at all
  return interpolate(std::move(points), log2_seq) * forward(causal) / forward(!causal);
}

double ComputeCostModel::kernel_seconds(const Kernel& kernel, const KernelContext& context) const {
  if (kernel.count <= 0) return 0.0;
  const int all = gpu_.sms;
  const int sms = context.sms > 0 ? std::min(context.sms, all) : all;
  const double hbm = achieved_hbm_bytes_per_second() * std::clamp(context.hbm_fraction, 1e-6, 1.0);
  const double memory = kernel.bytes / hbm;
  double compute = 0;
  switch (kernel.kind) {
    case KernelKind::kGemm:
      if (kernel.m > 0 && kernel.n > 0 && kernel.k > 0) {
        compute =
            kernel.flops /
            (gemm_efficiency({kernel.m, kernel.n, kernel.k}, kernel.precision) *
             peak_flops(kernel.precision)) *
            wave_ratio(ceil_div(kernel.m, kGemmTile) * ceil_div(kernel.n, kGemmTile), sms, all);
      }
      break;
    case KernelKind::kGroupedGemm:
      if (kernel.m > 0 && kernel.n > 0 && kernel.k > 0) {
        compute = kernel.flops /
                  (grouped_gemm_efficiency(kernel.m, kernel.n, kernel.k, kernel.precision) *
                   peak_flops(kernel.precision)) *
                  wave_ratio(
                      kernel.groups * ceil_div(kernel.m, kGemmTile) * ceil_div(kernel.n, kGemmTile),
                      sms, all);
      }
      break;
    case KernelKind::kAttentionForward:
    case KernelKind::kAttentionBackward: {
      const bool backward = kernel.kind == KernelKind::kAttentionBackward;
      const double efficiency = training_attention_efficiency(kernel.head_dim_qk, kernel.causal,
                                                              kernel.seq_len, backward);
      compute = kernel.flops / (efficiency * gpu_.bf16_dense_tflops * 1e12) *
                wave_ratio(ceil_div(kernel.seq_len, kAttentionTile) * kernel.heads *
                               std::max(kernel.sequences, 1),
                           sms, all);
      break;
    }
    case KernelKind::kMemory:
      break;
  }
  const double per_launch =
      std::max(compute, memory) + kernel.latency_s + calibration_.kernel_overhead_us * 1e-6;
  return per_launch * kernel.count;
}

}  // namespace codesim::models
