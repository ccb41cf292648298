// Structure counts, the switch-graph diameter on graphs small enough to check by hand, and the
// cost arithmetic; topologies/prices.yaml and the C++ default prices must agree.

#include "topologies/structure.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "table3.hpp"

namespace codesim::topo {
namespace {

// Switches s0 - s1 - ... - s(n-1) in a line, one endpoint on each end.
Topology line_of_switches(int n) {
  Topology t;
  std::vector<VertexId> switches;
  for (int i = 0; i < n; ++i) {
    switches.push_back(add_vertex(t.graph, VertexKind::kSwitch, "s" + std::to_string(i)));
  }
  for (int i = 0; i + 1 < n; ++i) add_link(t.graph, switches[i], switches[i + 1], 1e9, {});
  add_link(t.graph, add_vertex(t.graph, VertexKind::kEndpoint, "e0"), switches.front(), 1e9, {});
  add_link(t.graph, add_vertex(t.graph, VertexKind::kEndpoint, "e1"), switches.back(), 1e9, {});
  return t;
}

TEST(Structure, LineOfSwitchesByHand) {
  const auto s = measure(line_of_switches(4));
  EXPECT_EQ(s.endpoints, 2);
  EXPECT_EQ(s.switches, 4);
  EXPECT_EQ(s.links, 3);
  EXPECT_EQ(s.endpoint_links, 2);
  EXPECT_EQ(s.max_switch_degree, 2);
  EXPECT_EQ(s.diameter, 3);
}

TEST(Structure, DiameterFromASourceIsItsEccentricity) {
  auto t = line_of_switches(5);
  t.diameter_sources = {2};  // the middle switch: 2 hops to either end
  EXPECT_EQ(switch_diameter(t), 2);
  t.diameter_sources.clear();
  EXPECT_EQ(switch_diameter(t), 4);
}

TEST(Structure, UnreachableSwitchesAreNotCounted) {
  Topology t;
  const auto a = add_vertex(t.graph, VertexKind::kSwitch, "a", 0);
  const auto b = add_vertex(t.graph, VertexKind::kSwitch, "b", 0);
  add_vertex(t.graph, VertexKind::kSwitch, "c", 1);
  add_link(t.graph, a, b, 1e9, {});
  EXPECT_EQ(switch_diameter(t), 1);
  EXPECT_EQ(switch_diameter(Topology{}), -1);
}

TEST(Cost, AddsSwitchesCablesAndNicsApart) {
  Structure s;
  s.endpoints = 10;
  s.switches = 2;
  s.links = 3;
  s.endpoint_links = 10;
  const Prices prices{100, 1000, 10, 7};
  const auto cost = fabric_cost(s, 8, prices);
  EXPECT_DOUBLE_EQ(cost.switches_usd, 2 * 8 * 100);
  EXPECT_DOUBLE_EQ(cost.switch_links_usd, 3000);
  EXPECT_DOUBLE_EQ(cost.endpoint_links_usd, 100);
  EXPECT_DOUBLE_EQ(cost.nics_usd, 70);
  EXPECT_DOUBLE_EQ(cost.fabric_usd(), 1600 + 3000 + 100);
}

TEST(Cost, PricesFileMatchesTheDefaults) {
  const auto root = YAML::LoadFile(std::string(CODESIM_SOURCE_DIR) + "/topologies/prices.yaml");
  const Prices defaults;
  EXPECT_EQ(root["prices"]["switch_usd_per_port"].as<double>(), defaults.switch_usd_per_port);
  EXPECT_EQ(root["prices"]["switch_link_usd"].as<double>(), defaults.switch_link_usd);
  EXPECT_EQ(root["prices"]["endpoint_link_usd"].as<double>(), defaults.endpoint_link_usd);
  EXPECT_EQ(root["prices"]["nic_usd"].as<double>(), defaults.nic_usd);
  EXPECT_GE(root["sources"].size(), 2u);
  for (const auto& source : root["sources"]) EXPECT_FALSE(source.as<std::string>().empty());
}

// The defaults are sums of sourced part prices (see topologies/prices.yaml): a 64-port switch at
// USD 32,870, a twin-port 800G OSFP SR8 at 879 (half of it per 400G port), a 400G OSFP SR4 at
// 769, and an assumed USD 50 fiber per link. Editing one number without its derivation fails here.
TEST(Cost, DefaultPricesFollowTheirDerivation) {
  const Prices p;
  const double switch_price = 32870, twin_port_sr8 = 879, single_port_sr4 = 769, fiber = 50;
  EXPECT_DOUBLE_EQ(p.switch_usd_per_port * 64, switch_price);
  EXPECT_DOUBLE_EQ(p.switch_link_usd, 2 * (twin_port_sr8 / 2) + fiber);
  EXPECT_DOUBLE_EQ(p.endpoint_link_usd, single_port_sr4 + twin_port_sr8 / 2 + fiber);
  EXPECT_DOUBLE_EQ(p.nic_usd, 2188);
}

}  // namespace
}  // namespace codesim::topo
