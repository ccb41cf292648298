#pragma once
// Chrome-trace (Perfetto) JSON of the event-driven engine's spans: a process per traced GPU, a
// thread per stream (compute; communication on the reserved SMs), one complete event ("X") per
// span, timestamps in microseconds from the start of the step.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "workloads/plan/scenario.hpp"
#include "workloads/step/engine.hpp"

namespace codesim::cli {

// `replicas`: GPUs per pipeline stage, to name GPU g as (pipeline rank g / replicas, rank
// g % replicas of its stage).
// "0,128,256" into GPU ranks, checked against the scenario; empty text: replica 0 of every
// pipeline rank (one full pipeline). Throws ScenarioError naming --trace-ranks.
std::vector<int> parse_trace_ranks(const std::string& text,
                                   const workloads::TrainingScenario& scenario);

// "0,8,16" into distinct GPUs below `gpus`, in the order given. Throws ScenarioError naming
// `option` ("--trace-gpus") and what the GPUs are `of` ("the traced phase").
std::vector<int> parse_gpu_list(const std::string& text, int gpus, const std::string& option,
                                const std::string& of);

nlohmann::ordered_json chrome_trace(const std::vector<workloads::TraceSpan>& spans,
                                    const std::vector<int>& ranks, int replicas,
                                    const std::string& scenario_name);

}  // namespace codesim::cli
