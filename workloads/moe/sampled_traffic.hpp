#pragma once
// The bytes an expert-parallel dispatch moves, sampled token by token from a seeded router:
// each token picks M of its EP group's nodes, then its top-k experts among those nodes' experts
// (balanced routing: uniform picks). As DeepEP's normal (internode) kernels do, a token goes once
// to each node it reaches, to the GPU with the sender's in-node index: over IB to a remote node,
// and for the sender's own node straight into the sender's own RDMA receive buffer (no IB). The
// GPU it lands on (the sender itself, for the own node) forwards it over NVLink to each other GPU
// of that node that hosts one of its experts.
//
// Besides the physical pairs, the traffic keeps the two byte counts DeepEP's test_internode.py
// divides by the kernel time: its "RDMA" bytes count one copy per (token, node reached), the
// sender's own node included, and its "NVL" bytes one copy per (token, GPU reached), the
// receiving GPU's own tokens included.

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
  std::vector<PairBytes> nvlink;  // within a node: landing GPU -> another GPU of that node
  // DeepEP's logical counts, summed over all GPUs (see the header comment).
  double deepep_rdma_bytes = 0;  // (token, node reached) copies, own node included
  double deepep_nvl_bytes = 0;   // (token, GPU reached) copies, as the receivers count them
  double ib_bytes_per_gpu() const;
  double nvlink_bytes_per_gpu() const;
  double deepep_rdma_bytes_per_gpu() const { return gpus ? deepep_rdma_bytes / gpus : 0.0; }
  double deepep_nvl_bytes_per_gpu() const { return gpus ? deepep_nvl_bytes / gpus : 0.0; }
  int gpus = 0;
};

// Deterministic for a given shape (seed included): pairs come out sorted by (src, dst).
EpDispatchTraffic sample_ep_dispatch(const EpDispatchShape& shape);

}  // namespace codesim::workloads
