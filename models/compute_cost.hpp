#pragma once
// Time of compute kernels on one GPU, from a Calibration measured on some GPU and the target
// GPU's peaks. Measured throughput is turned into a fraction of the measuring GPU's peak and
// applied to the target's peak, so an H800 measurement carries over to an H100 or a B200 at the
// same efficiency (an assumption that calibration on the target GPU removes).
//
// GEMM interpolation, written down once:
//  1. Among the measurements, take those with the scenario's (N, K); if none, those of the
//     measured (N, K) nearest in |log2 N/N'| + |log2 K/K'| (ties: first in table order).
//  2. Interpolate their efficiency piecewise-linearly in log2 M (for grouped GEMMs, M per
//     group), clamped at the smallest and largest measured M.
//  3. The time is the larger of FLOPs / (efficiency x peak) and the bytes of A, B and C over the
//     achieved HBM bandwidth (a roofline floor for shapes far from any measurement).
//
// A kernel (models/kernel.hpp) is priced the same way under a KernelContext, each part from what
// it is:
//  - GEMMs and attention on fewer SMs than the GPU has take longer by their wave counts: a
//    persistent kernel of T tiles runs ceil(T / sms) waves (tiles of 128 x 128 output elements
//    for GEMMs, the FP8 block size of DeepSeek-V3's recipe and DeepGEMM's usual block; 128 query
//    rows of one head for attention). The measured efficiency is that of all the SMs.
//  - Memory-bound work takes its bytes over the share of the achieved HBM bandwidth the context
//    leaves it (communication kernels running beside it take the rest); it is taken to saturate
//    HBM on the SMs left to it.
//  - Training attention runs at the calibration's FlashAttention-3-style throughput for the
//    nearest measured head dim, interpolated in log2 of the sequence length; a backward with no
//    measurement under its mask takes the other mask's, times the forward's ratio between them.
//    Without such measurements it falls back to the compute-bound attention kernel's figure.
//  - Each launch adds the calibration's per-kernel overhead (launch gap and tail).

#include <cstdint>
#include <string>

#include "models/calibration.hpp"
#include "models/gpu.hpp"
#include "models/kernel.hpp"

namespace codesim::models {

struct GemmShape {
  int64_t m = 0, n = 0, k = 0;
  double flops() const { return 2.0 * double(m) * double(n) * double(k); }
};

class ComputeCostModel {
 public:
  ComputeCostModel(GpuSpec gpu, Calibration calibration);

  // Fraction of the precision's dense peak that a GEMM of this shape reaches: the FP8 tables'
  // (DeepGEMM's), or for a 16-bit GEMM on a chip with a 16-bit measurement, that measurement's
  // fraction of its peak (the roofline and the waves then give the shape its cost).
  double gemm_efficiency(const GemmShape& shape, Precision precision = Precision::kFp8) const;
  double grouped_gemm_efficiency(int64_t m_per_group, int64_t n, int64_t k,
                                 Precision precision = Precision::kFp8) const;
  // The 16-bit GEMM measurement of this GPU's chip (same SMs and BF16 peak), or null.
  const Gemm16Measurement* gemm_16bit() const;

  double gemm_seconds(const GemmShape& shape, Precision precision) const;
  double grouped_gemm_seconds(int groups, int64_t m_per_group, int64_t n, int64_t k,
                              Precision precision) const;
  // Attention score/value matmuls at the calibrated attention kernel's fraction of BF16 peak.
  double attention_seconds(double flops) const;
  // A memory-bound kernel moving `bytes` through HBM at the calibrated achieved fraction.
  double memory_seconds(double bytes) const;

  // Every launch of `kernel` under `context`.
  double kernel_seconds(const Kernel& kernel, const KernelContext& context = {}) const;
  // Fraction of BF16 peak that training attention reaches (forward or backward).
  double training_attention_efficiency(int head_dim, bool causal, int seq_len, bool backward) const;

  double peak_flops(Precision precision) const;  // FLOP/s; FP8 falls back to BF16 without FP8
  double achieved_hbm_bytes_per_second() const;
  const GpuSpec& gpu() const { return gpu_; }
  const Calibration& calibration() const { return calibration_; }

 private:
  // The measured 16-bit fraction of peak for a GEMM in `precision` that runs in 16 bits on a
  // chip with a measurement (FP8 asked of a GPU without FP8 runs in 16 bits); 0 otherwise.
  double gemm_16bit_fraction(Precision precision) const;

  double gemm_time(double flops, double efficiency, double bytes, Precision precision) const;

  GpuSpec gpu_;
  Calibration calibration_;
  GpuSpec measured_on_;
};

}  // namespace codesim::models
