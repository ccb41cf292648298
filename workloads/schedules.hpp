#pragma once
// Pipeline schedules as generators of each rank's operation order. An operation is a forward
// (F), a backward for inputs (B; a full backward where the schedule does not split it), a
// backward for weights (W), or DualPipe's overlapped pair of one micro-batch's forward and
// another's backward (F&B). Chunk 0 is the stage of the forward direction (micro-batches fed at
// rank 0); DualPipe's chunk 1 is the mirrored stage of the reverse direction.

#include <string>
#include <vector>

namespace codesim::workloads {

struct PipelineOp {
  enum class Kind { kForward, kBackward, kWeight, kForwardBackward };
  Kind kind = Kind::kForward;
  int chunk = 0;           // F, B, W: its chunk; F&B: the forward's chunk
  int micro_batch = 0;     // F, B, W: its micro-batch within the chunk; F&B: the forward's
  int backward_chunk = 0;  // F&B only
  int backward_micro_batch = 0;
  bool split_backward = false;  // B whose W comes later as its own operation

  bool operator==(const PipelineOp&) const = default;
};

// "F0", "B1", "W", "F0B1" (F&B with forward chunk 0, backward chunk 1): the notation of the
// DualPipe README, for tests and traces.
std::string op_label(const PipelineOp& op);

// One rank's operations for DualPipe with `pp` ranks (even) and `micro_batches` in all (even,
// >= 2 pp; half enter at each end), in the order of deepseek-ai/DualPipe's dualpipe.py.
std::vector<PipelineOp> dualpipe_rank_ops(int pp, int rank, int micro_batches);

// One rank's operations for 1F1B: warm-up forwards, steady one-forward-one-backward, cool-down.
std::vector<PipelineOp> one_f_one_b_rank_ops(int pp, int rank, int micro_batches);

}  // namespace codesim::workloads
