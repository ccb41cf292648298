#pragma once
// Scenario files to plain structs: the only place that reads a scenario's YAML. Presets are
// looked up by name, --set overrides are applied by dotted path, and everything is validated
// before any work starts.

#include <string>
#include <vector>

#include "workloads/plan/scenario.hpp"

namespace codesim::cli {

// Loads a training scenario; `sets` are "dotted.key=value" overrides. Throws ScenarioError.
workloads::TrainingScenario load_training_scenario(const std::string& path,
                                                   const std::vector<std::string>& sets);

}  // namespace codesim::cli
