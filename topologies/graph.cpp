#include "topologies/graph.hpp"

#include <utility>

namespace codesim::topo {

const char* vertex_kind_name(VertexKind kind) {
  switch (kind) {
    case VertexKind::kEndpoint:
      return "endpoint";
    case VertexKind::kSwitch:
      return "switch";
    case VertexKind::kGpu:
      return "gpu";
    case VertexKind::kNvSwitch:
      return "nvswitch";
    case VertexKind::kPcieSwitch:
      return "pcie-switch";
    case VertexKind::kNic:
      return "nic";
    case VertexKind::kCpu:
      return "cpu";
  }
  return "?";
}

VertexId add_vertex(Graph& graph, VertexKind kind, std::string label, int plane, int layer) {
  return boost::add_vertex(Vertex{kind, std::move(label), plane, layer}, graph);
}

void add_link(Graph& graph, VertexId a, VertexId b, double bandwidth_Bps, sim::Time latency,
              int plane) {
  boost::add_edge(a, b, Link{bandwidth_Bps, latency, plane}, graph);
}

}  // namespace codesim::topo
