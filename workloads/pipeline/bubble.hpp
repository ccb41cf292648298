#pragma once
// The closed-form cost of each pipeline schedule (DeepSeek-V3 report Table 2) and what a schedule
// asks of a plan. Notation follows the report: F is a forward chunk, B a full backward chunk
// (input and weight gradients), W the weight-gradient part of B, F&B a forward and a backward
// chunk of two micro-batches run overlapped.

#include <string>

#include "workloads/plan/plan.hpp"

namespace codesim::workloads {

struct ChunkTimes {
  double f = 0;   // forward chunk
  double b = 0;   // full backward chunk (includes w)
  double w = 0;   // weight-gradient part of b
  double fb = 0;  // overlapped forward + backward pair; f + b when nothing overlaps
};

// The schedule's bubble per the report's Table 2, with `pp` pipeline ranks; for interleaved 1F1B
// Megatron-LM's (pp - 1)(F + B) / v, i.e. (pp - 1)(f + b) with the chunk times f, b of one of a
// rank's v model chunks.
double bubble_seconds(Schedule schedule, int pp, const ChunkTimes& chunk);
// Formula text for explanations, e.g. "(PP/2-1)(F&B+B-3W)".
std::string bubble_formula(Schedule schedule);
// Peak activations held by one rank, in units of one micro-batch through one model stage (for
// interleaved 1F1B, one of a rank's v chunks: rank 0 holds its 2 (pp - 1) + (v - 1) pp warm-up
// forwards and one more, 1 + (pp - 1) / (pp v) times 1F1B's, as Megatron-LM's paper says).
int activation_units_in_flight(Schedule schedule, int pp, int micro_batches,
                               int virtual_stages = 1);
// Whether the schedule overlaps one micro-batch's communication with another's compute.
bool overlaps_forward_and_backward(Schedule schedule);
// Preconditions on the micro-batch count; empty when satisfied, else what would be valid.
std::string micro_batch_requirement(Schedule schedule, int pp, int micro_batches,
                                    int virtual_stages = 1);

}  // namespace codesim::workloads
