#include "sim/simulator.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace codesim::sim {
namespace {

// Records (now, payload) of each call.
struct Recorder {
  std::vector<std::pair<Time, std::uint64_t>> calls;
  static void on(Simulator& sim, void* ctx, std::uint64_t payload) {
    static_cast<Recorder*>(ctx)->calls.emplace_back(sim.now(), payload);
  }
  std::vector<std::uint64_t> payloads() const {
    std::vector<std::uint64_t> out;
    for (const auto& c : calls) out.push_back(c.second);
    return out;
  }
};

TEST(SimulatorTest, StartsAtZeroAndRunsEventsInTimeOrder) {
  Simulator sim;
  EXPECT_EQ(sim.now(), Time::zero());
  Recorder r;
  sim.schedule_at(nanoseconds(30), &Recorder::on, &r, 3);
  sim.schedule_at(nanoseconds(10), &Recorder::on, &r, 1);
  sim.schedule_in(nanoseconds(20), &Recorder::on, &r, 2);
  EXPECT_EQ(sim.pending(), 3u);
  EXPECT_EQ(sim.next_event_time(), nanoseconds(10));
  sim.run();
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.calls[0], std::make_pair(nanoseconds(10), std::uint64_t{1}));
  EXPECT_EQ(r.calls[1], std::make_pair(nanoseconds(20), std::uint64_t{2}));
  EXPECT_EQ(r.calls[2], std::make_pair(nanoseconds(30), std::uint64_t{3}));
  EXPECT_EQ(sim.now(), nanoseconds(30));
  EXPECT_EQ(sim.events_processed(), 3u);
  EXPECT_TRUE(sim.idle());
}

TEST(SimulatorTest, TiesBrokenByPriorityThenFifo) {
  Simulator sim;
  Recorder r;
  const Time t = microseconds(1);
  sim.schedule_at(t, &Recorder::on, &r, 1, Priority::kStats);
  sim.schedule_at(t, &Recorder::on, &r, 2);
  sim.schedule_at(t, &Recorder::on, &r, 3, Priority::kFlowCompletion);
  sim.schedule_at(t, &Recorder::on, &r, 4);
  sim.schedule_at(t, &Recorder::on, &r, 5, Priority::kFlowCompletion);
  sim.schedule_at(t, &Recorder::on, &r, 6, Priority::kControl);
  sim.run();
  EXPECT_EQ(r.payloads(), (std::vector<std::uint64_t>{6, 3, 5, 2, 4, 1}));
}

TEST(SimulatorTest, HandlersScheduleAtNowRunAfterEarlierScheduledSameKey) {
  Simulator sim;
  std::vector<int> order;
  sim.schedule_at(nanoseconds(1), [&](Simulator& s) {
    order.push_back(1);
    s.schedule_in(Time::zero(), [&] { order.push_back(3); });
    // Lower priority value at the same instant still runs in this instant, before kDefault ones.
    s.schedule_in(
        Time::zero(), [&] { order.push_back(0); }, Priority::kControl);
  });
  sim.schedule_at(nanoseconds(1), [&] { order.push_back(2); });
  sim.run();
  EXPECT_EQ(order, (std::vector<int>{1, 0, 2, 3}));
  EXPECT_EQ(sim.now(), nanoseconds(1));
}

TEST(SimulatorTest, SchedulingInThePastThrows) {
  Simulator sim;
  Recorder r;
  EXPECT_THROW(sim.schedule_in(picoseconds(-1), &Recorder::on, &r), std::logic_error);
  sim.schedule_at(nanoseconds(10), [](Simulator& s) {
    EXPECT_THROW(s.schedule_at(nanoseconds(9), [] {}), std::logic_error);
    EXPECT_THROW(s.schedule_at(nanoseconds(9), &Recorder::on, nullptr), std::logic_error);
    EXPECT_THROW(s.schedule_in(nanoseconds(-1), [] {}), std::logic_error);
    EXPECT_NO_THROW(s.schedule_at(nanoseconds(10), [] {}));  // now is not the past
  });
  sim.run();
  EXPECT_EQ(sim.events_processed(), 2u);
  EXPECT_THROW(sim.schedule_at(nanoseconds(5), &Recorder::on, &r), std::logic_error);
  EXPECT_THROW(sim.schedule_at(nanoseconds(20), nullptr, &r), std::invalid_argument);
  EXPECT_THROW(sim.schedule_in(Time::max(), &Recorder::on, &r), std::overflow_error);
  EXPECT_THROW(sim.schedule_in(nanoseconds(1), &Recorder::on, &r, 0, Priority::kMax + 1),
               std::out_of_range);
  EXPECT_THROW(sim.schedule_in(
                   nanoseconds(1), [] {}, Priority::kMin - 1),
               std::out_of_range);
  EXPECT_EQ(sim.pending(), 0u);
}

TEST(SimulatorTest, NextEventTimeSkipsCancelledEvents) {
  Simulator sim;
  Recorder r;
  EXPECT_EQ(sim.next_event_time(), Time::max());
  const EventId a = sim.schedule_at(nanoseconds(5), &Recorder::on, &r, 5);
  sim.schedule_at(nanoseconds(9), &Recorder::on, &r, 9);
  EXPECT_EQ(sim.next_event_time(), nanoseconds(5));
  EXPECT_TRUE(sim.cancel(a));
  EXPECT_EQ(sim.next_event_time(), nanoseconds(9));
  EXPECT_EQ(sim.now(), Time::zero());
  // Cancelling the only remaining event, then scheduling before its time, still works.
  sim.schedule_at(nanoseconds(20), [&](Simulator& s) {
    const EventId late = s.schedule_in(nanoseconds(100), &Recorder::on, &r, 120);
    EXPECT_TRUE(s.cancel(late));
    s.schedule_in(nanoseconds(50), &Recorder::on, &r, 70);
  });
  sim.run();
  EXPECT_EQ(r.payloads(), (std::vector<std::uint64_t>{9, 70}));
  EXPECT_EQ(sim.now(), nanoseconds(70));
  sim.schedule_in(nanoseconds(1), &Recorder::on, &r, 71);
  sim.run();
  EXPECT_EQ(r.payloads(), (std::vector<std::uint64_t>{9, 70, 71}));
}

TEST(SimulatorTest, ManyEventsAtOneInstant) {
  Simulator sim;
  Recorder r;
  std::vector<EventId> ids;
  for (std::uint64_t i = 0; i < 3000; ++i) {
    ids.push_back(
        sim.schedule_at(microseconds(1), &Recorder::on, &r, i, static_cast<int>(i % 3) - 1));
  }
  // At the same instant, after every priority -1 and 0 event (it is scheduled after them), cancel
  // every 5th event: only those of priority +1 are still pending.
  sim.schedule_at(microseconds(1), [&](Simulator& s) {
    EXPECT_EQ(r.calls.size(), 2000u);
    for (std::size_t i = 0; i < ids.size(); i += 5) EXPECT_EQ(s.cancel(ids[i]), i % 3 == 2) << i;
  });
  sim.run();
  std::vector<std::uint64_t> expected;
  for (int prio = -1; prio <= 1; ++prio) {
    for (std::uint64_t i = 0; i < 3000; ++i) {
      if (static_cast<int>(i % 3) - 1 != prio) continue;
      if (prio == 1 && i % 5 == 0) continue;
      expected.push_back(i);
    }
  }
  EXPECT_EQ(r.payloads(), expected);
}

TEST(SimulatorTest, CancelBeforeRun) {
  Simulator sim;
  Recorder r;
  sim.schedule_at(nanoseconds(1), &Recorder::on, &r, 1);
  const EventId b = sim.schedule_at(nanoseconds(2), &Recorder::on, &r, 2);
  sim.schedule_at(nanoseconds(3), &Recorder::on, &r, 3);
  EXPECT_TRUE(sim.cancel(b));
  EXPECT_FALSE(sim.cancel(b));
  EXPECT_EQ(sim.pending(), 2u);
  sim.run();
  EXPECT_EQ(r.payloads(), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_FALSE(sim.cancel(b));
}

TEST(SimulatorTest, CancelFromWithinHandler) {
  Simulator sim;
  Recorder r;
  EventId later;
  EventId self;
  bool self_cancel_result = true;
  bool later_cancel_result = false;
  bool double_cancel_result = true;
  self = sim.schedule_at(nanoseconds(1), [&](Simulator& s) {
    self_cancel_result = s.cancel(self);  // the running event already ran
    later_cancel_result = s.cancel(later);
    double_cancel_result = s.cancel(later);
  });
  later = sim.schedule_at(nanoseconds(5), &Recorder::on, &r, 5);
  sim.schedule_at(nanoseconds(6), &Recorder::on, &r, 6);
  sim.run();
  EXPECT_FALSE(self_cancel_result);
  EXPECT_TRUE(later_cancel_result);
  EXPECT_FALSE(double_cancel_result);
  EXPECT_EQ(r.payloads(), (std::vector<std::uint64_t>{6}));
  EXPECT_EQ(sim.events_processed(), 2u);
}

TEST(SimulatorTest, CancelOfAlreadyRunEventIsNoopEvenAfterSlotReuse) {
  Simulator sim;
  Recorder r;
  const EventId a = sim.schedule_at(nanoseconds(1), &Recorder::on, &r, 1);
  sim.run();
  const EventId b = sim.schedule_at(nanoseconds(2), &Recorder::on, &r, 2);
  EXPECT_FALSE(sim.cancel(a));
  EXPECT_FALSE(sim.cancel(EventId()));
  EXPECT_FALSE(sim.cancel(EventId(0xdeadbeefcafeULL)));
  EXPECT_EQ(sim.pending(), 1u);
  sim.run();
  EXPECT_EQ(r.payloads(), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_FALSE(sim.cancel(b));
}

TEST(SimulatorTest, RunUntilSemantics) {
  Simulator sim;
  Recorder r;
  for (std::uint64_t i = 1; i <= 5; ++i) sim.schedule_at(nanoseconds(10 * i), &Recorder::on, &r, i);
  sim.run_until(nanoseconds(30));  // inclusive
  EXPECT_EQ(r.payloads(), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(sim.now(), nanoseconds(30));
  EXPECT_EQ(sim.pending(), 2u);
  sim.run_until(nanoseconds(35));  // no event; clock still advances to the limit
  EXPECT_EQ(sim.now(), nanoseconds(35));
  EXPECT_EQ(r.calls.size(), 3u);
  EXPECT_THROW(sim.run_until(nanoseconds(34)), std::logic_error);
  EXPECT_THROW(sim.schedule_at(nanoseconds(34), &Recorder::on, &r), std::logic_error);
  // Events scheduled during run_until at times <= limit run in the same call.
  sim.schedule_at(nanoseconds(40), [&](Simulator& s) {
    s.schedule_in(nanoseconds(2), &Recorder::on, &r, 42);
    s.schedule_in(nanoseconds(100), &Recorder::on, &r, 142);
  });
  sim.run_until(nanoseconds(45));
  EXPECT_EQ(r.payloads(), (std::vector<std::uint64_t>{1, 2, 3, 4, 42}));
  EXPECT_EQ(sim.now(), nanoseconds(45));
  sim.run();
  EXPECT_EQ(r.payloads(), (std::vector<std::uint64_t>{1, 2, 3, 4, 42, 5, 142}));
  EXPECT_EQ(sim.now(), nanoseconds(140));
}

TEST(SimulatorTest, StopEndsTheRunAfterTheCurrentHandler) {
  Simulator sim;
  int count = 0;
  for (int i = 1; i <= 10; ++i) {
    sim.schedule_at(nanoseconds(i), [&](Simulator& s) {
      if (++count == 4) s.stop();
    });
  }
  sim.run();
  EXPECT_EQ(count, 4);
  EXPECT_EQ(sim.now(), nanoseconds(4));
  EXPECT_EQ(sim.pending(), 6u);
  sim.run_until(nanoseconds(7));
  EXPECT_EQ(count, 7);
  // Stop inside run_until leaves now() at the stopping event.
  sim.schedule_at(nanoseconds(8), [](Simulator& s) { s.stop(); });
  sim.run_until(nanoseconds(100));
  EXPECT_EQ(sim.now(), nanoseconds(8));
  sim.stop();  // outside a run: discarded by the next run
  sim.run();
  EXPECT_EQ(count, 10);
  EXPECT_EQ(sim.events_processed(), 11u);
}

TEST(SimulatorTest, RunFromHandlerThrows) {
  Simulator sim;
  bool threw = false;
  sim.schedule_at(nanoseconds(1), [&](Simulator& s) {
    EXPECT_TRUE(s.running());
    try {
      s.run();
    } catch (const std::logic_error&) {
      threw = true;
    }
  });
  sim.run();
  EXPECT_TRUE(threw);
  EXPECT_FALSE(sim.running());
}

TEST(SimulatorTest, ExceptionFromHandlerPropagatesAndSimulatorStaysUsable) {
  Simulator sim;
  Recorder r;
  sim.schedule_at(nanoseconds(1), [] { throw std::runtime_error("boom"); });
  sim.schedule_at(nanoseconds(2), &Recorder::on, &r, 2);
  EXPECT_THROW(sim.run(), std::runtime_error);
  EXPECT_FALSE(sim.running());
  EXPECT_EQ(sim.now(), nanoseconds(1));
  sim.run();
  EXPECT_EQ(r.payloads(), (std::vector<std::uint64_t>{2}));
}

struct Component : EventHandler {
  std::vector<std::uint64_t> seen;
  std::vector<std::uint64_t> member_seen;
  void on_event(Simulator&, std::uint64_t payload) override { seen.push_back(payload); }
  void on_tick(Simulator& sim, std::uint64_t payload) {
    member_seen.push_back(payload);
    if (payload < 3) sim.schedule_in<&Component::on_tick>(nanoseconds(1), *this, payload + 1);
  }
};

TEST(SimulatorTest, HandlerForms) {
  Simulator sim;
  Component c;
  sim.schedule_in(nanoseconds(1), c, 7);
  sim.schedule_at(nanoseconds(2), c, 8, Priority::kStats);
  sim.schedule_at<&Component::on_tick>(nanoseconds(1), c, 0);
  int lambda_calls = 0;
  sim.schedule_in(nanoseconds(3), [&lambda_calls] { ++lambda_calls; });
  sim.schedule_in(nanoseconds(3), [&lambda_calls](Simulator& s) {
    lambda_calls += 10;
    EXPECT_EQ(s.now(), nanoseconds(3));
  });
  sim.run();
  EXPECT_EQ(c.seen, (std::vector<std::uint64_t>{7, 8}));
  EXPECT_EQ(c.member_seen, (std::vector<std::uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(lambda_calls, 11);
  EXPECT_EQ(sim.now(), nanoseconds(4));
}

TEST(SimulatorTest, OwnedCallablesAreReleasedWhenRunCancelledOrDiscarded) {
  auto token = std::make_shared<int>(0);
  {
    Simulator sim;
    sim.schedule_at(nanoseconds(1), [token] { ++*token; });
    const EventId cancelled = sim.schedule_at(nanoseconds(2), [token] { ++*token; });
    sim.schedule_at(nanoseconds(3), [token] { ++*token; });  // never run: discarded at destruction
    EXPECT_EQ(token.use_count(), 4);
    EXPECT_TRUE(sim.cancel(cancelled));
    EXPECT_EQ(token.use_count(), 3);
    sim.run_until(nanoseconds(2));
    EXPECT_EQ(*token, 1);
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1);
}

TEST(SimulatorTest, ManyIndependentSimulatorsInOneProcess) {
  std::vector<std::unique_ptr<Simulator>> sims;
  std::vector<Recorder> recorders(50);
  for (int i = 0; i < 50; ++i) {
    sims.push_back(std::make_unique<Simulator>());
    for (int j = 0; j <= i; ++j) {
      sims.back()->schedule_at(nanoseconds(j + 1), &Recorder::on, &recorders[i], j);
    }
  }
  // Interleave runs: each simulator has its own clock and queue.
  for (int i = 49; i >= 0; --i) sims[i]->run_until(nanoseconds(i / 2 + 1));
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(sims[i]->now(), nanoseconds(i / 2 + 1)) << i;
    EXPECT_EQ(recorders[i].calls.size(), static_cast<std::size_t>(std::min(i + 1, i / 2 + 1)));
    sims[i]->run();
    EXPECT_EQ(recorders[i].calls.size(), static_cast<std::size_t>(i + 1));
    EXPECT_EQ(sims[i]->now(), nanoseconds(i + 1));
    EXPECT_EQ(sims[i]->events_processed(), static_cast<std::uint64_t>(i + 1));
  }
}

// A randomized model: events schedule 0-2 successors at random delays and priorities and cancel
// random earlier events. Every scheduling and every execution is recorded.
class RandomModel {
 public:
  struct Scheduled {
    std::int64_t time;
    int priority;
    std::uint64_t seq;  // our own count of schedule calls == the queue's insertion order
    EventId id;
    enum State { kPending, kRun, kCancelled } state = kPending;
  };
  struct Executed {
    std::int64_t time;
    std::uint64_t id;
    std::uint64_t seq;
    friend bool operator==(const Executed&, const Executed&) = default;
  };

  explicit RandomModel(std::uint64_t seed) : rng_(seed) {}

  void run() {
    for (int i = 0; i < 200; ++i) {
      schedule(static_cast<std::int64_t>(rng_() % 1000), static_cast<int>(rng_() % 5) - 2);
    }
    sim_.run();
  }
  const std::vector<Executed>& executed() const { return executed_; }
  const std::vector<Scheduled>& scheduled() const { return scheduled_; }

 private:
  static void on_event(Simulator& sim, void* ctx, std::uint64_t seq) {
    auto& self = *static_cast<RandomModel*>(ctx);
    Scheduled& me = self.scheduled_[seq];
    EXPECT_EQ(me.state, Scheduled::kPending);
    EXPECT_EQ(sim.now().ps(), me.time);
    me.state = Scheduled::kRun;
    self.executed_.push_back({sim.now().ps(), me.id.value(), seq});
    const int priority = me.priority;
    if (self.scheduled_.size() < 20'000) {
      const auto n = self.rng_() % 3;
      for (std::uint64_t k = 0; k < n; ++k) {
        const auto delay = static_cast<std::int64_t>(self.rng_() % 4 == 0 ? 0 : self.rng_() % 500);
        // A zero-delay successor must not sort before the running event, so that the global
        // (time, priority, seq) order is the execution order.
        int p = static_cast<int>(self.rng_() % 5) - 2;
        if (delay == 0) p = std::max(p, priority);
        self.schedule(sim.now().ps() + delay, p);
      }
    }
    if (self.rng_() % 4 == 0) {
      Scheduled& victim = self.scheduled_[self.rng_() % self.scheduled_.size()];
      const bool expected = victim.state == Scheduled::kPending;
      EXPECT_EQ(sim.cancel(victim.id), expected);
      if (expected) victim.state = Scheduled::kCancelled;
    }
  }

  void schedule(std::int64_t time, int priority) {
    const std::uint64_t seq = scheduled_.size();
    const EventId id = sim_.schedule_at(picoseconds(time), &on_event, this, seq, priority);
    scheduled_.push_back({time, priority, seq, id});
  }

  std::mt19937_64 rng_;
  Simulator sim_;
  std::vector<Scheduled> scheduled_;
  std::vector<Executed> executed_;
};

TEST(SimulatorTest, DeterministicAndMatchesSortedReferenceOrder) {
  for (std::uint64_t seed : {1ULL, 2ULL, 0x5eedULL}) {
    RandomModel a(seed);
    a.run();
    RandomModel b(seed);
    b.run();
    ASSERT_GT(a.executed().size(), 1000u);
    EXPECT_EQ(a.executed(), b.executed()) << "seed " << seed;

    // Reference: every event that was not cancelled, sorted by (time, priority, seq).
    std::vector<RandomModel::Scheduled> ref;
    std::size_t cancelled = 0;
    for (const auto& s : a.scheduled()) {
      if (s.state == RandomModel::Scheduled::kCancelled) {
        ++cancelled;
      } else {
        EXPECT_EQ(s.state, RandomModel::Scheduled::kRun);
        ref.push_back(s);
      }
    }
    EXPECT_GT(cancelled, 10u);
    std::sort(ref.begin(), ref.end(), [](const auto& x, const auto& y) {
      return std::tie(x.time, x.priority, x.seq) < std::tie(y.time, y.priority, y.seq);
    });
    ASSERT_EQ(ref.size(), a.executed().size());
    for (std::size_t i = 0; i < ref.size(); ++i) {
      ASSERT_EQ(a.executed()[i].seq, ref[i].seq) << "seed " << seed << " position " << i;
      ASSERT_EQ(a.executed()[i].time, ref[i].time);
      ASSERT_EQ(a.executed()[i].id, ref[i].id.value());
    }
  }
}

TEST(SimulatorTest, HeavyCancellationKeepsCountsRight) {
  Simulator sim;
  Recorder r;
  std::vector<EventId> ids;
  for (int i = 0; i < 10'000; ++i) {
    ids.push_back(sim.schedule_at(nanoseconds(1 + i), &Recorder::on, &r, i));
  }
  for (int i = 0; i < 10'000; ++i) {
    if (i % 10 != 0) {
      EXPECT_TRUE(sim.cancel(ids[i]));
    }
  }
  EXPECT_EQ(sim.pending(), 1'000u);
  sim.run();
  ASSERT_EQ(r.calls.size(), 1'000u);
  for (std::size_t k = 0; k < r.calls.size(); ++k) EXPECT_EQ(r.calls[k].second, 10 * k);
}

}  // namespace
}  // namespace codesim::sim
