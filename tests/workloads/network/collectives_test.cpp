#include "workloads/network/collectives.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace codesim::workloads {
namespace {

// A star: rank r has an uplink and a downlink to one switch, each `bandwidth` and `latency`.
struct Star {
  sim::Simulator sim;
  sim::FlowNetwork net{sim};
  std::vector<sim::FlowNetwork::LinkId> up, down;
  double bandwidth;
  sim::Time latency;
  Star(int ranks, double bw, sim::Time lat) : bandwidth(bw), latency(lat) {
    for (int r = 0; r < ranks; ++r) {
      up.push_back(net.add_link(bw, lat));
      down.push_back(net.add_link(bw, lat));
    }
  }
  CollectiveRun::Route route() {
    return [this](int src, int dst) {
      return std::vector<sim::FlowNetwork::LinkId>{up[src], down[dst]};
    };
  }
  TransferCost cost() const {
    return [this](int, int, double bytes) { return 2 * latency.seconds() + bytes / bandwidth; };
  }
  double run(const Collective& c) {
    CollectiveRun run(sim, net, c, route());
    run.start();
    sim.run();
    EXPECT_TRUE(run.finished());
    return run.finish_time().seconds();
  }
};

TEST(Collectives, RingShapes) {
  const Collective rs = ring_reduce_scatter(4, 400);
  EXPECT_EQ(rs.steps(), 3);
  EXPECT_EQ(rs.transfers.size(), 12u);
  EXPECT_DOUBLE_EQ(rs.transfers[0].bytes, 100);
  const Collective ar = ring_all_reduce(4, 400);
  EXPECT_EQ(ar.steps(), 6);
  EXPECT_EQ(ar.transfers.size(), 24u);
  const Collective tree = tree_all_reduce(7, 10);
  EXPECT_EQ(tree.transfers.size(), 12u);  // 6 edges, up and down
  EXPECT_EQ(tree.steps(), 4);
  EXPECT_EQ(uniform_all_to_all(5, 1).transfers.size(), 20u);
}

TEST(Collectives, RingAllReduceOnAnUncontendedStarMatchesTheFormula) {
  // Every step, each uplink and downlink carries one flow: no contention, so the simulation
  // must give the analytic 2(n-1) (2L + S/(nB)), to the picosecond rounding of each step.
  for (int ranks : {2, 4, 8, 16}) {
    Star star(ranks, 50e9, sim::nanoseconds(1500));
    const double bytes = 256e6;
    const Collective c = ring_all_reduce(ranks, bytes);
    const double analytic = analytic_seconds(c, star.cost());
    EXPECT_DOUBLE_EQ(analytic, 2 * (ranks - 1) * (3e-6 + bytes / ranks / 50e9));
    const double simulated = star.run(c);
    EXPECT_NEAR(simulated, analytic, analytic * 1e-9 + 2 * ranks * 1e-12) << ranks;
    EXPECT_LT(std::abs(simulated - analytic) / analytic, 0.01);
  }
}

TEST(Collectives, PointToPointAndSingleStepsAgreeWithoutContention) {
  Star star(4, 25e9, sim::microseconds(2));
  const Collective c = point_to_point(1, 3, 1e9);
  EXPECT_NEAR(star.run(c), analytic_seconds(c, star.cost()), 1e-12);
}

TEST(Collectives, AllToAllContendsOnTheUplinks) {
  // Each uplink carries n-1 equal flows at once, so the all-to-all takes (n-1) times the
  // contention-free estimate's transfer time, plus the latency.
  const int n = 8;
  Star star(n, 10e9, sim::Time::zero());
  const Collective c = uniform_all_to_all(n, 1e8);
  const double analytic = analytic_seconds(c, star.cost());
  const double simulated = star.run(c);
  EXPECT_DOUBLE_EQ(analytic, 1e8 / 10e9);
  EXPECT_NEAR(simulated, (n - 1) * 1e8 / 10e9, 1e-9);
}

TEST(Collectives, TreeAllReduceFinishesAfterEveryLevel) {
  // Seven ranks: reduce in two levels, broadcast in two; the root's downlink is shared by its
  // two children in the first reduce step to it, and its uplink by both broadcasts.
  Star star(7, 1e9, sim::Time::zero());
  const double t = star.run(tree_all_reduce(7, 1e9));
  // Level 2 -> 1: four flows into ranks 1 and 2, two each: 2 s. Level 1 -> 0: two flows into
  // rank 0: 2 s. Broadcast 0 -> 1, 2: two flows out of rank 0: 2 s. 1, 2 -> 3..6: two out of
  // each: 2 s. Total 8 s.
  EXPECT_NEAR(t, 8.0, 1e-9);
}

TEST(Collectives, TrafficMatrixAllToAll) {
  const Collective c = all_to_all({{0, 5, 0}, {1, 0, 2}, {0, 0, 0}});
  ASSERT_EQ(c.transfers.size(), 3u);
  EXPECT_THROW(all_to_all({{0, 1}, {1}}), std::invalid_argument);
}

}  // namespace
}  // namespace codesim::workloads
