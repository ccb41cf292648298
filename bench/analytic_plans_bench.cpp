// Plans per second of the analytic engine (issue 14, point 4): a sweep's points as codesim runs
// them in-process, for the default DeepSeek-V3 scenario. Three costs apart:
//   - LoadScenario: the YAML read, checked, the stages balanced (stage_layers: auto);
//   - AnalyticStep: one closed-form step of the full batch;
//   - AnalyticEstimate: the whole training estimate (the step, and the batch ramp's steps);
//   - Plan: the three together, what a sweep point costs (its plans_per_second counter).
//
//   build/bench/analytic_plans_bench
//
// The analytical peer Calculon does about 550 plans a second on this machine kind; the target
// is 10,000.

#include <benchmark/benchmark.h>

#include <string>

#include "cli/scenario_loader.hpp"
#include "workloads/step/analytic_step_model.hpp"
#include "workloads/training/training_estimate.hpp"

namespace {

const std::string& scenario_path() {
  static const std::string path =
      std::string(CODESIM_SOURCE_DIR) + "/examples/deepseek-v3-h800-2048.yaml";
  return path;
}

void BM_LoadScenario(benchmark::State& state) {
  for (auto _ : state) {
    auto s = codesim::cli::load_training_scenario(scenario_path(), {});
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_LoadScenario)->Unit(benchmark::kMillisecond);

void BM_AnalyticStep(benchmark::State& state) {
  const auto s = codesim::cli::load_training_scenario(scenario_path(), {});
  const codesim::workloads::AnalyticStepModel model;
  for (auto _ : state) {
    auto r = model.step(s, s.plan.global_batch_sequences);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_AnalyticStep)->Unit(benchmark::kMillisecond);

void BM_AnalyticEstimate(benchmark::State& state) {
  const auto s = codesim::cli::load_training_scenario(scenario_path(), {});
  const codesim::workloads::AnalyticStepModel model;
  for (auto _ : state) {
    auto e = codesim::workloads::estimate_training(s, model);
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_AnalyticEstimate)->Unit(benchmark::kMillisecond);

void BM_Plan(benchmark::State& state) {
  const codesim::workloads::AnalyticStepModel model;
  for (auto _ : state) {
    const auto s = codesim::cli::load_training_scenario(scenario_path(), {});
    auto e = codesim::workloads::estimate_training(s, model);
    benchmark::DoNotOptimize(e);
  }
  state.counters["plans_per_second"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Plan)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
