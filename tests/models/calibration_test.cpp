// The fabric latency model against isca25 Table 5 (validation/reference/published.yaml
// latency_us), and the topology defaults against the model.

#include "models/calibration.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "../reference.hpp"
#include "topologies/node_graph.hpp"
#include "topologies/topology.hpp"

namespace codesim::models {
namespace {

using codesim::testing::published;

sim::Time published_us(const char* key) {
  return sim::from_seconds_ceil(published()["latency_us"][key].as<double>() * 1e-6);
}

TEST(FabricLatency, CalibrationCarriesThePublishedFigures) {
  const auto& measured = h800_published_calibration().latency;
  const auto table = published()["latency_us"];
  EXPECT_DOUBLE_EQ(measured.ib_same_leaf_us, table["ib_same_leaf"].as<double>());
  EXPECT_DOUBLE_EQ(measured.ib_cross_leaf_us, table["ib_cross_leaf"].as<double>());
  EXPECT_DOUBLE_EQ(measured.roce_same_leaf_us, table["roce_same_leaf"].as<double>());
  EXPECT_DOUBLE_EQ(measured.roce_cross_leaf_us, table["roce_cross_leaf"].as<double>());
  EXPECT_DOUBLE_EQ(measured.nvlink_us, table["nvlink"].as<double>());
}

TEST(FabricLatency, DerivationReproducesAllFourPublishedFiguresExactly) {
  const auto& measured = h800_published_calibration().latency;
  const auto ib = fabric_hop_latency(measured, FabricTransport::kInfiniBand);
  const auto roce = fabric_hop_latency(measured, FabricTransport::kRoce);
  // Same leaf: one switch; cross leaf: leaf, spine, leaf.
  EXPECT_EQ(ib.end_to_end(1), published_us("ib_same_leaf"));
  EXPECT_EQ(ib.end_to_end(3), published_us("ib_cross_leaf"));
  EXPECT_EQ(roce.end_to_end(1), published_us("roce_same_leaf"));
  EXPECT_EQ(roce.end_to_end(3), published_us("roce_cross_leaf"));
  // And on links: two endpoint links, plus two switch links across leaves.
  EXPECT_EQ(ib.endpoint_link() * 2, published_us("ib_same_leaf"));
  EXPECT_EQ(ib.endpoint_link() * 2 + ib.switch_link() * 2, published_us("ib_cross_leaf"));
  EXPECT_EQ(roce.endpoint_link() * 2, published_us("roce_same_leaf"));
  EXPECT_EQ(roce.endpoint_link() * 2 + roce.switch_link() * 2, published_us("roce_cross_leaf"));
  // The terms themselves.
  EXPECT_EQ(ib.per_switch, sim::nanoseconds(450));
  EXPECT_EQ(ib.endpoint, sim::nanoseconds(2350));
  EXPECT_EQ(roce.per_switch, sim::nanoseconds(1000));
  EXPECT_EQ(roce.endpoint, sim::nanoseconds(2600));
}

TEST(FabricLatency, NvlinkSplitsOverTwoLinks) {
  const auto& measured = h800_published_calibration().latency;
  EXPECT_EQ(nvlink_link_latency(measured) * 2, published_us("nvlink"));
}

TEST(FabricLatency, ImpossibleMeasurementsAreRefused) {
  FabricLatencyMeasurement flat;
  flat.ib_same_leaf_us = 3.0;
  flat.ib_cross_leaf_us = 3.0;
  EXPECT_THROW(fabric_hop_latency(flat, FabricTransport::kInfiniBand), std::invalid_argument);
  FabricLatencyMeasurement steep;
  steep.roce_same_leaf_us = 1.0;
  steep.roce_cross_leaf_us = 9.0;  // 4 us per switch leaves -3 us at the endpoints
  EXPECT_THROW(fabric_hop_latency(steep, FabricTransport::kRoce), std::invalid_argument);
}

// topologies/ does not depend on models/, so its defaults are written there; they must be this
// derivation.
TEST(FabricLatency, TopologyDefaultsAreTheInfiniBandDerivation) {
  const auto& measured = h800_published_calibration().latency;
  const auto ib = fabric_hop_latency(measured, FabricTransport::kInfiniBand);
  const topo::TopologyParams params;
  EXPECT_EQ(params.latency.per_switch, ib.per_switch);
  EXPECT_EQ(params.latency.endpoint, ib.endpoint);
  EXPECT_EQ(params.switch_link_latency(), ib.switch_link());
  EXPECT_EQ(params.endpoint_link_latency(), ib.endpoint_link());
  EXPECT_EQ(topo::NodeParams{}.nvlink_gpu_to_gpu_latency, nvlink_link_latency(measured) * 2);
}

}  // namespace
}  // namespace codesim::models
