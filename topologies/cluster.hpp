#pragma once
// What a cluster is made of: nodes of GPUs joined by NVLink, NICs into a scale-out fabric.
// The GPU itself is a models::GpuSpec beside it; graph builders construct Boost.Graph
// topologies from this.

#include "topologies/failures.hpp"
#include "topologies/topology.hpp"

namespace codesim::topo {

struct NodeSpec {
  int gpus = 8;
  double nvlink_unidirectional_GBps = 0;  // per GPU; defaults to the GPU preset's
  int nics = 8;
  double nic_Gbps = 400;
  // Scale-out bandwidth per GPU, line rate, in bytes per second.
  double nic_bytes_per_second_per_gpu() const { return nics * nic_Gbps * 1e9 / 8.0 / gpus; }
};

struct FabricSpec {
  TopologyKind kind = TopologyKind::kMultiPlaneFatTree;  // the registry of topology.hpp
  int planes = 8;
  int switch_radix = 64;
  double oversubscription = 1.0;  // downlinks per uplink at the leaf
  FailureSpec failures;           // what is down, by label (resolved on the built graph)
};

struct ClusterSpec {
  int nodes = 0;
  NodeSpec node;
  FabricSpec fabric;

  int gpus() const { return nodes * node.gpus; }
  double nic_bytes_per_second_per_gpu() const { return node.nic_bytes_per_second_per_gpu(); }
};

}  // namespace codesim::topo
