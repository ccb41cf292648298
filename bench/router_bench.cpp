// The MoE router at DeepSeek-V3's scale (256 experts in 8 groups, top-8 of 4 groups, 4096 tokens a
// call): the exact lazy sampler against the dense one, which draws all 256 affinities per token.
// The ratio of the two in one run is the figure to quote.
//
//   build/bench/router_bench

#include <benchmark/benchmark.h>

#include "workloads/moe/router.hpp"

namespace {

using namespace codesim::workloads;

RoutingShape v3_shape() {
  RoutingShape s;
  s.experts = 256;
  s.experts_per_token = 8;
  s.groups = 8;
  s.max_groups_per_token = 4;
  return s;
}

void BM_RouteLazy(benchmark::State& state) {
  Router router(v3_shape(), 1);
  const ZipfRouting zipf(256, 1.0, 1);
  RoutingBatch batch;
  int call = 0;
  for (auto _ : state) {
    router.route(zipf, call % 61, call, 0, 4096, batch);
    benchmark::DoNotOptimize(batch.experts.data());
    ++call;
  }
  state.SetItemsProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_RouteLazy)->Unit(benchmark::kMillisecond);

void BM_RouteDense(benchmark::State& state) {
  Router router(v3_shape(), 1);
  const ZipfRouting zipf(256, 1.0, 1);
  RoutingBatch batch;
  int call = 0;
  for (auto _ : state) {
    router.route_dense(zipf, call % 61, call, 0, 4096, {}, batch);
    benchmark::DoNotOptimize(batch.experts.data());
    ++call;
  }
  state.SetItemsProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_RouteDense)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
