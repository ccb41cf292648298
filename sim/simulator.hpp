// The discrete-event simulator: a clock plus an EventQueue.
//
// A Simulator is an ordinary object; create as many as you like (tests do). It is not thread-safe;
// one simulator is driven by one thread. Models never print; they record into their own state.
//
// Handler forms, fastest first (none of the first three allocates per event):
//  1. A plain function + context pointer + 64-bit payload:
//       static void on_tx(Simulator& sim, void* ctx, std::uint64_t payload);
//       sim.schedule_in(nanoseconds(5), &on_tx, this, flow_id);
//  2. A member function, bound at compile time:
//       void Nic::on_tx(Simulator& sim, std::uint64_t payload);
//       sim.schedule_in<&Nic::on_tx>(nanoseconds(5), nic, flow_id);
//  3. An object implementing EventHandler:
//       sim.schedule_in(nanoseconds(5), handler, flow_id);   // handler.on_event(sim, flow_id)
//  4. Any callable, for convenience (tests, setup, rare events); it is moved to the heap, one
//     allocation per event:
//       sim.schedule_in(nanoseconds(5), [&](Simulator& s) { ... });   // or [&] { ... }
//
// Ordering: (time, priority, scheduling order); see EventQueue and Priority.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "sim/event_queue.hpp"
#include "sim/time.hpp"

namespace codesim::sim {

// Interface for components that receive events as objects.
class EventHandler {
 public:
  virtual void on_event(Simulator& sim, std::uint64_t payload) = 0;

 protected:
  ~EventHandler() = default;
};

namespace detail {
// Base of the heap-held callables of handler form 4.
struct OwnedCallable {
  virtual ~OwnedCallable() = default;
  virtual void invoke(Simulator& sim) = 0;
  EventId id;
};
}  // namespace detail

template <class F>
concept SimCallable =
    !std::is_base_of_v<EventHandler, std::remove_cvref_t<F>> &&
    !std::is_convertible_v<F, EventFn> &&
    (std::invocable<std::decay_t<F>&, Simulator&> || std::invocable<std::decay_t<F>&>);

class Simulator {
 public:
  Simulator() = default;
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;
  Simulator(Simulator&&) = delete;  // handlers hold Simulator& / context pointers
  Simulator& operator=(Simulator&&) = delete;
  // Pending events are discarded; heap-held callables (form 4) are destroyed.
  ~Simulator();

  // Current simulated time: the time of the event being (or last) executed, or the limit of the
  // last completed run_until().
  Time now() const noexcept { return now_; }

  // --- Form 1: function pointer + context + payload ------------------------------------------
  // Throws std::logic_error if `time` < now(), std::invalid_argument if fn is null.
  EventId schedule_at(Time time, EventFn fn, void* ctx, std::uint64_t payload = 0,
                      int priority = Priority::kDefault) {
    if (time < now_) [[unlikely]]
      throw_past(time);
    if (fn == nullptr) [[unlikely]]
      throw std::invalid_argument("codesim::sim::Simulator: null event handler");
    return queue_.schedule(time, priority, fn, ctx, payload);
  }
  // Throws std::logic_error if delay < 0, std::overflow_error if now() + delay overflows.
  EventId schedule_in(Time delay, EventFn fn, void* ctx, std::uint64_t payload = 0,
                      int priority = Priority::kDefault) {
    return schedule_at(now_ + delay, fn, ctx, payload, priority);
  }

  // --- Form 2: member function void (T::*)(Simulator&, std::uint64_t) ---------------------------
  template <auto Method, class T>
  EventId schedule_at(Time time, T& obj, std::uint64_t payload = 0,
                      int priority = Priority::kDefault) {
    return schedule_at(time, &call_member<Method, T>, static_cast<void*>(&obj), payload, priority);
  }
  template <auto Method, class T>
  EventId schedule_in(Time delay, T& obj, std::uint64_t payload = 0,
                      int priority = Priority::kDefault) {
    return schedule_at<Method, T>(now_ + delay, obj, payload, priority);
  }

  // --- Form 3: EventHandler ----------------------------------------------------------------------
  EventId schedule_at(Time time, EventHandler& handler, std::uint64_t payload = 0,
                      int priority = Priority::kDefault) {
    return schedule_at(time, &call_handler, static_cast<void*>(&handler), payload, priority);
  }
  EventId schedule_in(Time delay, EventHandler& handler, std::uint64_t payload = 0,
                      int priority = Priority::kDefault) {
    return schedule_at(now_ + delay, handler, payload, priority);
  }

  // --- Form 4: any callable (allocates) ----------------------------------------------------------
  template <SimCallable F>
  EventId schedule_at(Time time, F&& f, int priority = Priority::kDefault) {
    if (time < now_) throw_past(time);
    return schedule_owned(time, std::make_unique<Holder<std::decay_t<F>>>(std::forward<F>(f)),
                          priority);
  }
  template <SimCallable F>
  EventId schedule_in(Time delay, F&& f, int priority = Priority::kDefault) {
    return schedule_at(now_ + delay, std::forward<F>(f), priority);
  }

  // Cancels a pending event. Returns false (and does nothing) if the id is unknown, already ran,
  // or was already cancelled. May be called from handlers, including for the running event itself
  // (which has already run, so false).
  bool cancel(EventId id);

  // Runs events in order until none is left or stop() is called.
  void run() { run_loop(Time::max()); }
  // Runs every event with time <= limit (including those scheduled meanwhile at times <= limit),
  // then sets now() to limit. Returns early, with now() at the last executed event, if stop() is
  // called. Throws std::logic_error if limit < now(). Later events stay pending.
  void run_until(Time limit);
  // Makes the current run()/run_until() return after the running handler. A stop request made
  // while not running is discarded by the next run()/run_until().
  void stop() noexcept { stop_requested_ = true; }

  // Events executed over the simulator's lifetime.
  std::uint64_t events_processed() const noexcept { return events_processed_; }
  // Pending (scheduled, not run, not cancelled) events.
  std::size_t pending() const noexcept { return queue_.size(); }
  bool idle() const noexcept { return queue_.empty(); }
  // Time of the earliest pending event, or Time::max() if none.
  Time next_event_time() { return queue_.peek_time(); }
  bool running() const noexcept { return running_; }

 private:
  template <class F>
  struct Holder final : detail::OwnedCallable {
    template <class G>
    explicit Holder(G&& g) : f(std::forward<G>(g)) {}
    void invoke(Simulator& sim) override {
      if constexpr (std::invocable<F&, Simulator&>) {
        f(sim);
      } else {
        f();
      }
    }
    F f;
  };

  template <auto Method, class T>
  static void call_member(Simulator& sim, void* ctx, std::uint64_t payload) {
    (static_cast<T*>(ctx)->*Method)(sim, payload);
  }
  static void call_handler(Simulator& sim, void* ctx, std::uint64_t payload) {
    static_cast<EventHandler*>(ctx)->on_event(sim, payload);
  }
  static void call_owned(Simulator& sim, void* ctx, std::uint64_t payload);
  EventId schedule_owned(Time time, std::unique_ptr<detail::OwnedCallable> callable, int priority);

  [[noreturn]] void throw_past(Time time) const;
  void run_loop(Time limit);

  EventQueue queue_;
  // Form-4 callables of pending events, by EventId value, so cancel() can destroy them.
  std::unordered_map<std::uint64_t, detail::OwnedCallable*> owned_;
  Time now_;
  std::uint64_t events_processed_ = 0;
  bool stop_requested_ = false;
  bool running_ = false;
};

}  // namespace codesim::sim
