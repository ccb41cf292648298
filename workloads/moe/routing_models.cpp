#include "workloads/moe/routing_models.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "sim/random.hpp"

namespace codesim::workloads {

using sim::uniform_below;
using sim::Xoshiro256;

BalancedRouting::BalancedRouting(int experts) : experts_(experts) {
  if (experts <= 0) throw std::invalid_argument("routing: experts must be positive");
}

void BalancedRouting::popularity(int, std::int64_t, std::span<double> out) const {
  if (int(out.size()) != experts_) throw std::invalid_argument("routing: popularity size");
  std::fill(out.begin(), out.end(), 1.0 / experts_);
}

ZipfRouting::ZipfRouting(int experts, double exponent, std::uint64_t seed)
    : experts_(experts),
      exponent_(exponent),
      seed_(seed),
      by_rank_(std::size_t(std::max(experts, 0))) {
  if (experts <= 0) throw std::invalid_argument("routing: experts must be positive");
  if (!(exponent >= 0) || !std::isfinite(exponent)) {
    throw std::invalid_argument("routing: Zipf exponent must be finite and >= 0");
  }
  double sum = 0;
  for (int r = 0; r < experts; ++r) sum += by_rank_[r] = std::pow(double(r + 1), -exponent);
  for (double& x : by_rank_) x /= sum;
}

std::vector<int> ZipfRouting::ranks(int layer) const {
  // Fisher-Yates, seeded per layer: expert i holds rank order[i].
  Xoshiro256 engine(sim::stream_seed(seed_, std::uint64_t(layer), 0x5a1f));
  std::vector<int> order(experts_);
  std::iota(order.begin(), order.end(), 0);
  for (int i = experts_ - 1; i > 0; --i) std::swap(order[i], order[uniform_below(engine, std::uint32_t(i) + 1)]);
  return order;
}

int ZipfRouting::rank(int layer, int expert) const {
  return ranks(layer).at(expert);
}

void ZipfRouting::popularity(int layer, std::int64_t, std::span<double> out) const {
  if (int(out.size()) != experts_) throw std::invalid_argument("routing: popularity size");
  const std::vector<int> order = ranks(layer);
  for (int e = 0; e < experts_; ++e) out[e] = by_rank_[order[e]];
}

DriftingRouting::DriftingRouting(int experts, double exponent, double experts_per_step,
                                 std::uint64_t seed)
    : ZipfRouting(experts, exponent, seed), rate_(experts_per_step) {
  if (!std::isfinite(experts_per_step)) throw std::invalid_argument("routing: drift rate");
}

void DriftingRouting::popularity(int layer, std::int64_t step, std::span<double> out) const {
  std::vector<double> base(experts_);
  ZipfRouting::popularity(layer, 0, base);
  double shift = std::fmod(std::floor(rate_ * double(step)), double(experts_));
  if (shift < 0) shift += experts_;
  const int s = int(shift) % experts_;
  for (int e = 0; e < experts_; ++e) out[e] = base[(e - s + experts_) % experts_];
}

void ExpertCounts::validate() const {
  if (experts <= 0 || layers.empty()) {
    throw std::invalid_argument("measured routing: needs experts and at least one layer");
  }
  for (const auto& layer : layers) {
    if (int(layer.size()) != experts) {
      throw std::invalid_argument("measured routing: a layer's counts do not match the experts");
    }
    double sum = 0;
    for (double c : layer) {
      if (!(c >= 0) || !std::isfinite(c)) {
        throw std::invalid_argument("measured routing: counts must be finite and >= 0");
      }
      sum += c;
    }
    if (!(sum > 0)) throw std::invalid_argument("measured routing: a layer has no tokens");
  }
}

MeasuredRouting::MeasuredRouting(ExpertCounts counts) : counts_(std::move(counts)) {
  counts_.validate();
}

void MeasuredRouting::popularity(int layer, std::int64_t, std::span<double> out) const {
  if (int(out.size()) != counts_.experts) throw std::invalid_argument("routing: popularity size");
  const auto& c = counts_.layers[std::size_t(layer) % counts_.layers.size()];
  const double floor = 1e-9 * std::accumulate(c.begin(), c.end(), 0.0) / counts_.experts;
  double sum = 0;
  for (int e = 0; e < counts_.experts; ++e) sum += out[e] = std::max(c[e], floor);
  for (double& x : out) x /= sum;
}

}  // namespace codesim::workloads
