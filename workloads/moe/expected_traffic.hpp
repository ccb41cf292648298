#pragma once
// Expected all-to-all traffic of expert parallelism with node-limited routing, for a balanced
// router: each token picks M of the EP group's nodes, then top-k experts spread uniformly over
// the experts of those nodes (what auxiliary-loss-free balancing aims at). The copies follow
// DeepEP's rule (token_copies.hpp, which also gives their bytes); this closed form is what the
// step models use.

#include "workloads/moe/token_copies.hpp"

namespace codesim::workloads {

struct EpTrafficShape {
  int experts = 0;            // routed experts
  int experts_per_token = 0;  // k
  int ep = 0;                 // GPUs in the EP group
  int gpus_per_node = 0;
  int max_nodes_per_token = 0;  // M; >= EP nodes means no limit
};

struct EpCopiesPerToken {
  double nodes = 0;          // distinct nodes receiving the token
  double remote_nodes = 0;   // ... other than the sender's: one IB copy each
  double gpus = 0;           // distinct GPUs receiving the token
  double nvlink_copies = 0;  // intra-node copies: forwarded from the landing GPU, or local
};

// Probability that none of `draws` items drawn without replacement from `population` falls in a
// subset of size `subset`.
double probability_none_drawn(int population, int subset, int draws);

EpCopiesPerToken expected_copies_per_token(const EpTrafficShape& shape);


}  // namespace codesim::workloads
