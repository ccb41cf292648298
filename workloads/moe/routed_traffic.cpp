#include "workloads/moe/routed_traffic.hpp"

#include <bit>
#include <numeric>
#include <stdexcept>

#include "workloads/moe/token_copies.hpp"

namespace codesim::workloads {

EpTrafficCounter::EpTrafficCounter(int gpus, int gpus_per_node, int hidden)
    : gpus_(gpus),
      gpus_per_node_(gpus_per_node),
      fp8_bytes_(dispatch_bytes_per_copy_fp8(hidden)),
      bf16_bytes_(combine_bytes_per_copy_bf16(hidden)) {
  if (gpus <= 0 || gpus_per_node <= 0 || gpus_per_node > 64 || gpus % gpus_per_node != 0 ||
      hidden <= 0) {
    throw std::invalid_argument(
        "EP traffic: GPUs must be whole nodes of at most 64 GPUs, hidden positive");
  }
  copies_.assign(std::size_t(gpus) * gpus, 0);
  hit_.assign(gpus / gpus_per_node, 0);
  touched_.assign(gpus / gpus_per_node, 0);
}

void EpTrafficCounter::add(const RoutingBatch& batch, const ExpertMap& map, int sender,
                           std::int64_t first_token) {
  if (map.gpus() != gpus_ || sender < 0 || sender >= gpus_) {
    throw std::invalid_argument("EP traffic: the map's GPUs or the sender do not match");
  }
  const int gpn = gpus_per_node_, src_node = sender / gpn, src_index = sender % gpn;
  std::vector<int>& touched = touched_;
  for (int t = 0; t < batch.tokens; ++t) {
    int n_touched = 0;
    for (std::int32_t e : batch.row(t)) {
      const int gpu = map.gpu(e, first_token + t);
      const int node = gpu / gpn;
      if (hit_[node] == 0) touched[n_touched++] = node;
      hit_[node] |= std::uint64_t(1) << (gpu % gpn);
    }
    for (int i = 0; i < n_touched; ++i) {
      const int node = touched[i];
      const std::uint64_t mask = hit_[node];
      hit_[node] = 0;
      ++node_copies_;
      gpu_copies_ += std::popcount(mask);
      deepep_node_copies(
          node, mask, src_node, src_index, gpn,
          [&](int landing) {
            ++remote_node_copies_;
            ++copies_[std::size_t(sender) * gpus_ + landing];
          },
          [&](int landing, int gpu) { ++copies_[std::size_t(landing) * gpus_ + gpu]; });
    }
  }
  tokens_ += batch.tokens;
}

double EpTrafficCounter::dispatch_bytes(int src, int dst) const {
  return double(copies_.at(std::size_t(src) * gpus_ + dst)) * fp8_bytes_;
}
double EpTrafficCounter::combine_bytes(int src, int dst) const {
  return double(copies_.at(std::size_t(dst) * gpus_ + src)) * bf16_bytes_;
}
double EpTrafficCounter::ib_copies() const {
  return double(remote_node_copies_);
}
double EpTrafficCounter::nvlink_copies() const {
  return double(std::accumulate(copies_.begin(), copies_.end(), std::uint64_t(0)) -
                remote_node_copies_);
}
double EpTrafficCounter::dispatch_ib_bytes() const {
  return ib_copies() * fp8_bytes_;
}
double EpTrafficCounter::dispatch_nvlink_bytes() const {
  return nvlink_copies() * fp8_bytes_;
}
double EpTrafficCounter::combine_ib_bytes() const {
  return ib_copies() * bf16_bytes_;
}
double EpTrafficCounter::combine_nvlink_bytes() const {
  return nvlink_copies() * bf16_bytes_;
}

double EpTrafficCounter::nodes_per_token() const {
  return tokens_ ? double(node_copies_) / double(tokens_) : 0.0;
}
double EpTrafficCounter::remote_nodes_per_token() const {
  return tokens_ ? ib_copies() / double(tokens_) : 0.0;
}
double EpTrafficCounter::gpus_per_token() const {
  return tokens_ ? double(gpu_copies_) / double(tokens_) : 0.0;
}
double EpTrafficCounter::ib_dispatch_bytes_per_token() const {
  return tokens_ ? dispatch_ib_bytes() / double(tokens_) : 0.0;
}
double EpTrafficCounter::nvlink_dispatch_bytes_per_token() const {
  return tokens_ ? dispatch_nvlink_bytes() / double(tokens_) : 0.0;
}
double EpTrafficCounter::ib_combine_bytes_per_token() const {
  return tokens_ ? combine_ib_bytes() / double(tokens_) : 0.0;
}
double EpTrafficCounter::nvlink_combine_bytes_per_token() const {
  return tokens_ ? combine_nvlink_bytes() / double(tokens_) : 0.0;
}

double nodes_for_experts(double experts_per_token, double experts_per_node) {
  if (!(experts_per_node > 0)) throw std::invalid_argument("experts per node must be positive");
  return experts_per_token / experts_per_node;
}

}  // namespace codesim::workloads
