#pragma once
// An expert-parallel dispatch played as flows on a real topology: IB copies from each sender to
// the same-index GPU of each remote node, NVLink forwarding inside nodes, all started together
// (DeepEP streams both at once) and sharing links by max-min fairness.
//
// Besides the time, it reports the bandwidths two ways: the pure per-GPU IB bandwidth (bytes
// each NIC puts on the fabric over the time), and DeepEP's logical "RDMA" and "NVL" bandwidths
// (tests/test_internode.py: one copy per token per node reached, own node included, and one per
// token per GPU reached, over the kernel time); see sampled_traffic.hpp. And how busy the busiest
// links were: bytes carried over (capacity x time), for IB links and for NVLink.

#include <cstdint>

#include "topologies/link_map.hpp"
#include "topologies/routing.hpp"
#include "workloads/moe/sampled_traffic.hpp"

namespace codesim::workloads {

struct EpDispatchSimOptions {
  // false: ECMP (Router::route). true: Router::route_adaptive, each flow (IB pairs in (src, dst)
  // order, then NVLink pairs) taking at every hop the equal-cost link with the fewest bytes of
  // the flows placed before it: a static, load-aware stand-in for switch adaptive routing.
  bool adaptive = false;
  // Each IB pair split evenly into this many flows with distinct flow keys, as DeepEP spreads a
  // peer's traffic over one queue pair per channel (hash ECMP then spreads them); NVLink pairs
  // stay one flow each.
  int ib_flows_per_pair = 1;
};

struct EpDispatchSimResult {
  double seconds = 0;           // until the last byte has arrived
  double ib_bytes_per_gpu = 0;  // mean bytes each GPU's NIC sends over IB (remote nodes only)
  double ib_GBps_per_gpu = 0;   // pure IB link bandwidth: ib_bytes_per_gpu over the time
  double deepep_rdma_bytes_per_gpu = 0;     // DeepEP's RDMA bytes: own node included
  double deepep_rdma_GBps = 0;              // DeepEP's "GB/s (RDMA)": the above over the time
  double deepep_nvl_GBps = 0;               // DeepEP's "GB/s (NVL)": tokens received over the time
  double max_fabric_link_utilisation = 0;   // links with a switch at either end (IB)
  double max_switch_link_utilisation = 0;   // switch-to-switch links only (0 when none carry)
  double mean_switch_link_utilisation = 0;  // over the switch-to-switch links that carry bytes
  double max_nvlink_utilisation = 0;        // GPU-NVSwitch links (or GPU-GPU bridges)
  std::size_t flows = 0;
  std::uint64_t events = 0;
  std::uint64_t solves = 0;
};

// `gpu_router` routes over `fabric`, the fabric with nodes attached (topo::attach_nodes); GPU g
// is GpuId{g / gpus_per_node, g % gpus_per_node}.
EpDispatchSimResult simulate_ep_dispatch(const EpDispatchTraffic& traffic,
                                         topo::GpuRouter& gpu_router, const topo::Router& fabric,
                                         int gpus_per_node,
                                         const EpDispatchSimOptions& options = {});

}  // namespace codesim::workloads
