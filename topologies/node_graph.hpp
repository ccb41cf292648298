#pragma once
// Inside a node: GPUs on an NVSwitch (or NVLink bridges between pairs, as on PCIe A100 boards),
// PCIe switches that each hold some GPUs and their NICs, a CPU root complex above them, and one
// NIC per GPU whose fabric port is an endpoint of the scale-out fabric.

#include <vector>

#include "topologies/graph.hpp"

namespace codesim::topo {

struct NodeParams {
  int gpus = 8;
  int nics = 8;  // NIC i hangs off the PCIe switch of GPU i * gpus / nics
  int pcie_switches = 4;
  bool nvswitch = true;      // false: NVLink bridges join GPUs 2i and 2i+1
  double nvlink_GBps = 200;  // per GPU, per direction (H800: 400 GB/s bidirectional)
  double pcie_GBps = 64;     // per x16 link, per direction (PCIe Gen5)
  double nic_Gbps = 400;     // the NIC's fabric port
  // GPU to GPU over NVLink, one way, end to end: isca25 Table 5's CPU-side 64 B figure, 3.33 us
  // (published.yaml latency_us.nvlink; tests/models/calibration_test.cpp checks it against
  // models::nvlink_link_latency). Each GPU-NVSwitch link carries half, so GPU -> NVSwitch -> GPU
  // sums to it; a bridge (no NVSwitch) is one link and carries all of it.
  sim::Time nvlink_gpu_to_gpu_latency = sim::nanoseconds(3330);
  // PCIe links (GPU, NIC, CPU to their PCIe switch). Zero by default, an assumption: no published
  // figure measures them alone, and the fabric's endpoint term (TopologyParams::latency) is a
  // CPU-side end-to-end measurement that already includes each host's PCIe crossing to its NIC,
  // so charging these links too would count it twice on every GPU-to-GPU route over the fabric.
  // The cost is that GPU-to-GPU routes over PCIe alone (no NVSwitch, no bridge) take no latency.
  sim::Time pcie_latency;
};

struct NodeVertices {
  std::vector<VertexId> gpus;
  std::vector<VertexId> nics;
  std::vector<VertexId> pcie_switches;
  VertexId cpu = 0;
  VertexId nvswitch = 0;  // valid when NodeParams::nvswitch
};

// Adds node `node`'s parts to `graph`, labelled "n<node>.gpu<i>" and so on; plane is -1.
NodeVertices add_node(Graph& graph, const NodeParams& params, int node);

// Adds `nodes` nodes to a fabric and joins NIC i of node n to the fabric endpoint labelled
// "n<n>.nic<i>" (the fat-tree builders' labels) at the NIC's line rate. Throws
// std::invalid_argument when the fabric has no such endpoint.
std::vector<NodeVertices> attach_nodes(Topology& fabric, const NodeParams& params, int nodes);

}  // namespace codesim::topo
