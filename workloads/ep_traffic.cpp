#include "workloads/ep_traffic.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

namespace codesim::workloads {
namespace {

// Picks `count` distinct values of [0, n) uniformly (partial Fisher-Yates on `scratch`).
void pick_distinct(int n, int count, std::mt19937_64& rng, std::vector<int>& scratch,
                   std::vector<int>& out) {
  scratch.resize(n);
  for (int i = 0; i < n; ++i) scratch[i] = i;
  out.clear();
  for (int i = 0; i < count; ++i) {
    std::uniform_int_distribution<int> pick(i, n - 1);
    std::swap(scratch[i], scratch[pick(rng)]);
    out.push_back(scratch[i]);
  }
}

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
  const int group_nodes = s.ep / s.gpus_per_node;
  const int chosen_nodes = std::min(s.max_nodes_per_token, group_nodes);
  const int experts_per_gpu = s.experts / s.ep;
  const int experts_per_node = experts_per_gpu * s.gpus_per_node;
  if (s.experts_per_token > chosen_nodes * experts_per_node) {
    throw std::invalid_argument("EP dispatch: top-k exceeds the experts of M nodes");
  }
  std::mt19937_64 rng(s.seed);
  // Dense per-GPU accumulators: IB bytes by (sender, node of its group), NVLink bytes by
  // (landing GPU, GPU of the same node).
  std::vector<double> ib(std::size_t(s.gpus) * group_nodes, 0.0);
  std::vector<double> nvlink(std::size_t(s.gpus) * s.gpus_per_node, 0.0);
  std::vector<int> scratch, nodes, experts;
  std::vector<char> node_hit(group_nodes), gpu_hit(s.ep);
  for (int src = 0; src < s.gpus; ++src) {
    const int group_first = src / s.ep * s.ep;
    const int src_node = (src - group_first) / s.gpus_per_node;
    const int src_index = src % s.gpus_per_node;
    for (int token = 0; token < s.tokens_per_gpu; ++token) {
      pick_distinct(group_nodes, chosen_nodes, rng, scratch, nodes);
      pick_distinct(chosen_nodes * experts_per_node, s.experts_per_token, rng, scratch, experts);
      std::fill(node_hit.begin(), node_hit.end(), 0);
      std::fill(gpu_hit.begin(), gpu_hit.end(), 0);
      for (int e : experts) {
        const int node = nodes[e / experts_per_node];
        const int gpu_in_node = (e % experts_per_node) / experts_per_gpu;
        node_hit[node] = 1;
        gpu_hit[node * s.gpus_per_node + gpu_in_node] = 1;
      }
      for (int node = 0; node < group_nodes; ++node) {
        if (!node_hit[node]) continue;
        const int landing = group_first + node * s.gpus_per_node + src_index;
        if (node != src_node) ib[std::size_t(src) * group_nodes + node] += s.bytes_per_copy;
        for (int g = 0; g < s.gpus_per_node; ++g) {
          if (gpu_hit[node * s.gpus_per_node + g] && g != src_index) {
            nvlink[std::size_t(landing) * s.gpus_per_node + g] += s.bytes_per_copy;
          }
        }
      }
    }
  }
  EpDispatchTraffic out;
  out.gpus = s.gpus;
  for (int src = 0; src < s.gpus; ++src) {
    const int group_first = src / s.ep * s.ep;
    for (int node = 0; node < group_nodes; ++node) {
      const double bytes = ib[std::size_t(src) * group_nodes + node];
      if (bytes > 0) {
        out.ib.push_back(
            {src, group_first + node * s.gpus_per_node + src % s.gpus_per_node, bytes});
      }
    }
  }
  for (int landing = 0; landing < s.gpus; ++landing) {
    const int node_first = landing / s.gpus_per_node * s.gpus_per_node;
    for (int g = 0; g < s.gpus_per_node; ++g) {
      const double bytes = nvlink[std::size_t(landing) * s.gpus_per_node + g];
      if (bytes > 0) out.nvlink.push_back({landing, node_first + g, bytes});
    }
  }
  return out;
}

}  // namespace codesim::workloads
