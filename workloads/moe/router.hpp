#pragma once
// Mixture-of-experts routing: which experts each token's copies go to, per layer and micro-batch,
// under DeepSeek-V3's node-limited (group-limited) top-k rule, and what that routing costs in
// per-GPU load and in dispatch/combine bytes.
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
//
// Selection (DeepSeek-V3 report sec 2.1.2 and its inference Gate): with per-expert biases b_i
// (auxiliary-loss-free balancing; zero unless given), the score of group g is the sum of its two
// largest s_i + b_i; the M groups of largest score are kept (a group is a node: one group per
// node), then the k experts of largest s_i + b_i among them. The gating weights are the unbiased
// s_i of the chosen experts, normalized to sum 1. Ties go to the lower index.
//
// Two samplers implement it. Router::route draws, per token, only what the rule looks at: each
// group's first two race arrivals (memorylessness: the next arrival among a group's remaining
// experts comes Exp(1) / (their total rate) later, and is expert j with probability p_j / that
// total), then the later arrivals of the kept groups, merged until k are chosen. That is exact
// for the model above, with no bias, and costs O(groups + k) draws per token. Router::route_dense
// draws every s_i and applies NodeLimitedSelector (which also takes biases): O(experts) per token.
//
// Deterministic: a route call's draws depend only on the router's seed and (layer, micro-batch,
// step), from sim/random.hpp's fixed-bit generator and transforms.

#include <cstdint>
#include <span>
#include <vector>

#include "sim/random.hpp"

namespace codesim::models {
struct ModelConfig;
}

namespace codesim::workloads {

struct RoutingShape {
  int experts = 256;             // routed experts E
  int experts_per_token = 8;     // k
  int groups = 8;                // expert groups, consecutive runs of E / groups experts
  int max_groups_per_token = 4;  // M; >= groups (or <= 0) means no limit
  void validate() const;         // throws std::invalid_argument
  int group_size() const { return experts / groups; }
  int kept_groups() const;
};

// The routing shape of an MoE model: its expert groups (1 when it has none) and M.
RoutingShape routing_shape(const models::ModelConfig& model);

// One (layer, micro-batch): tokens x k chosen experts, each row in descending biased affinity.
struct RoutingBatch {
  int tokens = 0;
  int k = 0;
  std::vector<std::int32_t> experts;  // tokens * k
  std::vector<float> weights;         // tokens * k gating weights, each row summing to 1
  std::span<const std::int32_t> row(int token) const {
    return {experts.data() + std::size_t(token) * k, std::size_t(k)};
  }
};

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

// The node-limited top-k rule on one token's affinities.
class NodeLimitedSelector {
 public:
  explicit NodeLimitedSelector(const RoutingShape& shape);
  // affinity: experts sigmoid outputs; bias: experts values or empty. Writes k experts in
  // descending biased affinity and their normalized unbiased affinities.
  void select(std::span<const float> affinity, std::span<const float> bias,
              std::span<std::int32_t> experts, std::span<float> weights);

 private:
  RoutingShape shape_;
  std::vector<float> score_;  // biased affinity, per expert
  std::vector<float> group_score_;
  std::vector<int> kept_;
};

class Router {
 public:
  Router(const RoutingShape& shape, std::uint64_t seed);
  const RoutingShape& shape() const { return shape_; }
  // The exact lazy sampler (no bias). Reuses `out`'s storage.
  void route(const RoutingModel& model, int layer, int micro_batch, std::int64_t step, int tokens,
             RoutingBatch& out);
  // Draws every affinity and applies NodeLimitedSelector with the given biases (empty: none).
  void route_dense(const RoutingModel& model, int layer, int micro_batch, std::int64_t step,
                   int tokens, std::span<const float> bias, RoutingBatch& out);

 private:
  struct Alias {  // Walker alias table over one group's experts
    std::vector<double> threshold;
    std::vector<std::int32_t> other;
  };
  void prepare(const RoutingModel& model, int layer, std::int64_t step);
  void seed_stream(int layer, int micro_batch, std::int64_t step);

  RoutingShape shape_;
  std::uint64_t seed_;
  sim::Xoshiro256 engine_;
  std::vector<double> popularity_;
  std::vector<double> group_rate_, inverse_group_rate_;
  std::vector<Alias> alias_;
  NodeLimitedSelector selector_;
  std::vector<float> affinity_;
  // Scratch of the lazy sampler: per group, the race arrivals generated so far.
  std::vector<double> race_time_, taken_rate_, group_score_, head_;
  std::vector<std::int32_t> race_expert_, generated_, identified_, consumed_, kept_list_;
};

// Where each expert's tokens go: one GPU per physical expert slot, slots spread evenly over the
// GPUs in order (slot s on GPU s / (slots / gpus)). An expert with several replicas sends token t
// to replica (t + expert) mod replicas: even over the replicas of each expert, and uncorrelated
// between experts.
class ExpertMap {
 public:
  // Expert e on GPU e / (experts / gpus).
  static ExpertMap contiguous(int experts, int gpus);
  // physical_to_logical: the logical expert of each slot (e.g. an EPLB placement's).
  ExpertMap(int experts, int gpus, std::span<const int> physical_to_logical);
  int experts() const { return int(first_.size()) - 1; }
  int gpus() const { return gpus_; }
  int replicas(int expert) const { return first_[expert + 1] - first_[expert]; }
  int gpu(int expert, std::int64_t token) const {
    const int n = replicas(expert);
    const int r = n == 1 ? 0 : int((std::uint64_t(token) + std::uint64_t(expert)) % unsigned(n));
    return replica_gpu_[first_[expert] + r];
  }

 private:
  int gpus_ = 0;
  std::vector<int> first_;        // experts + 1 offsets into replica_gpu_
  std::vector<int> replica_gpu_;  // GPUs of each expert's replicas
};

// Token copies per GPU (token t of the batch is token first_token + t for the replica choice).
std::vector<double> gpu_loads(const RoutingBatch& batch, const ExpertMap& map,
                              std::int64_t first_token = 0);
// Token copies per expert.
std::vector<double> expert_loads(const RoutingBatch& batch, int experts);
// max / mean; 0 for an empty or all-zero input.
double max_over_mean(std::span<const double> loads);

// Auxiliary-loss-free balancing (DeepSeek-V3 sec 2.1.2) simulated on a fixed router: every step
// routes tokens_per_step tokens with the current biases (dense sampler), then moves each bias by
// gamma against its expert's load: b_i -= gamma above the mean expert load, += gamma below it.
struct BiasBalancingConfig {
  RoutingShape shape;
  int gpus = 64;  // EP group; expert e on GPU e / (experts / gpus)
  double gamma = 0.001;
  int steps = 100;
  int tokens_per_step = 1024;
  int layer = 0;
  std::uint64_t seed = 1;
};

struct BiasBalancingTrace {
  std::vector<double> gpu_max_over_mean;     // per step, with that step's biases
  std::vector<double> expert_max_over_mean;  // per step
  std::vector<float> bias;                   // after the last step
};

BiasBalancingTrace simulate_bias_balancing(const RoutingModel& model,
                                           const BiasBalancingConfig& config);

// Expert-parallel traffic of routed tokens, DeepEP style: a token goes once to each node hosting
// one of its experts, to the GPU with the sender's in-node index (over IB when the node is
// remote; the sender itself for its own node), which forwards it over NVLink to each other GPU of
// that node hosting one of its experts. Dispatch copies are FP8 (one FP32 scale per 128 values);
// combine sends BF16 copies back along the reversed paths.
class EpTrafficCounter {
 public:
  EpTrafficCounter(int gpus, int gpus_per_node, int hidden);
  // The batch's tokens are sent by GPU `sender` (token t is first_token + t for replica choice).
  void add(const RoutingBatch& batch, const ExpertMap& map, int sender,
           std::int64_t first_token = 0);

  int gpus() const { return gpus_; }
  std::int64_t tokens() const { return tokens_; }
  // GPU-pair bytes, row = source: dispatch goes sender -> experts, combine experts -> sender.
  double dispatch_bytes(int src, int dst) const;
  double combine_bytes(int src, int dst) const;
  double dispatch_ib_bytes() const;
  double dispatch_nvlink_bytes() const;
  double combine_ib_bytes() const;
  double combine_nvlink_bytes() const;
  // Per token sent.
  double nodes_per_token() const;         // distinct nodes reached
  double remote_nodes_per_token() const;  // IB copies
  double gpus_per_token() const;          // distinct GPUs reached
  double ib_dispatch_bytes_per_token() const;
  double nvlink_dispatch_bytes_per_token() const;
  double ib_combine_bytes_per_token() const;
  double nvlink_combine_bytes_per_token() const;

 private:
  double ib_copies() const;
  double nvlink_copies() const;
  int gpus_, gpus_per_node_;
  double fp8_bytes_, bf16_bytes_;
  std::int64_t tokens_ = 0;
  std::uint64_t node_copies_ = 0, remote_node_copies_ = 0, gpu_copies_ = 0;
  std::vector<std::uint64_t> copies_;  // gpus x gpus dispatch copies, row = source
  std::vector<std::uint64_t> hit_;     // scratch: per node, mask of GPUs reached
  std::vector<int> touched_;           // scratch: nodes reached by the current token
};

// Nodes a token's k experts need at `experts_per_node` experts per selected node: k / that, the
// V3 report's reckoning (4 nodes x 3.2 experts per node ~ 13 experts at the IB cost of 4 nodes).
double nodes_for_experts(double experts_per_token, double experts_per_node);

}  // namespace codesim::workloads
