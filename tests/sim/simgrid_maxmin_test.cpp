// Cross-check of MaxMinSystem against SimGrid's own max-min solver on small platforms.
//
// SimGrid 3.32 (Debian's libsimgrid-dev) does not install the headers of its solver
// (simgrid::kernel::lmm::System lives in src/), so it is driven through s4u: one link per
// constraint, one host-to-host Comm per variable, and the network model configured so that its
// sharing is plain max-min:
//   network/model:CM02        no latency or bandwidth correction factors, weight-S = 0
//   network/crosstraffic:0    no 5% reverse-path term on the links of the way back
//   network/TCP-gamma:0       no window bound gamma / (2 * latency)
//   maxmin/precision:1e-12    SimGrid snaps values below capacity * precision to zero
// and every link has latency 0, since CM02 gives a flow a sharing penalty equal to its route's
// latency (flows of longer routes would get less). All flows start at t = 0 with more bytes than
// they can send in a second; after one simulated second each rate is the bytes sent.
//
// SimGrid's engine is a process-wide singleton, so every platform of this file is laid out in one
// engine, on disjoint links, and simulated once; the platforms share nothing, so each one's
// sharing is what it would be alone.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <simgrid/s4u.hpp>

#include "sim/maxmin.hpp"

namespace codesim::sim {
namespace {

struct Flow {
  std::vector<int> route;                   // indices into Platform::link_capacity
  double bound = MaxMinSystem::kUnbounded;  // bytes per second
};

struct Platform {
  std::string name;
  std::vector<double> link_capacity;  // bytes per second, one direction
  std::vector<Flow> flows;
};

// A single 10 GB/s link shared by four flows.
Platform single_link() {
  Platform p{"single_link", {10e9}, {}};
  for (int i = 0; i < 4; ++i) p.flows.push_back({{0}});
  return p;
}

// Links A (4 GB/s) then B (10 GB/s) in series: two flows cross both, one crosses only A, three
// only B. A saturates first; B's cross traffic takes what the through flows leave.
Platform series_with_cross_traffic() {
  Platform p{"series_with_cross_traffic", {4e9, 10e9}, {}};
  p.flows.push_back({{0, 1}});
  p.flows.push_back({{0, 1}});
  p.flows.push_back({{0}});
  for (int i = 0; i < 3; ++i) p.flows.push_back({{1}});
  return p;
}

// Five links of growing capacity in a row, a long flow over all, and 1..5 short flows on each.
Platform parking_lot() {
  Platform p{"parking_lot", {}, {}};
  for (int i = 0; i < 5; ++i) p.link_capacity.push_back(1e9 * (1 + i));
  p.flows.push_back({{0, 1, 2, 3, 4}});
  for (int link = 0; link < 5; ++link) {
    for (int k = 0; k <= link; ++k) p.flows.push_back({{link}});
  }
  return p;
}

// Six hosts on a switch, each with an uplink (to the switch) and a downlink of its own speed;
// an all-to-all among a few pairs, plus one flow bounded below its fair share.
Platform star() {
  const std::vector<double> speeds = {1e9, 2.5e9, 5e9, 10e9, 12.5e9, 25e9};
  Platform p{"star", {}, {}};
  for (double s : speeds) {
    p.link_capacity.push_back(s);  // up: 2 * host
    p.link_capacity.push_back(s);  // down: 2 * host + 1
  }
  const int hosts = int(speeds.size());
  for (int src = 0; src < hosts; ++src) {
    for (int dst = 0; dst < hosts; ++dst) {
      if (src != dst && (src + dst) % 2 == 1) p.flows.push_back({{2 * src, 2 * dst + 1}});
    }
  }
  p.flows.push_back({{2 * 5, 2 * 4 + 1}, 0.3e9});
  return p;
}

// Two-level fat-tree: 4 leaves x 4 hosts, 2 spines; host links 10 GB/s, leaf-spine links
// 8 GB/s (oversubscribed 2.5:1), so flows between leaves contend on the uplinks. Full duplex:
// each cable is two links. Spine by (src + dst) mod 2; a few flows stay within their leaf.
Platform fat_tree() {
  constexpr int kLeaves = 4, kHostsPerLeaf = 4, kSpines = 2;
  constexpr int kHosts = kLeaves * kHostsPerLeaf;
  Platform p{"fat_tree", {}, {}};
  auto add = [&](double capacity) {
    p.link_capacity.push_back(capacity);
    return int(p.link_capacity.size() - 1);
  };
  std::vector<int> host_up(kHosts), host_down(kHosts);
  for (int h = 0; h < kHosts; ++h) {
    host_up[h] = add(10e9);
    host_down[h] = add(10e9);
  }
  std::vector<std::vector<int>> leaf_up(kLeaves), spine_down(kSpines);
  for (int l = 0; l < kLeaves; ++l) {
    for (int s = 0; s < kSpines; ++s) leaf_up[l].push_back(add(8e9));
  }
  for (int s = 0; s < kSpines; ++s) {
    for (int l = 0; l < kLeaves; ++l) spine_down[s].push_back(add(8e9));
  }
  auto route = [&](int src, int dst) {
    const int src_leaf = src / kHostsPerLeaf, dst_leaf = dst / kHostsPerLeaf;
    if (src_leaf == dst_leaf) return std::vector<int>{host_up[src], host_down[dst]};
    const int spine = (src + dst) % kSpines;
    return std::vector<int>{host_up[src], leaf_up[src_leaf][spine], spine_down[spine][dst_leaf],
                            host_down[dst]};
  };
  // Each host sends to the host 5 and 6 places on (other leaves), and one within its leaf.
  for (int src = 0; src < kHosts; ++src) {
    p.flows.push_back({route(src, (src + 5) % kHosts)});
    p.flows.push_back({route(src, (src + 6) % kHosts)});
    if (src % 3 == 0) {
      p.flows.push_back(
          {route(src, src / kHostsPerLeaf * kHostsPerLeaf + (src + 1) % kHostsPerLeaf)});
    }
  }
  return p;
}

std::vector<Platform> platforms() {
  return {single_link(), series_with_cross_traffic(), parking_lot(), star(), fat_tree()};
}

std::vector<double> codesim_rates(const Platform& p) {
  MaxMinSystem system;
  std::vector<MaxMinSystem::ConstraintId> links;
  for (double c : p.link_capacity) links.push_back(system.add_constraint(c));
  std::vector<MaxMinSystem::VariableId> variables;
  for (const Flow& f : p.flows) {
    variables.push_back(system.add_variable(1.0, f.bound));
    for (int link : f.route) system.expand(links[link], variables.back());
  }
  system.solve();
  std::vector<double> rates;
  for (auto v : variables) rates.push_back(system.value(v));
  return rates;
}

// More bytes than any flow sends in the one simulated second of the measurement.
constexpr double kFlowBytes = 1e13;
constexpr double kMeasureSeconds = 1.0;

// Rates of every platform's flows under SimGrid, computed once per process.
const std::vector<std::vector<double>>& simgrid_rates() {
  static const std::vector<std::vector<double>> rates = [] {
    const std::vector<Platform> all = platforms();
    int argc = 1;
    char name[] = "simgrid_maxmin_test";
    char* argv[] = {name, nullptr};
    // Never destroyed: SimGrid's engine is a singleton that cannot be created twice.
    auto* engine = new simgrid::s4u::Engine(&argc, argv);
    simgrid::s4u::Engine::set_config("network/model:CM02");
    simgrid::s4u::Engine::set_config("network/crosstraffic", false);
    simgrid::s4u::Engine::set_config("network/TCP-gamma", 0.0);
    simgrid::s4u::Engine::set_config("maxmin/precision", 1e-12);
    xbt_log_control_set("root.thresh:warning");

    auto* zone = simgrid::s4u::create_full_zone("world");
    struct Endpoints {
      simgrid::s4u::Host* src;
      simgrid::s4u::Host* dst;
    };
    std::vector<std::vector<Endpoints>> endpoints(all.size());
    simgrid::s4u::Host* driver = zone->create_host("driver", 1e9);
    for (size_t pi = 0; pi < all.size(); ++pi) {
      const Platform& p = all[pi];
      std::vector<const simgrid::s4u::Link*> links;
      for (size_t li = 0; li < p.link_capacity.size(); ++li) {
        auto* link = zone->create_link(p.name + "/link" + std::to_string(li), p.link_capacity[li]);
        link->set_sharing_policy(simgrid::s4u::Link::SharingPolicy::SHARED);
        link->set_latency(0);
        links.push_back(link->seal());
      }
      // Two hosts per flow, so that every flow has a route of its own.
      for (size_t fi = 0; fi < p.flows.size(); ++fi) {
        const std::string prefix = p.name + "/flow" + std::to_string(fi);
        auto* src = zone->create_host(prefix + "/src", 1e9);
        auto* dst = zone->create_host(prefix + "/dst", 1e9);
        std::vector<simgrid::s4u::LinkInRoute> route;
        for (int li : p.flows[fi].route) route.emplace_back(links[li]);
        // SimGrid 3.32 ignores Comm::set_rate() on host-to-host comms; a link of the flow's own
        // with the bound as capacity is the same constraint.
        if (!std::isinf(p.flows[fi].bound)) {
          auto* own = zone->create_link(prefix + "/bound", p.flows[fi].bound);
          own->set_sharing_policy(simgrid::s4u::Link::SharingPolicy::SHARED);
          own->set_latency(0);
          route.emplace_back(own->seal());
        }
        zone->add_route(src->get_netpoint(), dst->get_netpoint(), nullptr, nullptr, route, false);
        endpoints[pi].push_back({src, dst});
      }
    }
    zone->seal();

    std::vector<std::vector<double>> measured(all.size());
    simgrid::s4u::Actor::create("driver", driver, [&] {
      std::vector<std::vector<simgrid::s4u::CommPtr>> comms(all.size());
      for (size_t pi = 0; pi < all.size(); ++pi) {
        for (size_t fi = 0; fi < all[pi].flows.size(); ++fi) {
          // Everything before the endpoints: SimGrid 3.32 starts a comm once it has both.
          auto comm = simgrid::s4u::Comm::sendto_init();
          comm->set_payload_size(std::uint64_t(kFlowBytes));
          comm->set_source(endpoints[pi][fi].src);
          comm->set_destination(endpoints[pi][fi].dst);
          comms[pi].push_back(comm);
        }
      }
      simgrid::s4u::this_actor::sleep_for(kMeasureSeconds);
      for (size_t pi = 0; pi < all.size(); ++pi) {
        for (auto& comm : comms[pi]) {
          measured[pi].push_back((kFlowBytes - comm->get_remaining()) / kMeasureSeconds);
          comm->cancel();
        }
      }
    });
    engine->run();
    return measured;
  }();
  return rates;
}

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::fabs(a[i] - b[i]) / std::max(std::fabs(b[i]), 1e-300));
  }
  return worst;
}

constexpr double kTolerance = 1e-6;

class SimGridMaxMin : public ::testing::TestWithParam<int> {};

TEST_P(SimGridMaxMin, RatesAgree) {
  const Platform p = platforms()[GetParam()];
  const std::vector<double> ours = codesim_rates(p);
  const std::vector<double>& theirs = simgrid_rates()[GetParam()];
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_NEAR(ours[i], theirs[i], kTolerance * theirs[i]) << p.name << " flow " << i;
  }
  const double worst = max_relative_difference(ours, theirs);
  RecordProperty("max_relative_difference", std::to_string(worst));
  std::printf("%s: %zu flows, max relative rate difference %.3g\n", p.name.c_str(), ours.size(),
              worst);
}

INSTANTIATE_TEST_SUITE_P(Platforms, SimGridMaxMin, ::testing::Range(0, int(platforms().size())),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return platforms()[info.param].name;
                         });

TEST(SimGridMaxMinCheck, DetectsAWrongSolution) {
  // The comparison must be able to fail: solve the parking lot with its second link 0.1% too
  // wide and the disagreement has to show.
  Platform p = parking_lot();
  p.link_capacity[1] *= 1.001;
  const double worst = max_relative_difference(codesim_rates(p), simgrid_rates()[2]);
  EXPECT_GT(worst, kTolerance);
  // And a plain equal split of every link (ignoring bottlenecks elsewhere) is wrong too.
  std::vector<double> naive;
  const Platform fat = fat_tree();
  for (const Flow& f : fat.flows) {
    double share = MaxMinSystem::kUnbounded;
    for (int link : f.route) {
      const auto users = std::count_if(fat.flows.begin(), fat.flows.end(), [&](const Flow& g) {
        return std::find(g.route.begin(), g.route.end(), link) != g.route.end();
      });
      share = std::min(share, fat.link_capacity[link] / double(users));
    }
    naive.push_back(share);
  }
  EXPECT_GT(max_relative_difference(naive, simgrid_rates()[4]), kTolerance);
}

}  // namespace
}  // namespace codesim::sim
