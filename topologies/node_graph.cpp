#include "topologies/node_graph.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <unordered_map>

namespace codesim::topo {

NodeVertices add_node(Graph& graph, const NodeParams& params, int node) {
  NodeVertices v;
  const std::string prefix = fmt::format("n{}.", node);
  v.cpu = add_vertex(graph, VertexKind::kCpu, prefix + "cpu", -1, 0);
  for (int s = 0; s < params.pcie_switches; ++s) {
    v.pcie_switches.push_back(
        add_vertex(graph, VertexKind::kPcieSwitch, fmt::format("{}pcie{}", prefix, s), -1, 0));
    add_link(graph, v.cpu, v.pcie_switches.back(), params.pcie_GBps * 1e9, params.pcie_latency, -1);
  }
  for (int i = 0; i < params.gpus; ++i) {
    v.gpus.push_back(add_vertex(graph, VertexKind::kGpu, fmt::format("{}gpu{}", prefix, i), -1, 0));
    add_link(graph, v.gpus.back(), v.pcie_switches[i * params.pcie_switches / params.gpus],
             params.pcie_GBps * 1e9, params.pcie_latency, -1);
  }
  for (int i = 0; i < params.nics; ++i) {
    v.nics.push_back(add_vertex(graph, VertexKind::kNic, fmt::format("{}nic{}", prefix, i), -1, 0));
    const int gpu = i * params.gpus / params.nics;
    add_link(graph, v.nics.back(), v.pcie_switches[gpu * params.pcie_switches / params.gpus],
             params.pcie_GBps * 1e9, params.pcie_latency, -1);
  }
  if (params.nvswitch) {
    v.nvswitch = add_vertex(graph, VertexKind::kNvSwitch, prefix + "nvswitch", -1, 0);
    for (VertexId gpu : v.gpus) {
      add_link(graph, gpu, v.nvswitch, params.nvlink_GBps * 1e9,
               params.nvlink_gpu_to_gpu_latency / 2, -1);
    }
  } else if (params.nvlink_GBps > 0) {
    for (int i = 0; i + 1 < params.gpus; i += 2) {
      add_link(graph, v.gpus[i], v.gpus[i + 1], params.nvlink_GBps * 1e9,
               params.nvlink_gpu_to_gpu_latency, -1);
    }
  }
  return v;
}

std::vector<NodeVertices> attach_nodes(Topology& fabric, const NodeParams& params, int nodes) {
  std::unordered_map<std::string, VertexId> endpoints;
  for (VertexId v = 0; v < boost::num_vertices(fabric.graph); ++v) {
    if (fabric.graph[v].kind == VertexKind::kEndpoint) endpoints.emplace(fabric.graph[v].label, v);
  }
  std::vector<NodeVertices> result;
  for (int n = 0; n < nodes; ++n) {
    result.push_back(add_node(fabric.graph, params, n));
    for (int i = 0; i < params.nics; ++i) {
      const std::string label = fmt::format("n{}.nic{}", n, i);
      const auto it = endpoints.find(label);
      if (it == endpoints.end()) {
        throw std::invalid_argument("the fabric has no endpoint '" + label + "'");
      }
      // The port's plane is the fabric's; the NIC-to-port hop costs no extra latency (the port's
      // link to its switch carries the fabric's endpoint term).
      add_link(fabric.graph, result.back().nics[i], it->second, params.nic_Gbps * 1e9 / 8.0,
               sim::Time(), fabric.graph[it->second].plane);
    }
  }
  return result;
}

}  // namespace codesim::topo
