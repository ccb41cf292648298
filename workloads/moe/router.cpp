#include "workloads/moe/router.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "models/llm.hpp"
#include "workloads/moe/expected_traffic.hpp"

namespace codesim::workloads {
namespace {

using sim::exponential;
using sim::uniform01;
using sim::uniform_below;
using sim::Xoshiro256;

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// The affinity of an expert whose race arrival is t: sigmoid(log(E / t)) = E / (E + t).
double affinity_of(double experts, double t) {
  return t == kInfinity ? 0.0 : experts / (experts + t);
}

void check_popularity(std::span<const double> p) {
  double sum = 0;
  for (double x : p) {
    if (!(x > 0) || !std::isfinite(x)) {
      throw std::invalid_argument("routing: expert popularity must be positive and finite");
    }
    sum += x;
  }
  if (std::abs(sum - 1.0) > 1e-6) throw std::invalid_argument("routing: popularity must sum to 1");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shape

void RoutingShape::validate() const {
  if (experts <= 0 || groups <= 0 || experts % groups != 0) {
    throw std::invalid_argument("routing: experts must be positive and divide into the groups");
  }
  if (experts_per_token <= 0 || experts_per_token > kept_groups() * group_size()) {
    throw std::invalid_argument("routing: top-k must be positive and fit in the kept groups");
  }
}

int RoutingShape::kept_groups() const {
  return max_groups_per_token > 0 ? std::min(max_groups_per_token, groups) : groups;
}

RoutingShape routing_shape(const models::ModelConfig& model) {
  if (!model.is_moe()) throw std::invalid_argument("routing: " + model.name + " is not an MoE");
  RoutingShape s;
  s.experts = model.routed_experts;
  s.experts_per_token = model.experts_per_token;
  s.groups = model.expert_groups > 0 ? model.expert_groups : 1;
  s.max_groups_per_token = model.max_groups_per_token > 0 ? model.max_groups_per_token : s.groups;
  s.validate();
  return s;
}

// ---------------------------------------------------------------------------------------------
// Routing models

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

// ---------------------------------------------------------------------------------------------
// Node-limited selection

NodeLimitedSelector::NodeLimitedSelector(const RoutingShape& shape)
    : shape_(shape),
      score_(std::size_t(std::max(shape.experts, 0))),
      group_score_(std::size_t(std::max(shape.groups, 0))),
      kept_(std::size_t(std::max(shape.groups, 0))) {
  shape_.validate();
}

void NodeLimitedSelector::select(std::span<const float> affinity, std::span<const float> bias,
                                 std::span<std::int32_t> experts, std::span<float> weights) {
  const int n = shape_.experts, g_size = shape_.group_size(), k = shape_.experts_per_token;
  if (int(affinity.size()) != n || !(bias.empty() || int(bias.size()) == n) ||
      int(experts.size()) != k || int(weights.size()) != k) {
    throw std::invalid_argument("node-limited selection: span sizes");
  }
  for (int i = 0; i < n; ++i) score_[i] = affinity[i] + (bias.empty() ? 0.0f : bias[i]);
  // Group score: the sum of the group's two largest biased affinities.
  for (int g = 0; g < shape_.groups; ++g) {
    float first = -std::numeric_limits<float>::infinity(), second = first;
    for (int i = g * g_size; i < (g + 1) * g_size; ++i) {
      const float s = score_[i];
      if (s > first) {
        second = first;
        first = s;
      } else if (s > second) {
        second = s;
      }
    }
    group_score_[g] = g_size >= 2 ? first + second : first;
    kept_[g] = 0;
  }
  // Keep the M groups of largest score, ties to the lower group.
  for (int m = 0; m < shape_.kept_groups(); ++m) {
    int best = -1;
    for (int g = 0; g < shape_.groups; ++g) {
      if (!kept_[g] && (best < 0 || group_score_[g] > group_score_[best])) best = g;
    }
    kept_[best] = 1;
  }
  // Top-k over the kept groups' experts by insertion, in ascending index: ties to the lower.
  int filled = 0;
  for (int g = 0; g < shape_.groups; ++g) {
    if (!kept_[g]) continue;
    for (int i = g * g_size; i < (g + 1) * g_size; ++i) {
      const float s = score_[i];
      if (filled == k && !(s > score_[experts[k - 1]])) continue;
      int pos = filled < k ? filled++ : k - 1;
      while (pos > 0 && s > score_[experts[pos - 1]]) {
        experts[pos] = experts[pos - 1];
        --pos;
      }
      experts[pos] = i;
    }
  }
  float sum = 0;
  for (int j = 0; j < k; ++j) sum += weights[j] = affinity[experts[j]];
  for (int j = 0; j < k; ++j) weights[j] = sum > 0 ? weights[j] / sum : 1.0f / k;
}

// ---------------------------------------------------------------------------------------------
// Router

Router::Router(const RoutingShape& shape, std::uint64_t seed)
    : shape_(shape), seed_(seed), selector_(shape) {
  shape_.validate();
  popularity_.resize(shape_.experts);
  group_rate_.resize(shape_.groups);
  inverse_group_rate_.resize(shape_.groups);
  alias_.resize(shape_.groups);
  for (auto& a : alias_) {
    a.threshold.resize(shape_.group_size());
    a.other.resize(shape_.group_size());
  }
  affinity_.resize(shape_.experts);
  taken_rate_.resize(shape_.groups);
  group_score_.resize(shape_.groups);
  generated_.resize(shape_.groups);
  identified_.resize(shape_.groups);
  consumed_.resize(shape_.groups);
  kept_list_.resize(shape_.groups);
  head_.resize(shape_.groups);
}

void Router::seed_stream(int layer, int micro_batch, std::int64_t step) {
  engine_.seed(sim::stream_seed(seed_, std::uint64_t(layer), std::uint64_t(micro_batch),
                                std::uint64_t(step)));
}

void Router::prepare(const RoutingModel& model, int layer, std::int64_t step) {
  if (model.experts() != shape_.experts) {
    throw std::invalid_argument("routing: the model's experts differ from the shape's");
  }
  model.popularity(layer, step, popularity_);
  check_popularity(popularity_);
  const int g_size = shape_.group_size();
  std::vector<int> small, large;  // Vose's alias construction, per group
  small.reserve(g_size);
  large.reserve(g_size);
  std::vector<double> q(g_size);
  for (int g = 0; g < shape_.groups; ++g) {
    const double* p = popularity_.data() + std::size_t(g) * g_size;
    const double rate = std::accumulate(p, p + g_size, 0.0);
    group_rate_[g] = rate;
    inverse_group_rate_[g] = 1.0 / rate;
    Alias& a = alias_[g];
    small.clear();
    large.clear();
    for (int j = 0; j < g_size; ++j) {
      q[j] = p[j] * g_size / rate;
      (q[j] < 1.0 ? small : large).push_back(j);
    }
    while (!small.empty() && !large.empty()) {
      const int s = small.back(), l = large.back();
      small.pop_back();
      a.threshold[s] = q[s];
      a.other[s] = l;
      q[l] -= 1.0 - q[s];
      if (q[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (int j : small) a.threshold[j] = 1.0, a.other[j] = j;  // rounding leftovers
    for (int j : large) a.threshold[j] = 1.0, a.other[j] = j;
  }
}

void Router::route(const RoutingModel& model, int layer, int micro_batch, std::int64_t step,
                   int tokens, RoutingBatch& out) {
  if (tokens < 0) throw std::invalid_argument("routing: negative token count");
  prepare(model, layer, step);
  seed_stream(layer, micro_batch, step);
  const int groups = shape_.groups, g_size = shape_.group_size(), k = shape_.experts_per_token;
  const int kept = shape_.kept_groups();
  const double n_experts = shape_.experts;
  out.tokens = tokens;
  out.k = k;
  out.experts.resize(std::size_t(tokens) * k);
  out.weights.resize(std::size_t(tokens) * k);

  // Per group: the race arrivals generated so far, their times, and the experts of the first
  // `identified` of them (an arrival's expert is independent of its time, so it is drawn only
  // once needed: when the arrival is chosen, or before the group's next arrival).
  const int cap = std::min(g_size, k + 1);
  race_time_.resize(std::size_t(groups) * cap);
  race_expert_.resize(std::size_t(groups) * cap);
  // Raw pointers: the compiler need not reload the vectors' storage after every store.
  double* const time = race_time_.data();
  std::int32_t* const expert = race_expert_.data();
  double* const taken_rate = taken_rate_.data();
  double* const score = group_score_.data();
  std::int32_t* const generated = generated_.data();
  std::int32_t* const identified = identified_.data();
  std::int32_t* const consumed = consumed_.data();
  std::int32_t* const kept_list = kept_list_.data();
  double* const head = head_.data();
  const double* const popularity = popularity_.data();
  const double* const group_rate = group_rate_.data();
  const double* const inverse_group_rate = inverse_group_rate_.data();
  const Alias* const alias = alias_.data();
  Xoshiro256 engine = engine_;  // a local copy, written back at the end

  // The expert of group g's next unidentified arrival: proportional to p among the experts not
  // yet identified. Rejection from the alias table, then (rarely: when the identified experts
  // hold most of the rate) an exact scan.
  auto identify = [&](int g) {
    const int n = identified[g];
    std::int32_t* e = expert + std::size_t(g) * cap;
    const double* p = popularity + std::size_t(g) * g_size;
    const Alias& a = alias[g];
    int j = -1;
    for (int attempt = 0; attempt < 32 && j < 0; ++attempt) {
      // One draw: the slot from its low half (Lemire, exact), the coin from its high half.
      std::uint64_t x = 0;
      const int slot = int(uniform_below(std::uint32_t(g_size), [&] {
        x = engine();
        return std::uint32_t(x);
      }));
      const int candidate = double(x >> 32) * 0x1.0p-32 < a.threshold[slot] ? slot : a.other[slot];
      if (std::find(e, e + n, candidate) == e + n) j = candidate;
    }
    if (j < 0) {
      double rest = 0;
      for (int c = 0; c < g_size; ++c) {
        if (std::find(e, e + n, c) == e + n) rest += p[c];
      }
      double u = uniform01(engine) * rest;
      for (int c = 0; c < g_size; ++c) {
        if (std::find(e, e + n, c) != e + n) continue;
        j = c;
        if ((u -= p[c]) < 0) break;
      }
    }
    e[n] = j;
    taken_rate[g] += p[j];
    identified[g] = n + 1;
  };

  // The time of group g's next arrival: Exp(1) / (rate of the experts not yet arrived) later.
  auto next_arrival = [&](int g) {
    while (identified[g] < generated[g]) identify(g);
    const int n = generated[g];
    double* t = time + std::size_t(g) * cap;
    double rest = group_rate[g] - taken_rate[g];
    if (rest <= group_rate[g] * 1e-9) {  // cancellation: sum what is left explicitly
      const std::int32_t* e = expert + std::size_t(g) * cap;
      const double* p = popularity + std::size_t(g) * g_size;
      rest = 0;
      for (int c = 0; c < g_size; ++c) {
        if (std::find(e, e + n, c) == e + n) rest += p[c];
      }
    }
    t[n] = (n == 0 ? 0.0 : t[n - 1]) + exponential(engine) / rest;
    generated[g] = n + 1;
  };

  for (int token = 0; token < tokens; ++token) {
    // Each group's first two arrivals: the first after Exp(1) / (group rate), its expert drawn
    // from the alias table as is; the second after Exp(1) / (the rate of the rest) more.
    for (int g = 0; g < groups; ++g) {
      double* t = time + std::size_t(g) * cap;
      consumed[g] = 0;
      t[0] = exponential(engine) * inverse_group_rate[g];
      if (g_size < 2) {
        generated[g] = 1;
        identified[g] = 0;
        taken_rate[g] = 0;
        score[g] = affinity_of(n_experts, t[0]);
        continue;
      }
      generated[g] = 1;
      identified[g] = 0;
      taken_rate[g] = 0;
      identify(g);
      next_arrival(g);
      score[g] = n_experts / (n_experts + t[0]) + n_experts / (n_experts + t[1]);
    }
    // The M groups of largest score (ties to the lower group), by rank counts: branch-free, as
    // the comparisons are coin flips to a branch predictor. Kept in ascending group order.
    int n_kept = 0;
    for (int g = 0; g < groups; ++g) {
      int rank = 0;
      for (int h = 0; h < groups; ++h) {
        rank += int(score[h] > score[g]) | (int(score[h] == score[g]) & int(h < g));
      }
      kept_list[n_kept] = g;
      n_kept += int(rank < kept);
    }
    // Merge the kept groups' arrivals until k experts are chosen: head[m] is the time of kept
    // group m's next unchosen arrival (infinite once the group is exhausted).
    for (int m = 0; m < kept; ++m) head[m] = time[std::size_t(kept_list[m]) * cap];
    std::int32_t* row = out.experts.data() + std::size_t(token) * k;
    float* w = out.weights.data() + std::size_t(token) * k;
    double sum = 0;
    for (int j = 0; j < k; ++j) {
      int best = 0;
      double best_time = head[0];
      for (int m = 1; m < kept; ++m) {
        const bool earlier = head[m] < best_time;
        best_time = earlier ? head[m] : best_time;
        best = earlier ? m : best;
      }
      const int g = kept_list[best];
      if (identified[g] == consumed[g]) identify(g);
      row[j] = g * g_size + expert[std::size_t(g) * cap + consumed[g]];
      const int c = ++consumed[g];
      if (j + 1 < k) {
        if (c == generated[g]) {
          if (c == g_size) {
            head[best] = kInfinity;
          } else {
            next_arrival(g);
            head[best] = time[std::size_t(g) * cap + c];
          }
        } else {
          head[best] = time[std::size_t(g) * cap + c];
        }
      }
      const double s = affinity_of(n_experts, best_time);
      w[j] = float(s);
      sum += s;
    }
    for (int j = 0; j < k; ++j) w[j] = sum > 0 ? float(w[j] / sum) : 1.0f / k;
  }
  engine_ = engine;
}

void Router::route_dense(const RoutingModel& model, int layer, int micro_batch, std::int64_t step,
                         int tokens, std::span<const float> bias, RoutingBatch& out) {
  if (tokens < 0) throw std::invalid_argument("routing: negative token count");
  prepare(model, layer, step);
  seed_stream(layer, micro_batch, step);
  const int n = shape_.experts, k = shape_.experts_per_token;
  out.tokens = tokens;
  out.k = k;
  out.experts.resize(std::size_t(tokens) * k);
  out.weights.resize(std::size_t(tokens) * k);
  for (int token = 0; token < tokens; ++token) {
    for (int i = 0; i < n; ++i) {
      affinity_[i] = float(affinity_of(n, exponential(engine_) / popularity_[i]));
    }
    selector_.select(affinity_, bias, {out.experts.data() + std::size_t(token) * k, std::size_t(k)},
                     {out.weights.data() + std::size_t(token) * k, std::size_t(k)});
  }
}

// ---------------------------------------------------------------------------------------------
// Expert map and loads

ExpertMap ExpertMap::contiguous(int experts, int gpus) {
  if (experts <= 0 || gpus <= 0 || experts % gpus != 0) {
    throw std::invalid_argument("expert map: the GPUs must divide the experts");
  }
  std::vector<int> slots(experts);
  std::iota(slots.begin(), slots.end(), 0);
  return ExpertMap(experts, gpus, slots);
}

ExpertMap::ExpertMap(int experts, int gpus, std::span<const int> physical_to_logical)
    : gpus_(gpus) {
  const int slots = int(physical_to_logical.size());
  if (experts <= 0 || gpus <= 0 || slots % gpus != 0 || slots < experts) {
    throw std::invalid_argument(
        "expert map: the GPUs must divide the slots, one per expert at least");
  }
  const int per_gpu = slots / gpus;
  first_.assign(experts + 1, 0);
  for (int e : physical_to_logical) {
    if (e < 0 || e >= experts) throw std::invalid_argument("expert map: slot of an unknown expert");
    ++first_[e + 1];
  }
  for (int e = 0; e < experts; ++e) {
    if (first_[e + 1] == 0) throw std::invalid_argument("expert map: an expert has no slot");
    first_[e + 1] += first_[e];
  }
  replica_gpu_.resize(slots);
  std::vector<int> fill(first_.begin(), first_.end() - 1);
  for (int s = 0; s < slots; ++s) replica_gpu_[fill[physical_to_logical[s]]++] = s / per_gpu;
}

std::vector<double> gpu_loads(const RoutingBatch& batch, const ExpertMap& map,
                              std::int64_t first_token) {
  std::vector<double> load(map.gpus(), 0.0);
  for (int t = 0; t < batch.tokens; ++t) {
    for (std::int32_t e : batch.row(t)) load[map.gpu(e, first_token + t)] += 1.0;
  }
  return load;
}

std::vector<double> expert_loads(const RoutingBatch& batch, int experts) {
  std::vector<double> load(experts, 0.0);
  for (std::int32_t e : batch.experts) load[e] += 1.0;
  return load;
}

double max_over_mean(std::span<const double> loads) {
  if (loads.empty()) return 0.0;
  const double sum = std::accumulate(loads.begin(), loads.end(), 0.0);
  if (!(sum > 0)) return 0.0;
  return *std::max_element(loads.begin(), loads.end()) / (sum / double(loads.size()));
}

// ---------------------------------------------------------------------------------------------
// Auxiliary-loss-free balancing

BiasBalancingTrace simulate_bias_balancing(const RoutingModel& model,
                                           const BiasBalancingConfig& c) {
  if (c.steps < 0 || c.tokens_per_step <= 0 || !(c.gamma >= 0)) {
    throw std::invalid_argument("bias balancing: steps, tokens and gamma must be valid");
  }
  Router router(c.shape, c.seed);
  const ExpertMap map = ExpertMap::contiguous(c.shape.experts, c.gpus);
  BiasBalancingTrace trace;
  trace.bias.assign(c.shape.experts, 0.0f);
  RoutingBatch batch;
  const float gamma = float(c.gamma);
  for (int step = 0; step < c.steps; ++step) {
    router.route_dense(model, c.layer, 0, step, c.tokens_per_step, trace.bias, batch);
    const auto per_gpu = gpu_loads(batch, map);
    const auto per_expert = expert_loads(batch, c.shape.experts);
    trace.gpu_max_over_mean.push_back(max_over_mean(per_gpu));
    trace.expert_max_over_mean.push_back(max_over_mean(per_expert));
    const double mean = double(batch.tokens) * batch.k / c.shape.experts;
    for (int e = 0; e < c.shape.experts; ++e) {
      if (per_expert[e] > mean) trace.bias[e] -= gamma;
      if (per_expert[e] < mean) trace.bias[e] += gamma;
    }
  }
  return trace;
}

// ---------------------------------------------------------------------------------------------
// Traffic

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
      std::uint64_t mask = hit_[node];
      hit_[node] = 0;
      ++node_copies_;
      gpu_copies_ += std::popcount(mask);
      const int landing = node * gpn + src_index;
      if (node != src_node) {
        ++remote_node_copies_;
        ++copies_[std::size_t(sender) * gpus_ + landing];
      }
      mask &= ~(std::uint64_t(1) << src_index);
      for (; mask != 0; mask &= mask - 1) {
        ++copies_[std::size_t(landing) * gpus_ + node * gpn + std::countr_zero(mask)];
      }
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
