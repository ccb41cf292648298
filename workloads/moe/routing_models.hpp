#pragma once
// How popular each expert is, per layer and training step: the routing models a scenario names.
//
// Generative model. A routing model gives, per layer and training step, a popularity p_i > 0 of
// each expert (sum 1): uniform (balanced), Zipf, a drifting Zipf, or measured counts. A token's
// affinity to expert i is a sigmoid of a noisy logit,
//   s_i = sigmoid(log(E p_i) + G_i),   G_i independent standard Gumbel,  E = routed experts,
// so a balanced router has logits of pure noise (affinities mostly 0.25..0.95) and a hot expert has
// its logit raised by log(E p_i). Writing G_i = -log(X_i) with X_i ~ Exp(1) and T_i = X_i / p_i,
//   s_i = E / (E + T_i):
// T_i is the arrival time of expert i in an exponential race with rates p_i, and the experts in
// descending affinity are the race's arrivals in order. Without a group limit the top-k is thus a
// draw of k experts without replacement, each next one with probability proportional to p
// (the Gumbel-top-k property).

#include <cstdint>
#include <span>
#include <vector>

namespace codesim::workloads {

// Expert popularity per layer and step.
class RoutingModel {
 public:
  virtual ~RoutingModel() = default;
  virtual int experts() const = 0;
  // Writes experts() positive values summing to 1.
  virtual void popularity(int layer, std::int64_t step, std::span<double> out) const = 0;
};

// Uniform popularity: the ideal that auxiliary-loss-free balancing aims at.
class BalancedRouting final : public RoutingModel {
 public:
  explicit BalancedRouting(int experts);
  int experts() const override { return experts_; }
  void popularity(int layer, std::int64_t step, std::span<double> out) const override;

 private:
  int experts_;
};

// Zipf popularity: the expert of rank r (1-based) has popularity proportional to r^-exponent. The
// ranks are a seeded random permutation of the experts, one per layer, so that hot experts are
// scattered over groups and GPUs rather than packed at the front.
class ZipfRouting : public RoutingModel {
 public:
  ZipfRouting(int experts, double exponent, std::uint64_t seed);
  int experts() const override { return experts_; }
  void popularity(int layer, std::int64_t step, std::span<double> out) const override;
  // Rank (0 = hottest) of an expert in a layer at step 0.
  int rank(int layer, int expert) const;

 protected:
  std::vector<int> ranks(int layer) const;
  int experts_;
  double exponent_;
  std::uint64_t seed_;
  std::vector<double> by_rank_;  // normalized popularity of rank r
};

// A Zipf router whose hot set moves: at step t every expert takes the popularity that the expert
// floor(experts_per_step * t) places below it (cyclically) had at step 0.
class DriftingRouting final : public ZipfRouting {
 public:
  DriftingRouting(int experts, double exponent, double experts_per_step, std::uint64_t seed);
  void popularity(int layer, std::int64_t step, std::span<double> out) const override;

 private:
  double rate_;
};

// Measured per-layer token counts of each expert (what a profile file holds; reading the file
// is the cli's business).
struct ExpertCounts {
  int experts = 0;
  std::vector<std::vector<double>>
      layers;             // layers x experts, >= 0, each layer with a positive sum
  void validate() const;  // throws std::invalid_argument
};

// Popularity proportional to the measured counts of the layer (layer index modulo the layers
// measured), an expert never seen given 1e-9 of the mean so that the race stays defined. The
// counts are per-expert loads, so top-k without replacement flattens the hottest experts a little
// (an expert cannot take more than one copy of a token).
class MeasuredRouting final : public RoutingModel {
 public:
  explicit MeasuredRouting(ExpertCounts counts);
  int experts() const override { return counts_.experts; }
  void popularity(int layer, std::int64_t step, std::span<double> out) const override;

 private:
  ExpertCounts counts_;
};

}  // namespace codesim::workloads
