// codesim-calibrate-runner: runs this folder's kernels on GPU 0 and writes a calibration YAML
// (the format cli/calibration_reader.hpp reads), by hand so that it builds with the CUDA
// toolkit alone. `codesim calibrate` runs it; it can also run on its own:
//   codesim-calibrate-runner --out FILE [--repeats N] [--warmup N] [--quick] [--skip-checks]
//                            [--measured-on PRESET]
// Exit codes: 0 written, 1 a CUDA error or a kernel that disagrees with its CPU reference,
// 2 bad arguments, 3 no usable CUDA GPU.

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include "validation/kernels/calibration_writer.hpp"
#include "validation/kernels/device_api.hpp"

namespace {

namespace gpu = codesim::validation::gpu;
using codesim::validation::CalibrationRecord;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitBadArguments = 2;
constexpr int kExitNoGpu = 3;

struct Options {
  std::string out;
  gpu::TimingOptions timing;
  bool quick = false;
  bool skip_checks = false;
  std::string measured_on;  // codesim GPU preset; default: from the device's name
};

struct Gemm {
  int64_t m, n, k;
};
struct Grouped {
  const char* layout;
  int groups;
  int64_t m_per_group, n, k;
};

// DeepSeek-V3's shapes as in DeepGEMM's table (validation/reference/published.yaml,
// calibration_h800): dense FP8 GEMMs of training and decoding, then the grouped MoE GEMMs.
const std::vector<Gemm> kDense = {
    {64, 2112, 7168},   {64, 24576, 1536},   {64, 32768, 512},   {64, 7168, 16384},
    {64, 4096, 7168},   {64, 7168, 2048},    {128, 2112, 7168},  {128, 24576, 1536},
    {128, 32768, 512},  {128, 7168, 16384},  {128, 4096, 7168},  {128, 7168, 2048},
    {4096, 2112, 7168}, {4096, 24576, 1536}, {4096, 32768, 512}, {4096, 7168, 16384},
    {4096, 4096, 7168}, {4096, 7168, 2048},
};
const std::vector<Grouped> kGrouped = {
    {"contiguous", 4, 8192, 4096, 7168}, {"contiguous", 4, 8192, 7168, 2048},
    {"contiguous", 8, 4096, 4096, 7168}, {"contiguous", 8, 4096, 7168, 2048},
    {"masked", 1, 1024, 4096, 7168},     {"masked", 1, 1024, 7168, 2048},
    {"masked", 2, 512, 4096, 7168},      {"masked", 2, 512, 7168, 2048},
    {"masked", 4, 256, 4096, 7168},      {"masked", 4, 256, 7168, 2048},
};

std::string usage() {
  return "usage: codesim-calibrate-runner --out FILE [--repeats N] [--warmup N] [--quick] "
         "[--skip-checks] [--measured-on PRESET]\n";
}

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--out") {
      const char* v = value();
      if (!v) return false;
      options.out = v;
    } else if (arg == "--repeats" || arg == "--warmup") {
      const char* v = value();
      if (!v || std::atoi(v) < (arg == "--repeats" ? 1 : 0)) return false;
      (arg == "--repeats" ? options.timing.repeats : options.timing.warmup) = std::atoi(v);
    } else if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--measured-on") {
      const char* v = value();
      if (!v) return false;
      options.measured_on = v;
    } else if (arg == "--skip-checks") {
      options.skip_checks = true;
    } else {
      return false;
    }
  }
  return !options.out.empty();
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", x);
  return text;
}

// Progress on stderr, so that a long sweep shows it is alive.
void progress(const std::string& line) {
  std::cerr << "calibrate: " << line << "\n";
}

int run(const Options& options) {
  const gpu::DeviceInfo device = gpu::query_device();
  if (!device.present) {
    std::cerr << "codesim calibrate: error: no CUDA GPU is available (" << device.problem
              << "); calibration needs one. The published H800 calibration stays the default.\n";
    return kExitNoGpu;
  }
  progress("GPU 0: " + device.name + ", " + std::to_string(device.sms) + " SMs");
  CalibrationRecord record;
  record.device = device;
  record.measured_on = options.measured_on.empty()
                           ? codesim::validation::gpu_preset_for_device(device.name)
                           : options.measured_on;
  if (record.measured_on.empty()) {
    std::cerr << "codesim calibrate: error: cannot tell which codesim GPU preset '" << device.name
              << "' is; name it with --measured-on PRESET (h800, h100-sxm, h200, b200, ...)\n";
    return kExitBadArguments;
  }
  record.date = utc_now();
  record.timing = options.timing;

  // Correctness first: timings of a wrong kernel are worthless. The FP8 GEMMs run on the
  // tensor cores where this build can (compute capability 9.0); if that path fails its check,
  // the CUDA-core path is checked and timed instead, and the file says so.
  gpu::GemmKernel gemm = gpu::tensor_core_gemm_available() ? gpu::GemmKernel::kTensorCores
                                                           : gpu::GemmKernel::kCudaCores;
  auto gemm_name = [&](const char* base) {
    return std::string(base) +
           (gemm == gpu::GemmKernel::kTensorCores ? "_tensor_cores" : "_cuda_cores");
  };
  auto gemm_checks = [&] {
    return std::vector<CalibrationRecord::Check>{
        {gemm_name("codesim_fp8_gemm"), "m=200 n=384 k=1024",
         gpu::check_fp8_gemm(200, 384, 1024, 11, gemm)},
        {gemm_name("codesim_grouped_fp8_gemm") + " contiguous", "rows=[128,256,128] n=256 k=512",
         gpu::check_grouped_contiguous({128, 256, 128}, 256, 512, 12, gemm)},
        {gemm_name("codesim_grouped_fp8_gemm") + " masked",
         "valid=[5,128,0,77] capacity=128 n=256 k=512",
         gpu::check_grouped_masked({5, 128, 0, 77}, 128, 256, 512, 13, gemm)}};
  };
  if (!options.skip_checks) {
    auto checks = gemm_checks();
    bool gemm_passed = true;
    for (const auto& c : checks) gemm_passed = gemm_passed && c.passed();
    if (!gemm_passed && gemm == gpu::GemmKernel::kTensorCores) {
      for (const auto& c : checks) {
        progress("check " + c.kernel + ": max scaled error " + number(c.result.max_scaled_error) +
                 (c.passed() ? ", passed" : ", FAILED"));
      }
      progress("the tensor-core FP8 GEMM failed its checks: timing the CUDA-core kernel instead");
      record.note =
          "the tensor-core FP8 GEMM failed its check against the CPU reference; the "
          "GEMM figures are the CUDA-core kernel's";
      gemm = gpu::GemmKernel::kCudaCores;
      checks = gemm_checks();
    }
    record.checks = checks;
    auto& checks_out = record.checks;
    checks_out.push_back({"codesim_mla_decode", "heads=16 contexts=[1,37,300,1024]",
                          gpu::check_mla_decode(16, {1, 37, 300, 1024}, 14)});
    checks_out.push_back({"codesim_hbm_copy", "bytes=16 MiB", gpu::check_hbm_copy(16 << 20)});
    if (gpu::have_cublaslt()) {
      checks_out.push_back({"cublaslt_fp8_gemm", "m=128 n=256 k=1024",
                            gpu::check_cublaslt_fp8_gemm(128, 256, 1024, 15)});
      checks_out.push_back({"cublaslt_bf16_gemm", "m=128 n=256 k=512",
                            gpu::check_cublaslt_bf16_gemm(128, 256, 512, 16)});
    }
    bool all_passed = true;
    for (const auto& c : checks_out) {
      all_passed = all_passed && c.passed();
      progress("check " + c.kernel + " (" + c.shape + "): max scaled error " +
               number(c.result.max_scaled_error) + (c.passed() ? ", passed" : ", FAILED"));
    }
    if (!all_passed) {
      std::cerr << "codesim calibrate: error: a kernel disagrees with its CPU reference (see "
                   "above); no calibration written. --skip-checks times them anyway.\n";
      return kExitFailed;
    }
  }

  const auto dense = options.quick ? std::vector<Gemm>(kDense.begin(), kDense.begin() + 2) : kDense;
  for (const auto& s : dense) {
    record.dense.push_back({s.m, s.n, s.k, gpu::time_fp8_gemm(s.m, s.n, s.k, options.timing, gemm),
                            gemm_name("codesim_fp8_gemm")});
    progress("fp8 gemm " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
             std::to_string(s.k) + ": " + number(record.dense.back().tflops()) + " TFLOPS");
  }
  if (gpu::have_cublaslt()) {
    // cuBLASLt on the same shapes: FP8 (the vendor reference) and BF16 (the 16-bit level).
    using Timer = gpu::Timing (*)(int64_t, int64_t, int64_t, const gpu::TimingOptions&);
    const std::tuple<std::vector<CalibrationRecord::Gemm>*, Timer, const char*, const char*>
        vendors[] = {{&record.vendor, &gpu::time_cublaslt_fp8_gemm, "cublaslt_fp8_gemm", "fp8"},
                     {&record.bf16, &gpu::time_cublaslt_bf16_gemm, "cublaslt_bf16_gemm", "bf16"}};
    for (const auto& [rows, time, kernel, precision] : vendors) {
      for (const auto& s : dense) {
        rows->push_back({s.m, s.n, s.k, time(s.m, s.n, s.k, options.timing), kernel});
        progress(std::string("cuBLASLt ") + precision + " gemm " + std::to_string(s.m) + "x" +
                 std::to_string(s.n) + "x" + std::to_string(s.k) + ": " +
                 number(rows->back().tflops()) + " TFLOPS");
      }
    }
  }
  const auto grouped = options.quick ? std::vector<Grouped>{kGrouped[0], kGrouped[4]} : kGrouped;
  for (const auto& s : grouped) {
    const std::string layout = s.layout;
    const auto t =
        layout == "contiguous"
            ? gpu::time_grouped_contiguous(s.groups, s.m_per_group, s.n, s.k, options.timing, gemm)
            : gpu::time_grouped_masked(s.groups, s.m_per_group, s.n, s.k, options.timing, gemm);
    record.grouped.push_back(
        {layout, s.groups, s.m_per_group, s.n, s.k, t, gemm_name("codesim_grouped_fp8_gemm")});
    progress("grouped " + layout + " " + std::to_string(s.groups) + "x" +
             std::to_string(s.m_per_group) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k) +
             ": " + number(record.grouped.back().tflops()) + " TFLOPS");
  }

  // Decode batches of 128 heads (DeepSeek-V3 without tensor parallelism), context lengths
  // varied deterministically from half the mean to one and a half times it.
  const std::vector<std::pair<int, int64_t>> batches =
      options.quick
          ? std::vector<std::pair<int, int64_t>>{{32, 1024}}
          : std::vector<std::pair<int, int64_t>>{{32, 4096}, {64, 4096}, {128, 4096}, {128, 8192}};
  for (const auto& [requests, mean] : batches) {
    std::vector<int64_t> contexts;
    for (int r = 0; r < requests; ++r) contexts.push_back(mean / 2 + (int64_t(r) * 7919) % mean);
    int64_t tokens = 0;
    for (int64_t c : contexts) tokens += c;
    const int heads = 128;
    const auto t = gpu::time_mla_decode(heads, contexts, options.timing);
    record.mla.push_back({requests, heads, tokens, t});
    const auto& m = record.mla.back();
    progress("mla decode " + std::to_string(requests) +
             " requests: " + number(m.flops() / t.median_s * 1e-12) + " TFLOPS, " +
             number(m.bytes() / t.median_s * 1e-9) + " GB/s");
  }

  const int64_t copy_bytes = options.quick ? (256ll << 20) : (1ll << 30);
  record.copy.push_back({copy_bytes, gpu::time_hbm_copy(copy_bytes, options.timing)});
  progress("hbm copy: " + number(record.copy.back().GBps()) + " GB/s");

  if (gpu::have_cublaslt()) {
    for (bool positive : {false, true}) {
      const auto r = gpu::measure_accumulation_error(256, 256, 4096, positive, 21);
      record.accumulation.push_back({positive ? "abs_normal" : "normal", 256, 256, 4096, r});
      progress(std::string("accumulation, K=4096, ") + (positive ? "|N(0,1)|" : "N(0,1)") +
               ": without promotion " + number(r.without_promotion) + ", with " +
               number(r.with_promotion));
    }
  }
  const std::string yaml = codesim::validation::calibration_yaml(record);

  // Write through a temporary and a rename: never a half-written file.
  const std::string temporary = options.out + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << yaml;
    if (!out.flush()) {
      std::cerr << "codesim calibrate: error: cannot write " << temporary << "\n";
      return kExitFailed;
    }
  }
  if (std::rename(temporary.c_str(), options.out.c_str()) != 0) {
    std::remove(temporary.c_str());
    std::cerr << "codesim calibrate: error: cannot write " << options.out << "\n";
    return kExitFailed;
  }
  progress("wrote " + options.out);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::cerr << usage();
    return kExitBadArguments;
  }
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "codesim calibrate: error: " << e.what() << "\n";
    return kExitFailed;
  }
}
