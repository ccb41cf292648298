#pragma once
// DeepSeek-V3's routing shape (256 experts in 8 groups, top-k of M groups), for the MoE tests.

#include "workloads/moe/node_limited_selector.hpp"

namespace codesim::workloads::testing {

inline RoutingShape v3_shape(int k = 8, int m = 4) {
  RoutingShape s;
  s.experts = 256;
  s.experts_per_token = k;
  s.groups = 8;
  s.max_groups_per_token = m;
  return s;
}

}  // namespace codesim::workloads::testing
