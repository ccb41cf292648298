#include "workloads/moe/node_limited_selector.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "models/llm.hpp"

namespace codesim::workloads {

void RoutingShape::validate() const {
  if (experts <= 0 || groups <= 0 || experts % groups != 0) {
    throw std::invalid_argument("routing: experts must be positive and divide into the groups");
  }
  if (experts_per_token <= 0 || experts_per_token > kept_groups() * group_size()) {
    throw std::invalid_argument("routing: top-k must be positive and fit in the kept groups");
  }
}

int RoutingShape::kept_groups() const {
  return max_groups_per_token > 0 ? std::min(max_groups_per_token, groups) : groups;
}

RoutingShape routing_shape(const models::ModelConfig& model) {
  if (!model.is_moe()) throw std::invalid_argument("routing: " + model.name + " is not an MoE");
  RoutingShape s;
  s.experts = model.routed_experts;
  s.experts_per_token = model.experts_per_token;
  s.groups = model.expert_groups > 0 ? model.expert_groups : 1;
  s.max_groups_per_token = model.max_groups_per_token > 0 ? model.max_groups_per_token : s.groups;
  s.validate();
  return s;
}

NodeLimitedSelector::NodeLimitedSelector(const RoutingShape& shape)
    : shape_(shape),
      score_(std::size_t(std::max(shape.experts, 0))),
      group_score_(std::size_t(std::max(shape.groups, 0))),
      kept_(std::size_t(std::max(shape.groups, 0))) {
  shape_.validate();
}

void NodeLimitedSelector::select(std::span<const float> affinity, std::span<const float> bias,
                                 std::span<std::int32_t> experts, std::span<float> weights) {
  const int n = shape_.experts, g_size = shape_.group_size(), k = shape_.experts_per_token;
  if (int(affinity.size()) != n || !(bias.empty() || int(bias.size()) == n) ||
      int(experts.size()) != k || int(weights.size()) != k) {
    throw std::invalid_argument("node-limited selection: span sizes");
  }
  for (int i = 0; i < n; ++i) score_[i] = affinity[i] + (bias.empty() ? 0.0f : bias[i]);
  // Group score: the sum of the group's two largest biased affinities.
  for (int g = 0; g < shape_.groups; ++g) {
    float first = -std::numeric_limits<float>::infinity(), second = first;
    for (int i = g * g_size; i < (g + 1) * g_size; ++i) {
      const float s = score_[i];
      if (s > first) {
        second = first;
        first = s;
      } else if (s > second) {
        second = s;
      }
    }
    group_score_[g] = g_size >= 2 ? first + second : first;
    kept_[g] = 0;
  }
  // Keep the M groups of largest score, ties to the lower group.
  for (int m = 0; m < shape_.kept_groups(); ++m) {
    int best = -1;
    for (int g = 0; g < shape_.groups; ++g) {
      if (!kept_[g] && (best < 0 || group_score_[g] > group_score_[best])) best = g;
    }
    kept_[best] = 1;
  }
  // Top-k over the kept groups' experts by insertion, in ascending index: ties to the lower.
  int filled = 0;
  for (int g = 0; g < shape_.groups; ++g) {
    if (!kept_[g]) continue;
    for (int i = g * g_size; i < (g + 1) * g_size; ++i) {
      const float s = score_[i];
      if (filled == k && !(s > score_[experts[k - 1]])) continue;
      int pos = filled < k ? filled++ : k - 1;
      while (pos > 0 && s > score_[experts[pos - 1]]) {
        experts[pos] = experts[pos - 1];
        --pos;
      }
      experts[pos] = i;
    }
  }
  float sum = 0;
  for (int j = 0; j < k; ++j) sum += weights[j] = affinity[experts[j]];
  for (int j = 0; j < k; ++j) weights[j] = sum > 0 ? weights[j] / sum : 1.0f / k;
}

}  // namespace codesim::workloads
