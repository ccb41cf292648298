#include "workloads/moe/routing_models.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <stdexcept>
#include <vector>

#include "v3_shape.hpp"
#include "workloads/moe/expert_map.hpp"
#include "workloads/moe/router.hpp"

namespace codesim::workloads {
namespace {

using testing::v3_shape;

TEST(RoutingModels, BalancedIsEvenAndZipfIsNot) {
  const RoutingShape s = v3_shape();
  const ExpertMap map = ExpertMap::contiguous(256, 64);
  RoutingBatch batch;
  Router router(s, 8);
  router.route(BalancedRouting(256), 0, 0, 0, 8192, batch);
  const double balanced = max_over_mean(gpu_loads(batch, map));
  router.route(ZipfRouting(256, 1.0, 1), 0, 0, 0, 8192, batch);
  const double skewed = max_over_mean(gpu_loads(batch, map));
  EXPECT_LT(balanced, 1.15);  // 1024 copies per GPU: only sampling noise
  EXPECT_GT(skewed, 3.0);
  ZipfRouting flat(256, 0.0, 1);
  std::vector<double> p(256);
  flat.popularity(0, 0, p);
  for (double x : p) EXPECT_DOUBLE_EQ(x, 1.0 / 256);
}

TEST(RoutingModels, ZipfRanksArePermutedPerLayer) {
  const ZipfRouting zipf(64, 1.0, 3);
  std::vector<double> p0(64), p1(64);
  zipf.popularity(0, 0, p0);
  zipf.popularity(1, 0, p1);
  EXPECT_NE(p0, p1);
  std::set<int> ranks;
  for (int e = 0; e < 64; ++e) {
    ranks.insert(zipf.rank(0, e));
    EXPECT_NEAR(p0[e] / p0[0], std::pow(double(zipf.rank(0, 0) + 1) / (zipf.rank(0, e) + 1), 1.0),
                1e-12);
  }
  EXPECT_EQ(ranks.size(), 64u);
  EXPECT_NEAR(std::accumulate(p0.begin(), p0.end(), 0.0), 1.0, 1e-12);
}

TEST(RoutingModels, DriftMovesTheHotSet) {
  const DriftingRouting drift(256, 1.0, 1.5, 7);
  std::vector<double> p0(256), p2(256), p10(256);
  drift.popularity(0, 0, p0);
  drift.popularity(0, 2, p2);    // floor(3) = 3 experts on
  drift.popularity(0, 10, p10);  // 15 experts on
  for (int e = 0; e < 256; ++e) {
    EXPECT_DOUBLE_EQ(p2[(e + 3) % 256], p0[e]);
    EXPECT_DOUBLE_EQ(p10[(e + 15) % 256], p0[e]);
  }
  // The routed loads follow: the most loaded expert moves by 15.
  const RoutingShape s = v3_shape();
  Router router(s, 2);
  RoutingBatch batch;
  router.route(drift, 0, 0, 0, 4000, batch);
  const auto l0 = expert_loads(batch, 256);
  router.route(drift, 0, 0, 10, 4000, batch);
  const auto l10 = expert_loads(batch, 256);
  const auto hot0 = std::max_element(l0.begin(), l0.end()) - l0.begin();
  const auto hot10 = std::max_element(l10.begin(), l10.end()) - l10.begin();
  EXPECT_EQ(hot10, (hot0 + 15) % 256);
}

TEST(RoutingModels, MeasuredFollowsTheCounts) {
  ExpertCounts counts;
  counts.experts = 16;
  counts.layers.assign(2, std::vector<double>(16, 100.0));
  counts.layers[0][5] = 3000;  // hot
  counts.layers[0][9] = 0;     // never seen
  counts.layers[1][2] = 3000;
  const MeasuredRouting measured(counts);
  RoutingShape s;
  s.experts = 16;
  s.experts_per_token = 2;
  s.groups = 4;
  s.max_groups_per_token = 2;
  Router router(s, 1);
  RoutingBatch batch;
  router.route(measured, 0, 0, 0, 5000, batch);
  auto load = expert_loads(batch, 16);
  EXPECT_EQ(std::max_element(load.begin(), load.end()) - load.begin(), 5);
  EXPECT_EQ(load[9], 0.0);
  router.route(measured, 3, 0, 0, 5000, batch);  // layer 3 -> measured layer 1
  load = expert_loads(batch, 16);
  EXPECT_EQ(std::max_element(load.begin(), load.end()) - load.begin(), 2);
  ExpertCounts bad = counts;
  bad.layers[1].pop_back();
  EXPECT_THROW(MeasuredRouting{bad}, std::invalid_argument);
  bad = counts;
  bad.layers[0].assign(16, 0.0);
  EXPECT_THROW(MeasuredRouting{bad}, std::invalid_argument);
}
}  // namespace
}  // namespace codesim::workloads
