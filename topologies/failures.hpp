#pragma once
// Failures as a scenario names them, resolved against a built graph into the vertex and link ids
// routing works with: switches by label ("p3.spine2"), links by the labels of their two ends
// (["p3.leaf0", "p3.spine2"], every parallel link between them), planes by index (every switch
// and switch link of that plane of an MPFT, or zone of Fire-Flyer 2).

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "topologies/graph.hpp"
#include "topologies/routing.hpp"

namespace codesim::topo {

struct FailureSpec {
  std::vector<std::string> switches;
  std::vector<std::pair<std::string, std::string>> links;
  std::vector<int> planes;
  bool empty() const { return switches.empty() && links.empty() && planes.empty(); }
};

// A name that is not in the graph: which list and which item, and what would be valid.
class FailureError : public std::invalid_argument {
 public:
  FailureError(std::string list, std::size_t index, const std::string& message, std::string valid)
      : std::invalid_argument(message),
        list_(std::move(list)),
        index_(index),
        valid_(std::move(valid)) {}
  const std::string& list() const { return list_; }  // "switches", "links" or "planes"
  std::size_t index() const { return index_; }
  const std::string& valid() const { return valid_; }

 private:
  std::string list_;
  std::size_t index_;
  std::string valid_;
};

// Throws FailureError.
Failures resolve_failures(const Topology& topology, const FailureSpec& spec);

// What the failures take out of a fabric, for reports.
struct FailureImpact {
  std::size_t switches_down = 0;      // named, or in a failed plane
  std::size_t links_down = 0;         // undirected: named, or at a switch that is down
  std::size_t endpoints_cut_off = 0;  // fabric endpoints left with no usable link
};
FailureImpact failure_impact(const Router& router);

}  // namespace codesim::topo
