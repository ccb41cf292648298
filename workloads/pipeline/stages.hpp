#pragma once
// Pipeline stages and the closed-form cost of each schedule (DeepSeek-V3 report Table 2).
// Notation follows the report: F is a forward chunk, B a full backward chunk (input and weight
// gradients), W the weight-gradient part of B, F&B a forward and a backward chunk of two
// micro-batches run overlapped.

#include <string>
#include <vector>

#include "models/llm.hpp"
#include "workloads/plan/plan.hpp"

namespace codesim::workloads {

struct Stage {
  int first_layer = 0;
  int layers = 0;
  bool embedding = false;
  bool output_head = false;
  int mtp_modules = 0;
};

// Slots a balanced split shares out: the embedding, every layer, every MTP module and the output
// head take one each (DeepSeek-V3: 1 + 61 + 1 + 1 = 64 = 16 stages x 4).
int pipeline_slots(const models::ModelConfig& model);

// Number of model stages the schedule cuts the model into for `pp` pipeline ranks.
int stage_count(Schedule schedule, int pp);
// Stages held by a pipeline rank: one, or two for the bidirectional schedules.
std::vector<int> stages_of_rank(Schedule schedule, int pp, int rank);

// Splits the model into `stages` stages: by `stage_layers` when given, else evenly by slots.
// Throws std::invalid_argument saying what would be valid when the split is impossible.
std::vector<Stage> split_stages(const models::ModelConfig& model, int stages,
                                const std::vector<int>& stage_layers);

struct ChunkTimes {
  double f = 0;   // forward chunk
  double b = 0;   // full backward chunk (includes w)
  double w = 0;   // weight-gradient part of b
  double fb = 0;  // overlapped forward + backward pair; f + b when nothing overlaps
};

// The schedule's bubble per the report's Table 2, with `pp` pipeline ranks.
double bubble_seconds(Schedule schedule, int pp, const ChunkTimes& chunk);
// Formula text for explanations, e.g. "(PP/2-1)(F&B+B-3W)".
std::string bubble_formula(Schedule schedule);
// Peak activations held by one rank, in units of one micro-batch through one stage.
int activation_units_in_flight(Schedule schedule, int pp, int micro_batches);
// Whether the schedule overlaps one micro-batch's communication with another's compute.
bool overlaps_forward_and_backward(Schedule schedule);
// Preconditions on the micro-batch count; empty when satisfied, else what would be valid.
std::string micro_batch_requirement(Schedule schedule, int pp, int micro_batches);

}  // namespace codesim::workloads
