// The pending-event set of the discrete-event engine.
//
// Events are ordered by (time, priority, insertion sequence): earliest time first, then lower
// priority value first, then first scheduled first (FIFO). The order is total and depends only on
// the sequence of operations, so a run is reproducible bit for bit.
//
// Design (chosen for speed; see bench/engine_phold_bench.cpp and bench/README.md):
//  * A radix heap on time. Simulated time never goes backwards, so every event scheduled is at or
//    after `last`, the time of the most recent minimum taken out. An event lives in bucket b, the
//    bit length of (time XOR last): bucket 0 holds the events at exactly `last` (the current
//    instant), bucket b >= 1 the events whose time first differs from `last` at bit b-1. Taking
//    the minimum scans only the lowest non-empty bucket and re-files its events into lower
//    buckets; each event moves down a bounded number of times (at most 64, a handful in practice).
//    Each bucket tracks its minimum, so finding the next time needs no extra pass. Scheduling is
//    an append. Memory traffic is sequential: unlike a binary or d-ary heap, no operation chases
//    indices through a large array, which is what makes a heap slow once the pending set
//    outgrows the caches.
//  * Buckets are singly linked lists of fixed-size chunks drawn from a shared LIFO pool. A chunk
//    emptied while re-filing is immediately reused by the buckets being filled, so the working
//    set stays hot, total memory stays ~ one chunk per bucket above the pending entries, and
//    nothing is reallocated or copied as buckets grow and shrink.
//  * Bucket 0 (the current instant) is a small binary heap on (priority, sequence); it usually
//    holds one event.
//  * An entry carries everything needed to run it (time, priority+sequence, function, context,
//    payload), so running an event never looks anything up elsewhere.
//  * Cancellation is lazy: a slot table holds one (generation, state) word per in-flight event.
//    cancel() marks the slot; the entry is dropped when it comes out. Pops write the slot word but
//    never read it while no cancellation is outstanding, so the table costs no cache-miss stall on
//    the hot path. When tombstones outnumber live events they are purged in O(n).
//  * An EventId carries the slot index and the slot's generation, which changes whenever the slot's
//    event runs or is cancelled: a stale id (event already ran or was cancelled) or an id never
//    issued never matches, and cancelling it is a harmless no-op.
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
// time and priority run in the order they were scheduled. Any value in [kMin, kMax] may be used;
// these names fix the relative order of the common kinds of events so components agree on it.
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
  static constexpr int kLast = 30000;
  // The range of valid priorities (16 bits).
  static constexpr int kMin = -32768;
  static constexpr int kMax = 32767;
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
  // Insertion order among pending events (the FIFO tie-break); see EventQueue::renumber().
  std::uint64_t seq = 0;
  EventId id;
  EventFn fn = nullptr;
  void* ctx = nullptr;
  std::uint64_t payload = 0;
};

class EventQueue {
 public:
  EventQueue() = default;
  // For tests only: renumber the pending events once the insertion sequence reaches
  // `sequence_limit` (default 2^48) instead, to exercise that rare path. See renumber().
  explicit EventQueue(std::uint64_t sequence_limit) : seq_limit_(sequence_limit) {}
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;
  EventQueue(EventQueue&&) = delete;
  EventQueue& operator=(EventQueue&&) = delete;
  ~EventQueue();

  // Adds an event. `fn` must not be null. `priority` must lie in [Priority::kMin, Priority::kMax]
  // (else std::out_of_range). `time` must not be earlier than the last event returned by
  // pop_next() (else std::logic_error): simulated time does not go backwards. O(1) amortized.
  EventId schedule(Time time, int priority, EventFn fn, void* ctx, std::uint64_t payload) {
    const auto biased = static_cast<std::uint64_t>(static_cast<std::int64_t>(priority) + kPrioBias);
    if (biased > kPrioMask) [[unlikely]]
      throw_bad_priority(priority);
    const std::uint64_t k = time_key(time);
    if (k < last_) [[unlikely]]
      rebase(k);  // throws if k is before the last popped event
    if (next_seq_ >= seq_limit_) [[unlikely]]
      renumber();
    const SlotRef ref = acquire_slot();
    const Entry e{k, (biased << kSeqBits) | next_seq_, fn, ctx, payload, ref.slot, ref.gen};
    try {
      insert(e);
    } catch (...) {  // allocation failure: leave the queue as it was
      release_slot(e);
      throw;
    }
    ++next_seq_;
    ++live_;
    return make_id(ref.gen, ref.slot);
  }

  // Cancels a pending event: true if it was pending (it will not run), false if the id is
  // unknown, already ran, or was already cancelled. O(1) amortized.
  bool cancel(EventId id);

  // Removes the earliest event if its time is <= limit and copies it into `out`. Returns false if
  // no event is pending at or before `limit` (then no pending event is removed).
  bool pop_next(Time limit, Event& out) {
    const std::uint64_t limit_key = time_key(limit);
    for (;;) {
      if (now_bucket_.empty()) [[likely]] {
        if (!advance(limit_key)) return false;
      } else if (last_ > limit_key) {
        return false;
      }
      const Entry e = take_now();
      if (tombstones_ != 0 && slots_[e.slot].state == kCancelled) [[unlikely]] {
        --tombstones_;
        release_slot(e);
        continue;
      }
      release_slot(e);
      --live_;
      floor_ = e.time;
      out.time = decode_time(e.time);
      out.priority = decode_priority(e.tie);
      out.seq = e.tie & kSeqMask;
      out.id = make_id(e.gen, e.slot);
      out.fn = e.fn;
      out.ctx = e.ctx;
      out.payload = e.payload;
      return true;
    }
  }
  bool pop_next(Event& out) { return pop_next(Time::max(), out); }

  // Time of the earliest pending event, or Time::max() if there is none. Does not change the
  // queue; O(1) while no cancellation is outstanding, else O(size of the lowest buckets).
  Time peek_time() const;

  bool empty() const noexcept { return live_ == 0; }
  // Number of pending (scheduled, not yet run, not cancelled) events.
  std::size_t size() const noexcept { return live_; }

  // Calls f(const Event&) for every pending event, in no particular order. f must not modify the
  // queue.
  template <class F>
  void for_each_pending(F&& f) const {
    for_each_entry([&](const Entry& e) {
      if (slots_[e.slot].state != kLive) return;
      f(Event{decode_time(e.time), decode_priority(e.tie), e.tie & kSeqMask, make_id(e.gen, e.slot),
              e.fn, e.ctx, e.payload});
    });
  }

  // Removes every pending event (ids issued so far stay invalid forever).
  void clear();

 private:
  // The tie-break word of an entry: priority + 2^15 in the top 16 bits, the insertion sequence in
  // the low 48 bits, so that unsigned order on it is (priority, seq).
  static constexpr int kSeqBits = 48;
  static constexpr std::uint64_t kSeqMask = (std::uint64_t{1} << kSeqBits) - 1;
  static constexpr std::int64_t kPrioBias = 32768;
  static constexpr std::uint64_t kPrioMask = 0xffff;
  static_assert(Priority::kMin + kPrioBias == 0 && Priority::kMax + kPrioBias == kPrioMask);
  // Times are stored with the sign bit flipped, so that unsigned order == signed order.
  static constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;
  // Radix: keys are read as 16 digits of 4 bits. A key k > last_ belongs to bucket
  // 16*d + (digit d of k), d being the most significant digit where k and last_ differ. Bucket
  // order is key order, and re-filing a bucket moves each entry at least one digit down, so an
  // entry moves at most 15 times (about 2-3 times for delays spanning 20 bits).
  static constexpr int kDigitBits = 4;
  static constexpr int kDigitValues = 1 << kDigitBits;
  static constexpr int kBuckets = 64 / kDigitBits * kDigitValues;  // 256
  static constexpr int kMaskWords = kBuckets / 64;
  // Re-filing a lowest bucket of at most this many chunks prefetches the entries' slots.
  static constexpr std::size_t kPrefetchChunks = 4;

  struct Entry {
    std::uint64_t time;  // time key (sign bit flipped)
    std::uint64_t tie;   // (priority + 2^15) << 48 | seq
    EventFn fn;
    void* ctx;
    std::uint64_t payload;
    std::uint32_t slot;
    std::uint32_t gen;
  };
  static_assert(sizeof(Entry) == 48);

  enum SlotState : std::uint32_t { kFree = 0, kLive = 1, kCancelled = 2 };
  struct Slot {
    std::uint32_t gen;  // never 0, so no issued id is 0
    SlotState state;
  };
  struct SlotRef {
    std::uint32_t slot;
    std::uint32_t gen;
  };

  static constexpr std::uint64_t time_key(Time t) noexcept {
    return static_cast<std::uint64_t>(t.ps()) ^ kSignBit;
  }
  static constexpr Time decode_time(std::uint64_t key) noexcept {
    return picoseconds(static_cast<std::int64_t>(key ^ kSignBit));
  }
  static constexpr int decode_priority(std::uint64_t tie) noexcept {
    return static_cast<int>(static_cast<std::int64_t>(tie >> kSeqBits) - kPrioBias);
  }
  static constexpr EventId make_id(std::uint32_t gen, std::uint32_t slot) noexcept {
    return EventId((static_cast<std::uint64_t>(gen) << 32) | slot);
  }
  static constexpr std::uint32_t next_gen(std::uint32_t gen) noexcept {
    return gen == 0xffffffffu ? 1 : gen + 1;
  }
  // 0 for key == last (the current instant), else the bucket index (>= 1) described above.
  static int bucket_of(std::uint64_t key, std::uint64_t last) noexcept {
    const std::uint64_t diff = key ^ last;
    if (diff == 0) return 0;
    const int shift = (63 - __builtin_clzll(diff)) & ~(kDigitBits - 1);
    return (shift / kDigitBits) * kDigitValues +
           static_cast<int>((key >> shift) & (kDigitValues - 1));
  }
  // Min-heap order of the current-instant bucket (std::push_heap builds max-heaps).
  static bool later_tie(const Entry& a, const Entry& b) noexcept { return a.tie > b.tie; }

  // Slots are handed out LIFO from free_, which also remembers the generation to use, so that
  // neither taking nor returning a slot has to read the slot table.
  SlotRef acquire_slot() {
    if (!free_.empty()) [[likely]] {
      const SlotRef ref = free_.back();
      free_.pop_back();
      slots_[ref.slot] = Slot{ref.gen, kLive};
      return ref;
    }
    return grow_slots();
  }
  void release_slot(const Entry& e) {
    const std::uint32_t gen = next_gen(e.gen);
    slots_[e.slot] = Slot{gen, kFree};
    free_.push_back(SlotRef{e.slot, gen});  // capacity reserved in grow_slots(): cannot throw
  }

  static constexpr std::size_t kChunkEntries = 64;
  struct Chunk {
    Chunk* next;
    std::size_t count;
    Entry entries[kChunkEntries];
  };
  struct Bucket {
    Chunk* head = nullptr;  // the chunk being filled; full chunks follow it
    std::uint64_t min = ~std::uint64_t{0};
  };

  void insert(const Entry& e) {
    const int b = bucket_of(e.time, last_);
    if (b == 0) {
      push_now(e);
      return;
    }
    Bucket& bucket = buckets_[b];
    Chunk* c = bucket.head;
    if (c == nullptr || c->count == kChunkEntries) [[unlikely]] {
      c = new_chunk(c);
      bucket.head = c;
      nonempty_[b / 64] |= std::uint64_t{1} << (b % 64);
    }
    c->entries[c->count++] = e;
    if (e.time < bucket.min) bucket.min = e.time;
  }
  void push_now(const Entry& e) {
    now_bucket_.push_back(e);
    if (now_bucket_.size() > 1) sift_now();
  }
  Entry take_now() {
    if (now_bucket_.size() > 1) return take_now_slow();
    const Entry e = now_bucket_.back();
    now_bucket_.pop_back();
    return e;
  }
  Chunk* new_chunk(Chunk* next) {
    Chunk* c = free_chunks_;
    if (c == nullptr) [[unlikely]] {
      c = allocate_chunk();
    } else {
      free_chunks_ = c->next;
    }
    c->next = next;
    c->count = 0;
    return c;
  }
  void free_chunk(Chunk* c) noexcept {
    c->next = free_chunks_;
    free_chunks_ = c;
  }
  template <class F>
  void for_each_entry(F&& f) const {
    for (const Entry& e : now_bucket_) f(e);
    for (const Bucket& bucket : buckets_) {
      for (const Chunk* c = bucket.head; c != nullptr; c = c->next) {
        for (std::size_t i = 0; i < c->count; ++i) f(c->entries[i]);
      }
    }
  }

  void sift_now();
  Entry take_now_slow();
  bool advance(std::uint64_t limit_key);
  // Index of the lowest non-empty bucket, or -1.
  int lowest_bucket() const noexcept {
    for (int w = 0; w < kMaskWords; ++w) {
      if (nonempty_[w] != 0) return w * 64 + __builtin_ctzll(nonempty_[w]);
    }
    return -1;
  }
  Chunk* allocate_chunk();
  std::vector<Entry> take_all();

  [[noreturn]] static void throw_bad_priority(int priority);
  SlotRef grow_slots();
  void rebase(std::uint64_t key);
  void renumber();
  void purge_tombstones();
  void refile_all(std::uint64_t new_last);

  std::vector<Entry> now_bucket_;            // bucket 0, a min-heap on tie
  Bucket buckets_[kBuckets];                 // buckets_[0] unused
  std::uint64_t nonempty_[kMaskWords] = {};  // bit b set iff buckets_[b] is non-empty
  Chunk* free_chunks_ = nullptr;             // LIFO pool
  std::vector<Chunk*> all_chunks_;           // owns every chunk
  std::uint64_t last_ = 0;                   // time key that buckets are relative to
  std::uint64_t floor_ = 0;                  // time key of the last popped event
  std::vector<Slot> slots_;
  std::vector<SlotRef> free_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t seq_limit_ = kSeqMask + 1;
  std::size_t live_ = 0;
  std::size_t tombstones_ = 0;
};

}  // namespace codesim::sim
