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
  sim::Time nvlink_latency = sim::nanoseconds(500);  // round figures, not measurements
  sim::Time pcie_latency = sim::nanoseconds(700);
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
