#include "workloads/moe/sampled_traffic.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

#include "sim/random.hpp"
#include "workloads/moe/token_copies.hpp"

namespace codesim::workloads {
namespace {

double total(const std::vector<PairBytes>& pairs) {
  double sum = 0;
  for (const auto& p : pairs) sum += p.bytes;
  return sum;
}

}  // namespace

double EpDispatchTraffic::ib_bytes_per_gpu() const {
  return gpus ? total(ib) / gpus : 0.0;
}
double EpDispatchTraffic::nvlink_bytes_per_gpu() const {
  return gpus ? total(nvlink) / gpus : 0.0;
}

EpDispatchTraffic sample_ep_dispatch(const EpDispatchShape& s) {
  if (s.gpus % s.ep != 0 || s.ep % s.gpus_per_node != 0 || s.experts % s.ep != 0) {
    throw std::invalid_argument(
        "EP dispatch: ep must divide the GPUs, be whole nodes, and divide the experts");
  }
  if (s.gpus_per_node > 64) throw std::invalid_argument("EP dispatch: at most 64 GPUs per node");
  const int group_nodes = s.ep / s.gpus_per_node;
  const int chosen_nodes = std::min(s.max_nodes_per_token, group_nodes);
  const int experts_per_gpu = s.experts / s.ep;
  const int experts_per_node = experts_per_gpu * s.gpus_per_node;
  if (s.experts_per_token > chosen_nodes * experts_per_node) {
    throw std::invalid_argument("EP dispatch: top-k exceeds the experts of M nodes");
  }
  sim::WordStream rng(s.seed);
  // Dense per-GPU copy counts: IB copies by (sender, node of its group), NVLink copies by
  // (landing GPU, GPU of the same node).
  std::vector<std::uint32_t> ib(std::size_t(s.gpus) * group_nodes, 0);
  std::vector<std::uint32_t> nvlink(std::size_t(s.gpus) * s.gpus_per_node, 0);
  std::uint64_t node_copies = 0, gpu_copies = 0;  // DeepEP's logical counts
  std::vector<int> nodes, experts;
  std::vector<std::uint64_t> hit(chosen_nodes);  // per chosen node: mask of GPUs reached
  for (int src = 0; src < s.gpus; ++src) {
    const int group_first = src / s.ep * s.ep;
    const int src_node = (src - group_first) / s.gpus_per_node;
    const int src_index = src % s.gpus_per_node;
    for (int token = 0; token < s.tokens_per_gpu; ++token) {
      sim::pick_distinct(group_nodes, chosen_nodes, rng, nodes);
      sim::pick_distinct(chosen_nodes * experts_per_node, s.experts_per_token, rng, experts);
      std::fill(hit.begin(), hit.end(), 0);
      for (int e : experts) {
        hit[e / experts_per_node] |= std::uint64_t(1) << ((e % experts_per_node) / experts_per_gpu);
      }
      for (int slot = 0; slot < chosen_nodes; ++slot) {
        const std::uint64_t mask = hit[slot];
        if (mask == 0) continue;
        const int node = nodes[slot];
        ++node_copies;
        gpu_copies += std::popcount(mask);
        deepep_node_copies(
            node, mask, src_node, src_index, s.gpus_per_node,
            [&](int) { ++ib[std::size_t(src) * group_nodes + node]; },
            [&](int landing, int gpu) {
              nvlink[std::size_t(group_first + landing) * s.gpus_per_node +
                     gpu % s.gpus_per_node] += 1;
            });
      }
    }
  }
  EpDispatchTraffic out;
  out.gpus = s.gpus;
  out.deepep_rdma_bytes = double(node_copies) * s.bytes_per_copy;
  out.deepep_nvl_bytes = double(gpu_copies) * s.bytes_per_copy;
  for (int src = 0; src < s.gpus; ++src) {
    const int group_first = src / s.ep * s.ep;
    for (int node = 0; node < group_nodes; ++node) {
      const std::uint32_t copies = ib[std::size_t(src) * group_nodes + node];
      if (copies > 0) {
        out.ib.push_back({src, group_first + node * s.gpus_per_node + src % s.gpus_per_node,
                          copies * s.bytes_per_copy});
      }
    }
  }
  for (int landing = 0; landing < s.gpus; ++landing) {
    const int node_first = landing / s.gpus_per_node * s.gpus_per_node;
    for (int g = 0; g < s.gpus_per_node; ++g) {
      const std::uint32_t copies = nvlink[std::size_t(landing) * s.gpus_per_node + g];
      if (copies > 0) out.nvlink.push_back({landing, node_first + g, copies * s.bytes_per_copy});
    }
  }
  return out;
}

}  // namespace codesim::workloads
