#pragma once
// A closed-form step time: per-chunk costs from the calibrated cost models, the schedule's bubble
// formula, and exposed communication from link bandwidths. No contention, no event queue.

#include "workloads/step/chunk_costs.hpp"
#include "workloads/step/step_model.hpp"

namespace codesim::workloads {

class AnalyticStepModel final : public StepTimeModel {
 public:
  std::string name() const override { return "analytic"; }
  StepResult step(const TrainingScenario& scenario, int batch_sequences) const override;
  // The kernels are priced once for every batch: only the micro-batch count changes.
  std::vector<StepResult> steps(const TrainingScenario& scenario,
                                const std::vector<int>& batches) const override;
  std::vector<std::string> assumptions(const TrainingScenario& scenario) const override;

 private:
  StepResult step_with(const TrainingScenario& scenario, const ChunkCostModel& costs,
                       int batch_sequences) const;
};

}  // namespace codesim::workloads
