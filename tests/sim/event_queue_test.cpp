#include "sim/event_queue.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
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
  ASSERT_TRUE(q.pop_next(e));
  std::vector<std::uint64_t> seen;
  q.for_each_pending([&](const Event& ev) { seen.push_back(ev.payload); });
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{3}));
}

TEST(EventQueueTest, SchedulingBeforeTheLastPoppedEventThrows) {
  EventQueue q;
  q.schedule(nanoseconds(10), 0, &noop, nullptr, 1);
  Event e;
  ASSERT_TRUE(q.pop_next(e));
  EXPECT_THROW(q.schedule(nanoseconds(9), 0, &noop, nullptr, 2), std::logic_error);
  EXPECT_EQ(q.size(), 0u);
  q.schedule(nanoseconds(10), 0, &noop, nullptr, 3);  // the same instant is fine
  EXPECT_EQ(drain_payloads(q), (std::vector<std::uint64_t>{3}));
}

TEST(EventQueueTest, PriorityRange) {
  EventQueue q;
  EXPECT_THROW(q.schedule(nanoseconds(1), Priority::kMax + 1, &noop, nullptr, 0),
               std::out_of_range);
  EXPECT_THROW(q.schedule(nanoseconds(1), Priority::kMin - 1, &noop, nullptr, 0),
               std::out_of_range);
  EXPECT_TRUE(q.empty());
  q.schedule(nanoseconds(1), Priority::kMax, &noop, nullptr, 1);
  q.schedule(nanoseconds(1), Priority::kMin, &noop, nullptr, 2);
  Event e;
  ASSERT_TRUE(q.pop_next(e));
  EXPECT_EQ(e.priority, Priority::kMin);
  ASSERT_TRUE(q.pop_next(e));
  EXPECT_EQ(e.priority, Priority::kMax);
}

TEST(EventQueueTest, NegativeAndExtremeTimes) {
  EventQueue q;
  q.schedule(Time::max(), 0, &noop, nullptr, 4);
  q.schedule(nanoseconds(-5), 0, &noop, nullptr, 1);
  q.schedule(Time::zero(), 0, &noop, nullptr, 2);
  q.schedule(seconds(1000), 0, &noop, nullptr, 3);
  EXPECT_EQ(q.peek_time(), nanoseconds(-5));
  EXPECT_EQ(drain_payloads(q), (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

// Dropping a cancelled event at the front may move the queue's internal anchor past the last
// event actually returned; scheduling between the two must still work and keep the order.
TEST(EventQueueTest, ScheduleAfterDroppedCancelledFront) {
  EventQueue q;
  q.schedule(nanoseconds(1), 0, &noop, nullptr, 1);
  const EventId c = q.schedule(nanoseconds(50), 0, &noop, nullptr, 50);
  q.schedule(nanoseconds(100), 0, &noop, nullptr, 100);
  q.schedule(nanoseconds(1000), 0, &noop, nullptr, 1000);
  Event e;
  ASSERT_TRUE(q.pop_next(e));  // t = 1
  ASSERT_TRUE(q.cancel(c));
  EXPECT_FALSE(q.pop_next(nanoseconds(60), e));  // drops the tombstone at 50, stops before 100
  q.schedule(nanoseconds(20), 0, &noop, nullptr, 20);  // between 1 and 50
  q.schedule(nanoseconds(70), 0, &noop, nullptr, 70);
  EXPECT_EQ(q.peek_time(), nanoseconds(20));
  EXPECT_EQ(drain_payloads(q), (std::vector<std::uint64_t>{20, 70, 100, 1000}));
  // Emptied by cancellation: the queue can take any time from the last popped event on.
  q.schedule(seconds(5), 0, &noop, nullptr, 5);
  const EventId d = q.schedule(seconds(6), 0, &noop, nullptr, 6);
  ASSERT_TRUE(q.pop_next(e));
  ASSERT_TRUE(q.cancel(d));
  EXPECT_FALSE(q.pop_next(e));
  q.schedule(seconds(5) + picoseconds(1), 0, &noop, nullptr, 7);
  EXPECT_EQ(drain_payloads(q), (std::vector<std::uint64_t>{7}));
}

TEST(EventQueueTest, PeekDoesNotChangeTheQueue) {
  EventQueue q;
  q.schedule(nanoseconds(30), 0, &noop, nullptr, 30);
  const EventId a = q.schedule(nanoseconds(10), 0, &noop, nullptr, 10);
  q.schedule(nanoseconds(20), 0, &noop, nullptr, 20);
  EXPECT_EQ(q.peek_time(), nanoseconds(10));
  EXPECT_TRUE(q.cancel(a));
  EXPECT_EQ(q.peek_time(), nanoseconds(20));
  EXPECT_EQ(q.peek_time(), nanoseconds(20));
  q.schedule(nanoseconds(15), 0, &noop, nullptr, 15);
  EXPECT_EQ(q.peek_time(), nanoseconds(15));
  EXPECT_EQ(drain_payloads(q), (std::vector<std::uint64_t>{15, 20, 30}));
}

// With a tiny sequence space the queue must renumber pending events without changing their order.
TEST(EventQueueTest, SequenceRenumberingKeepsFifoOrder) {
  // At most 105 events are pending, so a 128-number space is renumbered every ~25 schedules.
  EventQueue q(/*sequence_limit=*/128);
  std::uint64_t next = 0;
  Event e;
  for (int round = 0; round < 100; ++round) {
    // These pile up at one far instant: only their FIFO order distinguishes them.
    q.schedule(seconds(1), 0, &noop, nullptr, next++);
    for (int k = 0; k < 5; ++k) {
      q.schedule(nanoseconds(round), 0, &noop, nullptr, 1000 + k);
    }
    for (int k = 0; k < 5; ++k) {
      ASSERT_TRUE(q.pop_next(e));
      EXPECT_EQ(e.time, nanoseconds(round));
      EXPECT_EQ(e.payload, 1000u + k) << "round " << round;
    }
  }
  std::vector<std::uint64_t> expected;
  for (std::uint64_t i = 0; i < next; ++i) expected.push_back(i);
  EXPECT_EQ(drain_payloads(q), expected);
}

TEST(EventQueueTest, PurgeOfManyTombstonesKeepsLiveEvents) {
  EventQueue q;
  std::vector<EventId> ids;
  for (int i = 0; i < 5000; ++i) ids.push_back(q.schedule(picoseconds(i), 0, &noop, nullptr, i));
  Event e;
  ASSERT_TRUE(q.pop_next(e));
  for (int i = 1; i < 5000; ++i) {
    if (i % 7 != 0) {
      ASSERT_TRUE(q.cancel(ids[i]));
    }
  }
  EXPECT_EQ(q.size(), 714u);
  std::vector<std::uint64_t> expected;
  for (int i = 7; i < 5000; i += 7) expected.push_back(i);
  EXPECT_EQ(drain_payloads(q), expected);
  for (const EventId id : ids) EXPECT_FALSE(q.cancel(id));
}

TEST(EventQueueTest, ManyPendingEventsInOrder) {
  EventQueue q;
  std::mt19937_64 rng(7);
  std::vector<std::int64_t> times;
  for (int i = 0; i < 100'000; ++i) {
    times.push_back(static_cast<std::int64_t>(rng() % 1'000'000'000'000ULL));
    q.schedule(picoseconds(times.back()), 0, &noop, nullptr, 0);
  }
  std::sort(times.begin(), times.end());
  Event e;
  for (const std::int64_t t : times) {
    ASSERT_TRUE(q.pop_next(e));
    ASSERT_EQ(e.time.ps(), t);
  }
  EXPECT_FALSE(q.pop_next(e));
}

// A random interleaving of schedule / cancel / pop is checked against a reference model: a plain
// vector of live (time, priority, seq) keys whose minimum is found by std::min_element. The delay
// range is varied so that both dense same-instant ties and many radix digits are exercised.
class EventQueueRandomTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(EventQueueRandomTest, MatchesReferenceModelUnderRandomOperations) {
  struct Ref {
    std::int64_t time;
    int priority;
    std::uint64_t seq;
    EventId id;
  };
  const std::uint64_t delay_range = GetParam();
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
        const std::int64_t delay =
            rng() % 8 == 0 ? 0 : static_cast<std::int64_t>(rng() % delay_range);
        const std::int64_t t = now + delay;
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
        const auto it = std::min_element(
            live.begin(), live.end(), [&](const Ref& a, const Ref& b) { return key(a) < key(b); });
        if (it == live.end()) {
          ASSERT_EQ(q.peek_time(), Time::max());
          ASSERT_FALSE(q.pop_next(e));
          continue;
        }
        ASSERT_EQ(q.peek_time().ps(), it->time);
        if (rng() % 4 == 0 && it->time > now) {
          // A limit just before the earliest event must not take anything out.
          ASSERT_FALSE(q.pop_next(picoseconds(it->time - 1), e));
        }
        ASSERT_TRUE(q.pop_next(picoseconds(it->time), e));
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
      ASSERT_EQ(q.empty(), live.empty());
    }
    std::size_t pending = 0;
    q.for_each_pending([&](const Event&) { ++pending; });
    EXPECT_EQ(pending, live.size());
  }
}

INSTANTIATE_TEST_SUITE_P(DelayRanges, EventQueueRandomTest,
                         ::testing::Values(std::uint64_t{50}, std::uint64_t{1} << 20,
                                           std::uint64_t{1} << 44));

}  // namespace
}  // namespace codesim::sim
