// Host-side checks and timings of the kernels (device_api.hpp).

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#ifdef CODESIM_HAVE_CUBLASLT
#include "validation/kernels/cublaslt_gemm.cuh"
#endif
#include "validation/kernels/cuda_common.cuh"
#include "validation/kernels/device_api.hpp"
#include "validation/kernels/fp8_gemm.cuh"
#include "validation/kernels/hbm_copy.cuh"
#include "validation/kernels/mla_decode.cuh"
#include "validation/kernels/reference.hpp"

namespace codesim::validation::gpu {

using detail::DeviceBuffer;
using detail::time_launches;

bool have_cublaslt() {
#ifdef CODESIM_HAVE_CUBLASLT
  return true;
#else
  return false;
#endif
}

DeviceInfo query_device() {
  DeviceInfo info;
  cudaError_t status = cudaGetDeviceCount(&info.device_count);
  if (status != cudaSuccess) {
    info.problem = std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(status) + " (" +
                   cudaGetErrorString(status) + ")";
    info.device_count = 0;
    cudaGetLastError();  // clear the sticky error for later calls
    return info;
  }
  if (info.device_count == 0) {
    info.problem = "cudaGetDeviceCount found no CUDA device";
    return info;
  }
  cudaDeviceProp prop{};
  status = cudaGetDeviceProperties(&prop, 0);
  if (status != cudaSuccess || cudaSetDevice(0) != cudaSuccess) {
    info.problem = std::string("cannot open device 0: ") + cudaGetErrorString(status);
    return info;
  }
  info.present = true;
  info.name = prop.name;
  info.compute_major = prop.major;
  info.compute_minor = prop.minor;
  info.sms = prop.multiProcessorCount;
  int khz = 0;
  if (cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, 0) == cudaSuccess) {
    info.sm_clock_mhz = khz / 1000;
  }
  if (cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, 0) == cudaSuccess) {
    info.memory_clock_mhz = khz / 1000;
  }
  int bus = 0;
  if (cudaDeviceGetAttribute(&bus, cudaDevAttrGlobalMemoryBusWidth, 0) == cudaSuccess) {
    info.memory_bus_bits = bus;
  }
  info.global_memory_bytes = int64_t(prop.totalGlobalMem);
  info.l2_bytes = int64_t(prop.l2CacheSize);
  cudaDriverGetVersion(&info.driver_version);
  cudaRuntimeGetVersion(&info.runtime_version);
#ifdef CODESIM_HAVE_CUBLASLT
  info.cublaslt_version = cublaslt_version();
#endif
  return info;
}

namespace {

// An E4M3 matrix with its scales on the device.
struct DeviceFp8 {
  DeviceBuffer<uint8_t> codes;
  DeviceBuffer<float> scales;
  explicit DeviceFp8(const Fp8Matrix& q) : codes(q.codes), scales(q.scales) {}
};

std::vector<float> download_bf16(const DeviceBuffer<uint16_t>& buffer) {
  const auto bits = buffer.download();
  std::vector<float> out(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) out[i] = bf16_decode(bits[i]);
  return out;
}

// Compares with a tolerance per output of relative * |reference| + absolute * max |reference|.
template <typename Reference>
KernelCheck compare(const std::vector<float>& got, const std::vector<Reference>& expected,
                    double relative, double absolute) {
  KernelCheck check;
  check.outputs = int64_t(expected.size());
  for (const auto& r : expected)
    check.max_reference = std::max(check.max_reference, std::fabs(double(r)));
  for (size_t i = 0; i < expected.size(); ++i) {
    const double error = std::fabs(double(got[i]) - double(expected[i]));
    const double tolerance =
        relative * std::fabs(double(expected[i])) + absolute * check.max_reference + 1e-30;
    check.max_abs_error = std::max(check.max_abs_error, error);
    check.max_scaled_error = std::max(check.max_scaled_error, error / tolerance);
  }
  return check;
}

// BF16 output rounding (2^-9) with a factor of two to spare, plus FP32 summation order.
constexpr double kGemmRelative = 1.0 / 256;
constexpr double kGemmAbsolute = 1e-5;

// The FP8 GEMMs' tolerance per output: the BF16 rounding of the result plus 2^-8 of the sum of
// the magnitudes of its products (`magnitudes`), room for the tensor cores' truncating
// accumulator inside each 128 of K and nothing like room for a misplaced fragment or scale,
// whose errors are of the order of the output itself.
KernelCheck compare_gemm(const std::vector<float>& got, const std::vector<float>& expected,
                         const std::vector<float>& magnitudes) {
  KernelCheck check;
  check.outputs = int64_t(expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const double r = expected[i];
    const double error = std::fabs(double(got[i]) - r);
    const double tolerance = kGemmRelative * std::fabs(r) + double(magnitudes[i]) / 256 + 1e-30;
    check.max_reference = std::max(check.max_reference, std::fabs(r));
    check.max_abs_error = std::max(check.max_abs_error, error);
    check.max_scaled_error = std::max(check.max_scaled_error, error / tolerance);
  }
  return check;
}

// The same matrix with every element's sign cleared: through the references it gives, per
// output, the sum of the magnitudes of the scaled products.
Fp8Matrix magnitude_of(Fp8Matrix q) {
  for (auto& code : q.codes) code &= 0x7F;
  return q;
}

Fp8GemmPath path_of(GemmKernel kernel) {
  switch (kernel) {
    case GemmKernel::kTensorCores:
      return Fp8GemmPath::kTensorCores;
    case GemmKernel::kCudaCores:
      return Fp8GemmPath::kCudaCores;
    default:
      return Fp8GemmPath::kAuto;
  }
}

Fp8GemmArgs gemm_args(const DeviceFp8& a, const DeviceFp8& b, DeviceBuffer<uint16_t>& c, int64_t m,
                      int64_t n, int64_t k) {
  Fp8GemmArgs args;
  args.a = a.codes.get();
  args.a_scales = a.scales.get();
  args.b = b.codes.get();
  args.b_scales = b.scales.get();
  args.c = reinterpret_cast<__nv_bfloat16*>(c.get());
  args.m = int(m);
  args.n = int(n);
  args.k = int(k);
  return args;
}

// Random E4M3 codes in [-2, 2) without NaNs (bit 6 clear keeps the exponent below 8) and unit
// scales: timing data that costs nothing to make on the host.
std::vector<uint8_t> random_codes(int64_t count, uint64_t seed) {
  std::mt19937_64 bits(seed);
  std::vector<uint8_t> codes(count);
  for (int64_t i = 0; i < count; i += 8) {
    uint64_t word = bits();
    for (int64_t j = i; j < std::min(count, i + 8); ++j, word >>= 8)
      codes[j] = uint8_t(word) & 0xBF;
  }
  return codes;
}

std::vector<uint16_t> random_bf16(int64_t count, uint64_t seed) {
  std::mt19937_64 bits(seed);
  std::vector<uint16_t> out(count);
  for (int64_t i = 0; i < count; i += 4) {
    uint64_t word = bits();
    // Sign and mantissa random, exponent of 1: values in +-[1, 2).
    for (int64_t j = i; j < std::min(count, i + 4); ++j, word >>= 16) {
      out[j] = uint16_t((word & 0x807F) | 0x3F80);
    }
  }
  return out;
}

std::vector<uint16_t> to_bf16(const std::vector<float>& values) {
  std::vector<uint16_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = bf16_encode(values[i]);
  return out;
}

}  // namespace

// --- checks --------------------------------------------------------------------------------

bool tensor_core_gemm_available() {
  return fp8_gemm_tensor_cores_available();
}

KernelCheck check_fp8_gemm(int64_t m, int64_t n, int64_t k, uint64_t seed, GemmKernel kernel) {
  const auto a = quantize_activations(normal_values(m * k, seed), m, k);
  const auto b = quantize_weights(normal_values(n * k, seed + 1), n, k);
  const auto expected = fp8_gemm_reference(a, b);
  DeviceFp8 da(a), db(b);
  DeviceBuffer<uint16_t> c(m * n);
  launch_fp8_gemm(gemm_args(da, db, c, m, n, k), nullptr, path_of(kernel));
  CODESIM_CUDA_CHECK(cudaDeviceSynchronize());
  return compare_gemm(download_bf16(c), expected,
                      fp8_gemm_reference(magnitude_of(a), magnitude_of(b)));
}

KernelCheck check_grouped_contiguous(const std::vector<int64_t>& rows_per_group, int64_t n,
                                     int64_t k, uint64_t seed, GemmKernel kernel) {
  const int groups = int(rows_per_group.size());
  GroupedContiguous layout{{0}};
  std::vector<int> tile_groups;
  for (int g = 0; g < groups; ++g) {
    if (rows_per_group[g] % 128 != 0) throw GpuError("contiguous groups must be multiples of 128");
    layout.offsets.push_back(layout.offsets.back() + rows_per_group[g]);
    for (int64_t t = 0; t < rows_per_group[g] / 64; ++t) tile_groups.push_back(g);
  }
  const int64_t total = layout.offsets.back();
  const auto a = quantize_activations(normal_values(total * k, seed), total, k);
  const auto b = quantize_weights(normal_values(groups * n * k, seed + 1), groups * n, k);
  const auto expected = grouped_gemm_contiguous_reference(a, b, n, layout);
  DeviceFp8 da(a), db(b);
  DeviceBuffer<uint16_t> c(total * n);
  DeviceBuffer<int> device_tiles(tile_groups);
  launch_grouped_fp8_gemm_contiguous(gemm_args(da, db, c, total, n, k), device_tiles.get(), groups,
                                     nullptr, path_of(kernel));
  CODESIM_CUDA_CHECK(cudaDeviceSynchronize());
  return compare_gemm(
      download_bf16(c), expected,
      grouped_gemm_contiguous_reference(magnitude_of(a), magnitude_of(b), n, layout));
}

KernelCheck check_grouped_masked(const std::vector<int64_t>& valid_rows, int64_t capacity,
                                 int64_t n, int64_t k, uint64_t seed, GemmKernel kernel) {
  const int groups = int(valid_rows.size());
  const GroupedMasked layout{capacity, valid_rows};
  const auto a =
      quantize_activations(normal_values(groups * capacity * k, seed), groups * capacity, k);
  const auto b = quantize_weights(normal_values(groups * n * k, seed + 1), groups * n, k);
  const auto expected = grouped_gemm_masked_reference(a, b, n, layout);
  DeviceFp8 da(a), db(b);
  DeviceBuffer<uint16_t> c(groups * capacity * n);
  c.zero();
  std::vector<int> valid(valid_rows.begin(), valid_rows.end());
  DeviceBuffer<int> device_valid(valid);
  launch_grouped_fp8_gemm_masked(gemm_args(da, db, c, capacity, n, k), device_valid.get(), groups,
                                 nullptr, path_of(kernel));
  CODESIM_CUDA_CHECK(cudaDeviceSynchronize());
  return compare_gemm(download_bf16(c), expected,
                      grouped_gemm_masked_reference(magnitude_of(a), magnitude_of(b), n, layout));
}

KernelCheck check_mla_decode(int heads, const std::vector<int64_t>& contexts, uint64_t seed) {
  const int requests = int(contexts.size());
  std::vector<int64_t> offsets{0};
  for (int64_t c : contexts) offsets.push_back(offsets.back() + c);
  const auto q = to_bf16(normal_values(int64_t(requests) * heads * kMlaWidth, seed));
  const auto cache = to_bf16(normal_values(offsets.back() * kMlaWidth, seed + 1));
  MlaDims dims;
  dims.heads = heads;
  std::vector<double> expected;
  for (int r = 0; r < requests; ++r) {
    std::vector<double> rq(int64_t(heads) * kMlaWidth), rc(contexts[r] * kMlaWidth);
    for (size_t i = 0; i < rq.size(); ++i) rq[i] = bf16_decode(q[r * rq.size() + i]);
    for (size_t i = 0; i < rc.size(); ++i) rc[i] = bf16_decode(cache[offsets[r] * kMlaWidth + i]);
    const auto out = mla_decode_absorbed(dims, rq, rc, contexts[r]);
    expected.insert(expected.end(), out.begin(), out.end());
  }
  DeviceBuffer<uint16_t> dq(q), dcache(cache), out(int64_t(requests) * heads * kMlaLatent);
  DeviceBuffer<int64_t> doffsets(offsets);
  MlaDecodeArgs args;
  args.q = reinterpret_cast<const __nv_bfloat16*>(dq.get());
  args.cache = reinterpret_cast<const __nv_bfloat16*>(dcache.get());
  args.token_offsets = doffsets.get();
  args.out = reinterpret_cast<__nv_bfloat16*>(out.get());
  args.requests = requests;
  args.heads = heads;
  args.softmax_scale = float(dims.softmax_scale());
  launch_mla_decode(args, nullptr);
  CODESIM_CUDA_CHECK(cudaDeviceSynchronize());
  return compare(download_bf16(out), expected, 1.0 / 256, 1e-4);
}

KernelCheck check_hbm_copy(int64_t bytes) {
  const auto words = random_bf16(bytes / 2, 7);
  DeviceBuffer<uint16_t> source(words), target(words.size());
  target.zero();
  launch_hbm_copy(source.get(), target.get(), bytes, query_device().sms, nullptr);
  CODESIM_CUDA_CHECK(cudaDeviceSynchronize());
  const auto copied = target.download();
  KernelCheck check;
  check.outputs = int64_t(words.size());
  for (size_t i = 0; i < words.size(); ++i) check.max_abs_error += words[i] != copied[i];
  check.max_scaled_error = check.max_abs_error;
  return check;
}

namespace {

struct PerTensorPair {
  Fp8Matrix a, b;
};

PerTensorPair per_tensor_pair(int64_t m, int64_t n, int64_t k, bool positive, uint64_t seed) {
  auto av = normal_values(m * k, seed), bv = normal_values(n * k, seed + 1);
  if (positive) {
    for (auto& x : av) x = std::fabs(x);
    for (auto& x : bv) x = std::fabs(x);
  }
  return {quantize_e4m3(av, m, k, m, k), quantize_e4m3(bv, n, k, n, k)};
}

std::vector<float> run_cublaslt(const PerTensorPair& pair, bool fast_accum, bool fp32_output) {
#ifndef CODESIM_HAVE_CUBLASLT
  (void)pair, (void)fast_accum, (void)fp32_output;
  throw GpuError("this build has no cuBLASLt");
#else
  const int64_t m = pair.a.rows, n = pair.b.rows, k = pair.a.cols;
  DeviceFp8 da(pair.a), db(pair.b);
  CublasLtGemm gemm(m, n, k, CublasLtGemm::Operands::kFp8E4M3, fast_accum, fp32_output);
  std::vector<float> out;
  if (fp32_output) {
    DeviceBuffer<float> c(m * n);
    gemm.run(da.codes.get(), da.scales.get(), db.codes.get(), db.scales.get(), c.get(), nullptr);
    CODESIM_CUDA_CHECK(cudaDeviceSynchronize());
    out = c.download();
  } else {
    DeviceBuffer<uint16_t> c(m * n);
    gemm.run(da.codes.get(), da.scales.get(), db.codes.get(), db.scales.get(), c.get(), nullptr);
    CODESIM_CUDA_CHECK(cudaDeviceSynchronize());
    out = download_bf16(c);
  }
  return out;
#endif
}

double normwise_error(const std::vector<float>& got, const std::vector<double>& exact) {
  double worst = 0, largest = 0;
  for (size_t i = 0; i < exact.size(); ++i) {
    worst = std::max(worst, std::fabs(double(got[i]) - exact[i]));
    largest = std::max(largest, std::fabs(exact[i]));
  }
  return largest > 0 ? worst / largest : 0;
}

}  // namespace

KernelCheck check_cublaslt_fp8_gemm(int64_t m, int64_t n, int64_t k, uint64_t seed) {
  const auto pair = per_tensor_pair(m, n, k, false, seed);
  const auto exact = gemm_double(dequantize(pair.a), dequantize(pair.b), m, n, k);
  return compare(run_cublaslt(pair, false, false), exact, kGemmRelative, kGemmAbsolute);
}

KernelCheck check_cublaslt_bf16_gemm(int64_t m, int64_t n, int64_t k, uint64_t seed) {
#ifndef CODESIM_HAVE_CUBLASLT
  (void)m, (void)n, (void)k, (void)seed;
  throw GpuError("this build has no cuBLASLt");
#else
  const auto a = to_bf16(normal_values(m * k, seed)), b = to_bf16(normal_values(n * k, seed + 1));
  std::vector<double> da(a.size()), db(b.size());
  for (size_t i = 0; i < a.size(); ++i) da[i] = bf16_decode(a[i]);
  for (size_t i = 0; i < b.size(); ++i) db[i] = bf16_decode(b[i]);
  const auto exact = gemm_double(da, db, m, n, k);
  DeviceBuffer<uint16_t> device_a(a), device_b(b), c(m * n);
  CublasLtGemm gemm(m, n, k, CublasLtGemm::Operands::kBf16);
  gemm.run(device_a.get(), nullptr, device_b.get(), nullptr, c.get(), nullptr);
  CODESIM_CUDA_CHECK(cudaDeviceSynchronize());
  return compare(download_bf16(c), exact, kGemmRelative, kGemmAbsolute);
#endif
}

AccumulationResult measure_accumulation_error(int64_t m, int64_t n, int64_t k, bool positive,
                                              uint64_t seed) {
  const auto pair = per_tensor_pair(m, n, k, positive, seed);
  const auto exact = gemm_double(dequantize(pair.a), dequantize(pair.b), m, n, k);
  AccumulationResult result;
  result.without_promotion = normwise_error(run_cublaslt(pair, true, true), exact);
  result.with_promotion = normwise_error(run_cublaslt(pair, false, true), exact);
  return result;
}

// --- timing --------------------------------------------------------------------------------

namespace {

// Random operands with unit scales for timing: `rows` x k codes, scales per `block_rows` rows.
struct TimingOperand {
  DeviceBuffer<uint8_t> codes;
  DeviceBuffer<float> scales;
  TimingOperand(int64_t rows, int64_t k, int64_t block_rows, uint64_t seed)
      : codes(random_codes(rows * k, seed)),
        scales(std::vector<float>(((rows + block_rows - 1) / block_rows) * (k / 128), 1.0f)) {}
};

}  // namespace

Timing time_fp8_gemm(int64_t m, int64_t n, int64_t k, const TimingOptions& options,
                     GemmKernel kernel) {
  TimingOperand a(m, k, 1, 1), b(n, k, 128, 2);
  DeviceBuffer<uint16_t> c(m * n);
  Fp8GemmArgs args{a.codes.get(),
                   a.scales.get(),
                   b.codes.get(),
                   b.scales.get(),
                   reinterpret_cast<__nv_bfloat16*>(c.get()),
                   int(m),
                   int(n),
                   int(k)};
  return time_launches([&] { launch_fp8_gemm(args, nullptr, path_of(kernel)); }, options);
}

Timing time_cublaslt_fp8_gemm(int64_t m, int64_t n, int64_t k, const TimingOptions& options) {
#ifndef CODESIM_HAVE_CUBLASLT
  (void)m, (void)n, (void)k, (void)options;
  throw GpuError("this build has no cuBLASLt");
#else
  DeviceBuffer<uint8_t> a(random_codes(m * k, 1)), b(random_codes(n * k, 2));
  DeviceBuffer<float> scale(std::vector<float>{1.0f});
  DeviceBuffer<uint16_t> c(m * n);
  CublasLtGemm gemm(m, n, k, CublasLtGemm::Operands::kFp8E4M3);
  return time_launches(
      [&] { gemm.run(a.get(), scale.get(), b.get(), scale.get(), c.get(), nullptr); }, options);
#endif
}

Timing time_cublaslt_bf16_gemm(int64_t m, int64_t n, int64_t k, const TimingOptions& options) {
#ifndef CODESIM_HAVE_CUBLASLT
  (void)m, (void)n, (void)k, (void)options;
  throw GpuError("this build has no cuBLASLt");
#else
  DeviceBuffer<uint16_t> a(random_bf16(m * k, 1)), b(random_bf16(n * k, 2));
  DeviceBuffer<uint16_t> c(m * n);
  CublasLtGemm gemm(m, n, k, CublasLtGemm::Operands::kBf16);
  return time_launches([&] { gemm.run(a.get(), nullptr, b.get(), nullptr, c.get(), nullptr); },
                       options);
#endif
}

Timing time_grouped_contiguous(int groups, int64_t m_per_group, int64_t n, int64_t k,
                               const TimingOptions& options, GemmKernel kernel) {
  const int64_t total = groups * m_per_group;
  TimingOperand a(total, k, 1, 1), b(groups * n, k, 128, 2);
  DeviceBuffer<uint16_t> c(total * n);
  std::vector<int> tiles;
  for (int g = 0; g < groups; ++g) tiles.insert(tiles.end(), (m_per_group + 63) / 64, g);
  DeviceBuffer<int> device_tiles(tiles);
  Fp8GemmArgs args{a.codes.get(),
                   a.scales.get(),
                   b.codes.get(),
                   b.scales.get(),
                   reinterpret_cast<__nv_bfloat16*>(c.get()),
                   int(total),
                   int(n),
                   int(k)};
  return time_launches(
      [&] {
        launch_grouped_fp8_gemm_contiguous(args, device_tiles.get(), groups, nullptr,
                                           path_of(kernel));
      },
      options);
}

Timing time_grouped_masked(int groups, int64_t m_per_group, int64_t n, int64_t k,
                           const TimingOptions& options, GemmKernel kernel) {
  TimingOperand a(groups * m_per_group, k, 1, 1), b(groups * n, k, 128, 2);
  DeviceBuffer<uint16_t> c(groups * m_per_group * n);
  DeviceBuffer<int> valid(std::vector<int>(groups, int(m_per_group)));
  Fp8GemmArgs args{a.codes.get(),
                   a.scales.get(),
                   b.codes.get(),
                   b.scales.get(),
                   reinterpret_cast<__nv_bfloat16*>(c.get()),
                   int(m_per_group),
                   int(n),
                   int(k)};
  return time_launches(
      [&] { launch_grouped_fp8_gemm_masked(args, valid.get(), groups, nullptr, path_of(kernel)); },
      options);
}

Timing time_mla_decode(int heads, const std::vector<int64_t>& contexts,
                       const TimingOptions& options) {
  std::vector<int64_t> offsets{0};
  for (int64_t c : contexts) offsets.push_back(offsets.back() + c);
  const int requests = int(contexts.size());
  DeviceBuffer<uint16_t> q(random_bf16(int64_t(requests) * heads * kMlaWidth, 3));
  DeviceBuffer<uint16_t> cache(random_bf16(offsets.back() * kMlaWidth, 4));
  DeviceBuffer<uint16_t> out(int64_t(requests) * heads * kMlaLatent);
  DeviceBuffer<int64_t> device_offsets(offsets);
  MlaDecodeArgs args;
  args.q = reinterpret_cast<const __nv_bfloat16*>(q.get());
  args.cache = reinterpret_cast<const __nv_bfloat16*>(cache.get());
  args.token_offsets = device_offsets.get();
  args.out = reinterpret_cast<__nv_bfloat16*>(out.get());
  args.requests = requests;
  args.heads = heads;
  args.softmax_scale = float(MlaDims{}.softmax_scale());
  return time_launches([&] { launch_mla_decode(args, nullptr); }, options);
}

Timing time_hbm_copy(int64_t bytes, const TimingOptions& options) {
  DeviceBuffer<uint8_t> source(bytes), target(bytes);
  CODESIM_CUDA_CHECK(cudaMemset(source.get(), 1, bytes));
  const int sms = query_device().sms;
  return time_launches([&] { launch_hbm_copy(source.get(), target.get(), bytes, sms, nullptr); },
                       options);
}

}  // namespace codesim::validation::gpu
