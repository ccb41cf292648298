#include "workloads/step/stage_balance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/rank_memory.hpp"

namespace codesim::workloads {
namespace {

// One piece's work: its forward, and its backward (input and weight gradients).
struct Work {
  double forward = 0;
  double backward = 0;
  double total() const { return forward + backward; }
  Work& operator+=(const Work& o) {
    forward += o.forward;
    backward += o.backward;
    return *this;
  }
  friend Work operator+(Work a, const Work& b) { return a += b; }
  friend Work operator-(Work a, const Work& b) {
    a.forward -= b.forward;
    a.backward -= b.backward;
    return a;
  }
};

Work work_of(const ChunkCost& c, bool overlapped) {
  if (overlapped) {
    return {c.forward.pair_compute_s + c.forward.tp_comm_s, c.backward_input.pair_compute_s +
                                                                c.backward_input.tp_comm_s +
                                                                c.backward_weight.pair_compute_s};
  }
  return {c.forward.compute_s + c.forward.comm_s + c.forward.tp_comm_s,
          c.backward_input.compute_s + c.backward_input.comm_s + c.backward_input.tp_comm_s +
              c.backward_weight.compute_s};
}

// A partial split's worth: the longest rank so far, then (to break ties towards the most even
// split) the sum of the squares of the ranks' paces.
struct Score {
  double worst = std::numeric_limits<double>::infinity();
  double squares = std::numeric_limits<double>::infinity();
  bool finite() const { return worst < std::numeric_limits<double>::infinity(); }
  Score then(double pace) const { return {std::max(worst, pace), squares + pace * pace}; }
  bool operator<(const Score& o) const {
    const double tolerance = 1e-12 * std::max(1.0, std::abs(o.worst));
    if (worst < o.worst - tolerance) return true;
    if (worst > o.worst + tolerance) return false;
    return squares < o.squares;
  }
};

// The model's pieces in order, as prefix sums of work over the layers, and the stage a run of
// layers makes.
class Pieces {
 public:
  Pieces(const ChunkCostModel& costs, bool overlapped, int stages)
      : model_(costs.shapes().model), stages_(stages) {
    embedding_ = work_of(costs.embedding(), overlapped);
    tail_ = work_of(costs.output_head(), overlapped);
    for (int i = 0; i < model_.mtp_depth; ++i) tail_ += work_of(costs.mtp_module(), overlapped);
    prefix_.resize(model_.layers + 1);
    for (int l = 0; l < model_.layers; ++l) {
      prefix_[l + 1] = prefix_[l] + work_of(costs.layer(l), overlapped);
    }
  }
  int layers() const { return model_.layers; }
  // Stage k holding layers [from, from + count).
  Work work(int k, int from, int count) const {
    Work w = prefix_[from + count] - prefix_[from];
    if (k == 0) w += embedding_;
    if (k == stages_ - 1) w += tail_;
    return w;
  }
  Stage stage(int k, int from, int count) const {
    Stage s;
    s.first_layer = from;
    s.layers = count;
    s.embedding = k == 0;
    s.output_head = k == stages_ - 1;
    s.mtp_modules = k == stages_ - 1 ? model_.mtp_depth : 0;
    return s;
  }

 private:
  const models::ModelConfig& model_;
  int stages_;
  Work embedding_, tail_;
  std::vector<Work> prefix_;
};

enum class Shape { kOneStageEach, kPairedEnds };

Shape map_shape(const PipelineMap& map, int pp, int stages) {
  bool one = true, paired = stages % 2 == 0;
  for (int r = 0; r < pp; ++r) {
    const std::vector<int> held = map.stages_of(r);
    std::vector<int> sorted = held;
    std::sort(sorted.begin(), sorted.end());
    one = one && sorted == std::vector<int>{r};
    const std::vector<int> ends{std::min(r, stages - 1 - r), std::max(r, stages - 1 - r)};
    paired = paired && sorted == ends;
  }
  if (one && pp == stages) return Shape::kOneStageEach;
  if (paired) return Shape::kPairedEnds;
  throw std::invalid_argument(
      "balanced stages: only for pipelines where each rank holds one stage, or stages r and "
      "S-1-r");
}

}  // namespace

std::vector<StageWork> stage_work(const ChunkCostModel& costs, const std::vector<Stage>& stages,
                                  bool overlapped) {
  std::vector<StageWork> out;
  for (const Stage& stage : stages) {
    const ChunkCost c = costs.stage(stage);
    StageWork w;
    w.stage = stage;
    if (overlapped) {
      w.forward_s = c.forward.pair_compute_s + c.forward.tp_comm_s;
      w.backward_s = c.backward_input.pair_compute_s + c.backward_input.tp_comm_s;
      w.weight_s = c.backward_weight.pair_compute_s;
    } else {
      w.forward_s = c.forward.compute_s + c.forward.comm_s + c.forward.tp_comm_s;
      w.backward_s =
          c.backward_input.compute_s + c.backward_input.comm_s + c.backward_input.tp_comm_s;
      w.weight_s = c.backward_weight.compute_s;
    }
    out.push_back(w);
  }
  return out;
}

std::vector<double> rank_pace(const std::vector<StageWork>& stages, Schedule schedule) {
  const bool paired = schedule == Schedule::kDualPipe || schedule == Schedule::kDualPipeV;
  const std::size_t n = stages.size();
  std::vector<double> out;
  if (!paired || n < 2) {
    for (const auto& w : stages) out.push_back(w.total_s());
    return out;
  }
  for (std::size_t r = 0; r < n / 2; ++r) {
    const StageWork& a = stages[r];
    const StageWork& b = stages[n - 1 - r];
    out.push_back(
        std::max(a.forward_s + b.backward_s + b.weight_s, b.forward_s + a.backward_s + a.weight_s));
  }
  return out;
}

std::vector<int> balanced_stage_layers(const ChunkCostModel& costs, Schedule schedule, int pp,
                                       const RankFits& fits, int virtual_stages) {
  const PipelineMap map(schedule, pp, virtual_stages);
  const int stages = stage_count(schedule, pp, virtual_stages);
  // Interleaved 1F1B: the chunks are balanced one by one, in model order (a rank's pace, the
  // sum of its v chunks, follows).
  const bool chunks = schedule == Schedule::kInterleaved1F1B;
  const Shape shape = chunks ? Shape::kOneStageEach : map_shape(map, pp, stages);
  const Pieces pieces(costs, overlaps_forward_and_backward(schedule), stages);
  const int layers = pieces.layers();
  // No stage holds more than twice the mean (and a few) layers: a bound on the search, not on
  // what a good split needs.
  const int cap = std::min(layers, 2 * ((layers + stages - 1) / stages) + 2);
  std::vector<Stage> probe(stages);
  // A rank's memory with the stages chosen so far (interleaved: its later chunks still empty,
  // so a rank that does not fit now never will).
  auto rank_fits = [&](int rank) { return !fits || fits(rank, probe); };

  if (shape == Shape::kOneStageEach) {
    // best[k][f]: the best split of layers [0, f) over stages 0..k-1.
    std::vector<std::vector<Score>> best(stages + 1, std::vector<Score>(layers + 1));
    std::vector<std::vector<int>> took(stages + 1, std::vector<int>(layers + 1, -1));
    best[0][0] = {0, 0};
    for (int k = 0; k < stages; ++k) {
      for (int f = 0; f <= layers; ++f) {
        if (!best[k][f].finite()) continue;
        const int most = k == stages - 1 ? layers - f : std::min(cap, layers - f);
        for (int a = k == stages - 1 ? most : 0; a <= most; ++a) {
          const Score s = best[k][f].then(pieces.work(k, f, a).total());
          if (!(s < best[k + 1][f + a])) continue;
          probe[k] = pieces.stage(k, f, a);
          if (!rank_fits(map.slot({0, k}).rank)) continue;
          best[k + 1][f + a] = s;
          took[k + 1][f + a] = a;
        }
      }
    }
    if (!best[stages][layers].finite()) return {};
    std::vector<int> out(stages);
    for (int k = stages, f = layers; k > 0; --k) {
      out[k - 1] = took[k][f];
      f -= took[k][f];
    }
    return out;
  }

  // Rank r holds stages r and S-1-r and in the steady state overlaps the forward of one with the
  // backward of the other, in turn; the longer pair is its pace. Ranks are taken from the ends
  // inwards: best[r][f][g] is the best split giving ranks 0..r-1 the first f and the last g
  // layers.
  const int ranks = stages / 2;
  auto index = [&](int f, int g) { return f * (layers + 1) + g; };
  const int cells = (layers + 1) * (layers + 1);
  std::vector<std::vector<Score>> best(ranks + 1, std::vector<Score>(cells));
  std::vector<std::vector<std::pair<int, int>>> took(ranks + 1,
                                                     std::vector<std::pair<int, int>>(cells));
  best[0][index(0, 0)] = {0, 0};
  for (int r = 0; r < ranks; ++r) {
    const int front = r, back = stages - 1 - r;
    const bool last = r == ranks - 1;  // its two stages meet in the middle
    for (int f = 0; f <= layers; ++f) {
      for (int g = 0; f + g <= layers; ++g) {
        if (!best[r][index(f, g)].finite()) continue;
        const int left = layers - f - g;
        for (int a = 0; a <= std::min(cap, left); ++a) {
          const int b_lo = last ? left - a : 0;
          const int b_hi = std::min(cap, left - a);
          for (int b = b_lo; b <= b_hi; ++b) {
            const Work x = pieces.work(front, f, a);
            const Work y = pieces.work(back, layers - g - b, b);
            const double pace = std::max(x.forward + y.backward, y.forward + x.backward);
            const Score s = best[r][index(f, g)].then(pace);
            if (!(s < best[r + 1][index(f + a, g + b)])) continue;
            probe[front] = pieces.stage(front, f, a);
            probe[back] = pieces.stage(back, layers - g - b, b);
            if (!rank_fits(r)) continue;
            best[r + 1][index(f + a, g + b)] = s;
            took[r + 1][index(f + a, g + b)] = {a, b};
          }
        }
      }
    }
  }
  // The finished splits end on any (f, g) with f + g = layers.
  int end_f = -1;
  for (int f = 0; f <= layers; ++f) {
    const Score& s = best[ranks][index(f, layers - f)];
    if (s.finite() && (end_f < 0 || s < best[ranks][index(end_f, layers - end_f)])) end_f = f;
  }
  if (end_f < 0) return {};
  std::vector<int> out(stages);
  for (int r = ranks, f = end_f, g = layers - end_f; r > 0; --r) {
    const auto [a, b] = took[r][index(f, g)];
    out[r - 1] = a;
    out[stages - r] = b;
    f -= a;
    g -= b;
  }
  return out;
}

std::vector<int> balanced_stage_layers(const TrainingScenario& s) {
  const ChunkCostModel costs(chunk_cost_params(s));
  const MemoryParams memory = memory_params(s);
  const LayerActivationBytes activations = layer_activation_bytes(memory);
  const double hbm = double(s.gpu.hbm_bytes);
  const int v = s.plan.virtual_stages;
  std::vector<int> out = balanced_stage_layers(
      costs, s.plan.schedule, s.plan.pp,
      [&](int rank, const std::vector<Stage>& stages) {
        return rank_memory(memory, stages, rank, activations).total_bytes() <= hbm;
      },
      v);
  // Nothing fits: the best split regardless, for the memory check to report.
  if (out.empty()) out = balanced_stage_layers(costs, s.plan.schedule, s.plan.pp, {}, v);
  return out;
}

}  // namespace codesim::workloads
