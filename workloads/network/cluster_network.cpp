#include "workloads/network/cluster_network.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "topologies/topology.hpp"

namespace codesim::workloads {

LinkEfficiency link_efficiency(const models::Calibration& calibration) {
  LinkEfficiency e;
  const double nvlink_line = calibration.measured_on.nvlink_unidirectional_GBps;
  if (nvlink_line > 0 && calibration.nvlink_achieved_GBps > 0) {
    e.nvlink = std::min(1.0, calibration.nvlink_achieved_GBps / nvlink_line);
  }
  if (calibration.nic_line_rate_Gbps > 0 && calibration.ib_achieved_GBps > 0) {
    e.fabric = std::min(1.0, calibration.ib_achieved_GBps * 8.0 / calibration.nic_line_rate_Gbps);
  }
  return e;
}

topo::TopologyParams fabric_params(const topo::ClusterSpec& cluster, double link_Gbps) {
  topo::TopologyParams params;
  params.kind = cluster.fabric.kind;
  params.nodes = cluster.nodes;
  params.nics_per_node = cluster.node.nics;
  params.switch_radix = cluster.fabric.switch_radix;
  params.link_Gbps = link_Gbps;
  params.oversubscription = cluster.fabric.oversubscription;
  params.planes = cluster.fabric.planes;
  return params;
}

ClusterGraph build_cluster_graph(const topo::ClusterSpec& cluster,
                                 const LinkEfficiency& efficiency) {
  ClusterGraph out;
  out.topology =
      topo::build_topology(fabric_params(cluster, cluster.node.nic_Gbps * efficiency.fabric));

  topo::NodeParams node;
  node.gpus = cluster.node.gpus;
  node.nics = cluster.node.nics;
  node.nvlink_GBps = cluster.node.nvlink_unidirectional_GBps * efficiency.nvlink;
  node.nic_Gbps = cluster.node.nic_Gbps * efficiency.fabric;
  out.nodes = topo::attach_nodes(out.topology, node, cluster.nodes);
  return out;
}

ClusterNetwork::ClusterNetwork(const topo::ClusterSpec& cluster, const LinkEfficiency& efficiency)
    : gpus_per_node_(cluster.node.gpus) {
  ClusterGraph graph = build_cluster_graph(cluster, efficiency);
  topology_ = std::move(graph.topology);
  nodes_ = std::move(graph.nodes);
  topo::RoutingOptions options;
  options.failures = topo::resolve_failures(topology_, cluster.fabric.failures);
  router_ = std::make_unique<topo::Router>(topology_, options);
  gpu_router_ = std::make_unique<topo::GpuRouter>(*router_, nodes_);
  build_chains();
}

void ClusterNetwork::build_chains() {
  const topo::LinkIndex& index = router_->links();
  // Union-find over directed links: a pass-through vertex joins the link into it with the link
  // out of it on the other side, in each direction.
  std::vector<std::uint32_t> parent(index.link_count());
  for (std::uint32_t l = 0; l < parent.size(); ++l) parent[l] = l;
  auto find = [&](std::uint32_t l) {
    while (parent[l] != l) l = parent[l] = parent[parent[l]];
    return l;
  };
  for (topo::VertexId v = 0; v < index.vertex_count(); ++v) {
    const topo::VertexKind kind = router_->kind(v);
    const auto arcs = index.arcs(v);
    if ((kind != topo::VertexKind::kNic && kind != topo::VertexKind::kEndpoint) ||
        arcs.size() != 2 || arcs[0].to == arcs[1].to) {
      continue;
    }
    // arcs[i].link leaves v; its reverse enters v.
    for (int i = 0; i < 2; ++i) {
      const std::uint32_t in = topo::LinkIndex::reverse(arcs[i].link);
      const std::uint32_t out = arcs[1 - i].link;
      parent[find(in)] = find(out);
    }
  }
  chain_of_.assign(index.link_count(), 0);
  std::vector<std::uint32_t> chain_of_root(index.link_count(), ~0u);
  for (std::uint32_t l = 0; l < index.link_count(); ++l) {
    const std::uint32_t root = find(l);
    if (chain_of_root[root] == ~0u) {
      chain_of_root[root] = std::uint32_t(chains_.size());
      chains_.push_back({index.bandwidth_Bps(l), sim::Time::zero()});
    }
    topo::LinkSpec& chain = chains_[chain_of_root[root]];
    chain.bandwidth_Bps = std::min(chain.bandwidth_Bps, index.bandwidth_Bps(l));
    chain.latency += index.latency(l);
    chain_of_[l] = chain_of_root[root];
  }
}

void ClusterNetwork::attach(sim::FlowNetwork& net) {
  if (attached_) throw std::logic_error("ClusterNetwork: attached twice");
  base_ = sim::FlowNetwork::LinkId(net.link_count());
  for (const topo::LinkSpec& chain : chains_) net.add_link(chain.bandwidth_Bps, chain.latency);
  attached_ = true;
}

const std::vector<sim::FlowNetwork::LinkId>& ClusterNetwork::route(int src, int dst) {
  const std::uint64_t key = (std::uint64_t(std::uint32_t(src)) << 32) | std::uint32_t(dst);
  auto it = routes_.find(key);
  if (it != routes_.end()) return it->second;
  const topo::GpuId a{src / gpus_per_node_, src % gpus_per_node_};
  const topo::GpuId b{dst / gpus_per_node_, dst % gpus_per_node_};
  topo::Route links;
  try {
    links = gpu_router_->route(a, b, key);
  } catch (const topo::Unreachable&) {
    links = detour(src, dst, key);
  }
  std::vector<sim::FlowNetwork::LinkId> chained;
  chained.reserve(links.size());
  for (topo::LinkId link : links) {
    const sim::FlowNetwork::LinkId id = base_ + chain_of_[link];
    if (chained.empty() || chained.back() != id) chained.push_back(id);
  }
  return routes_.emplace(key, std::move(chained)).first->second;
}

namespace {

const char* tier_of(topo::VertexKind a, topo::VertexKind b) {
  using K = topo::VertexKind;
  auto either = [&](K k) { return a == k || b == k; };
  if (a == K::kSwitch && b == K::kSwitch) return "switch-switch";
  if (either(K::kSwitch)) return "endpoint-switch";
  if (either(K::kNvSwitch) || (a == K::kGpu && b == K::kGpu)) return "nvlink";
  if (either(K::kEndpoint)) return "nic";
  return "pcie";
}

}  // namespace

std::vector<LinkUse> ClusterNetwork::link_use(const sim::FlowNetwork& net,
                                              sim::Time elapsed) const {
  const topo::LinkIndex& index = router_->links();
  const double seconds = elapsed.seconds();
  static const char* const kTiers[] = {"nvlink", "pcie", "nic", "endpoint-switch", "switch-switch"};
  std::vector<LinkUse> tiers;
  for (const char* name : kTiers) tiers.push_back({name, -1, 0, 0, 0, 0});
  std::vector<LinkUse> planes;  // fabric tiers by plane, in (tier, plane) order
  int max_plane = -1;
  for (topo::LinkId l = 0; l < index.link_count(); ++l) {
    const char* tier = tier_of(router_->kind(index.from(l)), router_->kind(index.to(l)));
    const double capacity = index.bandwidth_Bps(l) * seconds;
    const double bytes = net.link_bytes(base_ + chain_of_[l]);
    const double use = capacity > 0 ? bytes / capacity : 0.0;
    auto add = [&](LinkUse& u) {
      ++u.links;
      u.bytes += bytes;
      u.mean_utilisation += use;
      u.max_utilisation = std::max(u.max_utilisation, use);
    };
    for (auto& t : tiers) {
      if (t.tier == tier) add(t);
    }
    const bool fabric =
        std::string(tier) == "endpoint-switch" || std::string(tier) == "switch-switch";
    if (fabric) {
      const int plane = index.plane(l);
      max_plane = std::max(max_plane, plane);
      auto it = std::find_if(planes.begin(), planes.end(),
                             [&](const LinkUse& u) { return u.tier == tier && u.plane == plane; });
      if (it == planes.end()) {
        planes.push_back({tier, plane, 0, 0, 0, 0});
        it = planes.end() - 1;
      }
      add(*it);
    }
  }
  std::vector<LinkUse> out;
  for (auto& t : tiers) {
    if (t.links == 0) continue;
    t.mean_utilisation /= t.links;
    out.push_back(t);
  }
  if (max_plane > 0) {
    std::sort(planes.begin(), planes.end(), [](const LinkUse& a, const LinkUse& b) {
      return a.tier != b.tier ? a.tier < b.tier : a.plane < b.plane;
    });
    for (auto& p : planes) {
      p.mean_utilisation /= p.links;
      out.push_back(p);
    }
  }
  return out;
}

topo::Route ClusterNetwork::detour(int src, int dst, std::uint64_t key) {
  const int gpn = gpus_per_node_;
  const topo::GpuId a{src / gpn, src % gpn};
  const topo::GpuId b{dst / gpn, dst % gpn};
  // Try the other rails in an order the pair's hash rotates, so detours spread over them.
  const int first = int(topo::splitmix64(key) % std::uint64_t(gpn));
  for (int k = 0; k < gpn; ++k) {
    const int rail = (first + k) % gpn;
    if (rail == a.gpu || rail == b.gpu) continue;
    try {
      const topo::GpuId via_a{a.node, rail};
      const topo::GpuId via_b{b.node, rail};
      topo::Route route = gpu_router_->route(a, via_a, key);
      const topo::Route middle = gpu_router_->route(via_a, via_b, key);
      const topo::Route last = gpu_router_->route(via_b, b, key);
      route.insert(route.end(), middle.begin(), middle.end());
      route.insert(route.end(), last.begin(), last.end());
      return route;
    } catch (const topo::Unreachable&) {
    }
  }
  throw std::invalid_argument("GPU " + std::to_string(src) + " cannot reach GPU " +
                              std::to_string(dst) + " on any rail: the failures cut them apart");
}

}  // namespace codesim::workloads
