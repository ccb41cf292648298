#pragma once
// Collectives as sets of point-to-point transfers in steps, each with a contention-free
// analytic cost, and a runner that plays them as flows on a sim::FlowNetwork so that they
// contend with each other and with everything else on the network.
//
// A transfer of step s from rank r starts once r has finished sending its step s-1 transfers
// and received every step s-1 transfer addressed to it (the data dependency of ring and tree
// algorithms). Step-0 transfers start at once.

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/flow_network.hpp"

namespace codesim::workloads {

struct Transfer {
  int src = 0;
  int dst = 0;
  double bytes = 0;
  int step = 0;
};

struct Collective {
  int ranks = 0;
  std::vector<Transfer> transfers;
  int steps() const;
};

// Ring algorithms over ranks 0..n-1 (rank r sends to r+1 mod n); `bytes` is the full buffer.
Collective ring_reduce_scatter(int ranks, double bytes);
Collective ring_all_gather(int ranks, double bytes);
Collective ring_all_reduce(int ranks, double bytes);  // reduce-scatter then all-gather
// Binary-tree all-reduce: reduce to rank 0 level by level, then broadcast back down.
Collective tree_all_reduce(int ranks, double bytes);
// Every rank sends `bytes_per_pair` to every other rank in one step.
Collective uniform_all_to_all(int ranks, double bytes_per_pair);
// matrix[src][dst] bytes, one step; zero entries and the diagonal send nothing.
Collective all_to_all(const std::vector<std::vector<double>>& matrix);
Collective point_to_point(int src, int dst, double bytes);

// Time of one transfer on an idle network: route latency plus bytes over the bottleneck.
using TransferCost = std::function<double(int src, int dst, double bytes)>;
// Contention-free time of the whole collective: step by step, the slowest transfer of each
// step (what the runner gives when no two transfers share a link).
double analytic_seconds(const Collective& collective, const TransferCost& cost);

// Plays a collective on a flow network. `route(src, dst)` gives the links between two ranks.
class CollectiveRun {
 public:
  using Route = std::function<std::vector<sim::FlowNetwork::LinkId>(int src, int dst)>;
  CollectiveRun(sim::Simulator& sim, sim::FlowNetwork& net, Collective collective, Route route);
  void start();  // now
  // Runs once, at the instant the last transfer arrives (at start() when there is none).
  void when_finished(std::function<void()> callback) { when_finished_ = std::move(callback); }
  bool finished() const { return remaining_ == 0; }
  sim::Time finish_time() const { return finish_; }

 private:
  static void on_done(sim::Simulator& sim, void* self, std::uint64_t transfer);
  void try_start_step(int rank, int step);

  sim::Simulator& sim_;
  sim::FlowNetwork& net_;
  Collective collective_;
  Route route_;
  std::vector<std::vector<std::vector<int>>> sends_;  // [rank][step] -> transfer indices
  std::vector<std::vector<int>> pending_in_;          // [rank][step] receives not yet done
  std::vector<std::vector<int>> pending_out_;         // [rank][step] sends not yet done
  std::vector<std::vector<bool>> started_;            // [rank][step]
  int steps_ = 0;  // collective_.steps(), which scans every transfer
  std::size_t remaining_ = 0;
  sim::Time finish_;
  std::function<void()> when_finished_;
};

}  // namespace codesim::workloads
