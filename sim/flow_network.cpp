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

void FlowNetwork::on_complete(Simulator& sim, void* self, std::uint64_t slot) {
  auto& net = *static_cast<FlowNetwork*>(self);
  Flow& f = net.flows_[slot];
  if (f.transferring) {
    net.advance(f);
    // The completion time was rounded up to a picosecond; what is left is rounding.
    for (LinkId link : f.route) net.links_[link].bytes += f.remaining;
    net.system_.remove_variable(f.variable);
    net.request_solve();
  }
  f.in_use = false;
  f.transferring = false;
  f.rate = 0;
  --net.active_;
  net.free_slots_.push_back(std::uint32_t(slot));
  f.done(sim, f.ctx, f.tag);
}

void FlowNetwork::on_solve(Simulator& sim, void* self, std::uint64_t) {
  auto& net = *static_cast<FlowNetwork*>(self);
  net.solve_pending_ = false;
  net.system_.solve();
  ++net.solves_;
  for (MaxMinSystem::VariableId variable : net.system_.last_solved()) {
    Flow& f = net.flows_[net.flow_of_variable_[variable]];
    const double rate = net.system_.value(variable);
    if (rate == f.rate) continue;  // same rate, same completion time
    net.advance(f);
    f.rate = rate;
    sim.cancel(f.completion);
    if (rate > 0) {
      f.completion = sim.schedule_in(from_seconds_ceil(f.remaining / rate), &on_complete, self,
                                     net.flow_of_variable_[variable], Priority::kFlowCompletion);
    }
  }
}

}  // namespace codesim::sim
