#pragma once
// What the .cu files of this folder share: error checks that throw GpuError, an owning device
// buffer, and timing of a launch with CUDA events.

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "validation/kernels/device_api.hpp"

#define CODESIM_CUDA_CHECK(expr) \
  ::codesim::validation::gpu::detail::check_cuda((expr), #expr, __FILE__, __LINE__)

namespace codesim::validation::gpu::detail {

inline void check_cuda(cudaError_t status, const char* what, const char* file, int line) {
  if (status != cudaSuccess) {
    throw GpuError(std::string(file) + ":" + std::to_string(line) + ": " + what + ": " +
                   cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
  }
}

template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (count_ > 0) CODESIM_CUDA_CHECK(cudaMalloc(&data_, count_ * sizeof(T)));
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() {
    if (data_) cudaFree(data_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void upload(const std::vector<T>& host) {
    CODESIM_CUDA_CHECK(cudaMemcpy(data_, host.data(), std::min(count_, host.size()) * sizeof(T),
                                  cudaMemcpyHostToDevice));
  }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    CODESIM_CUDA_CHECK(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
  void zero() { CODESIM_CUDA_CHECK(cudaMemset(data_, 0, count_ * sizeof(T))); }
  T* get() const { return data_; }
  size_t size() const { return count_; }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
};

// Runs `launch` warmup times untimed, then `repeats` times each between two events on the
// default stream.
template <typename Launch>
Timing time_launches(Launch&& launch, const TimingOptions& options) {
  for (int i = 0; i < options.warmup; ++i) launch();
  CODESIM_CUDA_CHECK(cudaGetLastError());
  CODESIM_CUDA_CHECK(cudaDeviceSynchronize());
  cudaEvent_t start, stop;
  CODESIM_CUDA_CHECK(cudaEventCreate(&start));
  CODESIM_CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<double> seconds;
  for (int i = 0; i < std::max(1, options.repeats); ++i) {
    CODESIM_CUDA_CHECK(cudaEventRecord(start));
    launch();
    CODESIM_CUDA_CHECK(cudaEventRecord(stop));
    CODESIM_CUDA_CHECK(cudaEventSynchronize(stop));
    CODESIM_CUDA_CHECK(cudaGetLastError());
    float ms = 0;
    CODESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    seconds.push_back(double(ms) * 1e-3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(seconds.begin(), seconds.end());
  Timing t;
  t.repeats = int(seconds.size());
  t.min_s = seconds.front();
  t.max_s = seconds.back();
  const size_t mid = seconds.size() / 2;
  t.median_s = seconds.size() % 2 ? seconds[mid] : 0.5 * (seconds[mid - 1] + seconds[mid]);
  return t;
}

}  // namespace codesim::validation::gpu::detail
