#pragma once
// The bytes an expert-parallel dispatch moves, sampled token by token from a seeded router:
// each token picks M of its EP group's nodes, then its top-k experts among those nodes' experts
// (balanced routing: uniform picks). As DeepEP's normal kernels do, a token crosses IB once per
// remote node, to the GPU with the sender's in-node index, and is forwarded over NVLink from
// there to each other GPU of that node that hosts one of its experts.

#include <cstdint>
#include <vector>

namespace codesim::workloads {

struct EpDispatchShape {
  int gpus = 0;  // the whole cluster; EP groups are consecutive runs of `ep` GPUs
  int gpus_per_node = 8;
  int ep = 64;
  int experts = 256;  // routed experts, spread evenly over each EP group
  int experts_per_token = 8;
  int max_nodes_per_token = 4;  // M
  int tokens_per_gpu = 4096;
  double bytes_per_copy = 7168 + 56 * 4;  // FP8 hidden state with one FP32 scale per 128
  std::uint64_t seed = 1;
};

struct PairBytes {
  int src = 0;  // GPU
  int dst = 0;  // GPU
  double bytes = 0;
};

struct EpDispatchTraffic {
  std::vector<PairBytes> ib;      // sender -> same-index GPU of a remote node
  std::vector<PairBytes> nvlink;  // within a node: forwarded or local copies
  double ib_bytes_per_gpu() const;
  double nvlink_bytes_per_gpu() const;
  int gpus = 0;
};

// Deterministic for a given shape (seed included): pairs come out sorted by (src, dst).
EpDispatchTraffic sample_ep_dispatch(const EpDispatchShape& shape);

}  // namespace codesim::workloads
