// The event-driven training step at scale: DeepSeek-V3 on 2048 H800 (the default scenario,
// examples/deepseek-v3-h800-2048.yaml), every rank simulated event by event on the 8-plane
// fat-tree. Reports wall time, simulated events per second and the simulated step.
//
//   build/bench/step_engine_bench                          # full batch, 120 micro-batches
//   build/bench/step_engine_bench --benchmark_filter=/32   # 32 micro-batches per replica
//
// The target is one full step in at most 20 s and 4 GiB on a 2-core machine.

#include <benchmark/benchmark.h>

#include <string>

#include "cli/scenario_loader.hpp"
#include "workloads/step/engine_input.hpp"
#include "workloads/step/event_step_model.hpp"

namespace {

void BM_DeepSeekV3Step(benchmark::State& state) {
  const int micro_batches = int(state.range(0));
  const std::string path = std::string(CODESIM_SOURCE_DIR) + "/examples/deepseek-v3-h800-2048.yaml";
  const auto scenario = codesim::cli::load_training_scenario(path, {});
  const int batch = micro_batches * scenario.dp();
  const codesim::workloads::EventStepModel model;
  codesim::workloads::StepResult result;
  for (auto _ : state) {
    result = model.step(scenario, batch);
    benchmark::DoNotOptimize(result);
  }
  state.counters["events"] = double(result.events);
  state.counters["events_per_second"] =
      benchmark::Counter(double(result.events), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["step_s"] = result.step_time_s;
  state.counters["gpus"] = scenario.gpus();
}
BENCHMARK(BM_DeepSeekV3Step)->Arg(32)->Arg(120)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
