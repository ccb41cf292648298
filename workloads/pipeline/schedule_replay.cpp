#include "workloads/pipeline/schedule_replay.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace codesim::workloads {
namespace {

constexpr double kNotYet = std::numeric_limits<double>::infinity();

// When the output of each (direction, position, micro-batch)'s forward and backward is available
// where it is needed: at the next position (forward) or the previous one (backward).
class Arrivals {
 public:
  Arrivals(const PipelineMap& map, int micro_batches)
      : length_(map.length()),
        per_direction_(map.micro_batches_per_direction(micro_batches)),
        at_(std::size_t(map.directions()) * length_ * per_direction_, kNotYet) {}
  double& operator()(PipelineMap::Place p, int mb) {
    return at_[(std::size_t(p.direction) * length_ + p.position) * per_direction_ + mb];
  }

 private:
  int length_, per_direction_;
  std::vector<double> at_;
};

}  // namespace

ReplayResult replay_schedule(Schedule schedule, int pp, int micro_batches, const ReplayCosts& costs,
                             int virtual_stages) {
  const PipelineMap map(schedule, pp, virtual_stages);
  std::vector<std::vector<PipelineOp>> ops(pp);
  for (int r = 0; r < pp; ++r) {
    ops[r] = schedule_rank_ops(schedule, pp, r, micro_batches, virtual_stages);
  }
  const int length = map.length();
  Arrivals forward_done(map, micro_batches);  // a forward's end, here
  Arrivals forward_out(map, micro_batches);   // its output, at the next position
  Arrivals backward_out(map, micro_batches);  // a backward's gradient, at the previous position
  ReplayResult result;
  result.finish.assign(pp, 0.0);
  result.busy.assign(pp, 0.0);
  result.gradients_done.resize(pp);
  for (int r = 0; r < pp; ++r) result.gradients_done[r].assign(map.stages_of(r).size(), 0.0);
  std::vector<std::size_t> next(pp, 0);

  // The earliest start its inputs allow, or kNotYet.
  auto forward_ready = [&](PipelineMap::Place at, int mb) {
    return at.position == 0 ? 0.0 : forward_out({at.direction, at.position - 1}, mb);
  };
  auto backward_ready = [&](PipelineMap::Place at, int mb) {
    const double own = forward_done(at, mb);
    if (own == kNotYet || at.position == length - 1) return own;
    return std::max(own, backward_out({at.direction, at.position + 1}, mb));
  };
  // A send from `rank` to the neighbour position: to another rank only (none off the end of the
  // stream, none to the rank itself).
  auto needs_send = [&](int rank, PipelineMap::Place to) {
    return to.position >= 0 && to.position < length && map.slot(to).rank != rank;
  };
  auto send = [&](int rank, PipelineMap::Place to, int together) {
    return needs_send(rank, to) ? costs.send_s(rank, map.slot(to).rank, together) : 0.0;
  };

  for (bool progress = true; progress;) {
    progress = false;
    for (int r = 0; r < pp; ++r) {
      for (; next[r] < ops[r].size(); ++next[r]) {
        const PipelineOp& op = ops[r][next[r]];
        const PipelineMap::Place at = map.place({r, op.chunk});
        double ready = 0;
        int forward_stage = -1, backward_stage = -1;
        PipelineMap::Place back = at;
        switch (op.kind) {
          case PipelineOp::Kind::kForward:
            ready = forward_ready(at, op.micro_batch);
            forward_stage = at.position;
            break;
          case PipelineOp::Kind::kBackward:
            ready = backward_ready(at, op.micro_batch);
            backward_stage = at.position;
            break;
          case PipelineOp::Kind::kWeight:
            backward_stage = at.position;
            break;
          case PipelineOp::Kind::kForwardBackward:
            back = map.place({r, op.backward_chunk});
            ready = std::max(forward_ready(at, op.micro_batch),
                             backward_ready(back, op.backward_micro_batch));
            forward_stage = at.position;
            backward_stage = back.position;
            break;
        }
        if (ready == kNotYet) break;
        const double duration = costs.duration(op, forward_stage, backward_stage);
        const double end = std::max(ready, result.finish[r]) + duration;
        const PipelineMap::Place forward_to{at.direction, at.position + 1};
        const PipelineMap::Place backward_to{back.direction, back.position - 1};
        switch (op.kind) {
          case PipelineOp::Kind::kForward:
            forward_done(at, op.micro_batch) = end;
            forward_out(at, op.micro_batch) = end + send(r, forward_to, 1);
            break;
          case PipelineOp::Kind::kBackward:
            backward_out(at, op.micro_batch) = end + send(r, backward_to, 1);
            break;
          case PipelineOp::Kind::kWeight:
            break;
          case PipelineOp::Kind::kForwardBackward: {
            const int together = int(needs_send(r, forward_to)) + int(needs_send(r, backward_to));
            forward_done(at, op.micro_batch) = end;
            forward_out(at, op.micro_batch) = end + send(r, forward_to, together);
            backward_out(back, op.backward_micro_batch) = end + send(r, backward_to, together);
            break;
          }
        }
        result.finish[r] = end;
        result.busy[r] += duration;
        if (const int c = weight_gradient_chunk(op); c >= 0) result.gradients_done[r][c] = end;
        result.makespan = std::max(result.makespan, end);
        progress = true;
      }
    }
  }
  for (int r = 0; r < pp; ++r) {
    if (next[r] < ops[r].size()) {
      throw std::logic_error("schedule replay: rank " + std::to_string(r) + " deadlocked");
    }
  }
  return result;
}

}  // namespace codesim::workloads
