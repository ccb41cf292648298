#pragma once
// Flows over routes of links, sharing bandwidth by max-min fairness (a fluid model). A flow
// waits out its route's latency, then transfers its bytes at the rate the MaxMinSystem gives
// it; every start and finish re-solves only the flows that share links with it. The network keeps
// the transferring flows' projected finishes itself, in a 4-ary tournament tree over the flow
// slots, and holds one simulator event for the earliest; flows due at one instant complete in
// the order their finishes were projected. Knows links and routes, nothing of topology.
//
// Per-flow costs are kept small for workloads of many small flows started together (an
// all-to-all): a route is copied into a pooled arena, not a vector of its own; flows whose
// latency phases end at one instant start transferring in one simulator event (an activation
// batch), in the order they were started; the flows due at one instant leave the finish tree
// in one pass; a finish only logs its route and bytes for the links' totals (folded in when
// link_bytes() asks, in finishing order) and tells the solver. Which flows cross a link is
// worked out only when link_bytes() asks, from the routes of the flows in transfer. Slots are
// reused lowest first, so that the flows of one all-to-all sit together in every per-slot array.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

#include "sim/maxmin.hpp"
#include "sim/simulator.hpp"

namespace codesim::sim {
class FlowNetwork {
 public:
  using LinkId = MaxMinSystem::ConstraintId;
  using FlowId = std::uint64_t;  // unique for the network's life
  // Called when a flow's last byte has arrived; may start new flows.
  using OnFlowDone = void (*)(Simulator& sim, void* ctx, std::uint64_t tag);

  explicit FlowNetwork(Simulator& sim);
  FlowNetwork(const FlowNetwork&) = delete;
  FlowNetwork& operator=(const FlowNetwork&) = delete;

  LinkId add_link(double bytes_per_second, Time latency);
  std::size_t link_count() const { return links_.size(); }
  Time route_latency(std::span<const LinkId> route) const;

  // Starts sending `bytes` over `route` now; `done(sim, ctx, tag)` runs when they have arrived.
  // An empty route is a local copy: it completes after no time at no rate limit. The route is
  // copied: the caller's storage may change at once.
  FlowId start_flow(std::span<const LinkId> route, double bytes, OnFlowDone done, void* ctx,
                    std::uint64_t tag = 0, double weight = 1.0);
  FlowId start_flow(std::initializer_list<LinkId> route, double bytes, OnFlowDone done, void* ctx,
                    std::uint64_t tag = 0, double weight = 1.0) {
    return start_flow(std::span<const LinkId>(route.begin(), route.size()), bytes, done, ctx, tag,
                      weight);
  }

  double rate(FlowId flow) const;  // bytes per second now; 0 while in its latency phase
  std::size_t active_flows() const { return active_; }
  // Carried so far: a transferring flow counts what it has sent by now.
  double link_bytes(LinkId link) const;
  std::uint64_t solves() const { return solves_; }
  std::uint64_t flows_started() const { return flows_started_; }
  const MaxMinSystem::Stats& solver_stats() const { return system_.stats(); }
  // Simulator events spent on latency phases: one per activation batch.
  std::uint64_t activation_events() const { return activation_events_; }

 private:
  struct Link {
    Time latency;
    double bytes = 0;  // of the flows done, as of the last fold_done()
  };
  // What a rate change reads and writes, per flow slot apart from the rest of the flow: the
  // changes of a solve touch 32 bytes a flow, not its route and handlers. Progress is reckoned
  // in picoseconds: bytes sent are rate_per_ps * elapsed picoseconds, and the time left is
  // remaining / rate_per_ps picoseconds, one division.
  struct alignas(32) Progress {
    double remaining = 0;
    double rate = 0;  // bytes per second
    Time last_update;
    double rate_per_ps = 0;  // rate * 1e-12
  };
  static constexpr double kSecondsPerPicosecond = 1e-12;
  struct Flow {
    double bytes = 0;
    OnFlowDone done = nullptr;
    void* ctx = nullptr;
    std::uint64_t tag = 0;
    double weight = 1;
    std::uint32_t route_offset = 0;    // in route_arena_
    std::uint32_t route_size = 0;      // links
    std::uint32_t route_capacity = 0;  // of its arena block: 0 or a power of two
    MaxMinSystem::VariableId variable = 0;
    std::uint32_t generation = 0;
    bool transferring = false;
    bool in_use = false;
  };
  // Flows whose latency phases end at one instant, started at one instant: one simulator event
  // activates them all, in the order they were started.
  struct Activation {
    Time time;
    std::vector<std::uint32_t> slots;
  };
  static constexpr std::uint32_t kNoFlow = ~std::uint32_t{0};
  // Open activation batches searched for one that ends at a new flow's instant.
  static constexpr std::size_t kOpenBatchesSearched = 8;

  static void on_activate(Simulator& sim, void* self, std::uint64_t batch);
  static void on_complete(Simulator& sim, void* self, std::uint64_t slot);
  static void on_solve(Simulator& sim, void* self, std::uint64_t);
  static void on_finish_due(Simulator& sim, void* self, std::uint64_t);
  void complete(std::uint32_t slot);
  void queue_activation(std::uint32_t slot, Time at);
  // Stores a flow's route in its block of the arena, taking a larger block when it does not fit.
  void store_route(Flow& flow, std::span<const LinkId> route);
  std::span<const LinkId> route_of(const Flow& flow) const {
    return {route_arena_.data() + flow.route_offset, flow.route_size};
  }
  void build_link_index() const;
  void fold_done() const;
  // Projected finishes of the transferring flows, keyed (finish, order) by flow slot, in a
  // 4-ary tournament tree: node 0 is the root, the children of node n are 4n + 1 .. 4n + 4 (one
  // cache line of keys), the leaves are the slots' keys (slot s is node internal + s, the
  // internal nodes being the first (width - 1) / 3), and an internal node holds the least key
  // below it. A solve writes the keys of the flows whose rates changed, then recomputes the nodes
  // above them level by level, each once; the flows due at an instant leave in one descent.
  // One simulator event waits for the root's finish.
  static constexpr std::uint64_t kNotQueued = ~std::uint64_t{0};
  struct alignas(16) FinishKey {
    Time finish = Time::max();
    std::uint64_t order = kNotQueued;  // ties on `finish`: earlier projection first
    friend bool operator<(const FinishKey& x, const FinishKey& y) {
      return x.finish < y.finish || (x.finish == y.finish && x.order < y.order);
    }
    friend bool operator==(const FinishKey&, const FinishKey&) = default;
  };
  // x < y without branches: which of two keys is less is anyone's guess.
  static bool key_less(const FinishKey& x, const FinishKey& y) {
    const std::int64_t xf = x.finish.ps(), yf = y.finish.ps();
    return (xf < yf) | ((xf == yf) & (x.order < y.order));
  }
  // The least key of a sibling group (distinct keys, but for the empty ones), the leftmost on
  // ties.
  static FinishKey least_of_four(const FinishKey* child) {
    const int a = int(key_less(child[1], child[0]));
    const int b = 2 + int(key_less(child[3], child[2]));
    return child[key_less(child[b], child[a]) ? b : a];
  }
  struct DueFlow {
    FinishKey key;
    std::uint32_t slot;
  };
  // Writes a slot's key (FinishKey{} dequeues); finish_refresh() then brings the nodes above
  // the leaves written up to date, all at once.
  void finish_write(std::uint32_t slot, FinishKey key);
  void finish_refresh();
  static bool is_due(const FinishKey& key, Time now) {
    return key.order != kNotQueued && key.finish <= now;
  }
  // Dequeues the flows due by `now` below `node` (whose key is due) into due_.
  void take_due_below(std::size_t node, Time now);
  const FinishKey& finish_top() const { return finish_nodes_[0]; }
  const FinishKey& finish_key(std::uint32_t slot) const {
    return finish_nodes_[finish_internal_ + slot];
  }
  void finish_grow();  // to a width of at least flows_.size()
  void arm_finish_event();
  void request_solve();
  void advance(Progress& progress);  // account for bytes sent since the last update
  std::uint32_t slot_of(FlowId id) const;

  Simulator& sim_;
  MaxMinSystem system_;
  mutable std::vector<Link> links_;
  // The routes and bytes of the flows done since the links' totals were last brought up to
  // date; folded into them when link_bytes() asks or kFoldEvery links have piled up.
  struct Done {
    double bytes;
    std::uint32_t links;
  };
  static constexpr std::size_t kFoldEvery = std::size_t{1} << 16;
  mutable std::vector<LinkId> done_links_;
  mutable std::vector<Done> done_log_;
  std::vector<Flow> flows_;
  std::vector<Progress> progress_;    // per slot
  detail::LowestFreeIds free_slots_;  // the lowest first: flows started together sit together
  std::vector<std::uint32_t> flow_of_variable_;
  // Routes: each flow owns a block of a power-of-two size; freed blocks by size (log2).
  std::vector<LinkId> route_arena_;
  std::vector<std::vector<std::uint32_t>> free_route_blocks_;
  // Activation batches by id (the events' payload); those opened at open_time_ may still grow.
  std::vector<Activation> activations_;
  std::vector<std::uint32_t> free_activations_;
  std::vector<std::uint32_t> open_activations_;
  Time open_time_;
  std::uint64_t activation_events_ = 0;
  // link_bytes(): the transferring flows by link (CSR), rebuilt when flows started or finished.
  mutable std::vector<std::uint32_t> link_index_begin_;
  mutable std::vector<std::uint32_t> link_index_slots_;
  mutable bool link_index_fresh_ = false;
  std::size_t active_ = 0;
  std::uint64_t solves_ = 0;
  std::uint64_t flows_started_ = 0;
  bool solve_pending_ = false;
  std::size_t finish_width_ = 0;     // leaves: a power of 4
  std::size_t finish_internal_ = 0;  // internal nodes
  std::vector<FinishKey> finish_storage_ = std::vector<FinishKey>(4);
  FinishKey* finish_nodes_ = finish_storage_.data();  // into finish_storage_, aligned
  std::uint64_t next_order_ = 0;
  std::vector<DueFlow> due_;                 // scratch of on_finish_due
  std::vector<std::uint32_t> finish_dirty_;  // nodes to recompute, one level of the tree
  std::vector<std::uint32_t> finish_dirty_next_;
  EventId finish_event_;
  Time finish_event_time_;
  bool finish_event_pending_ = false;
};

}  // namespace codesim::sim
