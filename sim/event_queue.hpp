// The pending-event set of the discrete-event engine.
//
// Events are ordered by (time, priority, insertion sequence): earliest time first, then lower
// priority value first, then first scheduled first (FIFO). The order is total and depends only on
// the sequence of operations, so a run is reproducible bit for bit.
//
// Design (chosen for speed; see bench/engine_phold_bench.cpp):
//  * A 4-ary implicit min-heap of 24-byte entries {time, seq, priority, slot}. Four children of a
//    node are contiguous (96 bytes), so a level costs about two cache lines and the heap is half
//    as deep as a binary one.
//  * The handler of an event ({function pointer, context pointer, 64-bit payload}) lives in a slot
//    table beside the heap, so heap moves copy 24 bytes, not 48. Slots are recycled through a LIFO
//    free list: the slot freed by the event being executed is the one its successor reuses, so it
//    is hot in cache. No event allocates memory once the heap and slot table have grown.
//  * Cancellation is lazy: cancel() turns the slot into a tombstone in O(1); the heap entry is
//    dropped when it reaches the top. When tombstones outnumber live events the heap is compacted
//    in O(n), so cancelled events never make it grow without bound.
//  * An EventId carries the slot index and the slot's generation, which changes whenever the slot's
//    event runs or is cancelled. A stale id (an event that ran or was cancelled) or an id that was
//    never issued therefore never matches: cancelling it is a harmless no-op.
//  * Deferred pop: pop_next() leaves the popped entry at the root, marked as removed. If the next
//    operation is a schedule (the common "an event schedules its successor" case), the new entry
//    replaces the root and sifts down once, instead of a sift-down for the pop plus a sift-up for
//    the push.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/time.hpp"

namespace codesim::sim {

class Simulator;

// An event handler: a plain function called with the simulator, the context pointer given at
// scheduling time, and the 64-bit payload given at scheduling time. No allocation, no type erasure.
using EventFn = void (*)(Simulator& sim, void* ctx, std::uint64_t payload);

// Named priorities. Among events at the same instant, a lower value runs first; events with equal
// time and priority run in the order they were scheduled. Any int value may be used; these names
// fix the relative order of the common kinds of events so components agree on it.
struct Priority {
  // Changes to the system itself at an instant (failures, reconfiguration, injected faults): they
  // must be in effect before any other event at that instant looks at the system.
  static constexpr int kControl = -1000;
  // A flow, transfer or kernel finishing: releases its resources (bandwidth, compute) before
  // anything starting at the same instant asks for them.
  static constexpr int kFlowCompletion = -100;
  // Everything else: starting work, arrivals, timers.
  static constexpr int kDefault = 0;
  // Statistics sampling and tracing: observes the state after all activity at that instant.
  static constexpr int kStats = 1000;
  // End-of-instant bookkeeping that must come after everything, statistics included.
  static constexpr int kLast = 1'000'000;
};

// Identifies one scheduled event; returned by schedule(), accepted by cancel(). A 64-bit value:
// the generation of the event's slot (high 32 bits, never 0) and the slot index (low 32 bits).
// Ids are deterministic: the same sequence of operations yields the same ids. A default-constructed
// EventId is invalid and never matches an event.
class EventId {
 public:
  constexpr EventId() noexcept = default;
  constexpr explicit EventId(std::uint64_t value) noexcept : value_(value) {}
  constexpr std::uint64_t value() const noexcept { return value_; }
  constexpr bool valid() const noexcept { return value_ != 0; }
  friend constexpr bool operator==(EventId, EventId) noexcept = default;
  friend constexpr auto operator<=>(EventId, EventId) noexcept = default;

 private:
  std::uint64_t value_ = 0;
};

// One event as handed out by EventQueue::pop_next().
struct Event {
  Time time;
  int priority = Priority::kDefault;
  std::uint64_t seq = 0;  // insertion sequence number, unique within the queue
  EventId id;
  EventFn fn = nullptr;
  void* ctx = nullptr;
  std::uint64_t payload = 0;
};

class EventQueue {
 public:
  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;
  EventQueue(EventQueue&&) noexcept = default;
  EventQueue& operator=(EventQueue&&) noexcept = default;
  ~EventQueue() = default;

  // Adds an event. `fn` must not be null. O(log n); no allocation unless the queue grows past its
  // largest size so far.
  EventId schedule(Time time, int priority, EventFn fn, void* ctx, std::uint64_t payload) {
    const std::uint32_t slot = acquire_slot();
    Slot& s = slots_[slot];
    s.fn = fn;
    s.ctx = ctx;
    s.payload = payload;
    ++live_;
    const Entry e{time.ps(), next_seq_++, static_cast<std::int32_t>(priority), slot};
    if (root_removed_) {
      root_removed_ = false;
      sift_down(0, e);
    } else {
      const std::size_t i = heap_.size();
      heap_.push_back(e);
      sift_up(i, e);
    }
    return make_id(s.gen, slot);
  }

  // Cancels a pending event: true if it was pending (it will not run), false if the id is
  // unknown, already ran, or was already cancelled. O(1) amortized.
  bool cancel(EventId id) { return cancel(id, nullptr); }
  // As above; on success also copies the cancelled event into *out (if not null), so an owner can
  // release whatever the context points to.
  bool cancel(EventId id, Event* out);

  // Removes the earliest event if its time is <= limit and copies it into `out`. Returns false if
  // the queue is empty or the earliest event is later than `limit` (then nothing is removed).
  bool pop_next(Time limit, Event& out) {
    if (root_removed_) remove_root();
    while (!heap_.empty()) {
      const Entry& top = heap_.front();
      Slot& s = slots_[top.slot];
      if (s.fn == nullptr) {  // tombstone of a cancelled event
        drop_tombstone_root();
        continue;
      }
      if (top.time > limit.ps()) return false;
      out.time = picoseconds(top.time);
      out.priority = top.priority;
      out.seq = top.seq;
      out.id = make_id(s.gen, top.slot);
      out.fn = s.fn;
      out.ctx = s.ctx;
      out.payload = s.payload;
      release_slot(top.slot);
      --live_;
      root_removed_ = true;
      return true;
    }
    return false;
  }
  bool pop_next(Event& out) { return pop_next(Time::max(), out); }

  // Time of the earliest pending event, or Time::max() if there is none. Not const: it may discard
  // tombstones at the top of the heap.
  Time peek_time();

  bool empty() const noexcept { return live_ == 0; }
  // Number of pending (scheduled, not yet run, not cancelled) events.
  std::size_t size() const noexcept { return live_; }

  // Calls f(const Event&) for every pending event, in no particular order. f must not modify the
  // queue.
  template <class F>
  void for_each_pending(F&& f) const {
    for (std::size_t i = 0; i < heap_.size(); ++i) {
      if (i == 0 && root_removed_) continue;
      const Entry& e = heap_[i];
      const Slot& s = slots_[e.slot];
      if (s.fn == nullptr) continue;
      f(Event{picoseconds(e.time), e.priority, e.seq, make_id(s.gen, e.slot), s.fn, s.ctx,
              s.payload});
    }
  }

  // Removes every pending event (ids issued so far stay invalid forever).
  void clear();

 private:
  static constexpr std::size_t kArity = 4;
  static constexpr std::uint32_t kNoSlot = 0xffffffffu;

  struct Entry {
    std::int64_t time;
    std::uint64_t seq;
    std::int32_t priority;
    std::uint32_t slot;
  };
  static_assert(sizeof(Entry) == 24);

  struct Slot {
    EventFn fn = nullptr;  // null: free, or a cancelled event's tombstone
    void* ctx = nullptr;
    std::uint64_t payload = 0;
    std::uint32_t gen = 1;  // never 0, so no issued id is 0
    std::uint32_t next_free = kNoSlot;
  };

  static constexpr bool less(const Entry& a, const Entry& b) noexcept {
    if (a.time != b.time) return a.time < b.time;
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.seq < b.seq;
  }
  static constexpr EventId make_id(std::uint32_t gen, std::uint32_t slot) noexcept {
    return EventId((static_cast<std::uint64_t>(gen) << 32) | slot);
  }

  std::uint32_t acquire_slot() {
    if (free_head_ != kNoSlot) {
      const std::uint32_t slot = free_head_;
      free_head_ = slots_[slot].next_free;
      return slot;
    }
    return grow_slots();
  }
  void release_slot(std::uint32_t slot) noexcept {
    Slot& s = slots_[slot];
    s.fn = nullptr;
    if (++s.gen == 0) s.gen = 1;
    s.next_free = free_head_;
    free_head_ = slot;
  }

  void sift_up(std::size_t i, const Entry& e) noexcept {
    Entry* h = heap_.data();
    while (i > 0) {
      const std::size_t parent = (i - 1) / kArity;
      if (!less(e, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = e;
  }

  std::uint32_t grow_slots();
  void sift_down(std::size_t i, const Entry& e) noexcept;
  void remove_root() noexcept;
  void drop_tombstone_root() noexcept;
  void compact();

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::uint32_t free_head_ = kNoSlot;
  std::uint64_t next_seq_ = 0;
  std::size_t live_ = 0;
  std::size_t tombstones_ = 0;
  bool root_removed_ = false;  // heap_[0] is logically gone (deferred pop)
};

}  // namespace codesim::sim
