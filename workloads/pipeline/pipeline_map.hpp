#pragma once
// Where each model stage of a pipeline schedule runs and where its micro-batches go next.
//
// A schedule moves micro-batches along one or two directions. A direction is a path of
// positions; position i runs model stage i (split_stages' numbering) on one (rank, chunk):
//   1f1b, zb1p   one direction of pp positions, position i on rank i, chunk 0;
//   dualpipe     two directions of pp positions: direction 0 is position i on rank i, direction 1
//                position i on rank pp-1-i (both carry the whole model: parameters twice). The
//                schedule's chunk 0 is direction 0 on the first half of the ranks and direction 1
//                on the second half (dualpipe.py mirrors the second half);
//   dualpipev    one direction of 2 pp positions folded into a V: position i < pp on rank i,
//                chunk 0; position i >= pp on rank 2pp-1-i, chunk 1.
// Micro-batches are numbered per direction, in the order every rank of the direction meets them.

#include "workloads/plan/plan.hpp"

namespace codesim::workloads {

class PipelineMap {
 public:
  PipelineMap(Schedule schedule, int pp);

  struct Slot {
    int rank = 0;
    int chunk = 0;
  };
  struct Place {
    int direction = 0;
    int position = 0;  // = the model stage it runs
  };

  int directions() const { return schedule_ == Schedule::kDualPipe ? 2 : 1; }
  int length() const { return schedule_ == Schedule::kDualPipeV ? 2 * pp_ : pp_; }
  Slot slot(Place place) const;
  Place place(Slot slot) const;
  // Micro-batches each direction carries out of `total` per replica.
  int micro_batches_per_direction(int total) const { return total / directions(); }

 private:
  Schedule schedule_;
  int pp_;
};

}  // namespace codesim::workloads
