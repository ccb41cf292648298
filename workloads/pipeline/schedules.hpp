#pragma once
// Pipeline schedules as generators of each rank's operation order. An operation is a forward
// (F), a backward for inputs (B; a full backward where the schedule does not split it), a
// backward for weights (W), or DualPipe's overlapped pair of one micro-batch's forward and
// another's backward (F&B).
//
// Chunks: a rank holds one model chunk (1F1B, ZB1P: chunk 0 = stage `rank`) or two (DualPipe,
// DualPipeV). Which stage and which micro-batch stream each chunk serves is pipeline_map.hpp's
// PipelineMap:
//  - DualPipe (pp ranks, pp stages, two copies of the model): micro-batches enter at both ends,
//    half at rank 0 (direction 0, stage s on rank s) and half at rank pp-1 (direction 1, stage s
//    on rank pp-1-s). As in dualpipe.py, a rank of the first half has direction 0 as its chunk 0;
//    a rank of the second half sees the mirrored pipeline and has direction 1 as its chunk 0.
//  - DualPipeV (pp ranks, 2 pp stages, one copy of the model): every micro-batch enters at rank
//    0 and goes down and back up the "V": chunk 0 of rank r is stage r, chunk 1 is stage
//    2 pp - 1 - r. The last rank holds the two
//    middle stages pp - 1 and pp; rank 0 holds the first and the last stage (with the loss).
// Micro-batch numbers count per chunk from 0, in the order the chunk sees them.

#include <string>
#include <vector>

#include "workloads/plan/plan.hpp"

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

// The chunk whose weight gradients an operation computes (a W, a B that is not split, an F&B's
// backward), or -1 (an F, a split B).
int weight_gradient_chunk(const PipelineOp& op);

// "F0", "B1", "W", "F0B1" (F&B with forward chunk 0, backward chunk 1): the notation of the
// DualPipe README, for tests and traces.
std::string op_label(const PipelineOp& op);

// One rank's operations for DualPipe with `pp` ranks (even) and `micro_batches` in all (even,
// >= 2 pp; half enter at each end), in the order of deepseek-ai/DualPipe's dualpipe.py.
std::vector<PipelineOp> dualpipe_rank_ops(int pp, int rank, int micro_batches);

// One rank's operations for DualPipeV ("cut-in-half" DualPipe, deepseek-ai/DualPipe's
// dualpipe/dualpipev.py) with `pp_ranks` devices of two stages each (chunk 0 = stage rank going
// down, chunk 1 = stage 2 pp_ranks - 1 - rank coming back) and `micro_batches` >= 2 pp_ranks,
// all entering at rank 0. With r = rank and P = pp_ranks, M = micro_batches, dualpipev.py's
// eight steps are
//   1: 2(P-r-1) x F0        2: (r+1) x F0 F1        3: (P-r-1) x B1 W F1 (B1 split)
//   4: (M-2P+r+1) x F0B1 F1B0, where the last rank runs its first F0B1 as F0 then B1 apart
//   5: (P-r-1) x B1 F1B0    6: (r+1) x B1 B0 (the later half of these 2(r+1) backwards split)
//   7: (P-r-1) x W B0 (B0 split)                    8: (r+1) x W
// The other backwards (steps 4 and 5, the first half of step 6, every F&B's) are full ones.
// The W's pop the split backwards first in, first out (dualpipev.py's WeightGradStore). E.g.
// P = 4, M = 10 (B1' / B0': split):
//   rank 0: 7 x F0, F1, 3 x (B1' W F1), 3 x (F0B1 F1B0), 3 x (B1 F1B0), B1 B0', 3 x (W B0'), W
//   rank 3: 4 x (F0 F1), F0 B1 F1B0, 5 x (F0B1 F1B0), B1 B0 B1 B0 B1' B0' B1' B0', 4 x W
std::vector<PipelineOp> dualpipev_rank_ops(int pp_ranks, int rank, int micro_batches);

// One rank's operations for 1F1B: warm-up forwards, steady one-forward-one-backward, cool-down.
std::vector<PipelineOp> one_f_one_b_rank_ops(int pp, int rank, int micro_batches);

// One rank's operations for ZB-H1 (Qi et al., "Zero Bubble Pipeline Parallelism", ICLR 2024,
// section 2.1 and figure 3 top; the "ZB1P" of DeepSeek-V3's table 2): 1F1B's order of forwards
// and input backwards with every backward split into B and W, and the W's of stage i delayed by
// i micro-batches, so that the i W's left at the end fill the cool-down bubbles while no stage
// holds more micro-batches' activations than 1F1B's peak (p, on stage 0). Slot x = 0 .. m+p-2
// of stage i runs
//   F of micro-batch x,  B of x-(p-1-i),  W of x-(p-1)      (each where 0 <= index < m).
// e.g. p = 4, m = 6 (Fk, Bk, Wk: micro-batch k):
//   stage 0: F0 F1 F2 F3 B0 W0 F4 B1 W1 F5 B2 W2 B3 W3 B4 W4 B5 W5
//   stage 1: F0 F1 F2 B0 F3 B1 W0 F4 B2 W1 F5 B3 W2 B4 W3 B5 W4 W5
//   stage 2: F0 F1 B0 F2 B1 F3 B2 W0 F4 B3 W1 F5 B4 W2 B5 W3 W4 W5
//   stage 3: F0 B0 F1 B1 F2 B2 F3 B3 W0 F4 B4 W1 F5 B5 W2 W3 W4 W5
// With T_F = T_B = T_W the bubble is (p-1)(F+B-2W) in table 2's terms (B the full backward),
// a third of 1F1B's. The ZB-H1 of sail-sg/zero-bubble-pipeline-parallelism's Megatron
// (schedules.py, forward_backward_pipelining_without_interleaving) is a variant: the same F/B
// order and i W's left for the end of stage i, but it splits only stage i's first i steady
// backwards, its last steady one and its cool-down ones (none on stage 0), running the others
// as full backwards, so its W's come in other places and belong to other micro-batches.
std::vector<PipelineOp> zero_bubble_1p_rank_ops(int pp, int rank, int micro_batches);

// One rank's operations for Megatron-LM's interleaved 1F1B (Narayanan et al., "Efficient
// Large-Scale Language Model Training on GPU Clusters Using Megatron-LM", SC'21, sec 2.2.2;
// Megatron-LM's forward_backward_pipelining_with_interleaving): each rank holds v model chunks
// (chunk c of rank r is stage c pp + r), and micro-batches go through the chunks in groups of
// pp. With m micro-batches (a multiple of pp), unit k = 0 .. m v - 1 is micro-batch
// (k / (pp v)) pp + k mod pp on chunk (k mod pp v) / pp going forward, chunk v - 1 - that coming
// back. Rank r runs min(2 (pp - r - 1) + (v - 1) pp, m v) warm-up forwards, then one forward one
// (full) backward, then the remaining backwards. With fixed costs the bubble is
// (pp - 1)(F + B) / v, F and B a rank's whole forward and backward (the paper's eq. on t_pb).
// E.g. pp = 2, v = 2, m = 4 (Fc.k: chunk c, micro-batch k):
//   rank 0: F0.0 F0.1 F1.0 F1.1 F0.2 B1.0 F0.3 B1.1 F1.2 B0.0 F1.3 B0.1 B1.2 B1.3 B0.2 B0.3
//   rank 1: F0.0 F0.1 F1.0 B1.0 F1.1 B1.1 F0.2 B0.0 F0.3 B0.1 F1.2 B1.2 F1.3 B1.3 B0.2 B0.3
std::vector<PipelineOp> interleaved_1f1b_rank_ops(int pp, int rank, int micro_batches,
                                                  int virtual_stages);

// One rank's operations for `schedule`, `pp` being the plan's pipeline ranks (devices). For
// DualPipeV the model is cut into 2 pp stages (pipeline.hpp stage_count) and `pp` is
// dualpipev_rank_ops's pp_ranks; interleaved 1F1B cuts it into `virtual_stages` pp. Throws
// std::invalid_argument where the schedule cannot run.
std::vector<PipelineOp> schedule_rank_ops(Schedule schedule, int pp, int rank, int micro_batches,
                                          int virtual_stages = 1);

// How many overlapped F&B pairs a rank runs, in closed form from the generators' steps (0 for
// schedules without pairs). DualPipe: 2 (m/2 - pp + r + 1) in step 4, less the middle ranks'
// unoverlapped first pair, plus pp/2 - r - 1 in step 5, r = min(rank, pp - 1 - rank).
// DualPipeV: 2 (m - 2 pp + rank + 1), less the last rank's first pair, plus pp - rank - 1.
// Never negative: a plan with too few micro-batches for the schedule has none.
int overlapped_pairs(Schedule schedule, int pp, int rank, int micro_batches);

}  // namespace codesim::workloads
