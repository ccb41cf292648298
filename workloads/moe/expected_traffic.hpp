#pragma once
// Expected all-to-all traffic of expert parallelism with node-limited routing, for a balanced
// router: each token picks M of the EP group's nodes, then top-k experts spread uniformly over
// the experts of those nodes (what auxiliary-loss-free balancing aims at).

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

// Bytes of one token copy: FP8 with one FP32 scale per 128 values, or BF16.
double dispatch_bytes_per_copy_fp8(int hidden);
double combine_bytes_per_copy_bf16(int hidden);

}  // namespace codesim::workloads
