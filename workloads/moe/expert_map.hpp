#pragma once
// Where each expert's replicas live, and the load that routed tokens put on experts and GPUs.

#include <cstdint>
#include <span>
#include <vector>

#include "workloads/moe/router.hpp"

namespace codesim::workloads {

// Where each expert's tokens go: one GPU per physical expert slot, slots spread evenly over the
// GPUs in order (slot s on GPU s / (slots / gpus)). An expert with several replicas sends token t
// to replica (t + expert) mod replicas: even over the replicas of each expert, and uncorrelated
// between experts.
class ExpertMap {
 public:
  // Expert e on GPU e / (experts / gpus).
  static ExpertMap contiguous(int experts, int gpus);
  // physical_to_logical: the logical expert of each slot (e.g. an EPLB placement's).
  ExpertMap(int experts, int gpus, std::span<const int> physical_to_logical);
  int experts() const { return int(first_.size()) - 1; }
  int gpus() const { return gpus_; }
  int replicas(int expert) const { return first_[expert + 1] - first_[expert]; }
  int gpu(int expert, std::int64_t token) const {
    const int n = replicas(expert);
    const int r = n == 1 ? 0 : int((std::uint64_t(token) + std::uint64_t(expert)) % unsigned(n));
    return replica_gpu_[first_[expert] + r];
  }

 private:
  int gpus_ = 0;
  std::vector<int> first_;        // experts + 1 offsets into replica_gpu_
  std::vector<int> replica_gpu_;  // GPUs of each expert's replicas
};

// Token copies per GPU (token t of the batch is token first_token + t for the replica choice).
std::vector<double> gpu_loads(const RoutingBatch& batch, const ExpertMap& map,
                              std::int64_t first_token = 0);
// Token copies per expert.
std::vector<double> expert_loads(const RoutingBatch& batch, int experts);
// max / mean; 0 for an empty or all-zero input.
double max_over_mean(std::span<const double> loads);

}  // namespace codesim::workloads
