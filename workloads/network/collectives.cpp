#include "workloads/network/collectives.hpp"

#include <algorithm>
#include <stdexcept>

namespace codesim::workloads {

int Collective::steps() const {
  int steps = 0;
  for (const auto& t : transfers) steps = std::max(steps, t.step + 1);
  return steps;
}

static void require_ranks(int ranks) {
  if (ranks < 1) throw std::invalid_argument("a collective needs at least one rank");
}

Collective ring_reduce_scatter(int ranks, double bytes) {
  require_ranks(ranks);
  Collective c{ranks, {}};
  for (int step = 0; step < ranks - 1; ++step) {
    for (int r = 0; r < ranks; ++r)
      c.transfers.push_back({r, (r + 1) % ranks, bytes / ranks, step});
  }
  return c;
}

Collective ring_all_gather(int ranks, double bytes) {
  return ring_reduce_scatter(ranks, bytes);
}

Collective ring_all_reduce(int ranks, double bytes) {
  Collective c = ring_reduce_scatter(ranks, bytes);
  const int offset = ranks - 1;
  for (const Transfer& t : ring_all_gather(ranks, bytes).transfers) {
    c.transfers.push_back({t.src, t.dst, t.bytes, t.step + offset});
  }
  return c;
}

Collective tree_all_reduce(int ranks, double bytes) {
  require_ranks(ranks);
  Collective c{ranks, {}};
  // Heap-shaped binary tree: the parent of r is (r-1)/2; depth d holds ranks [2^d-1, 2^(d+1)-1).
  int depth = 0;
  while ((1 << (depth + 1)) - 1 < ranks) ++depth;
  for (int level = depth; level >= 1; --level) {  // reduce: deepest level first
    for (int r = (1 << level) - 1; r < std::min(ranks, (1 << (level + 1)) - 1); ++r) {
      c.transfers.push_back({r, (r - 1) / 2, bytes, depth - level});
    }
  }
  for (int level = 1; level <= depth; ++level) {  // broadcast: top level first
    for (int r = (1 << level) - 1; r < std::min(ranks, (1 << (level + 1)) - 1); ++r) {
      c.transfers.push_back({(r - 1) / 2, r, bytes, depth + level - 1});
    }
  }
  return c;
}

Collective uniform_all_to_all(int ranks, double bytes_per_pair) {
  std::vector<std::vector<double>> matrix(ranks, std::vector<double>(ranks, bytes_per_pair));
  return all_to_all(matrix);
}

Collective all_to_all(const std::vector<std::vector<double>>& matrix) {
  require_ranks(int(matrix.size()));
  Collective c{int(matrix.size()), {}};
  for (int src = 0; src < c.ranks; ++src) {
    if (int(matrix[src].size()) != c.ranks) throw std::invalid_argument("matrix is not square");
    for (int dst = 0; dst < c.ranks; ++dst) {
      if (src != dst && matrix[src][dst] > 0)
        c.transfers.push_back({src, dst, matrix[src][dst], 0});
    }
  }
  return c;
}

Collective point_to_point(int src, int dst, double bytes) {
  Collective c{std::max(src, dst) + 1, {}};
  c.transfers.push_back({src, dst, bytes, 0});
  return c;
}

double analytic_seconds(const Collective& collective, const TransferCost& cost) {
  std::vector<double> slowest(collective.steps(), 0.0);
  for (const auto& t : collective.transfers) {
    slowest[t.step] = std::max(slowest[t.step], cost(t.src, t.dst, t.bytes));
  }
  double total = 0;
  for (double s : slowest) total += s;
  return total;
}

CollectiveRun::CollectiveRun(sim::Simulator& sim, sim::FlowNetwork& net, Collective collective,
                             Route route)
    : sim_(sim), net_(net), collective_(std::move(collective)), route_(std::move(route)) {
  const int n = collective_.ranks;
  const int steps = collective_.steps();
  steps_ = steps;
  sends_.assign(n, std::vector<std::vector<int>>(steps));
  pending_in_.assign(n, std::vector<int>(steps, 0));
  pending_out_.assign(n, std::vector<int>(steps, 0));
  started_.assign(n, std::vector<bool>(steps, false));
  for (int i = 0; i < int(collective_.transfers.size()); ++i) {
    const Transfer& t = collective_.transfers[i];
    if (t.src < 0 || t.src >= n || t.dst < 0 || t.dst >= n) {
      throw std::invalid_argument("collective transfer names a rank out of range");
    }
    sends_[t.src][t.step].push_back(i);
    ++pending_out_[t.src][t.step];
    ++pending_in_[t.dst][t.step];
  }
  remaining_ = collective_.transfers.size();
}

void CollectiveRun::start() {
  finish_ = sim_.now();
  for (int r = 0; r < collective_.ranks; ++r) try_start_step(r, 0);
  if (remaining_ == 0 && when_finished_) when_finished_();
}

void CollectiveRun::try_start_step(int rank, int step) {
  if (step >= steps_ || started_[rank][step]) return;
  if (step > 0 && (pending_in_[rank][step - 1] > 0 || pending_out_[rank][step - 1] > 0)) return;
  started_[rank][step] = true;
  for (int index : sends_[rank][step]) {
    const Transfer& t = collective_.transfers[index];
    net_.start_flow(route_(t.src, t.dst), t.bytes, &on_done, this, std::uint64_t(index));
  }
  // A rank with nothing to send in this step still moves on once its receives are in.
  if (sends_[rank][step].empty() && pending_in_[rank][step] == 0) try_start_step(rank, step + 1);
}

void CollectiveRun::on_done(sim::Simulator& sim, void* self, std::uint64_t index) {
  auto& run = *static_cast<CollectiveRun*>(self);
  const Transfer& t = run.collective_.transfers[index];
  --run.pending_out_[t.src][t.step];
  --run.pending_in_[t.dst][t.step];
  --run.remaining_;
  run.finish_ = sim.now();
  run.try_start_step(t.src, t.step + 1);
  run.try_start_step(t.dst, t.step + 1);
  if (run.remaining_ == 0 && run.when_finished_) run.when_finished_();
}

}  // namespace codesim::workloads
