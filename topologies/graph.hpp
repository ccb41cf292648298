#pragma once
// The graph every topology builder produces: vertices are endpoints (NIC ports), switches and
// the parts inside a node; edges are links with a bandwidth, a latency and a plane. One Boost.Graph
// type for all of them, so routing and structure counts are written once.

#include <boost/graph/adjacency_list.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "sim/time.hpp"

namespace codesim::topo {

enum class VertexKind {
  kEndpoint,    // a NIC port on the scale-out fabric
  kSwitch,      // a fabric switch (leaf, spine, aggregation, core, Slim Fly or Dragonfly router)
  kGpu,         // inside a node
  kNvSwitch,    // inside a node
  kPcieSwitch,  // inside a node
  kNic,         // inside a node; its fabric port is a kEndpoint
  kCpu,         // inside a node: the PCIe root complex
};

const char* vertex_kind_name(VertexKind kind);

struct Vertex {
  VertexKind kind = VertexKind::kSwitch;
  std::string label;  // e.g. "p3.leaf12", "g7.s4", "node5.nic2"
  int plane = 0;      // the plane (or zone) the vertex belongs to; 0 for single-plane fabrics
  int layer = 0;      // 0 endpoints, 1 leaf/edge router, 2 spine or aggregation, 3 core
};

struct Link {
  double bandwidth_Bps = 0;  // per direction, bytes per second
  sim::Time latency;         // propagation plus switch traversal, one way
  int plane = 0;
};

// Undirected: a link carries both directions at bandwidth_Bps each. vecS everywhere keeps
// vertex and edge storage contiguous, which matters for the 280k-vertex Dragonfly.
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, Vertex, Link,
                                    boost::no_property, boost::vecS>;
using VertexId = Graph::vertex_descriptor;

// The kinds of fabric the builders make (their names are cli/registry.hpp's).
enum class TopologyKind {
  kFatTree2,           // ft2: leaves with radix/2 down and radix/2 up, one spine layer
  kMultiPlaneFatTree,  // mpft: `planes` independent ft2 planes; NIC i of every node on plane i
  kMultiRailFatTree,   // mrft: one leaf group per rail (NIC index), rails joined at the spines
  kFatTree3,           // ft3: k-ary three-layer fat-tree (k pods, (k/2)^2 cores)
  kSlimFly,            // slimfly: MMS graph of q (Besta & Hoefler, SC14)
  kDragonfly,          // dragonfly: fully connected groups, global links round-robin
  kFireFlyer2,         // fireflyer2: two ft2 zones of 40-port switches joined by a few links
};

// A built fabric plus what the builder knows about it that the graph alone does not say.
struct Topology {
  TopologyKind kind = TopologyKind::kFatTree2;
  Graph graph;
  // Switches whose BFS eccentricities cover every switch up to an automorphism of the graph;
  // the exact diameter is the largest eccentricity among them. Empty means "all switches".
  std::vector<VertexId> diameter_sources;
  double bisection_Bps = 0;  // analytic, per direction, for the builder's kind (see its comment)
  int switch_radix = 0;      // ports per switch, for degree checks and pricing
  std::vector<std::string> notes;  // construction choices worth telling the user
};

// Adds a vertex / a link; small helpers the builders share.
VertexId add_vertex(Graph& graph, VertexKind kind, std::string label, int plane = 0, int layer = 0);
void add_link(Graph& graph, VertexId a, VertexId b, double bandwidth_Bps, sim::Time latency,
              int plane = 0);

}  // namespace codesim::topo
