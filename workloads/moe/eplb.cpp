#include "workloads/moe/eplb.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace codesim::workloads {

Packing balanced_packing(std::span<const double> weight, int packs) {
  const int n = int(weight.size());
  if (packs <= 0 || n % packs != 0) {
    throw std::invalid_argument("balanced packing: the packs must divide the items");
  }
  const int per_pack = n / packs;
  Packing out;
  out.pack.assign(n, -1);
  out.rank.assign(n, -1);
  if (per_pack == 1) {
    std::iota(out.pack.begin(), out.pack.end(), 0);
    std::fill(out.rank.begin(), out.rank.end(), 0);
    return out;
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return weight[a] > weight[b]; });
  std::vector<double> pack_weight(packs, 0.0);
  std::vector<int> pack_items(packs, 0);
  for (int item : order) {
    int best = -1;
    for (int p = 0; p < packs; ++p) {
      if (pack_items[p] < per_pack && (best < 0 || pack_weight[p] < pack_weight[best])) best = p;
    }
    out.pack[item] = best;
    out.rank[item] = pack_items[best]++;
    pack_weight[best] += weight[item];
  }
  return out;
}

Replication replicate_experts(std::span<const double> weight, int physical) {
  const int n = int(weight.size());
  if (n <= 0 || physical < n) {
    throw std::invalid_argument("replication: needs experts and at least one slot each");
  }
  Replication out;
  out.physical_to_logical.resize(physical);
  out.rank.assign(physical, 0);
  out.count.assign(n, 1);
  std::iota(out.physical_to_logical.begin(), out.physical_to_logical.begin() + n, 0);
  for (int slot = n; slot < physical; ++slot) {
    int best = 0;
    for (int e = 1; e < n; ++e) {
      if (weight[e] / out.count[e] > weight[best] / out.count[best]) best = e;
    }
    out.physical_to_logical[slot] = best;
    out.rank[slot] = out.count[best]++;
  }
  return out;
}

EplbPlacement eplb_hierarchical(std::span<const double> load, int physical, int groups, int nodes,
                                int gpus) {
  const int experts = int(load.size());
  if (experts <= 0 || groups <= 0 || nodes <= 0 || gpus <= 0 || experts % groups != 0 ||
      groups % nodes != 0 || gpus % nodes != 0 || physical % gpus != 0 || physical < experts) {
    throw std::invalid_argument(
        "EPLB: groups must divide the experts, nodes the groups and the GPUs, GPUs the slots");
  }
  for (double x : load) {
    if (!(x >= 0)) throw std::invalid_argument("EPLB: loads must be >= 0");
  }
  const int group_size = experts / groups, groups_per_node = groups / nodes;
  const int per_node = experts / nodes;         // logical experts per node
  const int slots_per_node = physical / nodes;  // physical slots per node
  const int gpus_per_node = gpus / nodes, slots_per_gpu = physical / gpus;
  if (slots_per_node < per_node) throw std::invalid_argument("EPLB: too few slots per node");

  // 1. Groups onto nodes. Node-major renumbering: "mlog" m = node * per_node + position.
  std::vector<double> group_load(groups, 0.0);
  for (int e = 0; e < experts; ++e) group_load[e / group_size] += load[e];
  const Packing by_node = balanced_packing(group_load, nodes);
  std::vector<int> mlog_to_log(experts), log_to_mlog(experts);
  for (int e = 0; e < experts; ++e) {
    const int g = e / group_size;
    const int m =
        (by_node.pack[g] * groups_per_node + by_node.rank[g]) * group_size + e % group_size;
    log_to_mlog[e] = m;
    mlog_to_log[m] = e;
  }

  EplbPlacement out;
  out.experts = experts;
  out.gpus = gpus;
  out.nodes = nodes;
  out.hierarchical = nodes > 1 || groups > 1;
  out.physical_to_logical.resize(physical);
  out.replica_rank.resize(physical);
  out.logical_count.resize(experts);
  std::vector<double> node_load(per_node), slot_load(slots_per_node);
  for (int node = 0; node < nodes; ++node) {
    // 2. Replicas within the node.
    for (int j = 0; j < per_node; ++j) node_load[j] = load[mlog_to_log[node * per_node + j]];
    const Replication rep = replicate_experts(node_load, slots_per_node);
    // 3. The node's replicas onto its GPUs.
    for (int s = 0; s < slots_per_node; ++s) {
      const int j = rep.physical_to_logical[s];
      slot_load[s] = node_load[j] / rep.count[j];
    }
    const Packing by_gpu = balanced_packing(slot_load, gpus_per_node);
    for (int s = 0; s < slots_per_node; ++s) {
      const int slot = node * slots_per_node + by_gpu.pack[s] * slots_per_gpu + by_gpu.rank[s];
      const int logical = mlog_to_log[node * per_node + rep.physical_to_logical[s]];
      out.physical_to_logical[slot] = logical;
      out.replica_rank[slot] = rep.rank[s];
    }
    for (int j = 0; j < per_node; ++j)
      out.logical_count[mlog_to_log[node * per_node + j]] = rep.count[j];
  }
  return out;
}

EplbPlacement eplb_rebalance(std::span<const double> load, int physical, int groups, int nodes,
                             int gpus) {
  if (groups > 0 && nodes > 0 && groups % nodes == 0) {
    return eplb_hierarchical(load, physical, groups, nodes, gpus);
  }
  return eplb_hierarchical(load, physical, 1, 1, gpus);
}

EplbPlacement contiguous_placement(int experts, int gpus) {
  if (experts <= 0 || gpus <= 0 || experts % gpus != 0) {
    throw std::invalid_argument("placement: the GPUs must divide the experts");
  }
  EplbPlacement out;
  out.experts = experts;
  out.gpus = gpus;
  out.nodes = 1;
  out.physical_to_logical.resize(experts);
  std::iota(out.physical_to_logical.begin(), out.physical_to_logical.end(), 0);
  out.replica_rank.assign(experts, 0);
  out.logical_count.assign(experts, 1);
  return out;
}

std::vector<double> placement_gpu_loads(const EplbPlacement& p, std::span<const double> load) {
  if (int(load.size()) != p.experts) throw std::invalid_argument("placement: load size");
  std::vector<double> out(p.gpus, 0.0);
  const int per_gpu = p.slots_per_gpu();
  for (std::size_t s = 0; s < p.physical_to_logical.size(); ++s) {
    const int e = p.physical_to_logical[s];
    out[int(s) / per_gpu] += load[e] / p.logical_count[e];
  }
  return out;
}

}  // namespace codesim::workloads
