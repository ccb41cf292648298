#pragma once
// The event-driven engine behind the StepTimeModel interface: builds the engine's input and the
// cluster's network from a scenario, runs the step, and reports it as a StepResult.

#include <functional>
#include <string>
#include <vector>

#include "workloads/step/engine.hpp"
#include "workloads/step/step_model.hpp"

namespace codesim::workloads {

class EventStepModel final : public StepTimeModel {
 public:
  // Records the streams of `trace_ranks` into `trace` (when non-null) on every step() call.
  EventStepModel() = default;
  EventStepModel(std::vector<int> trace_ranks, std::vector<TraceSpan>* trace)
      : trace_ranks_(std::move(trace_ranks)), trace_(trace) {}
  std::string name() const override { return "event-driven"; }
  StepResult step(const TrainingScenario& scenario, int batch_sequences) const override;
  std::vector<std::string> assumptions(const TrainingScenario& scenario) const override;
  // Called as each step() goes on with the simulated seconds reached and the events run so far
  // (EngineInput::progress).
  void set_progress(std::function<void(double, std::uint64_t)> progress) {
    progress_ = std::move(progress);
  }

 private:
  std::vector<int> trace_ranks_;
  std::vector<TraceSpan>* trace_ = nullptr;
  std::function<void(double, std::uint64_t)> progress_;
};

}  // namespace codesim::workloads
