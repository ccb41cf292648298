#include "validation/kernels/calibration_writer.hpp"

#include <cstdio>
#include <sstream>

namespace codesim::validation {
namespace {

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", x);
  return text;
}

std::string version(int v) {
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}

std::string timing_fields(const gpu::Timing& t) {
  return "median_us: " + number(t.median_s * 1e6) + ", repeats: " + std::to_string(t.repeats) +
         ", spread: " + number(t.spread());
}

}  // namespace

double CalibrationRecord::Gemm::tflops() const {
  return 2.0 * double(m) * double(n) * double(k) / timing.median_s * 1e-12;
}

double CalibrationRecord::Grouped::tflops() const {
  return 2.0 * groups * double(m_per_group) * double(n) * double(k) / timing.median_s * 1e-12;
}

double CalibrationRecord::MlaDecode::flops() const {
  return 2.0 * heads * double(tokens) * (576 + 512);
}

double CalibrationRecord::MlaDecode::bytes() const {
  return double(tokens) * 576 * 2 + double(requests) * heads * (576 + 512) * 2;
}

double CalibrationRecord::Copy::GBps() const {
  return 2.0 * double(bytes) / timing.median_s * 1e-9;
}

std::string gpu_preset_for_device(const std::string& name) {
  auto has = [&](const char* word) { return name.find(word) != std::string::npos; };
  if (has("H800")) return "h800";
  if (has("H200")) return "h200";
  if (has("H100")) return "h100-sxm";
  if (has("B200")) return "b200";
  if (has("A100") && has("40GB")) return "a100-pcie-40gb";
  if (has("A100")) return "a100-sxm-80gb";
  return "";
}

std::string calibration_yaml(const CalibrationRecord& r) {
  const auto& d = r.device;
  std::ostringstream y;
  y << "# Measured by codesim-calibrate-runner (validation/kernels). A scenario's `calibration:`\n"
       "# key points the cost models at this file; efficiencies are taken against the peaks of\n"
       "# the GPU preset in measured_on. Times: median of the repeats, each between two CUDA\n"
       "# events; spread = (max - min) / median.\n";
  y << "calibration:\n";
  y << "  name: " << quoted(r.measured_on + "-measured-" + r.date.substr(0, 10)) << "\n";
  y << "  measured_on: " << quoted(r.measured_on) << "\n";
  y << "  provenance:\n";
  y << "    gpu: " << quoted(d.name) << "\n";
  y << "    compute_capability: "
    << quoted(std::to_string(d.compute_major) + "." + std::to_string(d.compute_minor)) << "\n";
  y << "    sms: " << d.sms << "\n";
  y << "    sm_clock_mhz: " << d.sm_clock_mhz << "\n";
  y << "    memory_clock_mhz: " << d.memory_clock_mhz << "\n";
  y << "    memory_bus_bits: " << d.memory_bus_bits << "\n";
  y << "    memory_bytes: " << d.global_memory_bytes << "\n";
  y << "    l2_bytes: " << d.l2_bytes << "\n";
  y << "    driver: " << quoted(version(d.driver_version)) << "\n";
  y << "    cuda_runtime: " << quoted(version(d.runtime_version)) << "\n";
  y << "    cublaslt: " << d.cublaslt_version << "\n";
  y << "    date: " << quoted(r.date) << "\n";
  y << "    runner: \"codesim-calibrate-runner\"\n";
  y << "    warmup: " << r.timing.warmup << "\n";
  y << "    repeats: " << r.timing.repeats << "\n";
  if (!r.note.empty()) y << "    note: " << quoted(r.note) << "\n";
  if (!r.checks.empty()) {
    y << "  checks:  # each kernel against its CPU reference; passed when max_scaled_error <= 1\n";
    for (const auto& c : r.checks) {
      y << "    - {kernel: " << quoted(c.kernel) << ", shape: " << quoted(c.shape)
        << ", max_abs_error: " << number(c.result.max_abs_error)
        << ", max_scaled_error: " << number(c.result.max_scaled_error)
        << ", passed: " << (c.passed() ? "true" : "false") << "}\n";
    }
  }
  auto gemm_rows = [&](const char* key, const char* comment, const char* kernel,
                       const std::vector<CalibrationRecord::Gemm>& rows) {
    if (rows.empty()) return;
    y << "  " << key << ":  # " << comment << "\n";
    for (const auto& s : rows) {
      y << "    - {kernel: " << (s.kernel.empty() ? kernel : s.kernel) << ", m: " << s.m
        << ", n: " << s.n << ", k: " << s.k << ", tflops: " << number(s.tflops()) << ", "
        << timing_fields(s.timing) << "}\n";
    }
  };
  gemm_rows("dense_fp8_gemm", "this project's kernel: 1x128 / 128x128 scaling, FP32 promotion",
            "codesim_fp8_gemm", r.dense);
  gemm_rows("vendor_fp8_gemm", "cuBLASLt FP8, per-tensor scales: the vendor reference",
            "cublaslt_fp8_gemm", r.vendor);
  gemm_rows("bf16_gemm", "cuBLASLt BF16: what 16-bit GEMMs of dense plans run at",
            "cublaslt_bf16_gemm", r.bf16);
  if (!r.grouped.empty()) {
    y << "  grouped_fp8_gemm:  # MoE experts; m_per_group rows per expert\n";
    for (const auto& s : r.grouped) {
      y << "    - {kernel: " << (s.kernel.empty() ? "codesim_grouped_fp8_gemm" : s.kernel)
        << ", layout: " << s.layout << ", groups: " << s.groups
        << ", m_per_group: " << s.m_per_group << ", n: " << s.n << ", k: " << s.k
        << ", tflops: " << number(s.tflops()) << ", " << timing_fields(s.timing) << "}\n";
    }
  }
  if (!r.mla.empty()) {
    y << "  mla_decode:  # absorbed MLA, BF16, 512 latent + 64 rope; bytes: KV cache read once\n";
    for (const auto& s : r.mla) {
      y << "    - {kernel: codesim_mla_decode, requests: " << s.requests << ", heads: " << s.heads
        << ", tokens: " << s.tokens << ", tflops: " << number(s.flops() / s.timing.median_s * 1e-12)
        << ", GBps: " << number(s.bytes() / s.timing.median_s * 1e-9) << ", "
        << timing_fields(s.timing) << "}\n";
    }
  }
  if (!r.copy.empty()) {
    y << "  hbm_copy:  # GBps counts bytes read plus bytes written\n";
    for (const auto& s : r.copy) {
      y << "    - {kernel: codesim_hbm_copy, bytes: " << s.bytes << ", GBps: " << number(s.GBps())
        << ", " << timing_fields(s.timing) << "}\n";
    }
  }
  if (!r.accumulation.empty()) {
    y << "  accumulation:  # FP8 GEMM through cuBLASLt, max |error| / max |exact|; published: "
         "about 0.02 without promotion at K = 4096\n";
    for (const auto& a : r.accumulation) {
      y << "    - {data: " << a.data << ", m: " << a.m << ", n: " << a.n << ", k: " << a.k
        << ", without_promotion: " << number(a.result.without_promotion)
        << ", with_promotion: " << number(a.result.with_promotion) << "}\n";
    }
  }
  return y.str();
}

}  // namespace codesim::validation
