#include "sim/flow_network.hpp"

#include <algorithm>
#include <stdexcept>

namespace codesim::sim {

FlowNetwork::FlowNetwork(Simulator& sim) : sim_(sim) {}

FlowNetwork::LinkId FlowNetwork::add_link(double bytes_per_second, Time latency) {
  if (!(bytes_per_second > 0)) throw std::invalid_argument("FlowNetwork: bandwidth must be > 0");
  if (latency < Time::zero()) throw std::invalid_argument("FlowNetwork: negative latency");
  links_.push_back({latency, 0.0});
  return system_.add_constraint(bytes_per_second);
}

Time FlowNetwork::route_latency(const std::vector<LinkId>& route) const {
  Time total = Time::zero();
  for (LinkId link : route) total = total + links_.at(link).latency;
  return total;
}

FlowNetwork::FlowId FlowNetwork::start_flow(const std::vector<LinkId>& route, double bytes,
                                            OnFlowDone done, void* ctx, std::uint64_t tag,
                                            double weight) {
  if (!(bytes >= 0)) throw std::invalid_argument("FlowNetwork: bytes must be >= 0");
  if (done == nullptr) throw std::invalid_argument("FlowNetwork: null completion handler");
  for (LinkId link : route) {
    if (link >= links_.size()) throw std::out_of_range("FlowNetwork: unknown link");
  }
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = std::uint32_t(flows_.size());
    flows_.emplace_back();
  }
  Flow& f = flows_[slot];
  f.route = route;
  f.remaining = bytes;
  f.rate = 0;
  f.done = done;
  f.ctx = ctx;
  f.tag = tag;
  f.weight = weight;
  f.transferring = false;
  f.in_use = true;
  ++f.generation;
  ++active_;
  const Time latency = route_latency(route);
  if (route.empty() || bytes == 0) {
    f.completion = sim_.schedule_in(latency, &on_complete, this, slot, Priority::kFlowCompletion);
  } else {
    sim_.schedule_in(latency, &on_activate, this, slot, Priority::kFlowCompletion);
  }
  return (FlowId{f.generation} << 32) | slot;
}

std::uint32_t FlowNetwork::slot_of(FlowId id) const {
  const auto slot = std::uint32_t(id & 0xffffffffu);
  if (slot >= flows_.size() || !flows_[slot].in_use || flows_[slot].generation != (id >> 32)) {
    return kNoFlow;
  }
  return slot;
}

double FlowNetwork::rate(FlowId id) const {
  const std::uint32_t slot = slot_of(id);
  return slot == kNoFlow ? 0.0 : flows_[slot].rate;
}

void FlowNetwork::request_solve() {
  if (solve_pending_) return;
  solve_pending_ = true;
  // After every start and finish of this instant, so that they share one solve.
  sim_.schedule_in(Time::zero(), &on_solve, this, 0, Priority::kFlowCompletion + 1);
}

void FlowNetwork::advance(Flow& f) {
  const double sent = std::min(f.remaining, f.rate * (sim_.now() - f.last_update).seconds());
  f.remaining -= sent;
  for (LinkId link : f.route) links_[link].bytes += sent;
  f.last_update = sim_.now();
}

void FlowNetwork::on_activate(Simulator&, void* self, std::uint64_t slot) {
  auto& net = *static_cast<FlowNetwork*>(self);
  Flow& f = net.flows_[slot];
  f.variable = net.system_.add_variable(f.weight);
  for (LinkId link : f.route) net.system_.expand(link, f.variable);
  if (net.flow_of_variable_.size() <= f.variable) net.flow_of_variable_.resize(f.variable + 1);
  net.flow_of_variable_[f.variable] = std::uint32_t(slot);
  f.transferring = true;
  f.last_update = net.sim_.now();
  net.request_solve();
}

void FlowNetwork::on_complete(Simulator&, void* self, std::uint64_t slot) {
  static_cast<FlowNetwork*>(self)->complete(std::uint32_t(slot));
}

void FlowNetwork::complete(std::uint32_t slot) {
  Flow& f = flows_[slot];
  if (f.transferring) {
    advance(f);
    // The completion time was rounded up to a picosecond; what is left is rounding.
    for (LinkId link : f.route) links_[link].bytes += f.remaining;
    system_.remove_variable(f.variable);
    request_solve();
  }
  f.in_use = false;
  f.transferring = false;
  f.rate = 0;
  --active_;
  free_slots_.push_back(slot);
  f.done(sim_, f.ctx, f.tag);
}

bool FlowNetwork::finish_before(std::uint32_t a, std::uint32_t b) const {
  const Flow& x = flows_[a];
  const Flow& y = flows_[b];
  return x.finish < y.finish || (x.finish == y.finish && x.order < y.order);
}

void FlowNetwork::heap_place(std::size_t i, std::uint32_t slot) {
  finish_heap_[i] = slot;
  flows_[slot].heap_slot = std::uint32_t(i);
}

void FlowNetwork::heap_sift_up(std::size_t i) {
  const std::uint32_t slot = finish_heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!finish_before(slot, finish_heap_[parent])) break;
    heap_place(i, finish_heap_[parent]);
    i = parent;
  }
  heap_place(i, slot);
}

void FlowNetwork::heap_sift_down(std::size_t i) {
  const std::uint32_t slot = finish_heap_[i];
  const std::size_t n = finish_heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && finish_before(finish_heap_[child + 1], finish_heap_[child])) ++child;
    if (!finish_before(finish_heap_[child], slot)) break;
    heap_place(i, finish_heap_[child]);
    i = child;
  }
  heap_place(i, slot);
}

void FlowNetwork::heap_update(std::uint32_t slot) {
  Flow& f = flows_[slot];
  if (f.heap_slot == kNotQueued) {
    finish_heap_.push_back(slot);
    f.heap_slot = std::uint32_t(finish_heap_.size() - 1);
    heap_sift_up(f.heap_slot);
    return;
  }
  const std::size_t i = f.heap_slot;
  heap_sift_up(i);
  if (flows_[slot].heap_slot == i) heap_sift_down(i);
}

void FlowNetwork::heap_remove(std::uint32_t slot) {
  Flow& f = flows_[slot];
  if (f.heap_slot == kNotQueued) return;
  const std::size_t i = f.heap_slot;
  f.heap_slot = kNotQueued;
  const std::uint32_t last = finish_heap_.back();
  finish_heap_.pop_back();
  if (last == slot) return;
  heap_place(i, last);
  heap_sift_up(i);
  if (flows_[last].heap_slot == i) heap_sift_down(i);
}

void FlowNetwork::arm_finish_event() {
  // The event may wait at or before the earliest finish (a flow that slowed down leaves it
  // early: it then finds nothing due and re-arms), never after it.
  if (finish_heap_.empty()) return;
  const Time earliest = flows_[finish_heap_[0]].finish;
  if (finish_event_pending_) {
    if (finish_event_time_ <= earliest) return;
    sim_.cancel(finish_event_);
  }
  finish_event_ = sim_.schedule_at(earliest, &on_finish_due, this, 0, Priority::kFlowCompletion);
  finish_event_time_ = earliest;
  finish_event_pending_ = true;
}

void FlowNetwork::on_finish_due(Simulator& sim, void* self, std::uint64_t) {
  auto& net = *static_cast<FlowNetwork*>(self);
  net.finish_event_pending_ = false;
  while (!net.finish_heap_.empty()) {
    const std::uint32_t slot = net.finish_heap_[0];
    if (net.flows_[slot].finish > sim.now()) break;
    net.heap_remove(slot);
    net.complete(slot);
  }
  net.arm_finish_event();
}

void FlowNetwork::on_solve(Simulator& sim, void* self, std::uint64_t) {
  auto& net = *static_cast<FlowNetwork*>(self);
  net.solve_pending_ = false;
  net.system_.solve();
  ++net.solves_;
  for (MaxMinSystem::VariableId variable : net.system_.last_solved()) {
    const std::uint32_t slot = net.flow_of_variable_[variable];
    Flow& f = net.flows_[slot];
    const double rate = net.system_.value(variable);
    if (rate == f.rate) continue;  // same rate, same completion time
    net.advance(f);
    f.rate = rate;
    if (rate > 0) {
      f.finish = sim.now() + from_seconds_ceil(f.remaining / rate);
      f.order = net.next_order_++;
      net.heap_update(slot);
    } else {
      net.heap_remove(slot);
    }
  }
  net.arm_finish_event();
}

}  // namespace codesim::sim
