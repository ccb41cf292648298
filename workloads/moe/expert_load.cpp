#include "workloads/moe/expert_load.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "workloads/moe/eplb.hpp"
#include "workloads/moe/expert_map.hpp"
#include "workloads/moe/router.hpp"

namespace codesim::workloads {

ExpertLoadParams expert_load_params(const TrainingScenario& s) {
  return {s.model, s.plan.ep, s.cluster.node.gpus, s.max_nodes_per_token(), s.plan.routing};
}

ExpertLoad expert_load(const ExpertLoadParams& p) {
  ExpertLoad out;
  const auto& m = p.model;
  const auto& spec = p.routing;
  const int ep = p.ep;
  if (!m.is_moe() || ep <= 1) return out;
  const bool skewed =
      spec.kind == RoutingSpec::Kind::kMeasured ||
      ((spec.kind == RoutingSpec::Kind::kZipf || spec.kind == RoutingSpec::Kind::kDrifting) &&
       spec.exponent > 0);
  if (!skewed && spec.redundant_experts == 0) return out;

  const int gpn = p.gpus_per_node;
  const int nodes = std::max(1, ep / gpn);
  RoutingShape shape;
  shape.experts = m.routed_experts;
  shape.experts_per_token = m.experts_per_token;
  // Node-limited routing: the groups are the EP group's nodes, M of them per token.
  shape.groups = nodes > 1 && m.routed_experts % nodes == 0 ? nodes : 1;
  shape.max_groups_per_token = shape.groups > 1 ? p.max_nodes_per_token : 0;
  std::unique_ptr<RoutingModel> model;
  switch (skewed ? spec.kind : RoutingSpec::Kind::kBalanced) {
    case RoutingSpec::Kind::kZipf:
      model = std::make_unique<ZipfRouting>(m.routed_experts, spec.exponent, spec.seed);
      break;
    case RoutingSpec::Kind::kDrifting:
      model =
          std::make_unique<DriftingRouting>(m.routed_experts, spec.exponent, spec.drift, spec.seed);
      break;
    case RoutingSpec::Kind::kMeasured: {
      ExpertCounts counts;
      counts.experts = m.routed_experts;
      counts.layers = spec.measured;
      model = std::make_unique<MeasuredRouting>(std::move(counts));
      break;
    }
    case RoutingSpec::Kind::kBalanced:
      model = std::make_unique<BalancedRouting>(m.routed_experts);
      break;
  }
  Router router(shape, spec.seed);
  RoutingBatch batch;
  const int physical = m.routed_experts + spec.redundant_experts;
  if (physical % ep != 0) {
    throw std::invalid_argument("routed plus redundant experts (" + std::to_string(physical) +
                                ") do not spread evenly over the EP group of " +
                                std::to_string(ep));
  }
  out.factor.resize(m.layers + 1);
  double sum_max = 0;
  int moe_layers = 0;
  for (int layer = 0; layer <= m.layers; ++layer) {
    const bool moe = !(layer < m.layers && layer < m.dense_layers);
    if (!moe) continue;
    std::vector<double> loads(m.routed_experts, 1.0);
    if (skewed) {
      router.route(*model, layer, 0, spec.step, spec.sample_tokens, batch);
      loads = expert_loads(batch, m.routed_experts);
    }
    const EplbPlacement placement =
        spec.redundant_experts > 0
            ? eplb_rebalance(loads, physical, std::max(1, m.expert_groups), nodes, ep)
            : contiguous_placement(m.routed_experts, ep);
    std::vector<double> gpu = placement_gpu_loads(placement, loads);
    double mean = 0;
    for (double x : gpu) mean += x;
    mean /= double(gpu.size());
    for (double& x : gpu) x = mean > 0 ? x / mean : 1.0;
    sum_max += *std::max_element(gpu.begin(), gpu.end());
    ++moe_layers;
    out.factor[layer] = std::move(gpu);
  }
  out.mean_max_over_mean = moe_layers > 0 ? sum_max / moe_layers : 1.0;
  return out;
}

}  // namespace codesim::workloads
