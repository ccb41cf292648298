// The ns-3 side of the PHOLD benchmark (see engine_phold_bench.cpp). Compiled as C++17.
#include <ns3/core-module.h>

#include "phold.hpp"

namespace codesim::bench {
namespace {

void on_event(PholdState* s, std::uint32_t lp) {
  const Draw& d = s->execute(ns3::Simulator::Now().GetTimeStep(), lp);
  ns3::Simulator::Schedule(ns3::PicoSeconds(static_cast<std::uint64_t>(d.delay_ps)), &on_event, s,
                           d.lp);
  if (s->done()) ns3::Simulator::Stop();
}

}  // namespace

void ns3_init() {
  ns3::Time::SetResolution(ns3::Time::PS);
}

void ns3_setup(const char* scheduler_type, PholdState& state, const Draws& draws,
               std::uint32_t n_lp, std::uint32_t per_lp) {
  ns3::ObjectFactory factory;
  factory.SetTypeId(scheduler_type);
  ns3::Simulator::SetScheduler(factory);
  for (std::uint32_t lp = 0; lp < n_lp; ++lp) {
    for (std::uint32_t e = 0; e < per_lp; ++e) {
      const auto delay = draws.initial_delay_ps[std::size_t{lp} * per_lp + e];
      ns3::Simulator::Schedule(ns3::PicoSeconds(static_cast<std::uint64_t>(delay)), &on_event,
                               &state, lp);
    }
  }
}

void ns3_run() {
  ns3::Simulator::Run();
}

void ns3_teardown() {
  ns3::Simulator::Destroy();
}

}  // namespace codesim::bench
