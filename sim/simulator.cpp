#include "sim/simulator.hpp"

#include <string>

namespace codesim::sim {

Simulator::~Simulator() {
  for (const auto& entry : owned_) delete entry.second;
}

bool Simulator::cancel(EventId id) {
  if (!queue_.cancel(id)) return false;
  if (!owned_.empty()) [[unlikely]] {
    const auto it = owned_.find(id.value());
    if (it != owned_.end()) {
      delete it->second;
      owned_.erase(it);
    }
  }
  return true;
}

EventId Simulator::schedule_owned(Time time, std::unique_ptr<detail::OwnedCallable> callable,
                                  int priority) {
  owned_.reserve(owned_.size() + 1);  // so that the emplace below cannot throw
  const EventId id = queue_.schedule(time, priority, &call_owned, callable.get(), 0);
  callable->id = id;
  owned_.emplace(id.value(), callable.release());
  return id;
}

void Simulator::call_owned(Simulator& sim, void* ctx, std::uint64_t /*payload*/) {
  // Owned by the event: destroyed after the call, also when the call throws.
  const std::unique_ptr<detail::OwnedCallable> callable(static_cast<detail::OwnedCallable*>(ctx));
  sim.owned_.erase(callable->id.value());
  callable->invoke(sim);
}

void Simulator::throw_past(Time time) const {
  throw std::logic_error("codesim::sim::Simulator: event scheduled in the past (at " +
                         std::to_string(time.ps()) + " ps, now " + std::to_string(now_.ps()) +
                         " ps)");
}

void Simulator::run_until(Time limit) {
  if (limit < now_) {
    throw std::logic_error("codesim::sim::Simulator::run_until: limit " +
                           std::to_string(limit.ps()) + " ps is before now " +
                           std::to_string(now_.ps()) + " ps");
  }
  run_loop(limit);
  if (!stop_requested_) now_ = limit;
}

void Simulator::run_loop(Time limit) {
  if (running_) throw std::logic_error("codesim::sim::Simulator: run() called from a handler");
  running_ = true;
  stop_requested_ = false;
  struct Guard {
    bool& flag;
    ~Guard() { flag = false; }
  } guard{running_};
  Event ev;
  while (!stop_requested_ && queue_.pop_next(limit, ev)) {
    now_ = ev.time;
    ++events_processed_;
    ev.fn(*this, ev.ctx, ev.payload);
  }
}

}  // namespace codesim::sim
