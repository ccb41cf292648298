#pragma once
// The all-to-all bytes of tokens a Router has routed: exact per GPU pair, by DeepEP's rule
// (token_copies.hpp). Beside it: expected_traffic.hpp (the closed form for a balanced router, what
// the step models use) and sampled_traffic.hpp (uniform picks over a whole cluster, for the
// dispatch benchmark).

#include <cstdint>
#include <vector>

#include "workloads/moe/expert_map.hpp"
#include "workloads/moe/router.hpp"

namespace codesim::workloads {

// Expert-parallel traffic of routed tokens, copy by copy, by DeepEP's rule (token_copies.hpp):
// FP8 dispatch copies, BF16 combine copies back along the reversed paths.
class EpTrafficCounter {
 public:
  EpTrafficCounter(int gpus, int gpus_per_node, int hidden);
  // The batch's tokens are sent by GPU `sender` (token t is first_token + t for replica choice).
  void add(const RoutingBatch& batch, const ExpertMap& map, int sender,
           std::int64_t first_token = 0);

  int gpus() const { return gpus_; }
  std::int64_t tokens() const { return tokens_; }
  // GPU-pair bytes, row = source: dispatch goes sender -> experts, combine experts -> sender.
  double dispatch_bytes(int src, int dst) const;
  double combine_bytes(int src, int dst) const;
  double dispatch_ib_bytes() const;
  double dispatch_nvlink_bytes() const;
  double combine_ib_bytes() const;
  double combine_nvlink_bytes() const;
  // Per token sent.
  double nodes_per_token() const;         // distinct nodes reached
  double remote_nodes_per_token() const;  // IB copies
  double gpus_per_token() const;          // distinct GPUs reached
  double ib_dispatch_bytes_per_token() const;
  double nvlink_dispatch_bytes_per_token() const;
  double ib_combine_bytes_per_token() const;
  double nvlink_combine_bytes_per_token() const;

 private:
  double ib_copies() const;
  double nvlink_copies() const;
  int gpus_, gpus_per_node_;
  double fp8_bytes_, bf16_bytes_;
  std::int64_t tokens_ = 0;
  std::uint64_t node_copies_ = 0, remote_node_copies_ = 0, gpu_copies_ = 0;
  std::vector<std::uint64_t> copies_;  // gpus x gpus dispatch copies, row = source
  std::vector<std::uint64_t> hit_;     // scratch: per node, mask of GPUs reached
  std::vector<int> touched_;           // scratch: nodes reached by the current token
};

// Nodes a token's k experts need at `experts_per_node` experts per selected node: k / that, the
// V3 report's reckoning (4 nodes x 3.2 experts per node ~ 13 experts at the IB cost of 4 nodes).
double nodes_for_experts(double experts_per_token, double experts_per_node);

}  // namespace codesim::workloads
