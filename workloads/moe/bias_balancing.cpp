#include "workloads/moe/bias_balancing.hpp"

#include <stdexcept>

#include "workloads/moe/expert_map.hpp"

namespace codesim::workloads {

BiasBalancingTrace simulate_bias_balancing(const RoutingModel& model,
                                           const BiasBalancingConfig& c) {
  if (c.steps < 0 || c.tokens_per_step <= 0 || !(c.gamma >= 0)) {
    throw std::invalid_argument("bias balancing: steps, tokens and gamma must be valid");
  }
  Router router(c.shape, c.seed);
  const ExpertMap map = ExpertMap::contiguous(c.shape.experts, c.gpus);
  BiasBalancingTrace trace;
  trace.bias.assign(c.shape.experts, 0.0f);
  RoutingBatch batch;
  const float gamma = float(c.gamma);
  for (int step = 0; step < c.steps; ++step) {
    router.route_dense(model, c.layer, 0, step, c.tokens_per_step, trace.bias, batch);
    const auto per_gpu = gpu_loads(batch, map);
    const auto per_expert = expert_loads(batch, c.shape.experts);
    trace.gpu_max_over_mean.push_back(max_over_mean(per_gpu));
    trace.expert_max_over_mean.push_back(max_over_mean(per_expert));
    const double mean = double(batch.tokens) * batch.k / c.shape.experts;
    for (int e = 0; e < c.shape.experts; ++e) {
      if (per_expert[e] > mean) trace.bias[e] -= gamma;
      if (per_expert[e] < mean) trace.bias[e] += gamma;
    }
  }
  return trace;
}

}  // namespace codesim::workloads
