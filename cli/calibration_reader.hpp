#pragma once
// Calibration files: what `codesim calibrate` writes (validation/kernels/calibrate_runner.cpp)
// and a scenario's `calibration:` key points at. The format:
//
//   calibration:
//     name: h100-sxm-measured-2026-11-24     # optional; default: the file's stem
//     measured_on: h100-sxm                   # GPU preset whose peaks efficiencies are taken of
//     provenance: {gpu: ..., sms: 132, sm_clock_mhz: ..., driver: ..., date: ..., ...}
//     checks: [{kernel, shape, max_abs_error, max_scaled_error, passed}, ...]
//     dense_fp8_gemm: [{kernel, m, n, k, tflops, median_us, repeats, spread}, ...]
//     vendor_fp8_gemm: [...same...]           # cuBLASLt beside ours; read, not used by the models
//     grouped_fp8_gemm: [{kernel, layout: contiguous|masked, groups, m_per_group, n, k, tflops,
//                         ...}, ...]
//     mla_decode: [{kernel, requests, heads, tokens, tflops, GBps, ...}, ...]
//     hbm_copy: [{kernel, bytes, GBps, ...}, ...]
//     accumulation: [{data, m, n, k, without_promotion, with_promotion}, ...]
//
// Each section present replaces the published H800 default's: dense_fp8_gemm and
// grouped_fp8_gemm whole tables, mla_decode the attention TFLOPS (its best entry), hbm_copy the
// achieved HBM bandwidth (its best entry). Everything the file does not measure (NVLink, IB,
// all-to-all, latency) keeps the published figures.

#include <string>

#include "cli/yaml_reader.hpp"
#include "models/calibration.hpp"

namespace codesim::cli {

// Reads and checks a calibration file. Throws ScenarioError naming the file, line and key.
models::Calibration read_calibration_file(const std::string& path);

// The scenario's `calibration:` key (read through `top`): a file path, relative to the
// scenario's folder (relative to the working folder when it came from --set).
models::Calibration read_scenario_calibration(const YamlContext& ctx, const MapReader& top,
                                              const std::string& scenario_path,
                                              bool from_command_line);

}  // namespace codesim::cli
