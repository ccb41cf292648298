#pragma once
// Measured kernel and link performance that the cost models are calibrated on. The default is
// DeepSeek's own published H800 measurements (DeepGEMM, FlashMLA, DeepEP, the V3 report); a
// `codesim calibrate` run on a GPU produces the same structure from this project's kernels.

#include <cstdint>
#include <string>
#include <vector>

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

struct Calibration {
  std::string name;
  std::string measured_on;  // GPU preset the figures were measured on
  std::string source;
  std::vector<GemmMeasurement> dense_fp8_gemm;
  std::vector<GroupedGemmMeasurement> grouped_fp8_gemm;  // contiguous and masked layouts
  double attention_bf16_tflops = 0;                      // compute-bound attention kernel
  double hbm_achieved_GBps = 0;                          // memory-bound kernel
  double nvlink_achieved_GBps = 0;                       // per GPU, one direction
  double nic_line_rate_Gbps = 0;                         // the NIC that the EP measurements used
  double ib_achieved_GBps = 0;                        // per GPU on that NIC, for bulk collectives
  std::vector<EpBandwidthMeasurement> ep_all_to_all;  // DeepEP normal kernels, 4096 tokens
};

// DeepSeek's published H800 measurements (published.yaml calibration_h800 and hardware.h800).
const Calibration& h800_published_calibration();

}  // namespace codesim::models
