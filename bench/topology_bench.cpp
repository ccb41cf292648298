// Scale of the topology layer: build and route the two largest fabrics of isca25 Table 3, the
// target being under 10 s each for build plus route.
//
//   BM_Mpft16384       MPFT of 2048 nodes x 8 GPU-NIC pairs, 8 planes of 64-port switches
//                      (examples/topologies/mpft-16384.yaml). Traffic at the fabric level: every
//                      GPU to the GPU a random permutation gives it, and every ordered pair of
//                      GPUs inside each 64-GPU EP group (8 nodes). Each pair's fabric route goes
//                      from the source GPU's NIC to the NIC of the same rail on the destination
//                      node, as fabric-then-NVLink forwarding does; pairs within one node use no
//                      fabric and are not routed.
//   BM_Ft365536        k = 64 three-layer fat-tree of 65,536 endpoints
//                      (examples/topologies/ft3-65536.yaml): a random permutation over all
//                      endpoints, plus each endpoint to 8 random others.
//   BM_Mpft16384Gpus   MPFT-16384 with node internals (attach_nodes: NVSwitch, PCIe, NICs) and
//                      GpuRouter, GPU to GPU: the same permutation and EP-group pairs, every pair
//                      routed, NVLink inside a node, fabric then NVLink across nodes.
//
// Each iteration does all of it, build included, so the reported time is build + route. The
// counters split it: build_ms (the graph; with attach_nodes for the GPU variant), index_ms (Router
// construction: the link index and switch adjacency), route_ms (the routes, including the
// Router's lazily computed BFS tables). routes and hops (links crossed, summed) say how much
// traffic was routed. Random draws come from a fixed seed through SplitMix64, so every machine
// routes the same pairs.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <numeric>
#include <vector>

#include "topologies/node_graph.hpp"
#include "topologies/routing.hpp"
#include "topologies/topology.hpp"

namespace codesim::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kSeed = 0x5eed'70b0'1a7e'0001ULL;
constexpr int kGpusPerNode = 8;
constexpr int kEpGroupGpus = 64;
constexpr int kFt3ExtraDestinations = 8;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The examples' parameters, written out (no YAML in benchmarks).
topo::TopologyParams mpft_16384() {
  topo::TopologyParams p;
  p.kind = topo::TopologyKind::kMultiPlaneFatTree;
  p.nodes = 2048;
  p.nics_per_node = 8;
  p.planes = 8;
  p.switch_radix = 64;
  p.link_Gbps = 400;
  return p;
}

topo::TopologyParams ft3_65536() {
  topo::TopologyParams p;
  p.kind = topo::TopologyKind::kFatTree3;
  p.nodes = 8192;
  p.nics_per_node = 8;
  p.switch_radix = 64;
  p.link_Gbps = 400;
  return p;
}

// A counter-based generator: draw i of stream `stream` is a fixed function of the seed.
std::uint64_t draw(std::uint64_t stream, std::uint64_t i) {
  return topo::splitmix64(topo::splitmix64(kSeed ^ stream) + i);
}

// Fisher-Yates over 0..n-1 with the draws above (the modulo bias is immaterial here).
std::vector<int> permutation(int n, std::uint64_t stream) {
  std::vector<int> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  for (int i = n - 1; i > 0; --i) {
    const auto j = static_cast<int>(draw(stream, i) % static_cast<std::uint64_t>(i + 1));
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

struct Pair {
  int src;
  int dst;
};

// GPU g of node n is number n * 8 + g: the permutation, then all ordered pairs in each EP group.
std::vector<Pair> mpft_traffic(int gpus) {
  std::vector<Pair> pairs;
  const auto perm = permutation(gpus, 1);
  for (int i = 0; i < gpus; ++i) {
    if (perm[i] != i) pairs.push_back({i, perm[i]});
  }
  for (int group = 0; group < gpus; group += kEpGroupGpus) {
    for (int a = group; a < group + kEpGroupGpus; ++a) {
      for (int b = group; b < group + kEpGroupGpus; ++b) {
        if (a != b) pairs.push_back({a, b});
      }
    }
  }
  return pairs;
}

struct Totals {
  std::int64_t routes = 0;
  std::int64_t hops = 0;
};

void report(benchmark::State& state, const Totals& totals, double build_ms, double index_ms,
            double route_ms) {
  state.counters["routes"] = static_cast<double>(totals.routes);
  state.counters["hops"] = static_cast<double>(totals.hops);
  state.counters["build_ms"] = build_ms;
  state.counters["index_ms"] = index_ms;
  state.counters["route_ms"] = route_ms;
}

void BM_Mpft16384(benchmark::State& state) {
  const auto params = mpft_16384();
  const int gpus = params.nodes * kGpusPerNode;
  const auto pairs = mpft_traffic(gpus);
  for (auto _ : state) {
    auto start = Clock::now();
    const topo::Topology fabric = topo::build_topology(params);
    const double build_ms = ms_since(start);
    start = Clock::now();
    topo::Router router(fabric);
    const double index_ms = ms_since(start);
    start = Clock::now();
    Totals totals;
    std::uint64_t key = 0;
    for (const auto& [src, dst] : pairs) {
      const int src_node = src / kGpusPerNode;
      const int dst_node = dst / kGpusPerNode;
      ++key;
      if (src_node == dst_node) continue;  // NVLink only
      const int rail = src % kGpusPerNode;
      const auto route =
          router.route(router.endpoint(src_node, rail), router.endpoint(dst_node, rail), key);
      ++totals.routes;
      totals.hops += static_cast<std::int64_t>(route.size());
    }
    const double route_ms = ms_since(start);
    benchmark::DoNotOptimize(totals);
    report(state, totals, build_ms, index_ms, route_ms);
  }
}

void BM_Ft365536(benchmark::State& state) {
  const auto params = ft3_65536();
  const int endpoints = params.nodes * params.nics_per_node;
  std::vector<Pair> pairs;
  const auto perm = permutation(endpoints, 2);
  for (int i = 0; i < endpoints; ++i) {
    if (perm[i] != i) pairs.push_back({i, perm[i]});
  }
  for (int i = 0; i < endpoints; ++i) {
    for (int k = 0; k < kFt3ExtraDestinations; ++k) {
      const auto r = draw(3, static_cast<std::uint64_t>(i) * kFt3ExtraDestinations + k);
      const int dst = static_cast<int>((i + 1 + r % (endpoints - 1)) % endpoints);  // never i
      pairs.push_back({i, dst});
    }
  }
  for (auto _ : state) {
    auto start = Clock::now();
    const topo::Topology fabric = topo::build_topology(params);
    const double build_ms = ms_since(start);
    start = Clock::now();
    topo::Router router(fabric);
    const double index_ms = ms_since(start);
    start = Clock::now();
    Totals totals;
    std::uint64_t key = 0;
    const int nics = params.nics_per_node;
    for (const auto& [src, dst] : pairs) {
      const auto route = router.route(router.endpoint(src / nics, src % nics),
                                      router.endpoint(dst / nics, dst % nics), ++key);
      ++totals.routes;
      totals.hops += static_cast<std::int64_t>(route.size());
    }
    const double route_ms = ms_since(start);
    benchmark::DoNotOptimize(totals);
    report(state, totals, build_ms, index_ms, route_ms);
  }
}

void BM_Mpft16384Gpus(benchmark::State& state) {
  const auto params = mpft_16384();
  const int gpus = params.nodes * kGpusPerNode;
  const auto pairs = mpft_traffic(gpus);
  for (auto _ : state) {
    auto start = Clock::now();
    topo::Topology fabric = topo::build_topology(params);
    auto nodes = topo::attach_nodes(fabric, topo::NodeParams{}, params.nodes);
    const double build_ms = ms_since(start);
    start = Clock::now();
    topo::Router router(fabric);
    topo::GpuRouter gpu_router(router, std::move(nodes));
    const double index_ms = ms_since(start);
    start = Clock::now();
    Totals totals;
    std::uint64_t key = 0;
    for (const auto& [src, dst] : pairs) {
      const auto route = gpu_router.route({src / kGpusPerNode, src % kGpusPerNode},
                                          {dst / kGpusPerNode, dst % kGpusPerNode}, ++key);
      ++totals.routes;
      totals.hops += static_cast<std::int64_t>(route.size());
    }
    const double route_ms = ms_since(start);
    benchmark::DoNotOptimize(totals);
    report(state, totals, build_ms, index_ms, route_ms);
  }
}

// One iteration each: a single build + route is what the 10 s target is about.
BENCHMARK(BM_Mpft16384)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Ft365536)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Mpft16384Gpus)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace codesim::bench

BENCHMARK_MAIN();
