// Shared pieces of the PHOLD benchmark. C++17-compatible on purpose: ns3_phold.cpp includes it and
// is compiled as C++17 because ns-3.37's headers do not compile as C++20.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace codesim::bench {

struct Draw {
  std::int64_t delay_ps;
  std::uint32_t lp;
};

// All random numbers of one PHOLD run, in the order an engine consumes them.
struct Draws {
  std::vector<std::int64_t> initial_delay_ps;  // N*E: LP-major, E per LP
  std::vector<Draw> step;                      // one per executed event
};

// Per-run model state shared by every engine's handler.
struct PholdState {
  const Draw* draws = nullptr;
  std::size_t next = 0;
  std::size_t target = 0;
  std::vector<std::uint64_t> lp_events;
  std::uint64_t checksum = 0;
  std::int64_t end_time_ps = 0;

  // The PHOLD work of one event at `now_ps` on `lp`; returns the successor's draw.
  const Draw& execute(std::int64_t now_ps, std::uint64_t lp) {
    ++lp_events[lp];
    checksum = (checksum ^ (static_cast<std::uint64_t>(now_ps) + lp)) * 0x100000001b3ULL;
    end_time_ps = now_ps;
    return draws[next++];
  }
  bool done() const { return next == target; }
};

// ns-3 driver (ns3_phold.cpp); only linked when ns-3 is found.
// Sets ns-3's time resolution to picoseconds; call once before anything else touches ns-3.
void ns3_init();
// Creates a fresh ns-3 simulator using `scheduler_type` (e.g. "ns3::HeapScheduler") and schedules
// the initial population.
void ns3_setup(const char* scheduler_type, PholdState& state, const Draws& draws,
               std::uint32_t n_lp, std::uint32_t per_lp);
// Runs until state.done().
void ns3_run();
// Simulator::Destroy().
void ns3_teardown();

}  // namespace codesim::bench
