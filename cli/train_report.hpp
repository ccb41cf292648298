#pragma once
// What `codesim train` shows: the JSON result (key names other tools rely on, DESIGN.md) and the
// short human summary.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "workloads/network/link_use.hpp"
#include "workloads/plan/scenario.hpp"
#include "workloads/training/training_estimate.hpp"

namespace codesim::cli {

struct RunInfo {
  std::string engine;  // the step model's name: "analytic" or "event-driven"
  double wall_s = 0;   // the only field that differs between identical runs
};

// Link use per tier and plane, as both train's and infer's JSON give it.
nlohmann::ordered_json links_json(const std::vector<workloads::LinkUse>& links);

nlohmann::ordered_json training_json(const workloads::TrainingScenario& scenario,
                                     const workloads::TrainingEstimate& estimate,
                                     const RunInfo& run);

std::string training_summary(const workloads::TrainingScenario& scenario,
                             const workloads::TrainingEstimate& estimate, const RunInfo& run,
                             bool explain);

}  // namespace codesim::cli
