#include "workloads/pipeline/bubble.hpp"

#include <algorithm>

namespace codesim::workloads {

double bubble_seconds(Schedule schedule, int pp, const ChunkTimes& c) {
  switch (schedule) {
    case Schedule::k1F1B:
      return (pp - 1) * (c.f + c.b);
    case Schedule::kZeroBubble1P:
      return (pp - 1) * (c.f + c.b - 2 * c.w);
    case Schedule::kDualPipe:
      return (pp / 2 - 1) * (c.fb + c.b - 3 * c.w);
    // DualPipeV's PP in the table counts stages, two per rank: PP/2 - 1 = pp - 1.
    case Schedule::kDualPipeV:
      return (pp - 1) * (c.fb + c.b - 3 * c.w);
    case Schedule::kInterleaved1F1B:
      return (pp - 1) * (c.f + c.b);
  }
  return 0;
}

std::string bubble_formula(Schedule schedule) {
  switch (schedule) {
    case Schedule::k1F1B:
      return "(PP-1)(F+B)";
    case Schedule::kZeroBubble1P:
      return "(PP-1)(F+B-2W)";
    case Schedule::kDualPipe:
      return "(PP/2-1)(F&B+B-3W)";
    case Schedule::kDualPipeV:
      return "(PP/2-1)(F&B+B-3W), PP = 2 x ranks";
    case Schedule::kInterleaved1F1B:
      return "(PP-1)(F+B)/v (Megatron-LM, F and B a rank's whole passes)";
  }
  return "?";
}

int activation_units_in_flight(Schedule schedule, int pp, int micro_batches, int virtual_stages) {
  if (schedule == Schedule::kInterleaved1F1B) {
    const int units = 2 * (pp - 1) + (virtual_stages - 1) * pp + 1;
    return std::min(units, std::max(micro_batches * virtual_stages, 1));
  }
  int units = pp;
  if (schedule == Schedule::kDualPipe || schedule == Schedule::kDualPipeV) units = pp + 1;
  return std::min(units, std::max(micro_batches, 1));
}

bool overlaps_forward_and_backward(Schedule schedule) {
  return schedule == Schedule::kDualPipe || schedule == Schedule::kDualPipeV;
}

std::string micro_batch_requirement(Schedule schedule, int pp, int micro_batches,
                                    int virtual_stages) {
  if (schedule == Schedule::kInterleaved1F1B) {
    if (virtual_stages < 2) return "interleaved 1F1B needs virtual_stages >= 2";
    if (micro_batches < pp || micro_batches % pp != 0) {
      return "interleaved 1F1B (Megatron-LM) needs micro-batches per replica a multiple of pp = " +
             std::to_string(pp);
    }
  }
  if (schedule == Schedule::kDualPipe) {
    if (pp % 2 != 0) return "DualPipe needs an even pp";
    if (micro_batches % 2 != 0 || micro_batches < 2 * pp) {
      return "DualPipe needs an even number of micro-batches >= 2*pp = " + std::to_string(2 * pp);
    }
  }
  if (schedule == Schedule::kDualPipeV && (micro_batches < 2 * pp)) {
    return "DualPipeV needs micro-batches >= 2*pp = " + std::to_string(2 * pp);
  }
  if (micro_batches < 1) return "at least one micro-batch per data-parallel rank";
  return "";
}

}  // namespace codesim::workloads
