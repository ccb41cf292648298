// Head-to-head of codesim's FlowNetwork and SimGrid on one contended all-to-all.
//
// Platform: a two-level fat-tree of 32 leaves x 32 hosts and 32 spines; every cable is
// 12.5 GB/s and 500 ns, full duplex (one link per direction). Workload: 16 groups of 64
// consecutive hosts; at t = 0 every host sends to every other host of its group (64,512 flows),
// sizes uniform in [1 B, 16 MiB] from a fixed seed. Route of src -> dst: src's uplink,
// leaf(src) -> spine, spine -> leaf(dst), dst's downlink, with spine = (src + dst) mod 32; a
// same-leaf pair also turns at a spine, so every route has 4 links and 2 us of latency.
//
// SimGrid is configured for plain max-min (see tests/sim/simgrid_maxmin_test.cpp): CM02, no
// cross-traffic, TCP gamma off, maxmin/precision 1e-12. CM02 weighs a flow by the inverse of
// its route latency; with every route at 2 us all weights are equal, as in codesim.
//
// Prints both wall times (platform build + simulation), their ratio and the largest relative
// difference between the two simulators' completion times, and a checksum of codesim's
// completion times (FNV-1a over their bit patterns: equal across runs when codesim is
// deterministic). `--codesim-only` skips SimGrid (for profiling).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <simgrid/s4u.hpp>

#include "sim/flow_network.hpp"
#include "sim/simulator.hpp"

namespace {

constexpr int kLeaves = 32;
constexpr int kHostsPerLeaf = 32;
constexpr int kSpines = 32;
constexpr int kHosts = kLeaves * kHostsPerLeaf;
constexpr int kGroupSize = 64;
constexpr double kBandwidth = 12.5e9;  // bytes per second
constexpr double kLatencySeconds = 500e-9;
constexpr std::uint64_t kMaxBytes = 16ull << 20;
constexpr std::uint64_t kSeed = 20261124;

// Link ids, the same numbering in both simulators.
int host_up(int host) {
  return host;
}
int host_down(int host) {
  return kHosts + host;
}
int leaf_up(int leaf, int spine) {
  return 2 * kHosts + leaf * kSpines + spine;
}
int spine_down(int spine, int leaf) {
  return 2 * kHosts + kLeaves * kSpines + spine * kLeaves + leaf;
}
constexpr int kLinks = 2 * kHosts + 2 * kLeaves * kSpines;

struct Flow {
  int src;
  int dst;
  std::uint64_t bytes;
  std::vector<int> route;
};

std::vector<Flow> make_flows() {
  std::mt19937_64 rng(kSeed);
  std::vector<Flow> flows;
  for (int base = 0; base < kHosts; base += kGroupSize) {
    for (int src = base; src < base + kGroupSize; ++src) {
      for (int dst = base; dst < base + kGroupSize; ++dst) {
        if (src == dst) continue;
        const int spine = (src + dst) % kSpines;
        const int src_leaf = src / kHostsPerLeaf, dst_leaf = dst / kHostsPerLeaf;
        flows.push_back({src,
                         dst,
                         1 + rng() % kMaxBytes,
                         {host_up(src), leaf_up(src_leaf, spine), spine_down(spine, dst_leaf),
                          host_down(dst)}});
      }
    }
  }
  return flows;
}

// FNV-1a over the bit patterns of the completion times, in flow order.
std::uint64_t checksum(const std::vector<double>& completion) {
  std::uint64_t hash = 14695981039346656037ull;
  for (double t : completion) {
    std::uint64_t bits;
    std::memcpy(&bits, &t, sizeof bits);
    for (int byte = 0; byte < 8; ++byte) {
      hash = (hash ^ ((bits >> (8 * byte)) & 0xff)) * 1099511628211ull;
    }
  }
  return hash;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Result {
  std::vector<double> completion;  // seconds, per flow
  double wall_seconds = 0;
  std::uint64_t solves = 0;
};

Result run_codesim(const std::vector<Flow>& flows) {
  using namespace codesim::sim;
  Result result;
  result.completion.assign(flows.size(), -1);
  const auto start = std::chrono::steady_clock::now();
  Simulator sim;
  FlowNetwork net(sim);
  const Time latency = from_seconds_ceil(kLatencySeconds);
  for (int i = 0; i < kLinks; ++i) net.add_link(kBandwidth, latency);
  std::vector<FlowNetwork::LinkId> route;
  for (std::size_t i = 0; i < flows.size(); ++i) {
    route.assign(flows[i].route.begin(), flows[i].route.end());
    net.start_flow(
        route, double(flows[i].bytes),
        [](Simulator& s, void* ctx, std::uint64_t tag) {
          (*static_cast<std::vector<double>*>(ctx))[tag] = s.now().seconds();
        },
        &result.completion, i);
  }
  sim.run();
  result.wall_seconds = seconds_since(start);
  result.solves = net.solves();
  return result;
}

Result run_simgrid(const std::vector<Flow>& flows, int argc, char** argv) {
  Result result;
  result.completion.assign(flows.size(), -1);
  const auto start = std::chrono::steady_clock::now();
  simgrid::s4u::Engine engine(&argc, argv);
  simgrid::s4u::Engine::set_config("network/model:CM02");
  simgrid::s4u::Engine::set_config("network/crosstraffic", false);
  simgrid::s4u::Engine::set_config("network/TCP-gamma", 0.0);
  simgrid::s4u::Engine::set_config("maxmin/precision", 1e-12);
  xbt_log_control_set("root.thresh:warning");

  auto* zone = simgrid::s4u::create_full_zone("fat_tree");
  std::vector<simgrid::s4u::Host*> hosts;
  for (int h = 0; h < kHosts; ++h)
    hosts.push_back(zone->create_host("host" + std::to_string(h), 1e9));
  std::vector<const simgrid::s4u::Link*> links;
  for (int i = 0; i < kLinks; ++i) {
    auto* link = zone->create_link("link" + std::to_string(i), kBandwidth);
    link->set_sharing_policy(simgrid::s4u::Link::SharingPolicy::SHARED);
    link->set_latency(kLatencySeconds);
    links.push_back(link->seal());
  }
  for (const Flow& f : flows) {
    std::vector<simgrid::s4u::LinkInRoute> route;
    for (int link : f.route) route.emplace_back(links[link]);
    zone->add_route(hosts[f.src]->get_netpoint(), hosts[f.dst]->get_netpoint(), nullptr, nullptr,
                    route, false);
  }
  zone->seal();

  // One sender actor per source host waits for its comms one at a time with wait_any, so each
  // completion is seen at the simulated instant it happens (s4u's Activity::on_completion
  // fires only when an actor observes the comm).
  std::vector<std::vector<std::size_t>> flows_of_host(kHosts);
  for (std::size_t i = 0; i < flows.size(); ++i) flows_of_host[flows[i].src].push_back(i);
  for (int h = 0; h < kHosts; ++h) {
    simgrid::s4u::Actor::create("sender" + std::to_string(h), hosts[h], [&, h] {
      std::vector<simgrid::s4u::CommPtr> comms;
      std::vector<std::size_t> ids = flows_of_host[h];
      for (std::size_t i : ids) {
        comms.push_back(simgrid::s4u::Comm::sendto_async(hosts[flows[i].src], hosts[flows[i].dst],
                                                         flows[i].bytes));
      }
      while (!comms.empty()) {
        const auto done = std::size_t(simgrid::s4u::Comm::wait_any(comms));
        result.completion[ids[done]] = simgrid::s4u::Engine::get_clock();
        comms.erase(comms.begin() + std::ptrdiff_t(done));
        ids.erase(ids.begin() + std::ptrdiff_t(done));
      }
    });
  }
  engine.run();
  result.wall_seconds = seconds_since(start);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  bool codesim_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--codesim-only") == 0) codesim_only = true;
  }
  const std::vector<Flow> flows = make_flows();
  std::printf("fat-tree %d leaves x %d hosts, %d spines; %zu flows\n", kLeaves, kHostsPerLeaf,
              kSpines, flows.size());
  const Result ours = run_codesim(flows);
  double last = 0;
  for (double t : ours.completion) last = std::max(last, t);
  std::printf("codesim: wall %.3f s, %llu solves, last completion %.9f s, checksum %016llx\n",
              ours.wall_seconds, static_cast<unsigned long long>(ours.solves), last,
              static_cast<unsigned long long>(checksum(ours.completion)));
  if (codesim_only) return 0;

  int sg_argc = 1;
  const Result theirs = run_simgrid(flows, sg_argc, argv);
  double sg_last = 0, worst = 0;
  std::size_t worst_flow = 0, missing = 0;
  for (std::size_t i = 0; i < flows.size(); ++i) {
    sg_last = std::max(sg_last, theirs.completion[i]);
    if (theirs.completion[i] < 0 || ours.completion[i] < 0) {
      ++missing;
      continue;
    }
    const double diff = std::fabs(ours.completion[i] - theirs.completion[i]) / theirs.completion[i];
    if (diff > worst) {
      worst = diff;
      worst_flow = i;
    }
  }
  std::printf("simgrid: wall %.3f s, last completion %.9f s\n", theirs.wall_seconds, sg_last);
  std::printf("speed-up (simgrid wall / codesim wall): %.1fx\n",
              theirs.wall_seconds / ours.wall_seconds);
  std::printf(
      "completion times: max relative difference %.3g (flow %zu: codesim %.9f s, "
      "simgrid %.9f s), %zu flows missing\n",
      worst, worst_flow, ours.completion[worst_flow], theirs.completion[worst_flow], missing);
  return missing == 0 && worst <= 1e-4 ? 0 : 1;
}
