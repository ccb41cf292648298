#include "sim/event_queue.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace codesim::sim {

EventQueue::~EventQueue() {
  for (Chunk* c : all_chunks_) delete c;
}

bool EventQueue::cancel(EventId id) {
  const auto slot = static_cast<std::uint32_t>(id.value());
  const auto gen = static_cast<std::uint32_t>(id.value() >> 32);
  if (slot >= slots_.size()) return false;
  Slot& s = slots_[slot];
  if (s.gen != gen || s.state != kLive) return false;
  // Tombstone: the entry stays in its bucket and is dropped when it comes out (or purged).
  s.state = kCancelled;
  --live_;
  ++tombstones_;
  if (tombstones_ > 64 && tombstones_ > live_) purge_tombstones();
  return true;
}

Time EventQueue::peek_time() const {
  if (tombstones_ == 0) {
    if (!now_bucket_.empty()) return decode_time(last_);
    const int b = lowest_bucket();
    return b < 0 ? Time::max() : decode_time(buckets_[b].min);
  }
  // Cancelled entries may hide anywhere: look for the earliest live one, lowest bucket first.
  auto is_live = [&](const Entry& e) { return slots_[e.slot].state == kLive; };
  if (std::any_of(now_bucket_.begin(), now_bucket_.end(), is_live)) return decode_time(last_);
  for (int b = 1; b < kBuckets; ++b) {
    bool found = false;
    std::uint64_t min_key = ~std::uint64_t{0};
    for (const Chunk* c = buckets_[b].head; c != nullptr; c = c->next) {
      for (std::size_t i = 0; i < c->count; ++i) {
        if (!is_live(c->entries[i])) continue;
        found = true;
        min_key = std::min(min_key, c->entries[i].time);
      }
    }
    if (found) return decode_time(min_key);
  }
  return Time::max();
}

void EventQueue::clear() {
  for (const Entry& e : take_all()) release_slot(e);
  live_ = 0;
  tombstones_ = 0;
  last_ = floor_;
}

void EventQueue::throw_bad_priority(int priority) {
  throw std::out_of_range("codesim::sim::EventQueue: priority " + std::to_string(priority) +
                          " outside [Priority::kMin, Priority::kMax]");
}

EventQueue::SlotRef EventQueue::grow_slots() {
  if (slots_.size() >= 0xffffffffu) {
    throw std::length_error("codesim::sim::EventQueue: too many pending events");
  }
  // Reserve room for every slot in the free list now, so that returning a slot never allocates.
  if (free_.capacity() < slots_.size() + 1) free_.reserve(2 * slots_.size() + 16);
  slots_.push_back(Slot{1, kLive});
  return SlotRef{static_cast<std::uint32_t>(slots_.size() - 1), 1};
}

EventQueue::Chunk* EventQueue::allocate_chunk() {
  all_chunks_.reserve(all_chunks_.size() + 1);
  Chunk* c = new Chunk;
  all_chunks_.push_back(c);
  return c;
}

// The current-instant bucket is a binary min-heap on `tie` (std heap functions build max-heaps,
// hence the reversed comparison).
void EventQueue::sift_now() {
  std::push_heap(now_bucket_.begin(), now_bucket_.end(), later_tie);
}

EventQueue::Entry EventQueue::take_now_slow() {
  std::pop_heap(now_bucket_.begin(), now_bucket_.end(), later_tie);
  const Entry e = now_bucket_.back();
  now_bucket_.pop_back();
  return e;
}

// Called with the current-instant bucket empty. Takes the lowest non-empty bucket; if its earliest
// time is <= limit_key, makes that time the new `last_` and re-files the bucket's entries relative
// to it (the earliest ones land in the current-instant bucket). Returns false, changing nothing
// (except re-anchoring an empty queue), if there is no such event.
bool EventQueue::advance(std::uint64_t limit_key) {
  const int b = lowest_bucket();
  if (b < 0) {
    // Nothing left (everything remaining was cancelled). Anchor at the last popped event, so that
    // any time from there on can be scheduled without re-filing.
    last_ = floor_;
    return false;
  }
  Bucket& bucket = buckets_[b];
  if (bucket.min > limit_key) return false;
  last_ = bucket.min;
  Chunk* c = bucket.head;
  bucket = Bucket{};
  nonempty_[b / 64] &= ~(std::uint64_t{1} << (b % 64));
  // Every entry of bucket b agrees with the new last_ on its bucket's digit and all above, so it
  // moves to a lower bucket. Each emptied chunk goes back to the pool at once, to be refilled while
  // still hot. The lowest bucket holds the earliest pending entries, so a small one holds exactly
  // the next few events to run.
  bool soon = true;
  {
    std::size_t chunks = 0;
    for (const Chunk* k = c; k != nullptr && soon; k = k->next) soon = ++chunks <= kPrefetchChunks;
  }
  while (c != nullptr) {
    for (std::size_t i = 0; i < c->count; ++i) {
      // These entries run within the next few pops, and running one writes its slot: start
      // fetching the slot's cache line now so that write does not wait for memory then.
      if (soon) __builtin_prefetch(&slots_[c->entries[i].slot], 1);
      insert(c->entries[i]);
    }
    Chunk* next = c->next;
    free_chunk(c);
    c = next;
  }
  return true;
}

std::vector<EventQueue::Entry> EventQueue::take_all() {
  std::vector<Entry> all;
  all.swap(now_bucket_);
  for (Bucket& bucket : buckets_) {
    for (Chunk* c = bucket.head; c != nullptr;) {
      all.insert(all.end(), c->entries, c->entries + c->count);
      Chunk* next = c->next;
      free_chunk(c);
      c = next;
    }
    bucket = Bucket{};
  }
  for (auto& word : nonempty_) word = 0;
  return all;
}

// Schedules before `last_` are possible only after dropped tombstones moved `last_` past the last
// popped event. Re-file everything relative to the new, earlier anchor: O(n), and rare.
void EventQueue::rebase(std::uint64_t key) {
  if (key < floor_) {
    throw std::logic_error(
        "codesim::sim::EventQueue: event scheduled before the last event taken out (at " +
        std::to_string(decode_time(key).ps()) + " ps, last " +
        std::to_string(decode_time(floor_).ps()) + " ps)");
  }
  refile_all(key);
}

void EventQueue::refile_all(std::uint64_t new_last) {
  const std::vector<Entry> all = take_all();
  last_ = new_last;
  for (const Entry& e : all) insert(e);
}

// Called when the 48-bit insertion sequence is exhausted (after 2^48 schedules; never in practice,
// but correctness must not depend on that). Pending events get new sequence numbers 0..n-1 in
// their current order, which keeps every tie-break as it was.
void EventQueue::renumber() {
  std::vector<Entry> all = take_all();
  std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) {
    return a.time != b.time ? a.time < b.time : a.tie < b.tie;
  });
  std::uint64_t seq = 0;
  for (Entry& e : all) {
    e.tie = (e.tie & ~kSeqMask) | seq++;
    insert(e);
  }
  next_seq_ = seq;
  if (next_seq_ >= seq_limit_) {
    throw std::length_error("codesim::sim::EventQueue: more pending events than sequence numbers");
  }
}

void EventQueue::purge_tombstones() {
  const std::vector<Entry> all = take_all();
  for (const Entry& e : all) {
    if (slots_[e.slot].state == kCancelled) {
      release_slot(e);
    } else {
      insert(e);
    }
  }
  tombstones_ = 0;
}

}  // namespace codesim::sim
