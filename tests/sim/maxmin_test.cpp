// Max-min sharing on systems small enough to solve by hand; each expectation's comment is the
// hand solution.

#include "sim/maxmin.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace codesim::sim {
namespace {

TEST(MaxMin, TwoFlowsShareOneLinkEqually) {
  MaxMinSystem s;
  const auto link = s.add_constraint(10);
  const auto a = s.add_variable();
  const auto b = s.add_variable();
  s.expand(link, a);
  s.expand(link, b);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(a), 5);  // 10 / 2
  EXPECT_DOUBLE_EQ(s.value(b), 5);
  EXPECT_DOUBLE_EQ(s.usage(link), 10);
}

TEST(MaxMin, BottleneckFirstThenTheRestOfTheWay) {
  // L1 = 1 carries A and B; L2 = 2 carries A and C. L1 saturates first at 1/2 each; C takes
  // what A leaves of L2: 2 - 0.5 = 1.5.
  MaxMinSystem s;
  const auto l1 = s.add_constraint(1);
  const auto l2 = s.add_constraint(2);
  const auto a = s.add_variable();
  const auto b = s.add_variable();
  const auto c = s.add_variable();
  s.expand(l1, a);
  s.expand(l2, a);
  s.expand(l1, b);
  s.expand(l2, c);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(a), 0.5);
  EXPECT_DOUBLE_EQ(s.value(b), 0.5);
  EXPECT_DOUBLE_EQ(s.value(c), 1.5);
}

TEST(MaxMin, ParkingLot) {
  // Three links of 1 in a row; the long flow crosses all, one short flow per link: every link
  // is shared by two flows, so all four get 1/2.
  MaxMinSystem s;
  std::vector<MaxMinSystem::ConstraintId> links;
  for (int i = 0; i < 3; ++i) links.push_back(s.add_constraint(1));
  const auto along = s.add_variable();
  for (auto l : links) s.expand(l, along);
  std::vector<MaxMinSystem::VariableId> shorts;
  for (auto l : links) {
    shorts.push_back(s.add_variable());
    s.expand(l, shorts.back());
  }
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(along), 0.5);
  for (auto v : shorts) EXPECT_DOUBLE_EQ(s.value(v), 0.5);
}

TEST(MaxMin, BoundsAndWeights) {
  // Link of 1: A bounded at 0.2, B takes 0.8.
  MaxMinSystem s;
  const auto link = s.add_constraint(1);
  const auto a = s.add_variable(1, 0.2);
  const auto b = s.add_variable();
  s.expand(link, a);
  s.expand(link, b);
  // Link of 3: weight 2 gets twice weight 1: 2 and 1.
  const auto wide = s.add_constraint(3);
  const auto heavy = s.add_variable(2);
  const auto light = s.add_variable(1);
  s.expand(wide, heavy);
  s.expand(wide, light);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(a), 0.2);
  EXPECT_DOUBLE_EQ(s.value(b), 0.8);
  EXPECT_DOUBLE_EQ(s.value(heavy), 2);
  EXPECT_DOUBLE_EQ(s.value(light), 1);
}

TEST(MaxMin, CoefficientCountsALinkCrossedTwice) {
  // A crosses the link twice (coefficient 2), B once: 2a + b = 1 with a = b: 1/3 each.
  MaxMinSystem s;
  const auto link = s.add_constraint(1);
  const auto a = s.add_variable();
  const auto b = s.add_variable();
  s.expand(link, a, 2);
  s.expand(link, b);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(a), 1.0 / 3);
  EXPECT_DOUBLE_EQ(s.value(b), 1.0 / 3);
}

TEST(MaxMin, RemovingAFlowFreesItsShareAndOnlyItsComponentIsSolved) {
  MaxMinSystem s;
  const auto l1 = s.add_constraint(4);
  const auto l2 = s.add_constraint(6);  // a separate component
  const auto a = s.add_variable();
  const auto b = s.add_variable();
  const auto c = s.add_variable();
  s.expand(l1, a);
  s.expand(l1, b);
  s.expand(l2, c);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(a), 2);
  EXPECT_DOUBLE_EQ(s.value(c), 6);
  s.remove_variable(b);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(a), 4);
  EXPECT_DOUBLE_EQ(s.value(c), 6);
  EXPECT_EQ(s.last_solved(), (std::vector<MaxMinSystem::VariableId>{a}));
  s.set_capacity(l2, 3);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(c), 3);
  EXPECT_EQ(s.last_solved(), (std::vector<MaxMinSystem::VariableId>{c}));
}

TEST(MaxMin, RandomSystemsAreFeasibleAndEveryFlowHasABottleneck) {
  // The defining property of weighted max-min fairness: every variable is at its bound, or
  // crosses a saturated constraint on which no variable gets more per unit of weight.
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    MaxMinSystem s;
    const int links = 2 + int(rng() % 8);
    const int flows = 1 + int(rng() % 20);
    for (int l = 0; l < links; ++l) s.add_constraint(1 + double(rng() % 100));
    std::vector<std::vector<MaxMinSystem::ConstraintId>> routes(flows);
    std::vector<double> weight(flows), bound(flows);
    for (int f = 0; f < flows; ++f) {
      weight[f] = 1 + double(rng() % 3);
      bound[f] = rng() % 4 == 0 ? 1 + double(rng() % 20) : MaxMinSystem::kUnbounded;
      s.add_variable(weight[f], bound[f]);
      for (int l = 0; l < links; ++l) {
        if (rng() % 3 == 0 || (l == links - 1 && routes[f].empty())) {
          s.expand(l, f);
          routes[f].push_back(l);
        }
      }
    }
    s.solve();
    for (int l = 0; l < links; ++l) EXPECT_LE(s.usage(l), s.capacity(l) * (1 + 1e-12));
    for (int f = 0; f < flows; ++f) {
      if (s.value(f) >= bound[f] * (1 - 1e-12)) continue;
      bool bottlenecked = false;
      for (auto l : routes[f]) {
        if (s.usage(l) < s.capacity(l) * (1 - 1e-9)) continue;
        bool largest_share = true;
        for (int g = 0; g < flows; ++g) {
          const bool on_link = std::find(routes[g].begin(), routes[g].end(), l) != routes[g].end();
          if (on_link && s.value(g) / weight[g] > s.value(f) / weight[f] * (1 + 1e-9)) {
            largest_share = false;
          }
        }
        bottlenecked = bottlenecked || largest_share;
      }
      EXPECT_TRUE(bottlenecked) << "trial " << trial << " flow " << f;
    }
  }
}

TEST(MaxMin, CachedComponentsMatchAFreshSolveThroughRemovalsAndAdditions) {
  // Removals keep a component cached (it may split); adding a use drops it. After each random
  // change the incremental system must agree exactly with one rebuilt from scratch.
  std::mt19937 rng(11);
  constexpr int kLinks = 12;
  std::vector<double> capacity(kLinks);
  MaxMinSystem s;
  for (int l = 0; l < kLinks; ++l) {
    capacity[l] = 1 + rng() % 10;
    s.add_constraint(capacity[l]);
  }
  struct Var {
    std::vector<int> links;
    double bound;
  };
  std::vector<std::pair<MaxMinSystem::VariableId, Var>> live;
  for (int step = 0; step < 400; ++step) {
    const unsigned op = rng() % 10;
    if (op < 4 || live.empty()) {
      Var v{{}, (rng() % 3 == 0) ? double(1 + rng() % 5) : MaxMinSystem::kUnbounded};
      const int n = 1 + int(rng() % 3);
      for (int k = 0; k < n; ++k) v.links.push_back(int(rng() % kLinks));
      const auto id = s.add_variable(1.0, v.bound);
      for (int l : v.links) s.expand(MaxMinSystem::ConstraintId(l), id);
      live.emplace_back(id, v);
    } else if (op < 8) {
      const std::size_t k = rng() % live.size();
      s.remove_variable(live[k].first);
      live.erase(live.begin() + std::ptrdiff_t(k));
    } else if (op == 8) {
      const int l = int(rng() % kLinks);
      capacity[l] = 1 + rng() % 10;
      s.set_capacity(MaxMinSystem::ConstraintId(l), capacity[l]);
    } else {
      auto& [id, v] = live[rng() % live.size()];
      v.bound = double(1 + rng() % 5);
      s.set_bound(id, v.bound);
    }
    s.solve();
    MaxMinSystem fresh;
    for (int l = 0; l < kLinks; ++l) fresh.add_constraint(capacity[l]);
    std::vector<MaxMinSystem::VariableId> ids;
    for (const auto& [id, v] : live) {
      ids.push_back(fresh.add_variable(1.0, v.bound));
      for (int l : v.links) fresh.expand(MaxMinSystem::ConstraintId(l), ids.back());
    }
    fresh.solve();
    for (std::size_t k = 0; k < live.size(); ++k) {
      ASSERT_NEAR(s.value(live[k].first), fresh.value(ids[k]), 1e-12 * fresh.value(ids[k]))
          << "step " << step;
    }
  }
}

}  // namespace
}  // namespace codesim::sim
