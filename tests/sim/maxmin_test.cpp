// Max-min sharing on systems small enough to solve by hand; each expectation's comment is the
// hand solution.

#include "sim/maxmin.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

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
    std::vector<MaxMinSystem::VariableId> ids, ids_b;
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

TEST(MaxMin, ManyTiedConstraintsGiveEveryoneTheSameShare) {
  // A ring of 37 links of 6 (not a power of two: the tournament tree is padded). From each link
  // three flows cross it and the next one, so every link carries six flows and every level
  // ties at 1: whichever link the filling saturates first, every flow gets 1. Then a ring of
  // 5 links of 4 with one flow per link crossing it twice and the next once: link l carries
  // 2 units of its own flow's weight and 1 of the previous one's, so every level ties at 4 / 3.
  MaxMinSystem s;
  constexpr int kRing = 37;
  for (int l = 0; l < kRing; ++l) s.add_constraint(6);
  std::vector<MaxMinSystem::VariableId> ring;
  for (int l = 0; l < kRing; ++l) {
    for (int k = 0; k < 3; ++k) {
      ring.push_back(s.add_variable());
      s.expand(MaxMinSystem::ConstraintId(l), ring.back());
      s.expand(MaxMinSystem::ConstraintId((l + 1) % kRing), ring.back());
    }
  }
  constexpr int kSmall = 5;
  std::vector<MaxMinSystem::ConstraintId> small;
  for (int l = 0; l < kSmall; ++l) small.push_back(s.add_constraint(4));
  std::vector<MaxMinSystem::VariableId> twice;
  for (int l = 0; l < kSmall; ++l) {
    twice.push_back(s.add_variable());
    s.expand(small[l], twice.back(), 2);
    s.expand(small[(l + 1) % kSmall], twice.back());
  }
  s.solve();
  for (auto f : ring) EXPECT_DOUBLE_EQ(s.value(f), 1);
  for (int l = 0; l < kRing; ++l) EXPECT_DOUBLE_EQ(s.usage(l), 6);
  for (auto f : twice) EXPECT_DOUBLE_EQ(s.value(f), 4.0 / 3);
}

TEST(MaxMin, RemovingAFlowAboveTheBottleneckLeavesTheLowerLevelsAlone) {
  // L1 = 2 carries A and B (1 each, the first saturation); L2 = 10 carries B and C: C gets 9.
  // Removing C re-solves from the batch that fixed it (L2's, at level 9): A and B keep their
  // values and are not reported.
  MaxMinSystem s;
  const auto l1 = s.add_constraint(2);
  const auto l2 = s.add_constraint(10);
  const auto a = s.add_variable();
  const auto b = s.add_variable();
  const auto c = s.add_variable();
  s.expand(l1, a);
  s.expand(l1, b);
  s.expand(l2, b);
  s.expand(l2, c);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(a), 1);
  EXPECT_DOUBLE_EQ(s.value(b), 1);
  EXPECT_DOUBLE_EQ(s.value(c), 9);
  s.remove_variable(c);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(a), 1);
  EXPECT_DOUBLE_EQ(s.value(b), 1);
  EXPECT_TRUE(s.last_solved().empty());
  // Removing A, below: B takes all of L1.
  s.remove_variable(a);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(b), 2);
  EXPECT_EQ(s.last_solved(), (std::vector<MaxMinSystem::VariableId>{b}));
}

TEST(MaxMin, SeveralRemovalsAtOneInstantAndBoundsInAPartialResolve) {
  // L = 12 carries A (bound 1), B (bound 2), C, D, E. Bounds fix A at 1 and B at 2; C, D, E
  // share the remaining 9: 3 each. Removing D and E together: C takes 12 - 1 - 2 = 9; A and
  // B, fixed by their bounds below C's level, keep theirs.
  MaxMinSystem s;
  const auto link = s.add_constraint(12);
  const auto a = s.add_variable(1, 1);
  const auto b = s.add_variable(1, 2);
  const auto c = s.add_variable();
  const auto d = s.add_variable();
  const auto e = s.add_variable();
  for (auto v : {a, b, c, d, e}) s.expand(link, v);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(a), 1);
  EXPECT_DOUBLE_EQ(s.value(b), 2);
  EXPECT_DOUBLE_EQ(s.value(c), 3);
  s.remove_variable(d);
  s.remove_variable(e);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(a), 1);
  EXPECT_DOUBLE_EQ(s.value(b), 2);
  EXPECT_DOUBLE_EQ(s.value(c), 9);
  EXPECT_EQ(s.last_solved(), (std::vector<MaxMinSystem::VariableId>{c}));
  // Removing the bounded A: B stays at its bound, C takes A's share.
  s.remove_variable(a);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(b), 2);
  EXPECT_DOUBLE_EQ(s.value(c), 10);
}

TEST(MaxMin, PartialResolvesAfterRemovalsMatchFullSolvesOfRandomSystems) {
  // Random systems (weights, bounds, coefficients, many ties from integer capacities) lose a
  // few variables at a time until empty; after each solve, every value must match a system
  // rebuilt from scratch to 1e-9 relative, and every variable whose value changed must be in
  // last_solved().
  std::mt19937_64 rng(2026);
  for (int trial = 0; trial < 40; ++trial) {
    const int links = 2 + int(rng() % 30);
    const int flows = 1 + int(rng() % 300);
    std::vector<double> capacity(links);
    MaxMinSystem s;
    for (int l = 0; l < links; ++l) {
      capacity[l] = double(1 + rng() % 8);
      s.add_constraint(capacity[l]);
    }
    struct Var {
      MaxMinSystem::VariableId id;
      double weight;
      double bound;
      std::vector<std::pair<int, double>> uses;
    };
    std::vector<Var> live;
    for (int f = 0; f < flows; ++f) {
      Var v{0, double(1 + rng() % 2), MaxMinSystem::kUnbounded, {}};
      if (rng() % 5 == 0) v.bound = double(1 + rng() % 4) / 4;
      const int hops = 1 + int(rng() % 4);
      for (int h = 0; h < hops; ++h)
        v.uses.emplace_back(int(rng() % links), rng() % 6 == 0 ? 2 : 1);
      v.id = s.add_variable(v.weight, v.bound);
      for (auto [l, k] : v.uses) s.expand(MaxMinSystem::ConstraintId(l), v.id, k);
      live.push_back(v);
    }
    s.solve();
    while (!live.empty()) {
      std::vector<double> before(live.size());
      for (std::size_t i = 0; i < live.size(); ++i) before[i] = s.value(live[i].id);
      const std::size_t removals = std::min(live.size(), std::size_t(1 + rng() % 4));
      for (std::size_t r = 0; r < removals; ++r) {
        const std::size_t k = rng() % live.size();
        s.remove_variable(live[k].id);
        live.erase(live.begin() + std::ptrdiff_t(k));
        before.erase(before.begin() + std::ptrdiff_t(k));
      }
      s.solve();
      MaxMinSystem fresh;
      for (int l = 0; l < links; ++l) fresh.add_constraint(capacity[l]);
      std::vector<MaxMinSystem::VariableId> ids, ids_b;
      for (const Var& v : live) {
        ids.push_back(fresh.add_variable(v.weight, v.bound));
        for (auto [l, k] : v.uses) fresh.expand(MaxMinSystem::ConstraintId(l), ids.back(), k);
      }
      fresh.solve();
      const auto& reported = s.last_solved();
      for (std::size_t i = 0; i < live.size(); ++i) {
        const double expected = fresh.value(ids[i]);
        ASSERT_NEAR(s.value(live[i].id), expected, 1e-9 * expected)
            << "trial " << trial << " variable " << live[i].id;
        if (s.value(live[i].id) != before[i]) {
          EXPECT_NE(std::find(reported.begin(), reported.end(), live[i].id), reported.end())
              << "trial " << trial << " variable " << live[i].id << " changed unreported";
        }
      }
    }
  }
}

TEST(MaxMin, ALongRunOfPartialResolvesStaysWithFullSolves) {
  // One component loses 1500 variables one at a time, past the periodic full solve: every
  // hundredth step, the values must match a system rebuilt from scratch to 1e-9 relative.
  std::mt19937_64 rng(7);
  constexpr int kLinks = 24;
  std::vector<double> capacity(kLinks);
  MaxMinSystem s;
  for (int l = 0; l < kLinks; ++l) {
    capacity[l] = double(10 + rng() % 10);
    s.add_constraint(capacity[l]);
  }
  std::vector<std::pair<MaxMinSystem::VariableId, std::vector<int>>> live;
  for (int f = 0; f < 1600; ++f) {
    std::vector<int> route{int(rng() % kLinks), int(rng() % kLinks), int(rng() % kLinks)};
    const auto id = s.add_variable();
    for (int l : route) s.expand(MaxMinSystem::ConstraintId(l), id);
    live.emplace_back(id, route);
  }
  s.solve();
  for (int step = 1; step <= 1500; ++step) {
    const std::size_t k = rng() % live.size();
    s.remove_variable(live[k].first);
    live.erase(live.begin() + std::ptrdiff_t(k));
    s.solve();
    if (step % 100 != 0) continue;
    MaxMinSystem fresh;
    for (int l = 0; l < kLinks; ++l) fresh.add_constraint(capacity[l]);
    for (const auto& [id, route] : live) {
      const auto copy = fresh.add_variable();
      for (int l : route) fresh.expand(MaxMinSystem::ConstraintId(l), copy);
    }
    fresh.solve();
    for (std::size_t i = 0; i < live.size(); ++i) {
      ASSERT_NEAR(s.value(live[i].first), fresh.value(MaxMinSystem::VariableId(i)),
                  1e-9 * fresh.value(MaxMinSystem::VariableId(i)))
          << "step " << step;
    }
  }
}

TEST(MaxMin, RemovalOrderDoesNotMatterAndStaleUsesAreDropped) {
  // The same random system in two copies; the same variables removed in opposite orders:
  // bit-identical values and usages in both, usages equal to the sums over the live
  // variables. Then new ones are added (reusing the removed ids, in different orders, on the
  // same constraints as the stale entries): values agree to rounding.
  std::mt19937_64 rng(11);
  constexpr int kConstraints = 30;
  constexpr int kVariables = 300;
  MaxMinSystem a, b;
  std::vector<std::vector<MaxMinSystem::ConstraintId>> uses(kVariables);
  for (int c = 0; c < kConstraints; ++c) {
    const double capacity = 1 + double(rng() % 100);
    a.add_constraint(capacity);
    b.add_constraint(capacity);
  }
  std::vector<MaxMinSystem::VariableId> ids, ids_b;
  for (int v = 0; v < kVariables; ++v) {
    const double weight = 1 + double(rng() % 3);
    const auto id = a.add_variable(weight);
    EXPECT_EQ(b.add_variable(weight), id);
    ids.push_back(id);
    ids_b.push_back(id);
    for (int k = 0; k < 3; ++k) uses[v].push_back(MaxMinSystem::ConstraintId(rng() % kConstraints));
    for (auto c : uses[v]) {
      a.expand(c, id);
      b.expand(c, id);
    }
  }
  a.solve();
  b.solve();
  for (int round = 0; round < 5; ++round) {
    std::vector<int> gone;
    for (int v = 0; v < kVariables; ++v) {
      if (uses[v].empty() == false && rng() % 3 == 0) gone.push_back(v);
    }
    for (int v : gone) a.remove_variable(ids[v]);
    for (auto it = gone.rbegin(); it != gone.rend(); ++it) b.remove_variable(ids_b[*it]);
    a.solve();
    b.solve();
    for (int v : gone) uses[v].clear();
    for (int v = 0; v < kVariables; ++v) {
      if (!uses[v].empty()) {
        // Identical ids (and so local numbering) until new variables took ids over.
        if (round == 0) {
          ASSERT_EQ(a.value(ids[v]), b.value(ids_b[v])) << v;
        } else {
          ASSERT_NEAR(a.value(ids[v]), b.value(ids_b[v]), 1e-9 * a.value(ids[v])) << round << v;
        }
      }
    }
    for (int c = 0; c < kConstraints; ++c) {
      EXPECT_NEAR(a.usage(c), b.usage(c), 1e-9 * (1 + a.usage(c)));
      double sum = 0;
      for (int v = 0; v < kVariables; ++v) {
        for (auto used : uses[v]) {
          if (used == MaxMinSystem::ConstraintId(c)) sum += a.value(ids[v]);
        }
      }
      EXPECT_NEAR(a.usage(c), sum, 1e-9 * (1 + sum));
      EXPECT_LE(a.usage(c), a.capacity(c) * (1 + 1e-12));
    }
    // New variables take the removed ids over (possibly on the same constraints as their stale
    // entries).
    for (int v : gone) {
      const auto id = a.add_variable(1.0);
      const auto id_b = b.add_variable(1.0);
      ids[v] = id;
      ids_b[v] = id_b;
      for (int k = 0; k < 2; ++k)
        uses[v].push_back(MaxMinSystem::ConstraintId(rng() % kConstraints));
      for (auto c : uses[v]) {
        a.expand(c, id);
        b.expand(c, id_b);
      }
    }
    a.solve();
    b.solve();
    for (int v = 0; v < kVariables; ++v) {
      ASSERT_NEAR(a.value(ids[v]), b.value(ids_b[v]), 1e-9 * a.value(ids[v]));
    }
  }
  EXPECT_EQ(a.variable_count(), std::size_t(kVariables));
}

TEST(MaxMin, AComponentWhoseVariablesAreAllRemovedIsDropped) {
  // Every variable of a component removed at once: nothing is reported, its constraints are
  // free, and new variables on them solve afresh.
  MaxMinSystem s;
  const auto l1 = s.add_constraint(10);
  const auto l2 = s.add_constraint(20);
  std::vector<MaxMinSystem::VariableId> vars;
  for (int i = 0; i < 4; ++i) {
    vars.push_back(s.add_variable());
    s.expand(l1, vars.back());
    if (i >= 2) s.expand(l2, vars.back());
  }
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(vars[0]), 2.5);
  for (auto v : vars) s.remove_variable(v);
  s.solve();
  EXPECT_TRUE(s.last_solved().empty());
  EXPECT_DOUBLE_EQ(s.usage(l1), 0);
  EXPECT_DOUBLE_EQ(s.usage(l2), 0);
  const auto x = s.add_variable();
  s.expand(l2, x);
  s.solve();
  EXPECT_DOUBLE_EQ(s.value(x), 20);
  EXPECT_DOUBLE_EQ(s.usage(l2), 20);
  EXPECT_DOUBLE_EQ(s.usage(l1), 0);
}

TEST(MaxMin, AddingAVariableWithItsConstraintsIsAddingThenExpanding) {
  // Random routes (a constraint may repeat: its coefficient counts) added both ways, into
  // systems with cached components: the same ids and bit-identical values.
  std::mt19937_64 rng(5);
  MaxMinSystem a, b;
  for (int c = 0; c < 12; ++c) {
    a.add_constraint(1 + double(c));
    b.add_constraint(1 + double(c));
  }
  std::vector<MaxMinSystem::VariableId> live;
  for (int step = 0; step < 400; ++step) {
    if (!live.empty() && rng() % 3 == 0) {
      const std::size_t k = rng() % live.size();
      a.remove_variable(live[k]);
      b.remove_variable(live[k]);
      live.erase(live.begin() + std::ptrdiff_t(k));
    } else {
      std::vector<MaxMinSystem::ConstraintId> route(1 + rng() % 4);
      for (auto& c : route) c = MaxMinSystem::ConstraintId(rng() % 12);
      const double weight = 1 + double(rng() % 2);
      const auto id = a.add_variable(weight);
      for (auto c : route) a.expand(c, id);
      ASSERT_EQ(b.add_variable(route, weight), id);
      live.push_back(id);
    }
    if (step % 7 == 0) {
      a.solve();
      b.solve();
      for (auto id : live) ASSERT_EQ(a.value(id), b.value(id)) << step;
    }
  }
  const std::vector<MaxMinSystem::ConstraintId> unknown = {0, 12};
  EXPECT_THROW(b.add_variable(unknown), std::out_of_range);
}

TEST(MaxMin, LowestFreeIdsHandsOutTheLowestFirst) {
  detail::LowestFreeIds ids;
  EXPECT_TRUE(ids.empty());
  std::vector<std::uint32_t> released = {70000, 5, 4097, 64, 63, 0, 4096, 200};
  for (auto id : released) ids.release(id);
  EXPECT_EQ(ids.size(), released.size());
  std::sort(released.begin(), released.end());
  for (auto id : released) EXPECT_EQ(ids.take_lowest(), id);
  EXPECT_TRUE(ids.empty());
  ids.release(9);
  ids.release(3);
  EXPECT_EQ(ids.take_lowest(), 3u);
  ids.release(1);
  EXPECT_EQ(ids.take_lowest(), 1u);
  EXPECT_EQ(ids.take_lowest(), 9u);
  // Removed variables' ids come back lowest first.
  MaxMinSystem s;
  const auto link = s.add_constraint(1);
  std::vector<MaxMinSystem::VariableId> vars;
  for (int i = 0; i < 6; ++i) {
    vars.push_back(s.add_variable());
    s.expand(link, vars.back());
  }
  s.remove_variable(vars[4]);
  s.remove_variable(vars[1]);
  EXPECT_EQ(s.add_variable(), vars[1]);
  EXPECT_EQ(s.add_variable(), vars[4]);
}

}  // namespace
}  // namespace codesim::sim
