#include "workloads/moe/dispatch_simulation.hpp"

#include <algorithm>
#include <vector>

#include "sim/flow_network.hpp"

namespace codesim::workloads {
namespace {

void ignore_done(sim::Simulator&, void*, std::uint64_t) {}

}  // namespace

EpDispatchSimResult simulate_ep_dispatch(const EpDispatchTraffic& traffic,
                                         topo::GpuRouter& gpu_router, const topo::Router& fabric,
                                         int gpus_per_node, const EpDispatchSimOptions& options) {
  const topo::LinkIndex& links = fabric.links();
  sim::Simulator sim;
  sim::FlowNetwork net(sim);
  const auto base = topo::add_links_to(net, links);
  auto gpu = [&](int g) { return topo::GpuId{g / gpus_per_node, g % gpus_per_node}; };
  std::vector<double> carried(links.link_count(), 0.0);  // bytes routed over each link
  EpDispatchSimResult result;
  auto start = [&](const PairBytes& pair, int parts) {
    const double bytes = pair.bytes / parts;
    for (int part = 0; part < parts; ++part) {
      const std::uint64_t key =
          (std::uint64_t(pair.src) << 32 | std::uint32_t(pair.dst)) ^ (std::uint64_t(part) << 56);
      topo::Route route =
          options.adaptive ? gpu_router.route_adaptive(gpu(pair.src), gpu(pair.dst), key, carried)
                           : gpu_router.route(gpu(pair.src), gpu(pair.dst), key);
      for (auto& link : route) {
        carried[link] += bytes;
        link += base;
      }
      net.start_flow(route, bytes, &ignore_done, nullptr, key);
      ++result.flows;
    }
  };
  const int ib_parts = std::max(1, options.ib_flows_per_pair);
  for (const auto& pair : traffic.ib) start(pair, ib_parts);
  for (const auto& pair : traffic.nvlink) start(pair, 1);
  sim.run();
  result.seconds = sim.now().seconds();
  auto rate = [&](double bytes) { return result.seconds > 0 ? bytes / result.seconds / 1e9 : 0; };
  result.ib_bytes_per_gpu = traffic.ib_bytes_per_gpu();
  result.ib_GBps_per_gpu = rate(result.ib_bytes_per_gpu);
  result.deepep_rdma_bytes_per_gpu = traffic.deepep_rdma_bytes_per_gpu();
  result.deepep_rdma_GBps = rate(result.deepep_rdma_bytes_per_gpu);
  result.deepep_nvl_GBps = rate(traffic.deepep_nvl_bytes_per_gpu());
  if (result.seconds > 0) {
    auto kind = [&](topo::VertexId v) { return fabric.kind(v); };
    double switch_sum = 0;
    int switch_links = 0;
    for (topo::LinkId l = 0; l < links.link_count(); ++l) {
      const double u = carried[l] / (links.bandwidth_Bps(l) * result.seconds);
      const auto a = kind(links.from(l)), b = kind(links.to(l));
      const bool a_switch = a == topo::VertexKind::kSwitch,
                 b_switch = b == topo::VertexKind::kSwitch;
      const bool nvlink = a == topo::VertexKind::kNvSwitch || b == topo::VertexKind::kNvSwitch ||
                          (a == topo::VertexKind::kGpu && b == topo::VertexKind::kGpu);
      auto raise = [u](double& slot) { slot = std::max(slot, u); };
      if (a_switch || b_switch) raise(result.max_fabric_link_utilisation);
      if (a_switch && b_switch && carried[l] > 0) {
        raise(result.max_switch_link_utilisation);
        switch_sum += u;
        ++switch_links;
      }
      if (nvlink) raise(result.max_nvlink_utilisation);
    }
    if (switch_links > 0) result.mean_switch_link_utilisation = switch_sum / switch_links;
  }
  result.events = sim.events_processed();
  result.solves = net.solves();
  return result;
}

}  // namespace codesim::workloads
