#pragma once
// Whether a scenario is a plan that can run: degrees that divide, schedules' preconditions, and
// memory that fits. Problems name the scenario key to blame and what would be valid.

#include <string>
#include <vector>

#include "workloads/plan/scenario.hpp"

namespace codesim::workloads {

struct ScenarioProblem {
  std::string key;  // dotted path, e.g. "plan.pp"
  std::string message;
  std::string valid;
};

// Problems in the order a user should fix them; empty when the scenario can run.
std::vector<ScenarioProblem> check_scenario(const TrainingScenario& scenario);

}  // namespace codesim::workloads
