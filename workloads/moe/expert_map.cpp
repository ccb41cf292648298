#include "workloads/moe/expert_map.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace codesim::workloads {

ExpertMap ExpertMap::contiguous(int experts, int gpus) {
  if (experts <= 0 || gpus <= 0 || experts % gpus != 0) {
    throw std::invalid_argument("expert map: the GPUs must divide the experts");
  }
  std::vector<int> slots(experts);
  std::iota(slots.begin(), slots.end(), 0);
  return ExpertMap(experts, gpus, slots);
}

ExpertMap::ExpertMap(int experts, int gpus, std::span<const int> physical_to_logical)
    : gpus_(gpus) {
  const int slots = int(physical_to_logical.size());
  if (experts <= 0 || gpus <= 0 || slots % gpus != 0 || slots < experts) {
    throw std::invalid_argument(
        "expert map: the GPUs must divide the slots, one per expert at least");
  }
  const int per_gpu = slots / gpus;
  first_.assign(experts + 1, 0);
  for (int e : physical_to_logical) {
    if (e < 0 || e >= experts) throw std::invalid_argument("expert map: slot of an unknown expert");
    ++first_[e + 1];
  }
  for (int e = 0; e < experts; ++e) {
    if (first_[e + 1] == 0) throw std::invalid_argument("expert map: an expert has no slot");
    first_[e + 1] += first_[e];
  }
  replica_gpu_.resize(slots);
  std::vector<int> fill(first_.begin(), first_.end() - 1);
  for (int s = 0; s < slots; ++s) replica_gpu_[fill[physical_to_logical[s]]++] = s / per_gpu;
}

std::vector<double> gpu_loads(const RoutingBatch& batch, const ExpertMap& map,
                              std::int64_t first_token) {
  std::vector<double> load(map.gpus(), 0.0);
  for (int t = 0; t < batch.tokens; ++t) {
    for (std::int32_t e : batch.row(t)) load[map.gpu(e, first_token + t)] += 1.0;
  }
  return load;
}

std::vector<double> expert_loads(const RoutingBatch& batch, int experts) {
  std::vector<double> load(experts, 0.0);
  for (std::int32_t e : batch.experts) load[e] += 1.0;
  return load;
}

double max_over_mean(std::span<const double> loads) {
  if (loads.empty()) return 0.0;
  const double sum = std::accumulate(loads.begin(), loads.end(), 0.0);
  if (!(sum > 0)) return 0.0;
  return *std::max_element(loads.begin(), loads.end()) / (sum / double(loads.size()));
}

}  // namespace codesim::workloads
