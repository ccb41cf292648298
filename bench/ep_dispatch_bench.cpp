// The dispatch all-to-all of every EP group of a cluster at flow level: sampled node-limited
// routing, IB to the same-index GPU of each remote node, NVLink forwarding, max-min sharing on
// the routed fabric. Prints the per-GPU IB link bandwidth and DeepEP's own "RDMA" metric (its
// tests/test_internode.py counts one copy per token per node reached, the sender's own node
// included, over the kernel time) beside DeepEP's measurement for the same EP size.
//
//   build/bench/ep_dispatch_bench [nodes=256] [tokens_per_gpu=4096] [ep=64] [M=4] [mode=deepep]
//
// mode deepep: the MPFT run compared with DeepEP. mode fabrics: the same sampled traffic (same
// seed) on an MPFT (8 planes), an MRFT (8 rails joined at the spines) and an FT2 (one two-layer
// fat-tree of all NICs), each with hash ECMP (one flow per GPU pair, or one per DeepEP queue
// pair) and with load-adaptive routing.
//
// Calibration inputs, named in the output: IB links at the NIC's line rate (the V3 report's
// achieved 50 GB/s per 400 Gb/s NIC); NVLink per GPU from DeepEP's intranode (EP8) dispatch
// measurement, 153 GB/s "(NVL)". That figure is logical too: test_intranode.py divides every
// token a rank receives, its own included, by the time, and the 1/8 a rank sends itself never
// crosses NVLink. So the physical NVLink rate it shows is 153 x 7/8 = 133.9 GB/s per GPU, which
// the runs use; the deepep mode also prints the run at 153 GB/s.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "models/calibration.hpp"
#include "topologies/node_graph.hpp"
#include "topologies/topology.hpp"
#include "workloads/network/cluster_network.hpp"
#include "workloads/moe/dispatch_simulation.hpp"

using namespace codesim;

namespace {

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// A fabric of `nodes` nodes with its routers, built as the training engine builds a cluster
// (workloads::build_cluster_graph), every link at the rate given (no efficiency applied).
struct Cluster {
  workloads::ClusterGraph graph;
  topo::Router router;
  topo::GpuRouter gpus;
  Cluster(topo::TopologyKind kind, int node_count, const topo::NodeSpec& node)
      : graph(workloads::build_cluster_graph(spec(kind, node_count, node), {1.0, 1.0})),
        router(graph.topology),
        gpus(router, graph.nodes) {}
  static topo::ClusterSpec spec(topo::TopologyKind kind, int node_count,
                                const topo::NodeSpec& node) {
    topo::ClusterSpec cluster;
    cluster.nodes = node_count;
    cluster.node = node;
    cluster.fabric.kind = kind;
    return cluster;
  }
  int switches() const {
    int count = 0;
    for (std::size_t v = 0; v < router.links().vertex_count(); ++v) {
      count += router.kind(topo::VertexId(v)) == topo::VertexKind::kSwitch;
    }
    return count;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int nodes = argc > 1 ? std::atoi(argv[1]) : 256;
  const int tokens = argc > 2 ? std::atoi(argv[2]) : 4096;
  const int ep = argc > 3 ? std::atoi(argv[3]) : 64;
  const int m = argc > 4 ? std::atoi(argv[4]) : 4;
  const std::string mode = argc > 5 ? argv[5] : "deepep";
  if (mode != "deepep" && mode != "fabrics") {
    std::fprintf(stderr, "mode must be deepep or fabrics\n");
    return 2;
  }
  const auto& cal = models::h800_published_calibration();
  const models::EpBandwidthMeasurement* intranode = nullptr;
  const models::EpBandwidthMeasurement* measured = nullptr;
  for (const auto& row : cal.ep_all_to_all) {
    if (row.over_nvlink) intranode = &row;
    if (row.ep == ep) measured = &row;
  }
  if (intranode == nullptr) return 1;
  // The EP8 NVL metric counts the 1/ep of received tokens a rank sends itself (no NVLink).
  const double nvlink_logical_GBps = intranode->dispatch_GBps;
  const double nvlink_physical_GBps = nvlink_logical_GBps * (intranode->ep - 1) / intranode->ep;
  const topo::NodeSpec node{8, nvlink_physical_GBps, 8, cal.nic_line_rate_Gbps};

  const auto started = std::chrono::steady_clock::now();
  workloads::EpDispatchShape shape;
  shape.gpus = nodes * node.gpus;
  shape.gpus_per_node = node.gpus;
  shape.ep = ep;
  shape.tokens_per_gpu = tokens;
  shape.max_nodes_per_token = m;
  const auto traffic = workloads::sample_ep_dispatch(shape);
  const auto sampled = std::chrono::steady_clock::now();
  const double per_token = shape.bytes_per_copy * tokens;

  std::printf(
      "EP%d dispatch of %d GPUs: %d tokens/GPU, top-%d of %d experts, M = %d, FP8 copies "
      "of %.0f B (7168 B + 56 FP32 scales)\n",
      ep, shape.gpus, tokens, shape.experts_per_token, shape.experts, m, shape.bytes_per_copy);
  std::printf(
      "calibration inputs (%s): IB %.0f Gb/s line rate per NIC; NVLink %.1f GB/s per GPU "
      "= DeepEP EP8 intranode dispatch %.0f GB/s (NVL) x %d/%d (its NVL bytes include the "
      "1/%d of tokens a rank sends itself)\n",
      cal.name.c_str(), cal.nic_line_rate_Gbps, nvlink_physical_GBps, nvlink_logical_GBps,
      intranode->ep - 1, intranode->ep, intranode->ep);
  std::printf(
      "copies per token (sampled, seed %llu): %.3f nodes reached, %.3f of them remote "
      "(IB), %.3f GPUs reached, %.3f NVLink forwards\n",
      (unsigned long long)shape.seed, traffic.deepep_rdma_bytes_per_gpu() / per_token,
      traffic.ib_bytes_per_gpu() / per_token, traffic.deepep_nvl_bytes_per_gpu() / per_token,
      traffic.nvlink_bytes_per_gpu() / per_token);

  if (mode == "deepep") {
    Cluster cluster(topo::TopologyKind::kMultiPlaneFatTree, nodes, node);
    const auto built = std::chrono::steady_clock::now();
    const auto r =
        workloads::simulate_ep_dispatch(traffic, cluster.gpus, cluster.router, node.gpus);
    const auto done = std::chrono::steady_clock::now();
    std::printf("fabric: MPFT, 8 planes, ECMP; flows %zu, events %llu, solves %llu\n", r.flows,
                (unsigned long long)r.events, (unsigned long long)r.solves);
    std::printf("simulated: %.3f ms\n", r.seconds * 1e3);
    std::printf("  IB link bandwidth per GPU:  %5.1f MB -> %5.2f GB/s (remote nodes only)\n",
                r.ib_bytes_per_gpu / 1e6, r.ib_GBps_per_gpu);
    std::printf(
        "  DeepEP RDMA metric per GPU: %5.1f MB -> %5.2f GB/s (one copy per node reached, "
        "own node included, as test_internode.py counts)\n",
        r.deepep_rdma_bytes_per_gpu / 1e6, r.deepep_rdma_GBps);
    std::printf("  DeepEP NVL metric per GPU:  %5.1f MB -> %5.2f GB/s (tokens received)\n",
                traffic.deepep_nvl_bytes_per_gpu() / 1e6, r.deepep_nvl_GBps);
    std::printf("  NVLink forwarding per GPU:  %5.1f MB -> %5.2f GB/s\n",
                traffic.nvlink_bytes_per_gpu() / 1e6,
                traffic.nvlink_bytes_per_gpu() / r.seconds / 1e9);
    std::printf(
        "  busiest links (bytes / capacity x time): IB %.1f%%, switch-to-switch %.1f%%, "
        "NVLink %.1f%%\n",
        100 * r.max_fabric_link_utilisation, 100 * r.max_switch_link_utilisation,
        100 * r.max_nvlink_utilisation);
    // The same traffic with NVLink at the EP8 figure as published (logical, own tokens included).
    topo::NodeSpec logical_node = node;
    logical_node.nvlink_unidirectional_GBps = nvlink_logical_GBps;
    Cluster logical_cluster(topo::TopologyKind::kMultiPlaneFatTree, nodes, logical_node);
    const auto r153 = workloads::simulate_ep_dispatch(traffic, logical_cluster.gpus,
                                                      logical_cluster.router, node.gpus);
    std::printf(
        "  with NVLink at %.0f GB/s instead: %.3f ms, IB %.2f GB/s, DeepEP RDMA metric "
        "%.2f GB/s\n",
        nvlink_logical_GBps, r153.seconds * 1e3, r153.ib_GBps_per_gpu, r153.deepep_rdma_GBps);
    if (measured != nullptr) {
      const double m_GBps = measured->dispatch_GBps;
      auto gap = [&](double v) { return 100 * (v - m_GBps) / m_GBps; };
      std::printf("DeepEP measured (H800, EP%d normal dispatch, %s): %.0f GB/s (RDMA metric)\n", ep,
                  cal.name.c_str(), m_GBps);
      std::printf(
          "  codesim on DeepEP's metric: %.2f GB/s, %+.1f%% (NVLink at %.0f GB/s: %+.1f%%)"
          "\n",
          r.deepep_rdma_GBps, gap(r.deepep_rdma_GBps), nvlink_logical_GBps,
          gap(r153.deepep_rdma_GBps));
      std::printf("  codesim's pure IB link bandwidth against it: %+.1f%% (not like with like)\n",
                  gap(r.ib_GBps_per_gpu));
      // The measured time, and what it implies per GPU, with this traffic's copies per token.
      const double t = r.deepep_rdma_bytes_per_gpu / (m_GBps * 1e9);
      std::printf(
          "  the measurement in physical terms (its time for these bytes, %.3f ms): IB "
          "%.1f GB/s per GPU (%.0f%% of line rate), NVLink forwarding %.1f GB/s per GPU "
          "(%.0f%% of %.1f)\n",
          t * 1e3, r.ib_bytes_per_gpu / t / 1e9,
          100 * r.ib_bytes_per_gpu / t / (cal.nic_line_rate_Gbps / 8 * 1e9),
          traffic.nvlink_bytes_per_gpu() / t / 1e9,
          100 * traffic.nvlink_bytes_per_gpu() / t / (nvlink_physical_GBps * 1e9),
          nvlink_physical_GBps);
    }
    std::printf("wall: sampling %.2f s, build+route setup %.2f s, flow simulation %.2f s\n",
                seconds_between(started, sampled), seconds_between(sampled, built),
                seconds_between(built, done));
    return 0;
  }

  // DeepEP's test runs 24 SMs, 12 channels, and each channel puts through its own queue pair
  // (csrc/deep_ep.cpp: num_channels = config.num_sms / 2; internode.cu: qp_id = channel_id).
  const int qps_per_peer = 12;
  std::printf("\n%-6s %-13s %8s %8s %8s %11s %8s %13s %8s %7s %6s\n", "fabric", "routing",
              "switches", "time ms", "IB GB/s", "DeepEP GB/s", "IB util", "sw-sw max/avg",
              "NVL util", "flows", "wall s");
  const struct {
    topo::TopologyKind kind;
    const char* name;
  } fabrics[] = {{topo::TopologyKind::kMultiPlaneFatTree, "mpft"},
                 {topo::TopologyKind::kMultiRailFatTree, "mrft"},
                 {topo::TopologyKind::kFatTree2, "ft2"}};
  const struct {
    const char* name;
    bool adaptive;
    int flows_per_pair;
  } routings[] = {{"ecmp", false, 1}, {"ecmp, 12 QPs", false, qps_per_peer}, {"adaptive", true, 1}};
  for (const auto& f : fabrics) {
    Cluster cluster(f.kind, nodes, node);
    for (const auto& routing : routings) {
      const auto t0 = std::chrono::steady_clock::now();
      workloads::EpDispatchSimOptions options;
      options.adaptive = routing.adaptive;
      options.ib_flows_per_pair = routing.flows_per_pair;
      const auto r = workloads::simulate_ep_dispatch(traffic, cluster.gpus, cluster.router,
                                                     node.gpus, options);
      const auto t1 = std::chrono::steady_clock::now();
      std::printf("%-6s %-13s %8d %8.3f %8.2f %11.2f %7.1f%% %6.1f/%4.1f%% %7.1f%% %7zu %6.2f\n",
                  f.name, routing.name, cluster.switches(), r.seconds * 1e3, r.ib_GBps_per_gpu,
                  r.deepep_rdma_GBps, 100 * r.max_fabric_link_utilisation,
                  100 * r.max_switch_link_utilisation, 100 * r.mean_switch_link_utilisation,
                  100 * r.max_nvlink_utilisation, r.flows, seconds_between(t0, t1));
    }
  }
  std::printf(
      "IB GB/s: per-GPU IB link bandwidth; DeepEP GB/s: its RDMA metric; util: bytes "
      "carried over capacity x time (IB: busiest link with a switch at an end; sw-sw: "
      "busiest and mean switch-to-switch link that carries bytes; NVL: busiest NVLink)\n");
  std::printf("wall: sampling %.2f s\n", seconds_between(started, sampled));
  return 0;
}
