#pragma once
// Flows over routes of links, sharing bandwidth by max-min fairness (a fluid model). A flow
// waits out its route's latency, then transfers its bytes at the rate the MaxMinSystem gives
// it; every start and finish re-solves only the flows that share links with it. The network keeps
// the transferring flows' projected finishes itself, in a tournament tree over the flow slots,
// and holds one simulator event for the earliest; flows due at one instant complete in the order
// their finishes were projected. Knows links and routes, nothing of topology.

#include <cstdint>
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
  Time route_latency(const std::vector<LinkId>& route) const;

  // Starts sending `bytes` over `route` now; `done(sim, ctx, tag)` runs when they have arrived.
  // An empty route is a local copy: it completes after no time at no rate limit.
  FlowId start_flow(const std::vector<LinkId>& route, double bytes, OnFlowDone done, void* ctx,
                    std::uint64_t tag = 0, double weight = 1.0);

  double rate(FlowId flow) const;  // bytes per second now; 0 while in its latency phase
  std::size_t active_flows() const { return active_; }
  // Carried so far: a transferring flow counts what it has sent by now.
  double link_bytes(LinkId link) const;
  std::uint64_t solves() const { return solves_; }

 private:
  struct Link {
    Time latency;
    double bytes = 0;                  // of the flows done
    std::vector<std::uint32_t> flows;  // the transferring flows over it (slots)
  };
  // What a rate change reads and writes, per flow slot apart from the rest of the flow: the
  // changes of a solve touch 32 bytes a flow, not its route and handlers.
  struct alignas(32) Progress {
    double remaining = 0;
    double rate = 0;
    Time last_update;
  };
  struct Flow {
    std::vector<LinkId> route;
    double bytes = 0;
    EventId completion;  // a zero-byte or local flow's own completion event
    OnFlowDone done = nullptr;
    void* ctx = nullptr;
    std::uint64_t tag = 0;
    double weight = 1;
    MaxMinSystem::VariableId variable = 0;
    std::uint32_t generation = 0;
    bool transferring = false;
    bool in_use = false;
  };
  static constexpr std::uint32_t kNoFlow = ~std::uint32_t{0};

  static void on_activate(Simulator& sim, void* self, std::uint64_t slot);
  static void on_complete(Simulator& sim, void* self, std::uint64_t slot);
  static void on_solve(Simulator& sim, void* self, std::uint64_t);
  static void on_finish_due(Simulator& sim, void* self, std::uint64_t);
  void complete(std::uint32_t slot);
  // Projected finishes of the transferring flows, keyed (finish, order) by flow slot, in a
  // tournament tree: the keys are its leaves (slot s is leaf width + s), inner node i
  // (1 <= i < width) holds the least key below it, with its slot, computed from its children
  // 2i and 2i + 1, which sit side by side. Setting a slot's key recomputes the nodes above its
  // leaf and stops at the first that comes out unchanged. One simulator event waits for the
  // root's finish.
  static constexpr std::uint64_t kNotQueued = ~std::uint64_t{0};
  struct FinishKey {
    Time finish = Time::max();
    std::uint64_t order = kNotQueued;  // ties on `finish`: earlier projection first
    friend bool operator<(const FinishKey& x, const FinishKey& y) {
      return x.finish < y.finish || (x.finish == y.finish && x.order < y.order);
    }
  };
  struct alignas(32) FinishNode {
    FinishKey key;
    std::uint32_t slot = 0;
  };
  void finish_set(std::uint32_t slot, FinishKey key);  // FinishKey{} dequeues
  const FinishNode& finish_top() const { return finish_tree_[1]; }
  void finish_grow();  // to a width of at least flows_.size()
  void arm_finish_event();
  void request_solve();
  void advance(Progress& progress);  // account for bytes sent since the last update
  std::uint32_t slot_of(FlowId id) const;

  Simulator& sim_;
  MaxMinSystem system_;
  std::vector<Link> links_;
  std::vector<Flow> flows_;
  std::vector<Progress> progress_;  // per slot
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::uint32_t> flow_of_variable_;
  std::size_t active_ = 0;
  std::uint64_t solves_ = 0;
  bool solve_pending_ = false;
  std::size_t finish_width_ = 2;
  std::vector<FinishKey> finish_keys_ = std::vector<FinishKey>(2);    // per slot
  std::vector<FinishNode> finish_tree_ = std::vector<FinishNode>(2);  // [0] unused
  std::uint64_t next_order_ = 0;
  EventId finish_event_;
  Time finish_event_time_;
  bool finish_event_pending_ = false;
};

}  // namespace codesim::sim
