#pragma once
// Where each model stage of a pipeline schedule runs and where its micro-batches go next: the one
// map between (pipeline rank, chunk) and (direction, position) that the step models, the memory
// model and the schedules' tests all use.
//
// A schedule moves micro-batches along one or two directions. A direction is a path of
// positions; position i runs model stage i (split_stages' numbering) on one (rank, chunk):
//   1f1b, zb1p   one direction of pp positions, position i on rank i, chunk 0;
//   dualpipe     two directions of pp positions: direction 0 is position i on rank i, direction 1
//                position i on rank pp-1-i (both carry the whole model: parameters twice). The
//                schedule's chunk 0 is direction 0 on the first half of the ranks and direction 1
//                on the second half (dualpipe.py mirrors the second half);
//   dualpipev    one direction of 2 pp positions folded into a V: position i < pp on rank i,
//                chunk 0; position i >= pp on rank 2pp-1-i, chunk 1;
//   interleaved  one direction of v pp positions (v = virtual stages) going round the ranks v
//                times: position i on rank i mod pp, chunk i / pp (Megatron-LM's model chunks).
// Micro-batches are numbered per direction, in the order every rank of the direction meets them.

#include <vector>

#include "workloads/plan/plan.hpp"

namespace codesim::workloads {

// Model stages the schedule cuts the model into for `pp` pipeline ranks: pp, 2 pp for DualPipeV,
// v pp for interleaved 1F1B with v virtual stages. (No checks: the scenario check asks this
// before it knows pp suits the schedule.)
int stage_count(Schedule schedule, int pp, int virtual_stages = 1);

class PipelineMap {
 public:
  // Throws std::invalid_argument for pp < 1, DualPipe with an odd pp, interleaved 1F1B with
  // fewer than 2 virtual stages or another schedule with virtual stages other than 1.
  PipelineMap(Schedule schedule, int pp, int virtual_stages = 1);

  struct Slot {
    int rank = 0;
    int chunk = 0;
  };
  struct Place {
    int direction = 0;
    int position = 0;  // = the model stage it runs
  };

  int ranks() const { return pp_; }
  int directions() const { return schedule_ == Schedule::kDualPipe ? 2 : 1; }
  int chunks() const;
  int length() const { return stage_count(schedule_, pp_, virtual_stages_); }  // = model stages
  Slot slot(Place place) const;
  Place place(Slot slot) const;
  // The model stages a rank holds, in chunk order.
  std::vector<int> stages_of(int rank) const;
  // Micro-batches each direction carries out of `total` per replica.
  int micro_batches_per_direction(int total) const { return total / directions(); }

 private:
  Schedule schedule_;
  int pp_;
  int virtual_stages_;
};

}  // namespace codesim::workloads
