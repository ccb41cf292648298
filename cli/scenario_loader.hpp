#pragma once
// Scenario files to plain structs: the only place that reads a scenario's YAML. Presets are
// looked up by name, --set overrides are applied by dotted path, and everything is validated
// before any work starts.

#include <string>
#include <vector>

#include "workloads/inference/serve_scenario.hpp"
#include "workloads/plan/scenario.hpp"

namespace codesim::cli {

// Loads a training scenario; `sets` are "dotted.key=value" overrides. Throws ScenarioError.
workloads::TrainingScenario load_training_scenario(const std::string& path,
                                                   const std::vector<std::string>& sets);

// A problem found after loading (by what runs the scenario), reported as the loader reports
// one: a ScenarioError naming the file and line of `key` (or the --set that gave it).
[[noreturn]] void fail_at_key(const std::string& path, const std::vector<std::string>& sets,
                              const std::string& key, const std::string& problem,
                              const std::string& valid);

// Refuses, as fail_at_key on cluster.nodes, an event-engine run of `gpus` GPUs at
// `bytes_per_gpu` (the engine's measured peak memory per GPU) that needs more than the machine's
// physical memory, with the estimate and the limit.
void check_event_engine_memory(const std::string& path, const std::vector<std::string>& sets,
                               int gpus, double bytes_per_gpu);

// Loads a serving scenario (cluster, model and serve:); checks the layout and that the batch's
// KV cache fits. Throws ScenarioError.
workloads::InferenceScenario load_inference_scenario(const std::string& path,
                                                     const std::vector<std::string>& sets);

}  // namespace codesim::cli
