#pragma once
// Measured kernel and link performance that the cost models are calibrated on. The default is
// DeepSeek's own published H800 measurements (DeepGEMM, FlashMLA, DeepEP, the V3 report); a
// `codesim calibrate` run on a GPU produces the same structure from this project's kernels.

#include <cstdint>
#include <string>
#include <vector>

#include "models/gpu.hpp"
#include "sim/time.hpp"

namespace codesim::models {

struct GemmMeasurement {
  int64_t m = 0, n = 0, k = 0;
  double tflops = 0;
};

struct GroupedGemmMeasurement {
  int groups = 0;
  int64_t m_per_group = 0, n = 0, k = 0;
  double tflops = 0;
};

struct EpBandwidthMeasurement {
  int ep = 0;
  double dispatch_GBps = 0;
  double combine_GBps = 0;
  bool over_nvlink = false;  // true when the whole EP group sits in one node
};

// Throughput of a fused training attention kernel (FlashAttention-3 style, BF16, Q/K and V of
// one head dim), forward and backward, for one mask and sequence length.
struct AttentionMeasurement {
  int head_dim = 0;
  bool causal = false;
  int seq_len = 0;
  double forward_tflops = 0;
  double backward_tflops = 0;  // 0: not measured
};

// A 16-bit (FP16 or BF16) dense GEMM's throughput as measured on one GPU, with its source: the
// level 16-bit GEMMs reach on GPUs of that compute chip (the same SMs and 16-bit peak).
struct Gemm16Measurement {
  GpuSpec measured_on;
  double tflops = 0;
  std::string source;
};

// Small-message latency as published: isca25 Table 5, CPU-side end-to-end time of a 64 B transfer
// on DeepSeek's H800 cluster (400 Gb/s CX7 InfiniBand, and RoCE on the same kind of fabric).
// "Same leaf": both hosts under one leaf switch; "cross leaf": through a spine (three switches).
struct FabricLatencyMeasurement {
  double ib_same_leaf_us = 0;
  double ib_cross_leaf_us = 0;
  double roce_same_leaf_us = 0;
  double roce_cross_leaf_us = 0;
  double nvlink_us = 0;  // GPU to GPU in one node: GPU -> NVSwitch -> GPU
};

enum class FabricTransport { kInfiniBand, kRoce };

// The per-hop model of a scale-out fabric: a route between two endpoints that traverses n
// switches takes endpoint + n * per_switch. From the two published points (same leaf: n = 1;
// cross leaf: n = 3), per_switch = (cross - same) / 2 and endpoint = same - per_switch; so for
// InfiniBand 0.45 us per switch and 2.35 us of endpoint overhead (both hosts' software, PCIe and
// NIC together), for RoCE 1.0 us and 2.6 us.
//
// On links: a switch-to-switch link carries per_switch (half a switch at each end) and an
// endpoint's link to its switch (per_switch + endpoint) / 2, so that any minimal route sums to
// endpoint + per_switch * (switches it traverses): 2.8 us on one IB leaf, 3.7 us across leaves,
// endpoint + 5 per_switch across pods of a three-layer fat-tree (an extrapolation: Table 5 has no
// three-layer figure).
struct FabricHopLatency {
  sim::Time per_switch;
  sim::Time endpoint;

  sim::Time switch_link() const { return per_switch; }
  sim::Time endpoint_link() const { return (per_switch + endpoint) / 2; }
  // What a route traversing `switches` switches sums to.
  sim::Time end_to_end(int switches) const { return endpoint + per_switch * switches; }
};

// Throws std::invalid_argument when cross leaf is not slower than same leaf, or when the
// difference leaves a negative endpoint term.
FabricHopLatency fabric_hop_latency(const FabricLatencyMeasurement& measured,
                                    FabricTransport transport);

// GPU -> NVSwitch -> GPU: the published end-to-end figure split evenly over the two NVLink links.
sim::Time nvlink_link_latency(const FabricLatencyMeasurement& measured);

struct Calibration {
  std::string name;
  GpuSpec measured_on;  // the GPU the figures were measured on (efficiencies are of its peaks)
  std::string source;
  // For a measured calibration (`codesim calibrate`): the GPU, its SMs and clocks, the driver
  // and CUDA versions, the date and the repeats, in one line. Empty for published figures.
  std::string provenance;
  std::vector<GemmMeasurement> dense_fp8_gemm;
  std::vector<GroupedGemmMeasurement> grouped_fp8_gemm;  // contiguous and masked layouts
  // 16-bit GEMMs by chip; a chip without one takes the FP8 tables' fraction of its BF16 peak.
  std::vector<Gemm16Measurement> gemm_16bit;
  double attention_bf16_tflops = 0;  // compute-bound attention kernel
  // Training attention (forward and backward over whole sequences); empty: the compute-bound
  // attention kernel's figure stands in.
  std::vector<AttentionMeasurement> attention_training;
  std::string attention_training_source;
  // Launch gap and tail of one kernel, in microseconds: what back-to-back launches on one stream
  // add to their work. 0 where no measurement gives it.
  double kernel_overhead_us = 0;
  double hbm_achieved_GBps = 0;                       // memory-bound kernel
  double nvlink_achieved_GBps = 0;                    // per GPU, one direction
  double nic_line_rate_Gbps = 0;                      // the NIC that the EP measurements used
  double ib_achieved_GBps = 0;                        // per GPU on that NIC, for bulk collectives
  std::vector<EpBandwidthMeasurement> ep_all_to_all;  // DeepEP normal kernels, 4096 tokens
  FabricLatencyMeasurement latency;                   // isca25 Table 5
};

// DeepSeek's published H800 measurements (published.yaml calibration_h800, hardware.h800 and
// latency_us).
const Calibration& h800_published_calibration();

}  // namespace codesim::models
