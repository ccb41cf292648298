#pragma once
// DeepSeek-V3's node-limited (group-limited) top-k rule, and the shape it works on.
//
// Selection (DeepSeek-V3 report sec 2.1.2 and its inference Gate): with per-expert biases b_i
// (auxiliary-loss-free balancing; zero unless given), the score of group g is the sum of its two
// largest s_i + b_i; the M groups of largest score are kept (a group is a node: one group per
// node), then the k experts of largest s_i + b_i among them. The gating weights are the unbiased
// s_i of the chosen experts, normalized to sum 1. Ties go to the lower index.

#include <cstdint>
#include <span>
#include <vector>

namespace codesim::models {
struct ModelConfig;
}

namespace codesim::workloads {

struct RoutingShape {
  int experts = 256;             // routed experts E
  int experts_per_token = 8;     // k
  int groups = 8;                // expert groups, consecutive runs of E / groups experts
  int max_groups_per_token = 4;  // M; >= groups (or <= 0) means no limit
  void validate() const;         // throws std::invalid_argument
  int group_size() const { return experts / groups; }
  int kept_groups() const;
};

// The routing shape of an MoE model: its expert groups (1 when it has none) and M.
RoutingShape routing_shape(const models::ModelConfig& model);

// The node-limited top-k rule on one token's affinities.
class NodeLimitedSelector {
 public:
  explicit NodeLimitedSelector(const RoutingShape& shape);
  // affinity: experts sigmoid outputs; bias: experts values or empty. Writes k experts in
  // descending biased affinity and their normalized unbiased affinities.
  void select(std::span<const float> affinity, std::span<const float> bias,
              std::span<std::int32_t> experts, std::span<float> weights);

 private:
  RoutingShape shape_;
  std::vector<float> score_;  // biased affinity, per expert
  std::vector<float> group_score_;
  std::vector<int> kept_;
};

}  // namespace codesim::workloads
