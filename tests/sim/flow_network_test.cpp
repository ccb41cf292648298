// The fluid flow model: hand-worked timelines, and agreement with the contention-free formula
// latency + bytes / bandwidth wherever nothing contends.

#include "sim/flow_network.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace codesim::sim {
namespace {

constexpr double kGBps = 1e9;

struct Recorder {
  std::map<std::uint64_t, Time> finished;
  static void done(Simulator& sim, void* self, std::uint64_t tag) {
    static_cast<Recorder*>(self)->finished[tag] = sim.now();
  }
};

TEST(FlowNetwork, OneFlowTakesLatencyPlusBytesOverBandwidth) {
  Simulator sim;
  FlowNetwork net(sim);
  const auto link = net.add_link(1 * kGBps, microseconds(1));
  Recorder r;
  net.start_flow({link}, 1e9, &Recorder::done, &r, 7);
  sim.run();
  EXPECT_EQ(r.finished.at(7), seconds(1) + microseconds(1));
  EXPECT_DOUBLE_EQ(net.link_bytes(link), 1e9);
  EXPECT_EQ(net.active_flows(), 0u);
}

TEST(FlowNetwork, SharedLinkTimelineByHand) {
  // A (2 GB) and B (1 GB) start together on a 1 GB/s link: 0.5 GB/s each until B finishes at
  // 2 s with A half done; A then runs alone at 1 GB/s and finishes its last 1 GB at 3 s.
  Simulator sim;
  FlowNetwork net(sim);
  const auto link = net.add_link(1 * kGBps, Time::zero());
  Recorder r;
  net.start_flow({link}, 2e9, &Recorder::done, &r, 1);
  net.start_flow({link}, 1e9, &Recorder::done, &r, 2);
  sim.run();
  EXPECT_EQ(r.finished.at(2), seconds(2));
  EXPECT_EQ(r.finished.at(1), seconds(3));
}

TEST(FlowNetwork, LateArrivalSlowsTheFirstFlow) {
  // A: 3 GB from t = 0 on 1 GB/s. B: 1 GB from t = 1 s. A sends 1 GB alone, then both share
  // 0.5 GB/s: B finishes at 3 s, A has 1 GB left at 3 s and finishes at 4 s.
  Simulator sim;
  FlowNetwork net(sim);
  const auto link = net.add_link(1 * kGBps, Time::zero());
  Recorder r;
  net.start_flow({link}, 3e9, &Recorder::done, &r, 1);
  sim.schedule_at(seconds(1), [&] { net.start_flow({link}, 1e9, &Recorder::done, &r, 2); });
  sim.run();
  EXPECT_EQ(r.finished.at(2), seconds(3));
  EXPECT_EQ(r.finished.at(1), seconds(4));
}

TEST(FlowNetwork, AgreesWithTheAnalyticCostWithoutContention) {
  // Disjoint two-hop routes of random bandwidth, latency and size: the simulated completion is
  // the analytic latency + bytes / bottleneck, to the picosecond rounding.
  Simulator sim;
  FlowNetwork net(sim);
  std::mt19937_64 rng(7);
  Recorder r;
  std::map<std::uint64_t, double> analytic_s;
  for (std::uint64_t i = 0; i < 100; ++i) {
    const double bw1 = (1 + rng() % 100) * kGBps, bw2 = (1 + rng() % 100) * kGBps;
    const auto lat1 = nanoseconds(int64_t(rng() % 5000)), lat2 = nanoseconds(int64_t(rng() % 5000));
    const double bytes = double(1 + rng() % (1 << 26));
    const auto a = net.add_link(bw1, lat1);
    const auto b = net.add_link(bw2, lat2);
    net.start_flow({a, b}, bytes, &Recorder::done, &r, i);
    analytic_s[i] = (lat1 + lat2).seconds() + bytes / std::min(bw1, bw2);
  }
  sim.run();
  for (const auto& [tag, expected] : analytic_s) {
    EXPECT_NEAR(r.finished.at(tag).seconds(), expected, 2e-12 + 1e-9 * expected) << tag;
  }
}

TEST(FlowNetwork, CompletionHandlersMayStartFlowsAndRunsAreDeterministic) {
  auto run_once = [] {
    Simulator sim;
    FlowNetwork net(sim);
    std::vector<FlowNetwork::LinkId> links;
    for (int i = 0; i < 6; ++i) links.push_back(net.add_link((1 + i) * kGBps, nanoseconds(500)));
    struct Chain {
      FlowNetwork* net;
      std::vector<FlowNetwork::LinkId>* links;
      std::vector<std::pair<std::uint64_t, Time>> log;
      std::mt19937_64 rng{3};
      static void done(Simulator& sim, void* self, std::uint64_t tag) {
        auto& c = *static_cast<Chain*>(self);
        c.log.emplace_back(tag, sim.now());
        if (tag < 200) {
          const auto& l = *c.links;
          c.net->start_flow({l[c.rng() % l.size()], l[c.rng() % l.size()]},
                            double(1 + c.rng() % 1000000), &Chain::done, &c, tag + 10);
        }
      }
    } chain{&net, &links, {}};
    for (std::uint64_t i = 0; i < 10; ++i) {
      net.start_flow({links[i % 6], links[(i + 1) % 6]}, 1e6 * (i + 1), &Chain::done, &chain, i);
    }
    sim.run();
    return chain.log;
  };
  const auto first = run_once();
  EXPECT_EQ(first.size(), 210u);
  EXPECT_EQ(first, run_once());
}

TEST(FlowNetwork, EmptyRouteAndZeroBytesCompleteAfterTheLatencyOnly) {
  Simulator sim;
  FlowNetwork net(sim);
  const auto link = net.add_link(1 * kGBps, microseconds(3));
  Recorder r;
  net.start_flow({}, 1e9, &Recorder::done, &r, 1);
  net.start_flow({link}, 0, &Recorder::done, &r, 2);
  sim.run();
  EXPECT_EQ(r.finished.at(1), Time::zero());
  EXPECT_EQ(r.finished.at(2), microseconds(3));
}

TEST(FlowNetwork, FlowsDueAtOneInstantCompleteInTheOrderTheirFinishesWereProjected) {
  // Three equal flows on separate links finish together; their handlers run in start order,
  // and each runs once.
  Simulator sim;
  FlowNetwork net(sim);
  std::vector<std::uint64_t> order;
  struct Log {
    static void done(Simulator&, void* self, std::uint64_t tag) {
      static_cast<std::vector<std::uint64_t>*>(self)->push_back(tag);
    }
  };
  for (std::uint64_t tag = 0; tag < 3; ++tag) {
    net.start_flow({net.add_link(1 * kGBps, Time::zero())}, 1e9, &Log::done, &order, tag);
  }
  sim.run();
  EXPECT_EQ(order, (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(sim.now(), seconds(1));
  EXPECT_EQ(net.active_flows(), 0u);
}

TEST(FlowNetwork, AFlowSlowedAfterItsFinishWasProjectedStillFinishesOnTime) {
  // A (1 GB) alone on a 1 GB/s link is due at 1 s; B (1 GB) arrives at 0.5 s and halves A's
  // rate: A's last 0.5 GB take 1 s more (1.5 s), and B then runs alone: 0.5 GB left at 1 GB/s.
  Simulator sim;
  FlowNetwork net(sim);
  const auto link = net.add_link(1 * kGBps, Time::zero());
  const auto late = net.add_link(1e12, milliseconds(500));
  Recorder r;
  net.start_flow({link}, 1e9, &Recorder::done, &r, 1);
  net.start_flow({late, link}, 1e9, &Recorder::done, &r, 2);
  sim.run();
  EXPECT_EQ(r.finished.at(1), milliseconds(1500));
  EXPECT_EQ(r.finished.at(2), seconds(2));
}

TEST(FlowNetwork, LinkBytesCountWhatTransferringFlowsHaveSentByNow) {
  // A (2 GB) and B (1 GB) share a 1 GB/s link at 0.5 GB/s each: 1 GB carried at 1 s, 2 GB at
  // 2 s (B done), 3 GB at the end.
  Simulator sim;
  FlowNetwork net(sim);
  const auto link = net.add_link(1 * kGBps, Time::zero());
  Recorder r;
  net.start_flow({link}, 2e9, &Recorder::done, &r, 1);
  net.start_flow({link}, 1e9, &Recorder::done, &r, 2);
  std::vector<double> seen;
  for (int s = 1; s <= 2; ++s) {
    sim.schedule_at(seconds(s) - nanoseconds(1), [&] { seen.push_back(net.link_bytes(link)); });
  }
  sim.run();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_NEAR(seen[0], 1e9, 10);
  EXPECT_NEAR(seen[1], 2e9, 10);
  EXPECT_DOUBLE_EQ(net.link_bytes(link), 3e9);
}

TEST(FlowNetwork, ThousandsOfFlowsFinishInOrderOfTheirProjections) {
  // 3000 flows on their own links, sizes in a scrambled order: each finishes at bytes /
  // bandwidth, and they complete in time order (the finish tree grows and reuses slots).
  Simulator sim;
  FlowNetwork net(sim);
  std::vector<std::pair<Time, std::uint64_t>> log;
  struct Log {
    static void done(Simulator& sim, void* self, std::uint64_t tag) {
      static_cast<std::vector<std::pair<Time, std::uint64_t>>*>(self)->emplace_back(sim.now(), tag);
    }
  };
  constexpr std::uint64_t kFlows = 3000;
  for (std::uint64_t i = 0; i < kFlows; ++i) {
    const double bytes = double(1 + (i * 7919) % kFlows) * 1e6;
    net.start_flow({net.add_link(1 * kGBps, Time::zero())}, bytes, &Log::done, &log, i);
  }
  sim.run();
  ASSERT_EQ(log.size(), kFlows);
  for (std::size_t k = 0; k < log.size(); ++k) {
    const std::uint64_t i = log[k].second;
    EXPECT_EQ(log[k].first, from_seconds_ceil(double(1 + (i * 7919) % kFlows) * 1e-3)) << i;
    if (k > 0) {
      EXPECT_LE(log[k - 1].first, log[k].first);
    }
  }
  EXPECT_EQ(net.active_flows(), 0u);
}

}  // namespace
}  // namespace codesim::sim
