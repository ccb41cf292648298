#pragma once
// The bytes an expert-parallel dispatch moves over a whole cluster, sampled token by token: each
// token picks M of its EP group's nodes, then its top-k experts among those nodes' experts, both
// uniformly (a balanced router, without the Router's affinities: cheap enough for every GPU of a
// cluster), and its copies go by DeepEP's rule (token_copies.hpp). For the EP dispatch benchmark;
// the step models use the closed form of expected_traffic.hpp, and a Router's own batches are
// counted by routed_traffic.hpp.
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
