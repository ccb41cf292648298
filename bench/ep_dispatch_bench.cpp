// The dispatch all-to-all of every EP group of a cluster at flow level: sampled node-limited
// routing, IB to the same-index GPU of each remote node, NVLink forwarding, max-min sharing on
// the routed MPFT. Prints per-GPU IB bandwidth beside DeepEP's measurement for the same EP size.
//
//   build/bench/ep_dispatch_bench [nodes=256] [tokens_per_gpu=4096] [ep=64] [M=4]
//
// Calibration inputs, named in the output: NVLink per GPU at DeepEP's intranode (EP8) dispatch
// bandwidth; IB links at the NIC's line rate (the V3 report's achieved 50 GB/s per 400 Gb/s NIC).

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "models/calibration.hpp"
#include "topologies/node_graph.hpp"
#include "topologies/topology.hpp"
#include "workloads/ep_dispatch_sim.hpp"

using namespace codesim;

int main(int argc, char** argv) {
  const int nodes = argc > 1 ? std::atoi(argv[1]) : 256;
  const int tokens = argc > 2 ? std::atoi(argv[2]) : 4096;
  const int ep = argc > 3 ? std::atoi(argv[3]) : 64;
  const int m = argc > 4 ? std::atoi(argv[4]) : 4;
  const auto& cal = models::h800_published_calibration();
  const models::EpBandwidthMeasurement* intranode = nullptr;
  const models::EpBandwidthMeasurement* measured = nullptr;
  for (const auto& row : cal.ep_all_to_all) {
    if (row.over_nvlink) intranode = &row;
    if (row.ep == ep) measured = &row;
  }
  if (intranode == nullptr) return 1;

  const auto started = std::chrono::steady_clock::now();
  topo::TopologyParams params;
  params.kind = topo::TopologyKind::kMultiPlaneFatTree;
  params.nodes = nodes;
  params.link_Gbps = cal.nic_line_rate_Gbps;
  topo::Topology fabric = topo::build_topology(params);
  topo::NodeParams node;
  node.nvlink_GBps = intranode->dispatch_GBps;
  node.nic_Gbps = cal.nic_line_rate_Gbps;
  const auto node_vertices = topo::attach_nodes(fabric, node, nodes);
  topo::Router router(fabric);
  topo::GpuRouter gpus(router, node_vertices);
  const auto built = std::chrono::steady_clock::now();

  workloads::EpDispatchShape shape;
  shape.gpus = nodes * node.gpus;
  shape.gpus_per_node = node.gpus;
  shape.ep = ep;
  shape.tokens_per_gpu = tokens;
  shape.max_nodes_per_token = m;
  const auto traffic = workloads::sample_ep_dispatch(shape);
  const auto sampled = std::chrono::steady_clock::now();
  const auto result = workloads::simulate_ep_dispatch(traffic, gpus, router.links(), node.gpus);
  const auto done = std::chrono::steady_clock::now();
  auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };

  std::printf(
      "EP%d dispatch on a %d-GPU MPFT: %d tokens/GPU, top-%d, M = %d, FP8 copies of %.0f B\n", ep,
      shape.gpus, tokens, shape.experts_per_token, m, shape.bytes_per_copy);
  std::printf(
      "calibration inputs: NVLink %.0f GB/s per GPU (DeepEP EP8 intranode dispatch, %s); "
      "IB %.0f Gb/s line rate per NIC\n",
      intranode->dispatch_GBps, cal.name.c_str(), cal.nic_line_rate_Gbps);
  std::printf("flows %zu, events %llu, solves %llu\n", result.flows,
              (unsigned long long)result.events, (unsigned long long)result.solves);
  std::printf("simulated: %.3f ms, %.1f MB over IB per GPU, %.2f GB/s per GPU\n",
              result.seconds * 1e3, result.ib_bytes_per_gpu / 1e6, result.ib_GBps_per_gpu);
  if (measured != nullptr) {
    std::printf("DeepEP measured (H800, EP%d normal dispatch): %.0f GB/s; codesim %+.1f%%\n", ep,
                measured->dispatch_GBps,
                100 * (result.ib_GBps_per_gpu - measured->dispatch_GBps) / measured->dispatch_GBps);
  }
  std::printf("wall: build+route setup %.2f s, sampling %.2f s, flow simulation %.2f s\n",
              seconds(started, built), seconds(built, sampled), seconds(sampled, done));
  return 0;
}
