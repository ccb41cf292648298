#pragma once
// Flows over routes of links, sharing bandwidth by max-min fairness (a fluid model). A flow
// waits out its route's latency, then transfers its bytes at the rate the MaxMinSystem gives
// it; every start and finish re-solves only the flows that share links with it. The network keeps
// the transferring flows' projected finishes itself and holds one simulator event for the
// earliest; flows due at one instant complete in the order their finishes were projected. Knows
// links and routes, nothing of topology.

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
  double link_bytes(LinkId link) const { return links_[link].bytes; }  // carried so far
  std::uint64_t solves() const { return solves_; }

 private:
  struct Link {
    Time latency;
    double bytes = 0;
  };
  static constexpr std::uint32_t kNotQueued = ~std::uint32_t{0};
  struct Flow {
    std::vector<LinkId> route;
    double remaining = 0;
    double rate = 0;
    Time last_update;
    EventId completion;       // a zero-byte or local flow's own completion event
    Time finish;              // projected finish while transferring at a positive rate
    std::uint64_t order = 0;  // ties on `finish`: earlier projection first
    std::uint32_t heap_slot = kNotQueued;
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
  // Projected finishes of the transferring flows, a binary min-heap on (finish, order) whose
  // flows know their positions; one simulator event waits for its top.
  bool finish_before(std::uint32_t a, std::uint32_t b) const;
  void heap_place(std::size_t i, std::uint32_t slot);
  void heap_sift_up(std::size_t i);
  void heap_sift_down(std::size_t i);
  void heap_update(std::uint32_t slot);  // after its finish or order changed, or to insert
  void heap_remove(std::uint32_t slot);
  void arm_finish_event();
  void request_solve();
  void advance(Flow& flow);  // account for bytes sent since the last update
  std::uint32_t slot_of(FlowId id) const;

  Simulator& sim_;
  MaxMinSystem system_;
  std::vector<Link> links_;
  std::vector<Flow> flows_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::uint32_t> flow_of_variable_;
  std::size_t active_ = 0;
  std::uint64_t solves_ = 0;
  bool solve_pending_ = false;
  std::vector<std::uint32_t> finish_heap_;
  std::uint64_t next_order_ = 0;
  EventId finish_event_;
  Time finish_event_time_;
  bool finish_event_pending_ = false;
};

}  // namespace codesim::sim
