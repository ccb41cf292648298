#include "sim/event_queue.hpp"

#include <stdexcept>

namespace codesim::sim {

bool EventQueue::cancel(EventId id, Event* out) {
  const std::uint32_t slot = static_cast<std::uint32_t>(id.value());
  const std::uint32_t gen = static_cast<std::uint32_t>(id.value() >> 32);
  if (slot >= slots_.size()) return false;
  Slot& s = slots_[slot];
  if (s.fn == nullptr || s.gen != gen) return false;
  if (out != nullptr) {
    // Time, priority and seq live in the heap entry, which we do not look up (that would be a
    // scan); the handler part is what an owner needs to release resources.
    *out = Event{};
    out->id = id;
    out->fn = s.fn;
    out->ctx = s.ctx;
    out->payload = s.payload;
  }
  // Tombstone: the slot stays attached to its heap entry until that entry leaves the heap. Bumping
  // the generation now makes the id stale immediately.
  s.fn = nullptr;
  if (++s.gen == 0) s.gen = 1;
  --live_;
  ++tombstones_;
  if (tombstones_ > 64 && tombstones_ > live_) compact();
  return true;
}

Time EventQueue::peek_time() {
  if (root_removed_) remove_root();
  while (!heap_.empty()) {
    if (slots_[heap_.front().slot].fn != nullptr) return picoseconds(heap_.front().time);
    drop_tombstone_root();
  }
  return Time::max();
}

void EventQueue::clear() {
  for (std::size_t i = root_removed_ ? 1 : 0; i < heap_.size(); ++i) {
    release_slot(heap_[i].slot);
  }
  heap_.clear();
  live_ = 0;
  tombstones_ = 0;
  root_removed_ = false;
}

std::uint32_t EventQueue::grow_slots() {
  if (slots_.size() >= kNoSlot) throw std::length_error("codesim::sim::EventQueue: too many events");
  slots_.emplace_back();
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

// Moves the hole at i down to where e belongs and stores e there. The four children of node i are
// kArity*i+1 .. kArity*i+kArity.
void EventQueue::sift_down(std::size_t i, const Entry& e) noexcept {
  Entry* h = heap_.data();
  const std::size_t n = heap_.size();
  for (;;) {
    const std::size_t first = kArity * i + 1;
    if (first >= n) break;
    std::size_t best = first;
    if (first + kArity <= n) {
      // All children present: unrolled minimum.
      if (less(h[first + 1], h[best])) best = first + 1;
      if (less(h[first + 2], h[best])) best = first + 2;
      if (less(h[first + 3], h[best])) best = first + 3;
    } else {
      for (std::size_t c = first + 1; c < n; ++c) {
        if (less(h[c], h[best])) best = c;
      }
    }
    if (!less(h[best], e)) break;
    h[i] = h[best];
    i = best;
  }
  h[i] = e;
}

void EventQueue::remove_root() noexcept {
  root_removed_ = false;
  const Entry last = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) sift_down(0, last);
}

void EventQueue::drop_tombstone_root() noexcept {
  release_slot(heap_.front().slot);
  --tombstones_;
  remove_root();
}

void EventQueue::compact() {
  if (root_removed_) remove_root();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < heap_.size(); ++i) {
    const Entry e = heap_[i];
    if (slots_[e.slot].fn == nullptr) {
      release_slot(e.slot);
    } else {
      heap_[kept++] = e;
    }
  }
  heap_.resize(kept);
  tombstones_ = 0;
  // Floyd's heap construction: sift down every internal node, last first.
  if (kept > 1) {
    for (std::size_t i = (kept - 2) / kArity + 1; i-- > 0;) {
      const Entry e = heap_[i];
      sift_down(i, e);
    }
  }
}

}  // namespace codesim::sim
