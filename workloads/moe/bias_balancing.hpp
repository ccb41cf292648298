#pragma once
// DeepSeek-V3's auxiliary-loss-free load balancing, simulated step by step.

#include <cstdint>
#include <vector>

#include "workloads/moe/router.hpp"

namespace codesim::workloads {

// Auxiliary-loss-free balancing (DeepSeek-V3 sec 2.1.2) simulated on a fixed router: every step
// routes tokens_per_step tokens with the current biases (dense sampler), then moves each bias by
// gamma against its expert's load: b_i -= gamma above the mean expert load, += gamma below it.
struct BiasBalancingConfig {
  RoutingShape shape;
  int gpus = 64;  // EP group; expert e on GPU e / (experts / gpus)
  double gamma = 0.001;
  int steps = 100;
  int tokens_per_step = 1024;
  int layer = 0;
  std::uint64_t seed = 1;
};

struct BiasBalancingTrace {
  std::vector<double> gpu_max_over_mean;     // per step, with that step's biases
  std::vector<double> expert_max_over_mean;  // per step
  std::vector<float> bias;                   // after the last step
};

BiasBalancingTrace simulate_bias_balancing(const RoutingModel& model,
                                           const BiasBalancingConfig& config);

}  // namespace codesim::workloads
