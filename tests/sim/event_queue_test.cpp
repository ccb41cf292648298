#include "sim/event_queue.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <tuple>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

namespace codesim::sim {
namespace {

// Queue tests never run handlers; any non-null function will do.
void noop(Simulator&, void*, std::uint64_t) {}

std::vector<std::uint64_t> drain_payloads(EventQueue& q) {
  std::vector<std::uint64_t> out;
  Event e;
  while (q.pop_next(e)) out.push_back(e.payload);
  return out;
}

TEST(EventQueueTest, EmptyQueue) {
  EventQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.peek_time(), Time::max());
  Event e;
  EXPECT_FALSE(q.pop_next(e));
  EXPECT_FALSE(q.cancel(EventId()));
  EXPECT_FALSE(q.cancel(EventId(12345)));
}

TEST(EventQueueTest, OrdersByTime) {
  EventQueue q;
  const std::vector<std::int64_t> times = {50, 10, 40, 20, 30, 0, 60};
  for (std::size_t i = 0; i < times.size(); ++i) {
    q.schedule(nanoseconds(times[i]), Priority::kDefault, &noop, nullptr, times[i]);
  }
  EXPECT_EQ(q.size(), times.size());
  EXPECT_EQ(q.peek_time(), nanoseconds(0));
  EXPECT_EQ(drain_payloads(q), (std::vector<std::uint64_t>{0, 10, 20, 30, 40, 50, 60}));
  EXPECT_TRUE(q.empty());
}

TEST(EventQueueTest, TiesBrokenByPriorityThenInsertionOrder) {
  EventQueue q;
  const Time t = nanoseconds(5);
  q.schedule(t, Priority::kStats, &noop, nullptr, 1);
  q.schedule(t, Priority::kDefault, &noop, nullptr, 2);
  q.schedule(t, Priority::kFlowCompletion, &noop, nullptr, 3);
  q.schedule(t, Priority::kDefault, &noop, nullptr, 4);
  q.schedule(t, Priority::kControl, &noop, nullptr, 5);
  q.schedule(t, Priority::kDefault, &noop, nullptr, 6);
  q.schedule(t, Priority::kFlowCompletion, &noop, nullptr, 7);
  q.schedule(nanoseconds(4), Priority::kLast, &noop, nullptr, 8);  // earlier time wins
  EXPECT_EQ(drain_payloads(q), (std::vector<std::uint64_t>{8, 5, 3, 7, 2, 4, 6, 1}));
}

TEST(EventQueueTest, NamedPrioritiesAreOrdered) {
  EXPECT_LT(Priority::kControl, Priority::kFlowCompletion);
  EXPECT_LT(Priority::kFlowCompletion, Priority::kDefault);
  EXPECT_EQ(Priority::kDefault, 0);
  EXPECT_LT(Priority::kDefault, Priority::kStats);
  EXPECT_LT(Priority::kStats, Priority::kLast);
}

TEST(EventQueueTest, FifoForEqualTimeAndPriority) {
  EventQueue q;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    q.schedule(picoseconds(7), Priority::kDefault, &noop, nullptr, i);
  }
  const auto out = drain_payloads(q);
  ASSERT_EQ(out.size(), 1000u);
  for (std::uint64_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], i);
}

TEST(EventQueueTest, PopReportsTheEvent) {
  EventQueue q;
  int ctx = 0;
  const EventId id = q.schedule(nanoseconds(3), 17, &noop, &ctx, 99);
  Event e;
  ASSERT_TRUE(q.pop_next(e));
  EXPECT_EQ(e.time, nanoseconds(3));
  EXPECT_EQ(e.priority, 17);
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.fn, &noop);
  EXPECT_EQ(e.ctx, &ctx);
  EXPECT_EQ(e.payload, 99u);
}

TEST(EventQueueTest, PopNextRespectsLimit) {
  EventQueue q;
  q.schedule(nanoseconds(10), 0, &noop, nullptr, 1);
  q.schedule(nanoseconds(20), 0, &noop, nullptr, 2);
  Event e;
  EXPECT_FALSE(q.pop_next(nanoseconds(9), e));
  EXPECT_EQ(q.size(), 2u);
  ASSERT_TRUE(q.pop_next(nanoseconds(10), e));
  EXPECT_EQ(e.payload, 1u);
  EXPECT_FALSE(q.pop_next(nanoseconds(19), e));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.peek_time(), nanoseconds(20));
}

TEST(EventQueueTest, IdsAreUniqueAndValid) {
  EventQueue q;
  std::unordered_set<std::uint64_t> ids;
  for (int i = 0; i < 100; ++i) {
    const EventId id = q.schedule(nanoseconds(i % 7), 0, &noop, nullptr, 0);
    EXPECT_TRUE(id.valid());
    EXPECT_TRUE(ids.insert(id.value()).second);
  }
  Event e;
  while (q.pop_next(e)) {
    // Slots are reused, ids are not.
    const EventId id = q.schedule(nanoseconds(100), 0, &noop, nullptr, 0);
    EXPECT_TRUE(ids.insert(id.value()).second);
    if (ids.size() > 1000) break;
  }
  EXPECT_FALSE(EventId().valid());
}

TEST(EventQueueTest, CancelBeforePop) {
  EventQueue q;
  q.schedule(nanoseconds(1), 0, &noop, nullptr, 1);
  const EventId b = q.schedule(nanoseconds(2), 0, &noop, nullptr, 2);
  q.schedule(nanoseconds(3), 0, &noop, nullptr, 3);
  EXPECT_EQ(q.size(), 3u);
  EXPECT_TRUE(q.cancel(b));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_FALSE(q.cancel(b));  // double cancel
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(drain_payloads(q), (std::vector<std::uint64_t>{1, 3}));
}

TEST(EventQueueTest, CancelOfTopUpdatesPeek) {
  EventQueue q;
  const EventId a = q.schedule(nanoseconds(1), 0, &noop, nullptr, 1);
  q.schedule(nanoseconds(2), 0, &noop, nullptr, 2);
  EXPECT_TRUE(q.cancel(a));
  EXPECT_EQ(q.peek_time(), nanoseconds(2));
  EXPECT_EQ(q.size(), 1u);
}

TEST(EventQueueTest, CancelAfterPopIsNoop) {
  EventQueue q;
  const EventId a = q.schedule(nanoseconds(1), 0, &noop, nullptr, 1);
  Event e;
  ASSERT_TRUE(q.pop_next(e));
  EXPECT_FALSE(q.cancel(a));
  // The slot is reused by the next event; the old id must not cancel the new one.
  const EventId b = q.schedule(nanoseconds(2), 0, &noop, nullptr, 2);
  EXPECT_NE(a, b);
  EXPECT_FALSE(q.cancel(a));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_TRUE(q.cancel(b));
  EXPECT_TRUE(q.empty());
}

TEST(EventQueueTest, CancelReportsHandler) {
  EventQueue q;
  int ctx = 0;
  const EventId a = q.schedule(nanoseconds(1), 0, &noop, &ctx, 42);
  Event e;
  ASSERT_TRUE(q.cancel(a, &e));
  EXPECT_EQ(e.fn, &noop);
  EXPECT_EQ(e.ctx, &ctx);
  EXPECT_EQ(e.payload, 42u);
  EXPECT_EQ(e.id, a);
}

TEST(EventQueueTest, CancelAllThenReuse) {
  EventQueue q;
  std::vector<EventId> ids;
  for (int i = 0; i < 500; ++i) ids.push_back(q.schedule(nanoseconds(i), 0, &noop, nullptr, i));
  for (const EventId id : ids) EXPECT_TRUE(q.cancel(id));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.peek_time(), Time::max());
  Event e;
  EXPECT_FALSE(q.pop_next(e));
  q.schedule(nanoseconds(3), 0, &noop, nullptr, 7);
  EXPECT_EQ(drain_payloads(q), (std::vector<std::uint64_t>{7}));
  for (const EventId id : ids) EXPECT_FALSE(q.cancel(id));
}

TEST(EventQueueTest, ClearDropsEverything) {
  EventQueue q;
  const EventId a = q.schedule(nanoseconds(1), 0, &noop, nullptr, 1);
  q.schedule(nanoseconds(2), 0, &noop, nullptr, 2);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.cancel(a));
  Event e;
  EXPECT_FALSE(q.pop_next(e));
}

TEST(EventQueueTest, ForEachPendingSeesLiveEventsOnly) {
  EventQueue q;
  q.schedule(nanoseconds(1), 0, &noop, nullptr, 1);
  const EventId b = q.schedule(nanoseconds(2), 0, &noop, nullptr, 2);
  q.schedule(nanoseconds(3), 0, &noop, nullptr, 3);
  q.cancel(b);
  Event e;
  ASSERT_TRUE(q.pop_next(e));  // leaves a logically removed root behind
  std::vector<std::uint64_t> seen;
  q.for_each_pending([&](const Event& ev) { seen.push_back(ev.payload); });
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{3}));
}

// A random interleaving of schedule / cancel / pop is checked against a reference model: a plain
// vector of live (time, priority, seq) keys whose minimum is found by std::min_element.
TEST(EventQueueTest, MatchesReferenceModelUnderRandomOperations) {
  struct Ref {
    std::int64_t time;
    int priority;
    std::uint64_t seq;
    EventId id;
  };
  auto key = [](const Ref& r) { return std::tie(r.time, r.priority, r.seq); };
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    std::mt19937_64 rng(seed);
    EventQueue q;
    std::vector<Ref> live;
    std::vector<EventId> dead;
    std::uint64_t seq = 0;
    std::int64_t now = 0;
    for (int step = 0; step < 20'000; ++step) {
      const auto op = rng() % 10;
      if (op < 5) {
        const std::int64_t t = now + static_cast<std::int64_t>(rng() % 50);
        const int prio = static_cast<int>(rng() % 3) - 1;
        const EventId id = q.schedule(picoseconds(t), prio, &noop, nullptr, seq);
        live.push_back({t, prio, seq++, id});
      } else if (op < 7 && !live.empty()) {
        const std::size_t i = rng() % live.size();
        ASSERT_TRUE(q.cancel(live[i].id));
        dead.push_back(live[i].id);
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
      } else if (op < 8 && !dead.empty()) {
        ASSERT_FALSE(q.cancel(dead[rng() % dead.size()]));
      } else {
        Event e;
        const auto it = std::min_element(live.begin(), live.end(),
                                         [&](const Ref& a, const Ref& b) { return key(a) < key(b); });
        if (it == live.end()) {
          ASSERT_FALSE(q.pop_next(e));
          continue;
        }
        ASSERT_EQ(q.peek_time().ps(), it->time);
        ASSERT_TRUE(q.pop_next(e));
        ASSERT_EQ(e.payload, it->seq) << "seed " << seed << " step " << step;
        ASSERT_EQ(e.seq, it->seq);
        ASSERT_EQ(e.time.ps(), it->time);
        ASSERT_EQ(e.priority, it->priority);
        ASSERT_EQ(e.id, it->id);
        now = it->time;
        dead.push_back(it->id);
        live.erase(it);
      }
      ASSERT_EQ(q.size(), live.size());
    }
  }
}

}  // namespace
}  // namespace codesim::sim
