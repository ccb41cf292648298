#pragma once
// Which experts each token's copies go to, per layer and micro-batch.
//
// Two samplers implement the rule of node_limited_selector.hpp on the model of
// routing_models.hpp. Router::route draws, per token, only what the rule looks at: each group's
// first two race arrivals (memorylessness: the next arrival among a group's remaining experts
// comes Exp(1) / (their total rate) later, and is expert j with probability p_j / that total),
// then the later arrivals of the kept groups, merged until k are chosen. That is exact for the
// model, with no bias, and costs O(groups + k) draws per token. Router::route_dense draws every
// s_i and applies NodeLimitedSelector (which also takes biases): O(experts) per token.
//
// Deterministic: a route call's draws depend only on the router's seed and (layer, micro-batch,
// step), from sim/random.hpp's fixed-bit generator and transforms.

#include <cstdint>
#include <span>
#include <vector>

#include "sim/random.hpp"
#include "workloads/moe/node_limited_selector.hpp"
#include "workloads/moe/routing_models.hpp"

namespace codesim::workloads {

// One (layer, micro-batch): tokens x k chosen experts, each row in descending biased affinity.
struct RoutingBatch {
  int tokens = 0;
  int k = 0;
  std::vector<std::int32_t> experts;  // tokens * k
  std::vector<float> weights;         // tokens * k gating weights, each row summing to 1
  std::span<const std::int32_t> row(int token) const {
    return {experts.data() + std::size_t(token) * k, std::size_t(k)};
  }
};

class Router {
 public:
  Router(const RoutingShape& shape, std::uint64_t seed);
  const RoutingShape& shape() const { return shape_; }
  // The exact lazy sampler (no bias). Reuses `out`'s storage.
  void route(const RoutingModel& model, int layer, int micro_batch, std::int64_t step, int tokens,
             RoutingBatch& out);
  // Draws every affinity and applies NodeLimitedSelector with the given biases (empty: none).
  void route_dense(const RoutingModel& model, int layer, int micro_batch, std::int64_t step,
                   int tokens, std::span<const float> bias, RoutingBatch& out);

  struct Alias {  // Walker alias table over one group's experts
    std::vector<double> threshold;
    std::vector<std::int32_t> other;
  };

 private:
  void prepare(const RoutingModel& model, int layer, std::int64_t step);
  void seed_stream(int layer, int micro_batch, std::int64_t step);

  RoutingShape shape_;
  std::uint64_t seed_;
  sim::Xoshiro256 engine_;
  std::vector<double> popularity_;
  std::vector<double> group_rate_, inverse_group_rate_;
  std::vector<Alias> alias_;
  NodeLimitedSelector selector_;
  std::vector<float> affinity_;
  // Scratch of the lazy sampler: per group, the race arrivals generated so far.
  std::vector<double> race_time_, taken_rate_, group_score_, head_;
  std::vector<std::int32_t> race_expert_, generated_, identified_, consumed_, kept_list_;
};

}  // namespace codesim::workloads
