#include "cli/topo_command.hpp"

#include "cli/command_line.hpp"

#include <fmt/format.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "cli/failure_reader.hpp"
#include "cli/registry.hpp"
#include "cli/yaml_reader.hpp"

namespace codesim::cli {
namespace {

namespace po = boost::program_options;
using topo::TopologyKind;

// Keys of a topology map, the parameter each sets (if any) and the kinds it applies to (empty:
// all kinds).
struct TopologyKey {
  const char* name;
  std::vector<TopologyKind> kinds;
  std::optional<topo::TopologyParam> param = std::nullopt;
};

const std::vector<TopologyKey>& topology_keys() {
  using K = TopologyKind;
  const std::vector<K> fat_trees = {K::kFatTree2, K::kMultiPlaneFatTree, K::kMultiRailFatTree,
                                    K::kFatTree3};
  const std::vector<K> two_layer = {K::kFatTree2, K::kMultiPlaneFatTree, K::kMultiRailFatTree,
                                    K::kFireFlyer2};
  using P = topo::TopologyParam;
  static const std::vector<TopologyKey> kKeys = {
      {"kind", {}},
      {"nodes", fat_trees, P::kNodes},
      {"nics_per_node",
       {K::kFatTree2, K::kMultiPlaneFatTree, K::kMultiRailFatTree, K::kFatTree3, K::kFireFlyer2},
       P::kNicsPerNode},
      {"switch_radix", {}, P::kSwitchRadix},
      {"link", {}, P::kLink},
      {"link_latency", {}, P::kLinkLatency},
      {"oversubscription", two_layer, P::kOversubscription},
      {"planes", {K::kMultiPlaneFatTree}, P::kPlanes},
      {"q", {K::kSlimFly}, P::kQ},
      {"endpoints_per_switch", {K::kSlimFly, K::kDragonfly}, P::kEndpointsPerSwitch},
      {"switches_per_group", {K::kDragonfly}, P::kSwitchesPerGroup},
      {"global_links_per_switch", {K::kDragonfly}, P::kGlobalLinksPerSwitch},
      {"groups", {K::kDragonfly}, P::kGroups},
      {"zones", {K::kFireFlyer2}, P::kZones},
      {"nodes_per_zone", {K::kFireFlyer2}, P::kNodesPerZone},
      {"inter_zone_links", {K::kFireFlyer2}, P::kInterZoneLinks},
      {"failures", {}},
  };
  return kKeys;
}

std::vector<std::string> key_names(const std::vector<std::string>& excluded = {}) {
  std::vector<std::string> names;
  for (const auto& key : topology_keys()) {
    if (std::find(excluded.begin(), excluded.end(), key.name) == excluded.end()) {
      names.push_back(key.name);
    }
  }
  return names;
}

// How a topology file spells a parameter.
const char* key_of(topo::TopologyParam param) {
  for (const auto& key : topology_keys()) {
    if (key.param == param) return key.name;
  }
  throw std::logic_error("topology: a parameter without a key");
}

bool applies(const TopologyKey& key, TopologyKind kind) {
  return key.kinds.empty() ||
         std::find(key.kinds.begin(), key.kinds.end(), kind) != key.kinds.end();
}

YAML::Node load_yaml(const std::string& path, const std::string& what) {
  return load_yaml_file(path, what,
                        "a map with 'topology' (e.g. examples/topologies/ft2-2048.yaml), or a "
                        "scenario with 'cluster'");
}

topo::Prices read_price_map(const MapReader& r) {
  topo::Prices prices;
  prices.switch_usd_per_port =
      r.number("switch_usd_per_port", prices.switch_usd_per_port, 0, false);
  prices.switch_link_usd = r.number("switch_link_usd", prices.switch_link_usd, 0, false);
  prices.endpoint_link_usd = r.number("endpoint_link_usd", prices.endpoint_link_usd, 0, false);
  prices.nic_usd = r.number("nic_usd", prices.nic_usd, 0, false);
  return prices;
}

const std::vector<std::string> kPriceKeys = {"switch_usd_per_port", "switch_link_usd",
                                             "endpoint_link_usd", "nic_usd"};

// `prices:` is a map of overrides, or the path of a prices file (like topologies/prices.yaml)
// relative to the file that names it.
topo::Prices read_prices(const YamlContext& ctx, const MapReader& top) {
  if (!top.has("prices")) return topo::Prices{};
  const YAML::Node node = top.node("prices");
  if (node.IsScalar()) {
    const auto file =
        std::filesystem::path(ctx.file()).parent_path() / std::filesystem::path(node.Scalar());
    if (const std::string problem = unreadable_reason(file.string()); !problem.empty()) {
      top.fail("prices", "cannot read the prices file '" + file.string() + "' (" + problem + ")",
               "a map {switch_usd_per_port, switch_link_usd, endpoint_link_usd, nic_usd} or the "
               "path of a file like topologies/prices.yaml");
    }
    const YAML::Node root = load_yaml(file.string(), "prices file");
    const YamlContext price_ctx(file.string(), root, {});
    const MapReader price_top(price_ctx, root, "", {"prices", "sources"});
    if (!price_top.has("prices")) price_top.fail("prices", "missing the 'prices' map");
    return read_price_map(MapReader(price_ctx, price_top.node("prices"), "prices", kPriceKeys));
  }
  return read_price_map(MapReader(ctx, node, "prices", kPriceKeys));
}

// Reads the topology map `r` into `p`; `nodes` and the NIC count may already hold a scenario's.
void read_topology(const MapReader& r, topo::TopologyParams& p, bool scenario) {
  const auto kind_name = r.choice("kind", topology_registry().names(),
                                  scenario ? std::optional<std::string>("mpft") : std::nullopt);
  p.kind = *topology_registry().find(kind_name);
  for (const auto& key : topology_keys()) {
    if (r.has(key.name) && !applies(key, p.kind)) {
      std::vector<std::string> valid;
      for (const auto& k : topology_keys()) {
        if (applies(k, p.kind)) valid.push_back(k.name);
      }
      r.fail(key.name, "does not apply to kind '" + kind_name + "'",
             "for " + kind_name + ": " + join(valid));
    }
  }
  const bool fire_flyer = p.kind == TopologyKind::kFireFlyer2;
  if (fire_flyer) {
    // Fire-Flyer 2 (SC24): 40-port 200 Gb/s QM8700 switches, one 200 Gb/s NIC per node.
    p.switch_radix = 40;
    p.link_Gbps = 200;
    if (!scenario) p.nics_per_node = 1;
  }
  const bool fat_tree =
      p.kind == TopologyKind::kFatTree2 || p.kind == TopologyKind::kMultiPlaneFatTree ||
      p.kind == TopologyKind::kMultiRailFatTree || p.kind == TopologyKind::kFatTree3;
  if (!scenario && fat_tree) {
    p.nodes = r.int_value("nodes", std::nullopt);
  }
  p.nics_per_node = r.int_value("nics_per_node", p.nics_per_node);
  p.switch_radix = r.int_value("switch_radix", p.switch_radix, 2);
  p.link_Gbps = r.quantity("link", Quantity::kBandwidth, p.link_Bps()) * 8.0 / 1e9;
  p.link_latency = sim::from_seconds_ceil(
      r.quantity("link_latency", Quantity::kDuration, p.link_latency.seconds()));
  p.oversubscription = r.number("oversubscription", 1.0);
  p.planes = r.int_value("planes", p.nics_per_node);
  p.slim_fly.q = r.int_value(
      "q", p.kind == TopologyKind::kSlimFly ? std::nullopt : std::optional<long long>(0), 0);
  p.slim_fly.endpoints_per_switch = r.int_value("endpoints_per_switch", 0, 0);
  p.dragonfly.endpoints_per_switch = p.slim_fly.endpoints_per_switch;
  const bool dragonfly = p.kind == TopologyKind::kDragonfly;
  const auto needed = dragonfly ? std::nullopt : std::optional<long long>(0);
  if (dragonfly && !r.has("endpoints_per_switch")) {
    r.fail("endpoints_per_switch", "a dragonfly needs endpoints_per_switch (p)", "e.g. 16");
  }
  p.dragonfly.switches_per_group = r.int_value("switches_per_group", needed, 0);
  p.dragonfly.global_links_per_switch = r.int_value("global_links_per_switch", needed, 0);
  p.dragonfly.groups = r.int_value("groups", 0, 0);
  p.fire_flyer.zones = r.int_value("zones", p.fire_flyer.zones);
  if (fire_flyer && scenario && p.nodes > 0) {
    p.fire_flyer.nodes_per_zone = (p.nodes + p.fire_flyer.zones - 1) / p.fire_flyer.zones;
  }
  p.fire_flyer.nodes_per_zone = r.int_value("nodes_per_zone", p.fire_flyer.nodes_per_zone);
  p.fire_flyer.inter_zone_links = r.int_value("inter_zone_links", p.fire_flyer.inter_zone_links, 0);
}

nlohmann::ordered_json topology_json(const TopologyRequest& request, const topo::Topology& t,
                                     const topo::Structure& s, const topo::Cost& cost) {
  nlohmann::ordered_json j;
  j["name"] = request.name;
  j["kind"] = topology_registry().name_of(t.kind);
  j["endpoints"] = s.endpoints;
  j["switches"] = s.switches;
  j["links"] = s.links;
  j["endpoint_links"] = s.endpoint_links;
  j["diameter"] = s.diameter;
  j["bisection_bandwidth_GBps"] = s.bisection_Bps / 1e9;
  j["cost_usd"] = cost.fabric_usd();
  j["cost_per_endpoint_usd"] = s.endpoints > 0 ? cost.fabric_usd() / s.endpoints : 0.0;
  j["cost_breakdown_usd"] = {{"switches", cost.switches_usd},
                             {"switch_links", cost.switch_links_usd},
                             {"endpoint_links", cost.endpoint_links_usd}};
  j["nic_cost_usd"] = cost.nics_usd;
  j["switch_radix"] = t.switch_radix;
  j["max_switch_degree"] = s.max_switch_degree;
  j["prices"] = {{"switch_usd_per_port", request.prices.switch_usd_per_port},
                 {"switch_link_usd", request.prices.switch_link_usd},
                 {"endpoint_link_usd", request.prices.endpoint_link_usd},
                 {"nic_usd", request.prices.nic_usd}};
  j["notes"] = t.notes;
  return j;
}

std::string topology_summary(const TopologyRequest& request, const topo::Topology& t,
                             const topo::Structure& s, const topo::Cost& cost) {
  const double per_endpoint = s.endpoints > 0 ? cost.fabric_usd() / s.endpoints : 0.0;
  std::string out =
      fmt::format("topology {} ({})\n", request.name, topology_registry().name_of(t.kind));
  out += fmt::format("  endpoints           {}\n", s.endpoints);
  out += fmt::format("  switches            {} ({}-port, busiest uses {})\n", s.switches,
                     t.switch_radix, s.max_switch_degree);
  out += fmt::format("  links               {} switch-to-switch, {} endpoint-to-switch\n", s.links,
                     s.endpoint_links);
  out += fmt::format("  diameter            {} switch hops\n", s.diameter);
  out += fmt::format("  bisection bandwidth {:.1f} GB/s per direction\n", s.bisection_Bps / 1e9);
  out += fmt::format("  cost                ${:.2f}M, ${:.0f} per endpoint\n",
                     cost.fabric_usd() / 1e6, per_endpoint);
  out += fmt::format(
      "                      (switches ${:.2f}M, switch links ${:.2f}M, endpoint links ${:.2f}M; "
      "NICs ${:.2f}M not included)\n",
      cost.switches_usd / 1e6, cost.switch_links_usd / 1e6, cost.endpoint_links_usd / 1e6,
      cost.nics_usd / 1e6);
  for (const auto& note : t.notes) out += "  note: " + note + "\n";
  return out;
}

// The topology map's `failures`, resolved on the fabric the request builds.
void read_request_failures(const YamlContext& ctx, const MapReader& t, TopologyRequest& request) {
  if (!t.has("failures")) return;
  const topo::FailureSpec spec = read_failures(ctx, t.node("failures"), t.key_path("failures"));
  if (spec.empty()) return;
  request.failures = resolve_failures_at(ctx, t.node("failures"), t.key_path("failures"),
                                         topo::build_topology(request.params), spec);
  request.has_failures = true;
}

std::string failures_summary(const topo::FailureImpact& f) {
  return fmt::format("  failures            {} switches and {} links down, {} endpoints cut off\n",
                     f.switches_down, f.links_down, f.endpoints_cut_off);
}

}  // namespace

TopologyRequest load_topology_request(const std::string& path) {
  const YAML::Node root = load_yaml(path, "topology file");
  const YamlContext ctx(path, root, {});
  TopologyRequest request;
  auto& p = request.params;
  if (root.IsMap() && root["cluster"]) {
    const MapReader top(ctx, root, "",
                        {"name", "cluster", "model", "plan", "cost", "prices", "calibration"});
    const MapReader cluster(ctx, top.node("cluster"), "cluster",
                            {"gpu", "nodes", "node", "topology"});
    p.nodes = cluster.int_value("nodes", std::nullopt);
    if (cluster.has("node")) {
      const MapReader node(ctx, cluster.node("node"), "cluster.node",
                           {"gpus", "nvlink", "nics", "nic"});
      const int gpus = node.int_value("gpus", 8);
      p.nics_per_node = node.int_value("nics", gpus);
      p.link_Gbps = node.quantity("nic", Quantity::kBandwidth, 400e9 / 8) * 8 / 1e9;
    }
    YAML::Node topology = cluster.has("topology") ? cluster.node("topology") : YAML::Node();
    if (!topology) {
      topology = YAML::Node(YAML::NodeType::Map);
      topology["kind"] = "mpft";
    }
    const MapReader t(ctx, topology, "cluster.topology", key_names({"nodes", "nics_per_node"}));
    read_topology(t, p, /*scenario=*/true);
    request.name = top.text("name", std::filesystem::path(path).stem().string());
    request.prices = read_prices(ctx, top);
    for (const auto& problem : topo::check_params(p)) {
      // A scenario gives the node count and the NICs in its cluster, not its topology.
      if (problem.param == topo::TopologyParam::kNodes) {
        cluster.fail("nodes", problem.message, problem.valid);
      }
      if (problem.param == topo::TopologyParam::kNicsPerNode) {
        cluster.fail("node", problem.message, problem.valid);
      }
      t.fail(key_of(problem.param), problem.message, problem.valid);
    }
    read_request_failures(ctx, t, request);
    return request;
  }
  const MapReader top(ctx, root, "", {"name", "topology", "prices"});
  if (!top.has("topology")) {
    top.fail("topology", "missing the 'topology' map",
             "topology: {kind: ft2, nodes: 256, switch_radix: 64}, or a scenario with 'cluster'");
  }
  const MapReader t(ctx, top.node("topology"), "topology", key_names());
  read_topology(t, p, /*scenario=*/false);
  request.name = top.text("name", std::filesystem::path(path).stem().string());
  request.prices = read_prices(ctx, top);
  for (const auto& problem : topo::check_params(p)) {
    t.fail(key_of(problem.param), problem.message, problem.valid);
  }
  read_request_failures(ctx, t, request);
  return request;
}

int run_topo(const std::vector<std::string>& args) {
  po::options_description options("codesim topo TOPOLOGY.yaml|SCENARIO.yaml [options]");
  std::string path;
  std::string json_path;
  options.add_options()("help,h", "show this help")("json", po::value<std::string>(&json_path),
                                                    "write the result as JSON to FILE");
  po::variables_map vm;
  if (const auto exit = parse_subcommand(args, "topo", options, path, vm)) return *exit;
  if (!json_path.empty()) check_output_file("--json", json_path);
  const TopologyRequest request = load_topology_request(path);
  const topo::Topology topology = topo::build_topology(request.params);
  const topo::Structure structure = topo::measure(topology);
  const topo::Cost cost = topo::fabric_cost(structure, topology.switch_radix, request.prices);
  std::optional<topo::FailureImpact> impact;
  if (request.has_failures) {
    const topo::Router router(topology, {request.failures, false});
    impact = topo::failure_impact(router);
  }
  if (!json_path.empty()) {
    auto json = topology_json(request, topology, structure, cost);
    if (impact) {
      json["failures"] = {{"switches_down", impact->switches_down},
                          {"links_down", impact->links_down},
                          {"endpoints_cut_off", impact->endpoints_cut_off}};
    }
    write_file_atomically(json_path, json.dump(2) + "\n");
  }
  std::cout << topology_summary(request, topology, structure, cost);
  if (impact) std::cout << failures_summary(*impact);
  return kExitOk;
}

}  // namespace codesim::cli
