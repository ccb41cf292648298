#include "workloads/moe/router.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

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

namespace {

// One route() call's exponential race (header comment), token by token. Per group: the race
// arrivals generated so far, their times, and the experts of the first `identified` of them (an
// arrival's expert is independent of its time, so it is drawn only once needed: when the arrival
// is chosen, or before the group's next arrival). The state lives in the Router's scratch arrays,
// reached through raw pointers so that the compiler need not reload vectors after every store.
class LazyRace {
 public:
  struct Tables {
    const double* popularity;
    const double* group_rate;
    const double* inverse_group_rate;
    const Router::Alias* alias;
  };
  struct Scratch {
    double* time;                // groups x cap: arrival times
    std::int32_t* expert;        // groups x cap: experts of the identified arrivals
    double* taken_rate;          // per group: rate of its identified experts
    double* score;               // per group: sum of its first two affinities
    std::int32_t* generated;     // per group: arrivals generated
    std::int32_t* identified;    // per group: arrivals whose expert is known
    std::int32_t* consumed;      // per group: arrivals chosen
    std::int32_t* kept_list;     // the kept groups, ascending
    double* head;                // per kept group: its next unchosen arrival's time
  };

  LazyRace(const RoutingShape& shape, const Tables& tables, const Scratch& scratch,
           Xoshiro256 engine)
      : groups_(shape.groups),
        g_size_(shape.group_size()),
        k_(shape.experts_per_token),
        kept_(shape.kept_groups()),
        cap_(std::min(g_size_, k_ + 1)),
        n_experts_(shape.experts),
        t_(tables),
        s_(scratch),
        engine_(engine) {}

  static int capacity(const RoutingShape& shape) {
    return std::min(shape.group_size(), shape.experts_per_token + 1);
  }
  const Xoshiro256& engine() const { return engine_; }

  // Routes one token: writes its k experts (in arrival order) and normalized weights.
  void route_token(std::int32_t* row, float* weights) {
    start_groups();
    keep_groups();
    choose(row, weights);
  }

 private:
  // The expert of group g's next unidentified arrival: proportional to p among the experts not
  // yet identified. Rejection from the alias table, then (rarely: when the identified experts
  // hold most of the rate) an exact scan.
  void identify(int g) {
    const int n = s_.identified[g];
    std::int32_t* e = s_.expert + std::size_t(g) * cap_;
    const double* p = t_.popularity + std::size_t(g) * g_size_;
    const Router::Alias& a = t_.alias[g];
    int j = -1;
    for (int attempt = 0; attempt < 32 && j < 0; ++attempt) {
      // One draw: the slot from its low half (Lemire, exact), the coin from its high half.
      std::uint64_t x = 0;
      const int slot = int(uniform_below(std::uint32_t(g_size_), [&] {
        x = engine_();
        return std::uint32_t(x);
      }));
      const int candidate = double(x >> 32) * 0x1.0p-32 < a.threshold[slot] ? slot : a.other[slot];
      if (std::find(e, e + n, candidate) == e + n) j = candidate;
    }
    if (j < 0) j = identify_by_scan(g);
    e[n] = j;
    s_.taken_rate[g] += p[j];
    s_.identified[g] = n + 1;
  }

  // The exact fallback of identify(): a scan over the experts not yet identified.
  int identify_by_scan(int g) {
    const int n = s_.identified[g];
    const std::int32_t* e = s_.expert + std::size_t(g) * cap_;
    const double* p = t_.popularity + std::size_t(g) * g_size_;
    auto taken = [&](int c) { return std::find(e, e + n, c) != e + n; };
    double rest = 0;
    for (int c = 0; c < g_size_; ++c) rest += taken(c) ? 0.0 : p[c];
    double u = uniform01(engine_) * rest;
    int j = -1;
    for (int c = 0; c < g_size_; ++c) {
      if (taken(c)) continue;
      j = c;
      if ((u -= p[c]) < 0) break;
    }
    return j;
  }

  // The time of group g's next arrival: Exp(1) / (rate of the experts not yet arrived) later.
  void next_arrival(int g) {
    while (s_.identified[g] < s_.generated[g]) identify(g);
    const int n = s_.generated[g];
    double* t = s_.time + std::size_t(g) * cap_;
    double rest = t_.group_rate[g] - s_.taken_rate[g];
    if (rest <= t_.group_rate[g] * 1e-9) {  // cancellation: sum what is left explicitly
      const std::int32_t* e = s_.expert + std::size_t(g) * cap_;
      const double* p = t_.popularity + std::size_t(g) * g_size_;
      rest = 0;
      for (int c = 0; c < g_size_; ++c) {
        if (std::find(e, e + n, c) == e + n) rest += p[c];
      }
    }
    t[n] = (n == 0 ? 0.0 : t[n - 1]) + exponential(engine_) / rest;
    s_.generated[g] = n + 1;
  }

  // Each group's first two arrivals: the first after Exp(1) / (group rate), its expert drawn from
  // the alias table as is; the second after Exp(1) / (the rate of the rest) more. A group scores
  // the sum of their affinities.
  void start_groups() {
    for (int g = 0; g < groups_; ++g) {
      double* t = s_.time + std::size_t(g) * cap_;
      s_.consumed[g] = 0;
      t[0] = exponential(engine_) * t_.inverse_group_rate[g];
      s_.generated[g] = 1;
      s_.identified[g] = 0;
      s_.taken_rate[g] = 0;
      if (g_size_ < 2) {
        s_.score[g] = affinity_of(n_experts_, t[0]);
        continue;
      }
      identify(g);
      next_arrival(g);
      s_.score[g] = n_experts_ / (n_experts_ + t[0]) + n_experts_ / (n_experts_ + t[1]);
    }
  }

  // The M groups of largest score (ties to the lower group), by rank counts: branch-free, as the
  // comparisons are coin flips to a branch predictor. Kept in ascending group order.
  void keep_groups() {
    const double* score = s_.score;
    int n_kept = 0;
    for (int g = 0; g < groups_; ++g) {
      int rank = 0;
      for (int h = 0; h < groups_; ++h) {
        rank += int(score[h] > score[g]) | (int(score[h] == score[g]) & int(h < g));
      }
      s_.kept_list[n_kept] = g;
      n_kept += int(rank < kept_);
    }
  }

  // Merges the kept groups' arrivals until k experts are chosen: head[m] is the time of kept
  // group m's next unchosen arrival (infinite once the group is exhausted).
  void choose(std::int32_t* row, float* w) {
    double* const head = s_.head;
    const std::int32_t* const kept_list = s_.kept_list;
    for (int m = 0; m < kept_; ++m) head[m] = s_.time[std::size_t(kept_list[m]) * cap_];
    double sum = 0;
    for (int j = 0; j < k_; ++j) {
      int best = 0;
      double best_time = head[0];
      for (int m = 1; m < kept_; ++m) {
        const bool earlier = head[m] < best_time;
        best_time = earlier ? head[m] : best_time;
        best = earlier ? m : best;
      }
      const int g = kept_list[best];
      if (s_.identified[g] == s_.consumed[g]) identify(g);
      row[j] = g * g_size_ + s_.expert[std::size_t(g) * cap_ + s_.consumed[g]];
      const int c = ++s_.consumed[g];
      if (j + 1 < k_) head[best] = next_head(g, c);
      const double s = affinity_of(n_experts_, best_time);
      w[j] = float(s);
      sum += s;
    }
    for (int j = 0; j < k_; ++j) w[j] = sum > 0 ? float(w[j] / sum) : 1.0f / k_;
  }

  // The time of group g's arrival number c (its next unchosen one), generating it if needed.
  double next_head(int g, int c) {
    if (c < s_.generated[g]) return s_.time[std::size_t(g) * cap_ + c];
    if (c == g_size_) return kInfinity;
    next_arrival(g);
    return s_.time[std::size_t(g) * cap_ + c];
  }

  const int groups_, g_size_, k_, kept_, cap_;
  const double n_experts_;
  const Tables t_;
  const Scratch s_;
  Xoshiro256 engine_;  // a copy of the Router's, written back when the call ends
};

}  // namespace

void Router::route(const RoutingModel& model, int layer, int micro_batch, std::int64_t step,
                   int tokens, RoutingBatch& out) {
  if (tokens < 0) throw std::invalid_argument("routing: negative token count");
  prepare(model, layer, step);
  seed_stream(layer, micro_batch, step);
  const int k = shape_.experts_per_token;
  out.tokens = tokens;
  out.k = k;
  out.experts.resize(std::size_t(tokens) * k);
  out.weights.resize(std::size_t(tokens) * k);
  const int cap = LazyRace::capacity(shape_);
  race_time_.resize(std::size_t(shape_.groups) * cap);
  race_expert_.resize(std::size_t(shape_.groups) * cap);
  LazyRace race(shape_,
                {popularity_.data(), group_rate_.data(), inverse_group_rate_.data(), alias_.data()},
                {race_time_.data(), race_expert_.data(), taken_rate_.data(), group_score_.data(),
                 generated_.data(), identified_.data(), consumed_.data(), kept_list_.data(),
                 head_.data()},
                engine_);
  for (int token = 0; token < tokens; ++token) {
    race.route_token(out.experts.data() + std::size_t(token) * k,
                     out.weights.data() + std::size_t(token) * k);
  }
  engine_ = race.engine();
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

}  // namespace codesim::workloads
