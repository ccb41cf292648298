#pragma once
// From a scenario to the event-driven engine's input: each stage's passes cut into compute and
// all-to-all segments priced by the chunk cost model, the all-to-alls' bytes, the expert loads,
// and the ZeRO-1 parameters and optimizer time of each pipeline rank.

#include <string>

#include "workloads/plan/scenario.hpp"
#include "workloads/step/chunk_costs.hpp"
#include "workloads/step/engine.hpp"

namespace codesim::workloads {

// The engine's input for a scenario at a global batch of `batch_sequences`, its compute priced
// by `costs` (the scenario's chunk cost model).
EngineInput engine_input(const TrainingScenario& scenario, const ChunkCostModel& costs,
                         int batch_sequences);

}  // namespace codesim::workloads
