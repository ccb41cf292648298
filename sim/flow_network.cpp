#include "sim/flow_network.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <stdexcept>

namespace codesim::sim {

FlowNetwork::FlowNetwork(Simulator& sim) : sim_(sim) {}

FlowNetwork::LinkId FlowNetwork::add_link(double bytes_per_second, Time latency) {
  if (!(bytes_per_second > 0)) throw std::invalid_argument("FlowNetwork: bandwidth must be > 0");
  if (latency < Time::zero()) throw std::invalid_argument("FlowNetwork: negative latency");
  links_.push_back({latency, 0.0});
  link_index_fresh_ = false;
  return system_.add_constraint(bytes_per_second);
}

Time FlowNetwork::route_latency(std::span<const LinkId> route) const {
  Time total = Time::zero();
  for (LinkId link : route) total = total + links_.at(link).latency;
  return total;
}

void FlowNetwork::store_route(Flow& f, std::span<const LinkId> route) {
  const auto size = std::uint32_t(route.size());
  if (size > f.route_capacity) {
    if (f.route_capacity > 0) {
      free_route_blocks_[std::size_t(std::countr_zero(f.route_capacity))].push_back(f.route_offset);
    }
    const std::uint32_t capacity = std::bit_ceil(size);
    const auto log2 = std::size_t(std::countr_zero(capacity));
    if (free_route_blocks_.size() <= log2) free_route_blocks_.resize(log2 + 1);
    auto& free = free_route_blocks_[log2];
    if (!free.empty()) {
      f.route_offset = free.back();
      free.pop_back();
    } else {
      f.route_offset = std::uint32_t(route_arena_.size());
      route_arena_.resize(route_arena_.size() + capacity);
    }
    f.route_capacity = capacity;
  }
  std::copy(route.begin(), route.end(), route_arena_.begin() + f.route_offset);
  f.route_size = size;
}

FlowNetwork::FlowId FlowNetwork::start_flow(std::span<const LinkId> route, double bytes,
                                            OnFlowDone done, void* ctx, std::uint64_t tag,
                                            double weight) {
  if (!(bytes >= 0)) throw std::invalid_argument("FlowNetwork: bytes must be >= 0");
  if (done == nullptr) throw std::invalid_argument("FlowNetwork: null completion handler");
  ++flows_started_;
  Time latency = Time::zero();
  for (LinkId link : route) {
    if (link >= links_.size()) throw std::out_of_range("FlowNetwork: unknown link");
    latency = latency + links_[link].latency;
  }
  const Time at = sim_.now() + latency;
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.take_lowest();
  } else {
    slot = std::uint32_t(flows_.size());
    flows_.emplace_back();
    progress_.emplace_back();
    if (flows_.size() > finish_width_) finish_grow();
  }
  Flow& f = flows_[slot];
  store_route(f, route);
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
  if (route.empty() || bytes == 0) {
    sim_.schedule_at(at, &on_complete, this, slot, Priority::kFlowCompletion);
  } else {
    queue_activation(slot, at);
  }
  return (FlowId{f.generation} << 32) | slot;
}

void FlowNetwork::queue_activation(std::uint32_t slot, Time at) {
  if (open_time_ != sim_.now()) {
    // Batches opened at an earlier instant end at other instants than the ones opened now
    // would, unless their latencies differ by as much: they are not searched.
    open_activations_.clear();
    open_time_ = sim_.now();
  }
  const std::size_t searched = std::min(open_activations_.size(), kOpenBatchesSearched);
  for (std::size_t i = open_activations_.size(); i > open_activations_.size() - searched; --i) {
    Activation& batch = activations_[open_activations_[i - 1]];
    if (batch.time == at) {
      batch.slots.push_back(slot);
      return;
    }
  }
  std::uint32_t id;
  if (!free_activations_.empty()) {
    id = free_activations_.back();
    free_activations_.pop_back();
  } else {
    id = std::uint32_t(activations_.size());
    activations_.emplace_back();
  }
  Activation& batch = activations_[id];
  batch.time = at;
  batch.slots.push_back(slot);
  sim_.schedule_at(at, &on_activate, this, id, Priority::kFlowCompletion);
  open_activations_.push_back(id);
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

void FlowNetwork::build_link_index() const {
  link_index_begin_.assign(links_.size() + 1, 0);
  for (std::size_t slot = 0; slot < flows_.size(); ++slot) {
    if (!flows_[slot].transferring) continue;
    for (LinkId link : route_of(flows_[slot])) ++link_index_begin_[link + 1];
  }
  for (std::size_t link = 0; link < links_.size(); ++link) {
    link_index_begin_[link + 1] += link_index_begin_[link];
  }
  link_index_slots_.resize(link_index_begin_.back());
  std::vector<std::uint32_t> next(link_index_begin_.begin(), link_index_begin_.end() - 1);
  for (std::size_t slot = 0; slot < flows_.size(); ++slot) {
    if (!flows_[slot].transferring) continue;
    for (LinkId link : route_of(flows_[slot]))
      link_index_slots_[next[link]++] = std::uint32_t(slot);
  }
  link_index_fresh_ = true;
}

void FlowNetwork::fold_done() const {
  const LinkId* link = done_links_.data();
  for (const Done& done : done_log_) {
    for (const LinkId* end = link + done.links; link != end; ++link)
      links_[*link].bytes += done.bytes;
  }
  done_links_.clear();
  done_log_.clear();
}

double FlowNetwork::link_bytes(LinkId link) const {
  if (!done_log_.empty()) fold_done();
  double bytes = links_.at(link).bytes;
  if (!link_index_fresh_) build_link_index();
  for (std::uint32_t i = link_index_begin_[link]; i < link_index_begin_[link + 1]; ++i) {
    const std::uint32_t slot = link_index_slots_[i];
    const Progress& p = progress_[slot];
    const double since =
        std::min(p.remaining, p.rate_per_ps * double((sim_.now() - p.last_update).ps()));
    bytes += flows_[slot].bytes - p.remaining + since;
  }
  return bytes;
}

void FlowNetwork::advance(Progress& p) {
  const double sent =
      std::min(p.remaining, p.rate_per_ps * double((sim_.now() - p.last_update).ps()));
  p.remaining -= sent;
  p.last_update = sim_.now();
}

void FlowNetwork::on_activate(Simulator& sim, void* self, std::uint64_t id) {
  auto& net = *static_cast<FlowNetwork*>(self);
  ++net.activation_events_;
  Activation& batch = net.activations_[id];
  if (net.open_time_ == sim.now()) {
    // A batch of zero latency ends at the instant it was opened: closed now, not searched.
    std::erase(net.open_activations_, std::uint32_t(id));
  }
  for (std::uint32_t slot : batch.slots) {
    Flow& f = net.flows_[slot];
    f.variable = net.system_.add_variable(net.route_of(f), f.weight);
    if (net.flow_of_variable_.size() <= f.variable) net.flow_of_variable_.resize(f.variable + 1);
    net.flow_of_variable_[f.variable] = slot;
    f.transferring = true;
    net.progress_[slot].last_update = sim.now();
  }
  batch.slots.clear();
  net.free_activations_.push_back(std::uint32_t(id));
  net.link_index_fresh_ = false;
  net.request_solve();
}

void FlowNetwork::on_complete(Simulator&, void* self, std::uint64_t slot) {
  static_cast<FlowNetwork*>(self)->complete(std::uint32_t(slot));
}

void FlowNetwork::complete(std::uint32_t slot) {
  Flow& f = flows_[slot];
  if (f.transferring) {
    // The completion time was rounded up to a picosecond: all bytes have arrived.
    // Its bytes reach its links' totals later, in the order the flows finished (see
    // fold_done()): here they are only logged, sequentially.
    const std::span<const LinkId> route = route_of(f);
    done_links_.insert(done_links_.end(), route.begin(), route.end());
    done_log_.push_back({f.bytes, f.route_size});
    if (done_links_.size() >= kFoldEvery) fold_done();
    system_.remove_variable(f.variable);
    link_index_fresh_ = false;
    request_solve();
  }
  f.in_use = false;
  f.transferring = false;
  progress_[slot].rate = 0;
  progress_[slot].rate_per_ps = 0;
  --active_;
  free_slots_.release(slot);
  f.done(sim_, f.ctx, f.tag);
}

void FlowNetwork::finish_grow() {
  std::size_t width = 4;
  while (width < flows_.size()) width *= 4;
  const std::size_t internal = (width - 1) / 3;
  std::vector<FinishKey> storage(internal + width + 4);
  // Sibling groups 4p + 1 .. 4p + 4 each in one cache line.
  const auto address = reinterpret_cast<std::uintptr_t>(storage.data());
  const std::size_t pad = (4 - (address / sizeof(FinishKey) + 1) % 4) % 4;
  FinishKey* const nodes = storage.data() + pad;
  for (std::size_t slot = 0; slot < finish_width_; ++slot) {
    nodes[internal + slot] = finish_nodes_[finish_internal_ + slot];
  }
  for (std::size_t node = internal; node-- > 0;) {
    nodes[node] = least_of_four(nodes + 4 * node + 1);
  }
  finish_storage_.swap(storage);
  finish_nodes_ = nodes;
  finish_dirty_.clear();  // every node is up to date
  finish_width_ = width;
  finish_internal_ = internal;
}

void FlowNetwork::finish_write(std::uint32_t slot, FinishKey key) {
  const std::size_t leaf = finish_internal_ + slot;
  finish_nodes_[leaf] = key;
  const auto parent = std::uint32_t((leaf - 1) / 4);
  if (finish_dirty_.empty() || finish_dirty_.back() != parent) finish_dirty_.push_back(parent);
}

void FlowNetwork::finish_refresh() {
  // Level by level from the parents of the leaves written (all leaves are at one depth): a node
  // is recomputed after every child below it, and one that comes out unchanged asks nothing of
  // its parent. A solve writes many leaves near one another (a component's flows): their
  // shared ancestors are recomputed once, not once per leaf.
  // Without branches: whether a node changes is anyone's guess.
  FinishKey* const nodes = finish_nodes_;
  while (!finish_dirty_.empty()) {
    finish_dirty_next_.resize(finish_dirty_.size());
    std::uint32_t* const next = finish_dirty_next_.data();
    std::size_t count = 0;
    std::uint32_t last = kNoFlow;
    for (std::uint32_t node : finish_dirty_) {
      const FinishKey least = least_of_four(nodes + 4 * std::size_t(node) + 1);
      const bool changed = key_less(least, nodes[node]) | key_less(nodes[node], least);
      nodes[node] = least;
      const std::uint32_t parent = (node - 1) / 4;  // the root's is never kept
      const bool keep = changed & (parent != last) & (node != 0);
      next[count] = parent;
      count += std::size_t{keep};
      last = keep ? parent : last;
    }
    finish_dirty_next_.resize(count);
    finish_dirty_.swap(finish_dirty_next_);
  }
}

void FlowNetwork::arm_finish_event() {
  // The event may wait at or before the earliest finish (a flow that slowed down leaves it
  // early: it then finds nothing due and re-arms), never after it.
  if (finish_top().order == kNotQueued) return;
  const Time earliest = finish_top().finish;
  if (finish_event_pending_) {
    if (finish_event_time_ <= earliest) return;
    sim_.cancel(finish_event_);
  }
  finish_event_ = sim_.schedule_at(earliest, &on_finish_due, this, 0, Priority::kFlowCompletion);
  finish_event_time_ = earliest;
  finish_event_pending_ = true;
}

void FlowNetwork::take_due_below(std::size_t node, Time now) {
  // Depth first into the children whose least key is due; each node visited is recomputed on
  // the way back, once, after all the due leaves below it were emptied.
  FinishKey* const nodes = finish_nodes_;
  const std::size_t first = 4 * node + 1;
  if (first >= finish_internal_) {
    for (std::size_t child = first; child < first + 4; ++child) {
      if (!is_due(nodes[child], now)) continue;
      due_.push_back({nodes[child], std::uint32_t(child - finish_internal_)});
      nodes[child] = {};
    }
  } else {
    for (std::size_t child = first; child < first + 4; ++child) {
      if (is_due(nodes[child], now)) take_due_below(child, now);
    }
  }
  nodes[node] = least_of_four(nodes + first);
}

void FlowNetwork::on_finish_due(Simulator& sim, void* self, std::uint64_t) {
  auto& net = *static_cast<FlowNetwork*>(self);
  net.finish_event_pending_ = false;
  // Every flow due now leaves the tree at once (an all-to-all's flows often finish together),
  // then they complete in the order their finishes were projected. Completions only start
  // flows, which reach the tree at the next solve.
  net.due_.clear();
  if (is_due(net.finish_top(), sim.now())) net.take_due_below(0, sim.now());
  std::vector<DueFlow> due;
  due.swap(net.due_);
  if (due.size() > 1) {
    std::sort(due.begin(), due.end(),
              [](const DueFlow& x, const DueFlow& y) { return x.key < y.key; });
  }
  for (const DueFlow& flow : due) net.complete(flow.slot);
  due.clear();
  if (net.due_.capacity() < due.capacity()) net.due_.swap(due);
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
    p.rate_per_ps = rate * kSecondsPerPicosecond;
    if (rate > 0) {
      net.finish_write(slot, {sim.now() + from_picoseconds_ceil(p.remaining / p.rate_per_ps),
                              net.next_order_++});
    } else if (net.finish_key(slot).order != kNotQueued) {
      net.finish_write(slot, {});
    }
  }
  net.finish_refresh();
  net.arm_finish_event();
}

}  // namespace codesim::sim
