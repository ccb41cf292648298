#include "cli/failure_reader.hpp"

namespace codesim::cli {
namespace {

// The item `index` of list `list` in the failures map, or the map when it is not in the file
// (a --set override).
YAML::Node item_node(const YAML::Node& node, const std::string& list, std::size_t index) {
  if (node.IsMap() && node[list] && node[list].IsSequence() && index < node[list].size()) {
    return node[list][index];
  }
  return node;
}

}  // namespace

topo::FailureSpec read_failures(const YamlContext& ctx, const YAML::Node& node,
                                const std::string& path) {
  MapReader r(ctx, node, path, {"switches", "links", "planes"});
  topo::FailureSpec spec;
  auto sequence = [&](const std::string& key) {
    const YAML::Node list = r.node(key);
    if (!list.IsSequence()) r.fail(key, "'" + key + "' must be a list", "a YAML list");
    return list;
  };
  if (r.has("switches")) {
    for (const auto& item : sequence("switches")) {
      if (!item.IsScalar()) {
        ctx.fail(r.key_path("switches"), item, "a switch is named by its label",
                 "labels such as p3.spine2");
      }
      spec.switches.push_back(item.Scalar());
    }
  }
  if (r.has("links")) {
    for (const auto& item : sequence("links")) {
      if (!item.IsSequence() || item.size() != 2 || !item[0].IsScalar() || !item[1].IsScalar()) {
        ctx.fail(r.key_path("links"), item, "a link is named by the labels of its two ends",
                 "[p0.leaf1, p0.spine3]");
      }
      spec.links.emplace_back(item[0].Scalar(), item[1].Scalar());
    }
  }
  if (r.has("planes")) {
    for (long long plane : r.integer_list("planes", 0)) spec.planes.push_back(int(plane));
  }
  return spec;
}

topo::Failures resolve_failures_at(const YamlContext& ctx, const YAML::Node& node,
                                   const std::string& path, const topo::Topology& topology,
                                   const topo::FailureSpec& spec) {
  try {
    return topo::resolve_failures(topology, spec);
  } catch (const topo::FailureError& e) {
    ctx.fail(path + "." + e.list(), item_node(node, e.list(), e.index()), e.what(), e.valid());
  }
}

}  // namespace codesim::cli
