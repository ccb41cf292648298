// `codesim topo`, end to end through the binary: every examples/topologies/*.yaml runs, the five
// isca25 Table 3 instances give the published counts in their JSON, a full scenario is read
// through its cluster.topology, and bad input exits 2 with one message and no output file.
// (It tests cli/topo_command.cpp; it lives here, with the topology tests, by ownership.)

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../cli/run_codesim.hpp"
#include "../topologies/table3.hpp"

namespace codesim::topo {
namespace {

using codesim::testing::read_text;
using codesim::testing::run_codesim;
using codesim::testing::scratch_dir;

std::string examples_dir() {
  return std::string(CODESIM_SOURCE_DIR) + "/examples/topologies";
}

std::vector<std::string> example_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(examples_dir())) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// `name` names the scratch folder, unique per test so that ctest -j can run them side by side.
nlohmann::json run_example(const std::string& name, const std::string& file) {
  const auto dir = scratch_dir("topo-" + name);
  const auto json_path = dir / "out.json";
  const auto r = run_codesim("topo '" + file + "' --json '" + json_path.string() + "'", dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("endpoints"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("per endpoint"), std::string::npos) << r.out;
  if (!std::filesystem::exists(json_path)) return {};
  return nlohmann::json::parse(read_text(json_path));
}

class TopologyExampleTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TopologyExampleTest, RunsAndWritesTheContractKeys) {
  const auto j = run_example("example-" + GetParam(), examples_dir() + "/" + GetParam() + ".yaml");
  ASSERT_TRUE(j.is_object());
  for (const char* key : {"endpoints", "switches", "links", "cost_usd", "cost_per_endpoint_usd",
                          "bisection_bandwidth_GBps", "diameter"}) {
    ASSERT_TRUE(j.contains(key) && j[key].is_number()) << key;
    EXPECT_GT(j[key].get<double>(), 0) << key;
  }
  EXPECT_LE(j["max_switch_degree"].get<int>(), j["switch_radix"].get<int>());
}

INSTANTIATE_TEST_SUITE_P(Examples, TopologyExampleTest, ::testing::ValuesIn(example_names()),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(TopoCommand, Table3CountsExactly) {
  for (const auto& row : testing::table3()) {
    SCOPED_TRACE(row.example);
    const auto j =
        run_example("table3-" + row.example, examples_dir() + "/" + row.example + ".yaml");
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["endpoints"].get<long long>(), row.endpoints);
    EXPECT_EQ(j["switches"].get<long long>(), row.switches);
    EXPECT_EQ(j["links"].get<long long>(), row.links);
  }
}

// The reference scenario: 256 nodes x 8 NICs on 8 planes, 256 endpoints per plane on 8 leaves
// and ceil(8 * 32 / 64) = 4 spines.
TEST(TopoCommand, ReadsAScenariosClusterTopology) {
  const auto j = run_example(
      "scenario", std::string(CODESIM_SOURCE_DIR) + "/examples/deepseek-v3-h800-2048.yaml");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["kind"], "mpft");
  EXPECT_EQ(j["endpoints"].get<long long>(), 2048);
  EXPECT_EQ(j["switches"].get<long long>(), 8 * (8 + 4));
  EXPECT_EQ(j["links"].get<long long>(), 2048);
  EXPECT_EQ(j["diameter"].get<int>(), 2);
}

TEST(TopoCommand, PricesCanBeOverriddenInline) {
  const auto dir = scratch_dir("topo-prices-input");
  const auto file = dir / "t.yaml";
  std::ofstream(file) << "topology: {kind: ft2, nodes: 4, nics_per_node: 2, switch_radix: 4}\n"
                         "prices: {switch_usd_per_port: 1, switch_link_usd: 10, "
                         "endpoint_link_usd: 100, nic_usd: 0}\n";
  const auto j = run_example("prices", file.string());
  ASSERT_TRUE(j.is_object());
  EXPECT_DOUBLE_EQ(j["cost_usd"].get<double>(), 6 * 4 * 1 + 8 * 10 + 8 * 100);
  EXPECT_DOUBLE_EQ(j["cost_per_endpoint_usd"].get<double>(), 904.0 / 8);  // 8 endpoints
}

struct BadTopology {
  std::string name;
  std::string text;
  int line;         // the line the message must name
  std::string key;  // the key path the message must name
  std::string says;
};

void PrintTo(const BadTopology& c, std::ostream* os) {
  *os << c.name;
}

class BadTopologyTest : public ::testing::TestWithParam<BadTopology> {};

TEST_P(BadTopologyTest, ExitsTwoWithOneMessageAndNoOutput) {
  const auto& c = GetParam();
  const auto dir = scratch_dir("topo-bad-" + c.name);
  const auto file = dir / "topology.yaml";
  std::ofstream(file) << c.text;
  const auto json_path = dir / "out.json";
  const auto r =
      run_codesim("topo '" + file.string() + "' --json '" + json_path.string() + "'", dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_FALSE(std::filesystem::exists(json_path));
  const std::string where = file.string() + ":" + std::to_string(c.line);
  EXPECT_NE(r.err.find(where), std::string::npos) << "expected " << where << " in: " << r.err;
  EXPECT_NE(r.err.find(c.key), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadTopologyTest,
    ::testing::Values(BadTopology{"unknown_kind", "name: x\ntopology:\n  kind: torus\n  nodes: 4\n",
                                  3, "topology.kind", "slimfly"},
                      BadTopology{"slimfly_q_two_mod_four",
                                  "topology:\n  kind: slimfly\n  q: 6\n  switch_radix: 64\n", 3,
                                  "topology.q", "4w + delta"},
                      BadTopology{"key_of_another_kind",
                                  "topology:\n  kind: ft2\n  nodes: 4\n  q: 5\n", 4, "topology.q",
                                  "does not apply to kind 'ft2'"},
                      BadTopology{"missing_prices_file",
                                  "topology: {kind: ft2, nodes: 4}\nprices: nowhere/prices.yaml\n",
                                  2, "prices", "cannot read the prices file"},
                      BadTopology{"too_many_nodes",
                                  "topology:\n  kind: ft2\n  nodes: 300\n  switch_radix: 64\n", 3,
                                  "topology.nodes", "ft3"}),
    [](const auto& info) { return info.param.name; });

TEST(TopoCommand, ReportsWhatFailuresTakeDown) {
  const auto dir = scratch_dir("topo-failures");
  const auto file = dir / "mpft-failed.yaml";
  {
    std::ofstream out(file);
    out << "topology:\n  kind: mpft\n  nodes: 256\n  planes: 8\n  switch_radix: 64\n"
           "  failures: {planes: [3], switches: [p0.spine1]}\n";
  }
  const auto json_path = dir / "out.json";
  const auto r =
      run_codesim("topo '" + file.string() + "' --json '" + json_path.string() + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("failures"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(read_text(json_path));
  // Plane 3: 8 leaves and 4 spines, its 256 endpoint links and 256 leaf-spine links; spine 1 of
  // plane 0: its 64 links.
  EXPECT_EQ(j["failures"]["switches_down"], 13);
  EXPECT_EQ(j["failures"]["links_down"], 256 + 256 + 64);
  EXPECT_EQ(j["failures"]["endpoints_cut_off"], 256);
}

}  // namespace
}  // namespace codesim::topo
