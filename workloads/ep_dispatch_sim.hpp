#pragma once
// An expert-parallel dispatch played as flows on a real topology: IB copies from each sender to
// the same-index GPU of each remote node, NVLink forwarding inside nodes, all started together
// (DeepEP streams both at once) and sharing links by max-min fairness.

#include <cstdint>

#include "topologies/link_map.hpp"
#include "topologies/routing.hpp"
#include "workloads/ep_traffic.hpp"

namespace codesim::workloads {

struct EpDispatchSimResult {
  double seconds = 0;           // until the last byte has arrived
  double ib_bytes_per_gpu = 0;  // mean bytes each GPU sends over IB
  double ib_GBps_per_gpu = 0;   // DeepEP's "RDMA bandwidth": IB bytes per GPU over the time
  std::size_t flows = 0;
  std::uint64_t events = 0;
  std::uint64_t solves = 0;
};

// `router` routes over the fabric with nodes attached (topo::attach_nodes); GPU g is
// GpuId{g / gpus_per_node, g % gpus_per_node}.
EpDispatchSimResult simulate_ep_dispatch(const EpDispatchTraffic& traffic, topo::GpuRouter& router,
                                         const topo::LinkIndex& links, int gpus_per_node);

}  // namespace codesim::workloads
