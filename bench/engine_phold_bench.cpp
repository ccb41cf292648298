// PHOLD hold-model benchmark of the event engine against a bare binary heap and ns-3's schedulers.
//
// Model: N logical processes (LPs); initially each LP holds E events at exponential delays from
// time 0. Each executed event does the PHOLD work (counts an event on its LP, folds (time, lp) into
// a checksum) and schedules one successor on a uniformly random LP at now + an exponential delay
// with mean 1 us. The queue therefore holds N*E events throughout.
//
// Fairness: every engine consumes the same pre-generated draws (std::mt19937_64, fixed seed) in
// execution order, with delays converted to integer picoseconds by the same function
// (from_seconds_ceil), and every engine breaks time ties FIFO, so all of them execute the
// identical event sequence. The `checksum` and `end_time_us` counters make that visible: they must
// be equal across variants of one size. Draw generation and the initial population are excluded
// from the timing; only the kEventsPerIteration executed events are timed.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <type_traits>
#include <vector>

#include "phold.hpp"
#include "sim/simulator.hpp"
#include "sim/time.hpp"

namespace codesim::bench {
namespace {

using sim::from_seconds_ceil;
using sim::picoseconds;

constexpr std::uint64_t kSeed = 0x9e3779b97f4a7c15ULL;
constexpr double kMeanDelaySeconds = 1e-6;
constexpr std::size_t kEventsPerIteration = 2'000'000;

Draws make_draws(std::uint32_t n_lp, std::uint32_t events_per_lp, std::size_t steps) {
  std::mt19937_64 rng(kSeed);
  std::exponential_distribution<double> exp(1.0 / kMeanDelaySeconds);
  std::uniform_int_distribution<std::uint32_t> pick_lp(0, n_lp - 1);
  // The one float -> picosecond conversion, shared by all engines.
  auto delay_ps = [&] { return from_seconds_ceil(exp(rng)).ps(); };
  Draws d;
  d.initial_delay_ps.resize(std::size_t{n_lp} * events_per_lp);
  for (auto& x : d.initial_delay_ps) x = delay_ps();
  d.step.resize(steps);
  for (auto& s : d.step) {
    s.lp = pick_lp(rng);
    s.delay_ps = delay_ps();
  }
  return d;
}

PholdState fresh_state(const Draws& draws, std::uint32_t n_lp) {
  PholdState s;
  s.draws = draws.step.data();
  s.target = draws.step.size();
  s.lp_events.assign(n_lp, 0);
  return s;
}

// ---- (a) codesim::sim::Simulator
// -----------------------------------------------------------------
struct Codesim {
  std::unique_ptr<sim::Simulator> simulator;

  static void on_event(sim::Simulator& sim, void* ctx, std::uint64_t lp) {
    auto& s = *static_cast<PholdState*>(ctx);
    const Draw& d = s.execute(sim.now().ps(), lp);
    sim.schedule_in(picoseconds(d.delay_ps), &on_event, ctx, d.lp);
    if (s.done()) sim.stop();
  }
  void setup(PholdState& s, const Draws& draws, std::uint32_t n_lp, std::uint32_t per_lp) {
    simulator = std::make_unique<sim::Simulator>();
    for (std::uint32_t lp = 0; lp < n_lp; ++lp) {
      for (std::uint32_t e = 0; e < per_lp; ++e) {
        simulator->schedule_at(picoseconds(draws.initial_delay_ps[std::size_t{lp} * per_lp + e]),
                               &on_event, &s, lp);
      }
    }
  }
  void run(PholdState&) { simulator->run(); }
  void teardown() { simulator.reset(); }
};

// ---- (b) bare std::priority_queue of (time, seq, lp): the baseline
// -------------------------------
struct BareHeap {
  struct Entry {
    std::int64_t time;
    std::uint64_t seq;
    std::uint32_t lp;
    friend bool operator>(const Entry& a, const Entry& b) {
      return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> pq;
  std::uint64_t seq = 0;

  void setup(PholdState&, const Draws& draws, std::uint32_t n_lp, std::uint32_t per_lp) {
    pq = {};
    seq = 0;
    for (std::uint32_t lp = 0; lp < n_lp; ++lp) {
      for (std::uint32_t e = 0; e < per_lp; ++e) {
        pq.push({draws.initial_delay_ps[std::size_t{lp} * per_lp + e], seq++, lp});
      }
    }
  }
  void run(PholdState& s) {
    while (!s.done()) {
      const Entry top = pq.top();
      pq.pop();
      const Draw& d = s.execute(top.time, top.lp);
      pq.push({top.time + d.delay_ps, seq++, d.lp});
    }
  }
  void teardown() { pq = {}; }
};

// ---- (c) ns-3 (driver in ns3_phold.cpp)
// -----------------------------------------------------------
#ifdef CODESIM_HAVE_NS3
template <const char* kSchedulerType>
struct Ns3 {
  void setup(PholdState& s, const Draws& draws, std::uint32_t n_lp, std::uint32_t per_lp) {
    ns3_setup(kSchedulerType, s, draws, n_lp, per_lp);
  }
  void run(PholdState&) { ns3_run(); }
  void teardown() { ns3_teardown(); }
};

constexpr char kMapScheduler[] = "ns3::MapScheduler";
constexpr char kHeapScheduler[] = "ns3::HeapScheduler";
constexpr char kCalendarScheduler[] = "ns3::CalendarScheduler";
constexpr char kPriorityQueueScheduler[] = "ns3::PriorityQueueScheduler";
using Ns3Map = Ns3<kMapScheduler>;
using Ns3Heap = Ns3<kHeapScheduler>;
using Ns3Calendar = Ns3<kCalendarScheduler>;
using Ns3PriorityQueue = Ns3<kPriorityQueueScheduler>;
#endif

// Executed events per iteration: kEventsPerIteration, except for ns-3's CalendarScheduler with a
// large pending set. It runs at ~20k events/s there (and takes ~20 s just to fill and destroy), so
// it executes fewer events to keep the binary under two minutes. Its rate is steady (the same
// within a few percent from 20k to 2M events); the `events` counter shows the count used.
template <class Engine>
std::size_t events_per_iteration(std::uint32_t n_lp, std::uint32_t per_lp) {
#ifdef CODESIM_HAVE_NS3
  if constexpr (std::is_same_v<Engine, Ns3Calendar>) {
    if (std::size_t{n_lp} * per_lp >= 100'000) return 20'000;
  }
#endif
  (void)n_lp;
  (void)per_lp;
  return kEventsPerIteration;
}

// Only engine.run() is timed: draw generation, the initial population and the teardown are not.
template <class Engine>
void BM_Phold(benchmark::State& bm) {
  const auto n_lp = static_cast<std::uint32_t>(bm.range(0));
  const auto per_lp = static_cast<std::uint32_t>(bm.range(1));
  const Draws draws = make_draws(n_lp, per_lp, events_per_iteration<Engine>(n_lp, per_lp));
  Engine engine;
  PholdState s;
  for (auto _ : bm) {
    bm.PauseTiming();
    s = fresh_state(draws, n_lp);
    engine.setup(s, draws, n_lp, per_lp);
    bm.ResumeTiming();
    engine.run(s);
    bm.PauseTiming();
    if (!s.done()) bm.SkipWithError("engine stopped before executing all events");
    engine.teardown();
    bm.ResumeTiming();
  }
  bm.SetItemsProcessed(static_cast<std::int64_t>(bm.iterations() * draws.step.size()));
  // Equal across engines of one size iff they executed the same events in the same order (low 40
  // bits of the checksum, so the double holds it exactly).
  bm.counters["checksum"] = static_cast<double>(s.checksum & ((1ULL << 40) - 1));
  bm.counters["end_time_us"] = static_cast<double>(s.end_time_ps) * 1e-6;
  bm.counters["events"] = static_cast<double>(draws.step.size());
}

void phold_sizes(benchmark::internal::Benchmark* b) {
  b->Args({1000, 10})->Args({1000, 1000})->Unit(benchmark::kMillisecond);
}

BENCHMARK_TEMPLATE(BM_Phold, Codesim)->Apply(phold_sizes);
BENCHMARK_TEMPLATE(BM_Phold, BareHeap)->Apply(phold_sizes);
#ifdef CODESIM_HAVE_NS3
BENCHMARK_TEMPLATE(BM_Phold, Ns3Map)->Apply(phold_sizes);
BENCHMARK_TEMPLATE(BM_Phold, Ns3Heap)->Apply(phold_sizes);
BENCHMARK_TEMPLATE(BM_Phold, Ns3Calendar)->Apply(phold_sizes);
BENCHMARK_TEMPLATE(BM_Phold, Ns3PriorityQueue)->Apply(phold_sizes);
#endif

}  // namespace
}  // namespace codesim::bench

int main(int argc, char** argv) {
#ifdef CODESIM_HAVE_NS3
  // Picosecond resolution, once, before any ns3::Time exists, so ns-3 sees the exact same delays.
  codesim::bench::ns3_init();
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
