#include "workloads/pipeline/schedules.hpp"

#include <algorithm>
#include <stdexcept>

namespace codesim::workloads {
namespace {

using Kind = PipelineOp::Kind;

// Hands out micro-batch indices in order, per operation kind and chunk.
class Counters {
 public:
  PipelineOp forward(int chunk) { return {Kind::kForward, chunk, next(forward_, chunk)}; }
  PipelineOp backward(int chunk, bool split) {
    PipelineOp op{Kind::kBackward, chunk, next(backward_, chunk)};
    op.split_backward = split;
    if (split) pending_weights_.push_back(op);
    return op;
  }
  // W of the oldest split backward.
  PipelineOp weight() {
    if (pending_weights_.empty()) throw std::logic_error("schedule: W without a split B");
    PipelineOp op = pending_weights_.front();
    pending_weights_.erase(pending_weights_.begin());
    op.kind = Kind::kWeight;
    op.split_backward = false;
    return op;
  }
  PipelineOp forward_backward(int forward_chunk, int backward_chunk) {
    PipelineOp op{Kind::kForwardBackward, forward_chunk, next(forward_, forward_chunk)};
    op.backward_chunk = backward_chunk;
    op.backward_micro_batch = next(backward_, backward_chunk);
    return op;
  }

 private:
  static int next(std::vector<int>& counter, int chunk) {
    if (chunk >= int(counter.size())) counter.resize(chunk + 1, 0);
    return counter[chunk]++;
  }
  std::vector<int> forward_;
  std::vector<int> backward_;
  std::vector<PipelineOp> pending_weights_;
};

}  // namespace

int weight_gradient_chunk(const PipelineOp& op) {
  switch (op.kind) {
    case PipelineOp::Kind::kForward:
      return -1;
    case PipelineOp::Kind::kBackward:
      return op.split_backward ? -1 : op.chunk;
    case PipelineOp::Kind::kWeight:
      return op.chunk;
    case PipelineOp::Kind::kForwardBackward:
      return op.backward_chunk;
  }
  return -1;
}

std::string op_label(const PipelineOp& op) {
  switch (op.kind) {
    case Kind::kForward:
      return "F" + std::to_string(op.chunk);
    case Kind::kBackward:
      return "B" + std::to_string(op.chunk);
    case Kind::kWeight:
      return "W";
    case Kind::kForwardBackward:
      return "F" + std::to_string(op.chunk) + "B" + std::to_string(op.backward_chunk);
  }
  return "?";
}

std::vector<PipelineOp> dualpipe_rank_ops(int pp, int rank, int micro_batches) {
  if (pp < 2 || pp % 2 != 0) throw std::invalid_argument("DualPipe needs an even pp >= 2");
  if (rank < 0 || rank >= pp) throw std::invalid_argument("DualPipe: rank out of range");
  if (micro_batches % 2 != 0 || micro_batches < 2 * pp) {
    throw std::invalid_argument("DualPipe needs an even number of micro-batches >= 2*pp");
  }
  const int half = pp / 2;
  const int r = std::min(rank, pp - 1 - rank);
  const int chunks_per_direction = micro_batches / 2;
  // A rank of the second half sees the mirrored pipeline: its chunk 0 is the reverse direction.
  Counters c;
  std::vector<PipelineOp> ops;
  for (int i = 0; i < (half - r - 1) * 2; ++i) ops.push_back(c.forward(0));  // step 1: F0
  for (int i = 0; i < r + 1; ++i) {                                          // step 2: F0 F1
    ops.push_back(c.forward(0));
    ops.push_back(c.forward(1));
  }
  for (int i = 0; i < half - r - 1; ++i) {  // step 3: B1 W1 F1 (zero bubble)
    ops.push_back(c.backward(1, true));
    ops.push_back(c.weight());
    ops.push_back(c.forward(1));
  }
  for (int i = 0; i < chunks_per_direction - pp + r + 1; ++i) {  // step 4: F0B1 F1B0
    if (i == 0 && r == half - 1) {
      // dualpipe.py's middle ranks run their first pair unoverlapped, "to further reduce bubble
      // size": F0, then a full B1.
      ops.push_back(c.forward(0));
      ops.push_back(c.backward(1, false));
    } else {
      ops.push_back(c.forward_backward(0, 1));
    }
    ops.push_back(c.forward_backward(1, 0));
  }
  for (int i = 0; i < half - r - 1; ++i) {  // step 5: B1 F1B0
    ops.push_back(c.backward(1, false));
    ops.push_back(c.forward_backward(1, 0));
  }
  // Step 6: B1 B0. The later half of these 2(r+1) backwards leave their W for steps 7 and 8.
  for (int i = 0; i < r + 1; ++i) {
    ops.push_back(c.backward(1, 2 * i >= r + 1));
    ops.push_back(c.backward(0, 2 * i + 1 >= r + 1));
  }
  for (int i = 0; i < half - r - 1; ++i) {  // step 7: W B0
    ops.push_back(c.weight());
    ops.push_back(c.backward(0, true));
  }
  for (int i = 0; i < r + 1; ++i) ops.push_back(c.weight());  // step 8: W
  return ops;
}

std::vector<PipelineOp> one_f_one_b_rank_ops(int pp, int rank, int micro_batches) {
  if (rank < 0 || rank >= pp) throw std::invalid_argument("1F1B: rank out of range");
  Counters c;
  std::vector<PipelineOp> ops;
  const int warmup = std::min(pp - rank - 1, micro_batches);
  for (int i = 0; i < warmup; ++i) ops.push_back(c.forward(0));
  for (int i = 0; i < micro_batches - warmup; ++i) {
    ops.push_back(c.forward(0));
    ops.push_back(c.backward(0, false));
  }
  for (int i = 0; i < warmup; ++i) ops.push_back(c.backward(0, false));
  return ops;
}

std::vector<PipelineOp> zero_bubble_1p_rank_ops(int pp, int rank, int micro_batches) {
  if (pp < 1) throw std::invalid_argument("ZB1P needs pp >= 1");
  if (rank < 0 || rank >= pp) throw std::invalid_argument("ZB1P: rank out of range");
  if (micro_batches < 1) throw std::invalid_argument("ZB1P needs at least one micro-batch");
  Counters c;
  std::vector<PipelineOp> ops;
  const int backward_lag = pp - 1 - rank;  // B of slot x is micro-batch x - backward_lag
  const int weight_lag = pp - 1;           // W of slot x is micro-batch x - weight_lag
  auto in_range = [&](int mb) { return mb >= 0 && mb < micro_batches; };
  for (int x = 0; x < micro_batches + pp - 1; ++x) {
    if (in_range(x)) ops.push_back(c.forward(0));
    if (in_range(x - backward_lag)) ops.push_back(c.backward(0, true));
    if (in_range(x - weight_lag)) ops.push_back(c.weight());
  }
  return ops;
}

std::vector<PipelineOp> dualpipev_rank_ops(int pp_ranks, int rank, int micro_batches) {
  if (pp_ranks < 1) throw std::invalid_argument("DualPipeV needs pp >= 1");
  if (rank < 0 || rank >= pp_ranks) throw std::invalid_argument("DualPipeV: rank out of range");
  if (micro_batches < 2 * pp_ranks) {
    throw std::invalid_argument("DualPipeV needs micro-batches >= 2*pp");
  }
  const bool last_rank = rank == pp_ranks - 1;
  Counters c;
  std::vector<PipelineOp> ops;
  for (int i = 0; i < (pp_ranks - rank - 1) * 2; ++i) ops.push_back(c.forward(0));  // step 1: F0
  for (int i = 0; i < rank + 1; ++i) {                                              // step 2: F0 F1
    ops.push_back(c.forward(0));
    ops.push_back(c.forward(1));
  }
  for (int i = 0; i < pp_ranks - rank - 1; ++i) {  // step 3: B1 W F1 (zero bubble)
    ops.push_back(c.backward(1, true));
    ops.push_back(c.weight());
    ops.push_back(c.forward(1));
  }
  for (int i = 0; i < micro_batches - 2 * pp_ranks + rank + 1; ++i) {  // step 4: F0B1 F1B0
    if (i == 0 && last_rank) {
      // dualpipev.py does not overlap the last rank's first pair, to shorten the bubble.
      ops.push_back(c.forward(0));
      ops.push_back(c.backward(1, false));
    } else {
      ops.push_back(c.forward_backward(0, 1));
    }
    ops.push_back(c.forward_backward(1, 0));
  }
  for (int i = 0; i < pp_ranks - rank - 1; ++i) {  // step 5: B1 F1B0
    ops.push_back(c.backward(1, false));
    ops.push_back(c.forward_backward(1, 0));
  }
  // Step 6: B1 B0. dualpipev.py turns zero bubble on halfway through these 2(r+1) backwards
  // (the one numbered r+1 from 0, whatever the parity of r): they leave their W for steps 7, 8.
  for (int i = 0; i < rank + 1; ++i) {
    ops.push_back(c.backward(1, 2 * i >= rank + 1));
    ops.push_back(c.backward(0, 2 * i + 1 >= rank + 1));
  }
  for (int i = 0; i < pp_ranks - rank - 1; ++i) {  // step 7: W B0 (zero bubble)
    ops.push_back(c.weight());
    ops.push_back(c.backward(0, true));
  }
  for (int i = 0; i < rank + 1; ++i) ops.push_back(c.weight());  // step 8: W
  return ops;
}

std::vector<PipelineOp> interleaved_1f1b_rank_ops(int pp, int rank, int micro_batches,
                                                  int virtual_stages) {
  if (pp < 1) throw std::invalid_argument("interleaved 1F1B needs pp >= 1");
  if (rank < 0 || rank >= pp) throw std::invalid_argument("interleaved 1F1B: rank out of range");
  if (virtual_stages < 2) throw std::invalid_argument("interleaved 1F1B needs >= 2 virtual stages");
  if (micro_batches < 1 || micro_batches % pp != 0) {
    throw std::invalid_argument("interleaved 1F1B needs micro-batches a multiple of pp");
  }
  const int v = virtual_stages;
  const int total = micro_batches * v;  // (micro-batch, chunk) units
  const int group = pp * v;
  // Unit k: pp micro-batches go through chunk 0, then the same pp through chunk 1, ...; the
  // backwards take the chunks in reverse.
  auto micro_batch = [&](int k) { return k / group * pp + k % pp; };
  auto forward = [&](int k) { return PipelineOp{Kind::kForward, k % group / pp, micro_batch(k)}; };
  auto backward = [&](int k) {
    return PipelineOp{Kind::kBackward, v - 1 - k % group / pp, micro_batch(k)};
  };
  const int warmup = std::min((pp - rank - 1) * 2 + (v - 1) * pp, total);
  std::vector<PipelineOp> ops;
  for (int k = 0; k < warmup; ++k) ops.push_back(forward(k));
  for (int i = 0; i < total - warmup; ++i) {
    ops.push_back(forward(warmup + i));
    ops.push_back(backward(i));
  }
  for (int i = total - warmup; i < total; ++i) ops.push_back(backward(i));
  return ops;
}

std::vector<PipelineOp> schedule_rank_ops(Schedule schedule, int pp, int rank, int micro_batches,
                                          int virtual_stages) {
  if (schedule != Schedule::kInterleaved1F1B && virtual_stages != 1) {
    throw std::invalid_argument("virtual stages other than 1 need the interleaved schedule");
  }
  switch (schedule) {
    case Schedule::kInterleaved1F1B:
      return interleaved_1f1b_rank_ops(pp, rank, micro_batches, virtual_stages);
    case Schedule::k1F1B:
      return one_f_one_b_rank_ops(pp, rank, micro_batches);
    case Schedule::kZeroBubble1P:
      return zero_bubble_1p_rank_ops(pp, rank, micro_batches);
    case Schedule::kDualPipe:
      return dualpipe_rank_ops(pp, rank, micro_batches);
    case Schedule::kDualPipeV:
      return dualpipev_rank_ops(pp, rank, micro_batches);
  }
  throw std::invalid_argument("schedule_rank_ops: unknown schedule");
}

int overlapped_pairs(Schedule schedule, int pp, int rank, int micro_batches) {
  int step4 = 0, step5 = 0;
  bool first_apart = false;
  if (schedule == Schedule::kDualPipe) {
    const int r = std::min(rank, pp - 1 - rank);
    step4 = micro_batches / 2 - pp + r + 1;
    step5 = pp / 2 - r - 1;
    first_apart = r == pp / 2 - 1;
  } else if (schedule == Schedule::kDualPipeV) {
    step4 = micro_batches - 2 * pp + rank + 1;
    step5 = pp - rank - 1;
    first_apart = rank == pp - 1;
  }
  if (step4 <= 0) return 0;
  return 2 * step4 - int(first_apart) + step5;
}

}  // namespace codesim::workloads
