#include "sim/flow_network.hpp"

#include <algorithm>
#include <stdexcept>

namespace codesim::sim {

FlowNetwork::FlowNetwork(Simulator& sim) : sim_(sim) {}

FlowNetwork::LinkId FlowNetwork::add_link(double bytes_per_second, Time latency) {
  if (!(bytes_per_second > 0)) throw std::invalid_argument("FlowNetwork: bandwidth must be > 0");
  if (latency < Time::zero()) throw std::invalid_argument("FlowNetwork: negative latency");
  links_.push_back({latency, 0.0, {}});
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
    progress_.emplace_back();
    if (flows_.size() > finish_width_) finish_grow();
  }
  Flow& f = flows_[slot];
  f.route = route;
  f.bytes = bytes;
  progress_[slot] = {bytes, 0.0, sim_.now()};
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
  return slot == kNoFlow ? 0.0 : progress_[slot].rate;
}

void FlowNetwork::request_solve() {
  if (solve_pending_) return;
  solve_pending_ = true;
  // After every start and finish of this instant, so that they share one solve.
  sim_.schedule_in(Time::zero(), &on_solve, this, 0, Priority::kFlowCompletion + 1);
}

double FlowNetwork::link_bytes(LinkId link) const {
  double bytes = links_.at(link).bytes;
  for (std::uint32_t slot : links_[link].flows) {
    const Progress& p = progress_[slot];
    const double since = std::min(p.remaining, p.rate * (sim_.now() - p.last_update).seconds());
    bytes += flows_[slot].bytes - p.remaining + since;
  }
  return bytes;
}

void FlowNetwork::advance(Progress& p) {
  const double sent = std::min(p.remaining, p.rate * (sim_.now() - p.last_update).seconds());
  p.remaining -= sent;
  p.last_update = sim_.now();
}

void FlowNetwork::on_activate(Simulator&, void* self, std::uint64_t slot) {
  auto& net = *static_cast<FlowNetwork*>(self);
  Flow& f = net.flows_[slot];
  f.variable = net.system_.add_variable(f.weight);
  for (LinkId link : f.route) {
    net.system_.expand(link, f.variable);
    net.links_[link].flows.push_back(std::uint32_t(slot));
  }
  if (net.flow_of_variable_.size() <= f.variable) net.flow_of_variable_.resize(f.variable + 1);
  net.flow_of_variable_[f.variable] = std::uint32_t(slot);
  f.transferring = true;
  net.progress_[slot].last_update = net.sim_.now();
  net.request_solve();
}

void FlowNetwork::on_complete(Simulator&, void* self, std::uint64_t slot) {
  static_cast<FlowNetwork*>(self)->complete(std::uint32_t(slot));
}

void FlowNetwork::complete(std::uint32_t slot) {
  Flow& f = flows_[slot];
  if (f.transferring) {
    // The completion time was rounded up to a picosecond: all bytes have arrived.
    for (LinkId link : f.route) {
      links_[link].bytes += f.bytes;
      auto& flows = links_[link].flows;
      *std::find(flows.begin(), flows.end(), slot) = flows.back();
      flows.pop_back();
    }
    system_.remove_variable(f.variable);
    request_solve();
  }
  f.in_use = false;
  f.transferring = false;
  progress_[slot].rate = 0;
  --active_;
  free_slots_.push_back(slot);
  f.done(sim_, f.ctx, f.tag);
}

void FlowNetwork::finish_grow() {
  while (finish_width_ < flows_.size()) finish_width_ *= 2;
  finish_keys_.resize(finish_width_);
  finish_tree_.assign(finish_width_, {});
  for (std::size_t node = finish_width_ - 1; node >= 1; --node) {
    if (2 * node >= finish_width_) {
      const auto left = std::uint32_t(2 * node - finish_width_);
      const std::uint32_t slot = finish_keys_[left + 1] < finish_keys_[left] ? left + 1 : left;
      finish_tree_[node] = {finish_keys_[slot], slot};
    } else {
      const FinishNode& left = finish_tree_[2 * node];
      const FinishNode& right = finish_tree_[2 * node + 1];
      finish_tree_[node] = right.key < left.key ? right : left;
    }
  }
}

void FlowNetwork::finish_set(std::uint32_t slot, FinishKey key) {
  finish_keys_[slot] = key;
  // The lowest inner level: its children are leaves, adjacent slots.
  std::size_t node = (finish_width_ + slot) / 2;
  const std::uint32_t left = slot & ~std::uint32_t{1};
  const std::uint32_t least = finish_keys_[left + 1] < finish_keys_[left] ? left + 1 : left;
  FinishNode& bottom = finish_tree_[node];
  const FinishKey& least_key = finish_keys_[least];
  if (bottom.slot == least && bottom.key.finish == least_key.finish &&
      bottom.key.order == least_key.order) {
    return;
  }
  bottom = {least_key, least};
  for (node /= 2; node >= 1; node /= 2) {
    const FinishNode& l = finish_tree_[2 * node];
    const FinishNode& r = finish_tree_[2 * node + 1];
    const FinishNode& winner = r.key < l.key ? r : l;
    FinishNode& current = finish_tree_[node];
    if (current.slot == winner.slot && current.key.finish == winner.key.finish &&
        current.key.order == winner.key.order) {
      return;
    }
    current = winner;
  }
}

void FlowNetwork::arm_finish_event() {
  // The event may wait at or before the earliest finish (a flow that slowed down leaves it
  // early: it then finds nothing due and re-arms), never after it.
  if (finish_top().key.order == kNotQueued) return;
  const Time earliest = finish_top().key.finish;
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
  for (;;) {
    const FinishNode& top = net.finish_top();
    if (top.key.order == kNotQueued || top.key.finish > sim.now()) break;
    const std::uint32_t slot = top.slot;
    net.finish_set(slot, {});
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
    Progress& p = net.progress_[slot];
    const double rate = net.system_.value(variable);
    if (rate == p.rate) continue;  // same rate, same completion time
    net.advance(p);
    p.rate = rate;
    if (rate > 0) {
      net.finish_set(slot, {sim.now() + from_seconds_ceil(p.remaining / rate), net.next_order_++});
    } else if (net.finish_keys_[slot].order != kNotQueued) {
      net.finish_set(slot, {});
    }
  }
  net.arm_finish_event();
}

}  // namespace codesim::sim
