#include "topologies/cluster.hpp"

#include <stdexcept>

namespace codesim::topo {

const std::vector<std::string>& fabric_kind_names() {
  static const std::vector<std::string> kNames = {"mpft", "mrft", "ft2", "ft3"};
  return kNames;
}

FabricKind fabric_kind_from_name(const std::string& name) {
  if (name == "mpft") return FabricKind::kMultiPlaneFatTree;
  if (name == "mrft") return FabricKind::kMultiRailFatTree;
  if (name == "ft2") return FabricKind::kFatTree2;
  if (name == "ft3") return FabricKind::kFatTree3;
  throw std::out_of_range("unknown fabric kind '" + name + "'");
}

std::string fabric_kind_name(FabricKind kind) {
  switch (kind) {
    case FabricKind::kMultiPlaneFatTree:
      return "mpft";
    case FabricKind::kMultiRailFatTree:
      return "mrft";
    case FabricKind::kFatTree2:
      return "ft2";
    case FabricKind::kFatTree3:
      return "ft3";
  }
  return "?";
}

}  // namespace codesim::topo
