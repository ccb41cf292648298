#pragma once
// What each pipeline stage's work costs, and a split of the layers over the stages that
// balances it (plan.stage_layers: auto). The default split shares out slots (the embedding, each
// layer, each MTP module and the head one each), which leaves the end stages heavier: DeepSeek-V3's
// stage 15 carries its last layers, the MTP module and the output head.

#include <functional>
#include <vector>

#include "workloads/pipeline/stages.hpp"
#include "workloads/step/chunk_costs.hpp"

namespace codesim::workloads {

struct StageWork {
  Stage stage;
  double forward_s = 0;   // one micro-batch, compute and communication in series
  double backward_s = 0;  // input gradients
  double weight_s = 0;    // weight gradients
  double total_s() const { return forward_s + backward_s + weight_s; }
};

// Each stage's work per micro-batch: at the overlapped pair's price where the schedule overlaps
// (its all-to-alls hidden behind the pair), else on the whole GPU with its communication.
std::vector<StageWork> stage_work(const ChunkCostModel& costs, const std::vector<Stage>& stages,
                                  bool overlapped);

// What paces each pipeline rank in the steady state: its stage's work per micro-batch; under
// DualPipe and DualPipeV (rank r holds stages r and S-1-r and overlaps the forward of one with
// the backward of the other) the longer of its two pairs.
std::vector<double> rank_pace(const std::vector<StageWork>& stages, Schedule schedule);

// Whether pipeline rank `rank` fits in memory holding its stages of `stages` (the other entries
// are not read).
using RankFits = std::function<bool(int rank, const std::vector<Stage>& stages)>;

// Layers per stage (the embedding with the first, the MTP modules and the head with the last)
// minimising the pace of the slowest pipeline rank, among the splits whose every rank `fits`
// (every split, when it is empty); empty when none fits. Exact, by dynamic programming over the
// contiguous splits with no stage holding more than twice the mean layers (and two):
// - one stage a rank (1F1B, ZB-H1): a rank's pace is its stage's work per micro-batch (forward,
//   backward and weight gradients), and stages are taken in order;
// - DualPipe and DualPipeV: rank r holds stages r and S-1-r and in the steady state overlaps the
//   forward of one with the backward of the other, in turn; its pace is the longer pair, and
//   ranks are taken from the ends of the model inwards;
// - interleaved 1F1B (pp x v chunks, rank r holding chunks r, r + pp, ...): the chunks are
//   balanced one by one (the largest chunk's work minimised, as for one stage a rank), which
//   evens the ranks' sums of v chunks without minimising their largest exactly.
// Among splits as good, the one with the least sum of squared paces (the most even) wins.
// Throws std::invalid_argument for other pipeline shapes.
std::vector<int> balanced_stage_layers(const ChunkCostModel& costs, Schedule schedule, int pp,
                                       const RankFits& fits = {}, int virtual_stages = 1);
// The same for a scenario, among the splits whose ranks fit in the GPU's memory (the best of
// all when none does, for the memory check to report).
std::vector<int> balanced_stage_layers(const TrainingScenario& s);

}  // namespace codesim::workloads
