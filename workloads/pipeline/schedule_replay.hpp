#pragma once
// A pipeline schedule replayed with fixed, contention-free costs: every rank runs its
// schedule_rank_ops in order, each operation as soon as its rank is free and its inputs are
// there. F of micro-batch m at position i of its stream needs F of m at position i - 1, and that
// output's send; B needs B of m at position i + 1 (and its send) and F of m here; W needs only
// its rank (its B ran earlier in the order); an F&B needs both halves' inputs, and sends both
// outputs when it ends. This is the analytic step model's timeline: the event-driven engine runs
// the same orders with every transfer on the network.

#include <functional>
#include <vector>

#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/schedules.hpp"

namespace codesim::workloads {

struct ReplayCosts {
  // Seconds of one operation, given the model stage of its forward and of its backward (-1 for
  // the half an operation does not have: a lone F has no backward stage).
  std::function<double(const PipelineOp& op, int forward_stage, int backward_stage)> duration;
  // Seconds of one micro-batch's activations (or gradient) from rank `from` to rank `to`, when
  // `together` outputs leave `from` at once (an F&B sends 2, through the sender's one port).
  // Never asked for a send to the same rank (DualPipeV's turn at the last rank): that is free.
  std::function<double(int from, int to, int together)> send_s;
};

struct ReplayResult {
  std::vector<double> finish;  // per pipeline rank: when its last operation ends
  std::vector<double> busy;    // per pipeline rank: the sum of its operations' durations
  // Per pipeline rank and chunk: when the last operation computing the chunk's weight
  // gradients ends (weight_gradient_chunk), from which its ZeRO-1 reduce-scatter may start.
  std::vector<std::vector<double>> gradients_done;
  double makespan = 0;
};

// Throws std::invalid_argument where the schedule cannot run `micro_batches`, and
// std::logic_error if its orders deadlock.
ReplayResult replay_schedule(Schedule schedule, int pp, int micro_batches, const ReplayCosts& costs,
                             int virtual_stages = 1);

}  // namespace codesim::workloads
