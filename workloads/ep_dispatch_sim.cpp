#include "workloads/ep_dispatch_sim.hpp"

#include "sim/flow_network.hpp"

namespace codesim::workloads {
namespace {

void ignore_done(sim::Simulator&, void*, std::uint64_t) {}

}  // namespace

EpDispatchSimResult simulate_ep_dispatch(const EpDispatchTraffic& traffic, topo::GpuRouter& router,
                                         const topo::LinkIndex& links, int gpus_per_node) {
  sim::Simulator sim;
  sim::FlowNetwork net(sim);
  const auto base = topo::add_links_to(net, links);
  auto gpu = [&](int g) { return topo::GpuId{g / gpus_per_node, g % gpus_per_node}; };
  EpDispatchSimResult result;
  auto start = [&](const PairBytes& pair) {
    const std::uint64_t key = (std::uint64_t(pair.src) << 32) | std::uint32_t(pair.dst);
    topo::Route route = router.route(gpu(pair.src), gpu(pair.dst), key);
    for (auto& link : route) link += base;
    net.start_flow(route, pair.bytes, &ignore_done, nullptr, key);
    ++result.flows;
  };
  for (const auto& pair : traffic.ib) start(pair);
  for (const auto& pair : traffic.nvlink) start(pair);
  sim.run();
  result.seconds = sim.now().seconds();
  result.ib_bytes_per_gpu = traffic.ib_bytes_per_gpu();
  result.ib_GBps_per_gpu = result.seconds > 0 ? result.ib_bytes_per_gpu / result.seconds / 1e9 : 0;
  result.events = sim.events_processed();
  result.solves = net.solves();
  return result;
}

}  // namespace codesim::workloads
