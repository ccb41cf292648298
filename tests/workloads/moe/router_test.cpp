#include "workloads/moe/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <set>
#include <stdexcept>

#include "models/llm.hpp"

namespace codesim::workloads {
namespace {

RoutingShape v3_shape(int k = 8, int m = 4) {
  RoutingShape s;
  s.experts = 256;
  s.experts_per_token = k;
  s.groups = 8;
  s.max_groups_per_token = m;
  return s;
}

TEST(MoeRouting, ShapeFromTheModel) {
  const RoutingShape s = routing_shape(models::model_preset("deepseek-v3"));
  EXPECT_EQ(s.experts, 256);
  EXPECT_EQ(s.experts_per_token, 8);
  EXPECT_EQ(s.groups, 8);
  EXPECT_EQ(s.max_groups_per_token, 4);
  EXPECT_EQ(s.group_size(), 32);
  EXPECT_THROW(routing_shape(models::model_preset("llama-3.1-405b")), std::invalid_argument);
  RoutingShape bad = v3_shape(200, 4);  // 200 experts do not fit in 4 groups of 32
  EXPECT_THROW(bad.validate(), std::invalid_argument);
}

// 8 experts in 4 groups of 2, keep M = 2 groups, top-3.
TEST(MoeRouting, SelectorByHand) {
  RoutingShape s;
  s.experts = 8;
  s.experts_per_token = 3;
  s.groups = 4;
  s.max_groups_per_token = 2;
  NodeLimitedSelector selector(s);
  const std::vector<float> affinity = {0.75f, 0.25f, 0.5f, 0.5f, 0.625f, 0.5625f, 0.875f, 0.0f};
  std::vector<std::int32_t> experts(3);
  std::vector<float> weights(3);
  // Group scores (top-2 sums): 1, 1, 1.1875, 0.875. Group 3 holds the best expert (0.875) yet
  // loses; groups 0 and 1 tie and the lower wins. Kept: 2 and 0.
  selector.select(affinity, {}, experts, weights);
  EXPECT_EQ(experts, (std::vector<std::int32_t>{0, 4, 5}));
  EXPECT_FLOAT_EQ(weights[0], 0.75f / 1.9375f);
  EXPECT_FLOAT_EQ(weights[1], 0.625f / 1.9375f);
  EXPECT_FLOAT_EQ(weights[2], 0.5625f / 1.9375f);
  // Biases move selection, not gating: scores become 0.25 0.25 0.5 0.5 0.625 0.5625 0.875 0.5,
  // group scores 0.5, 1, 1.1875, 1.375: kept 3 and 2, top-3 6, 4, 5.
  const std::vector<float> bias = {-0.5f, 0, 0, 0, 0, 0, 0, 0.5f};
  selector.select(affinity, bias, experts, weights);
  EXPECT_EQ(experts, (std::vector<std::int32_t>{6, 4, 5}));
  EXPECT_FLOAT_EQ(weights[0], 0.875f / 2.0625f);
  EXPECT_FLOAT_EQ(weights[2], 0.5625f / 2.0625f);
}

void expect_valid_rows(const RoutingBatch& b, const RoutingShape& s) {
  for (int t = 0; t < b.tokens; ++t) {
    const auto row = b.row(t);
    std::set<int> experts(row.begin(), row.end()), groups;
    ASSERT_EQ(int(experts.size()), s.experts_per_token) << t;
    for (int e : row) {
      ASSERT_GE(e, 0);
      ASSERT_LT(e, s.experts);
      groups.insert(e / s.group_size());
    }
    ASSERT_LE(int(groups.size()), s.kept_groups()) << t;
    float sum = 0;
    for (int j = 0; j < b.k; ++j) {
      sum += b.weights[std::size_t(t) * b.k + j];
      if (j > 0) {
        ASSERT_LE(b.weights[std::size_t(t) * b.k + j], b.weights[std::size_t(t) * b.k + j - 1]);
      }
    }
    ASSERT_NEAR(sum, 1.0f, 1e-5f);
  }
}

TEST(MoeRouting, EveryTokenStaysWithinItsGroups) {
  for (int m : {1, 2, 4, 8}) {
    const RoutingShape s = v3_shape(8, m);
    Router router(s, 3);
    RoutingBatch batch;
    router.route(ZipfRouting(256, 1.0, 5), 0, 0, 0, 500, batch);
    expect_valid_rows(batch, s);
    router.route_dense(ZipfRouting(256, 1.0, 5), 0, 0, 0, 200, {}, batch);
    expect_valid_rows(batch, s);
  }
}

TEST(MoeRouting, SeededAndDeterministic) {
  const RoutingShape s = v3_shape();
  const ZipfRouting zipf(256, 1.2, 9);
  RoutingBatch a, b, c;
  Router(s, 42).route(zipf, 3, 1, 7, 300, a);
  Router(s, 42).route(zipf, 3, 1, 7, 300, b);
  EXPECT_EQ(a.experts, b.experts);
  EXPECT_EQ(a.weights, b.weights);
  Router(s, 42).route(zipf, 3, 2, 7, 300, c);  // another micro-batch
  EXPECT_NE(a.experts, c.experts);
  Router(s, 43).route(zipf, 3, 1, 7, 300, c);  // another seed
  EXPECT_NE(a.experts, c.experts);
  // The same router reused gives the same answer for the same call.
  Router r(s, 42);
  r.route(zipf, 0, 0, 0, 50, c);
  r.route(zipf, 3, 1, 7, 300, c);
  EXPECT_EQ(a.experts, c.experts);
}

// Without a group limit the top-k of the Gumbel-perturbed logits is sampling without replacement:
// the first expert is i with probability p_i, and the top-2 includes i with probability
// p_i + sum_{j != i} p_j p_i / (1 - p_j).
TEST(MoeRouting, UnlimitedTopKIsSamplingWithoutReplacement) {
  RoutingShape s;
  s.experts = 4;
  s.experts_per_token = 2;
  s.groups = 1;
  s.max_groups_per_token = 1;
  const ZipfRouting zipf(4, 1.0, 1);
  std::vector<double> p(4);
  zipf.popularity(0, 0, p);
  const int tokens = 200000;
  RoutingBatch lazy, dense;
  Router(s, 1).route(zipf, 0, 0, 0, tokens, lazy);
  Router(s, 2).route_dense(zipf, 0, 0, 0, tokens, {}, dense);
  for (const RoutingBatch* b : {&lazy, &dense}) {
    std::vector<double> first(4, 0), included(4, 0);
    for (int t = 0; t < tokens; ++t) {
      first[b->row(t)[0]] += 1;
      for (int e : b->row(t)) included[e] += 1;
    }
    for (int i = 0; i < 4; ++i) {
      double inc = p[i];
      for (int j = 0; j < 4; ++j) {
        if (j != i) inc += p[j] * p[i] / (1 - p[j]);
      }
      const double sd1 = std::sqrt(p[i] * (1 - p[i]) / tokens);
      const double sd2 = std::sqrt(inc * (1 - inc) / tokens);
      EXPECT_NEAR(first[i] / tokens, p[i], 5 * sd1) << i;
      EXPECT_NEAR(included[i] / tokens, inc, 5 * sd2) << i;
    }
  }
}

// The lazy sampler and the dense one (every affinity drawn, then the rule applied) realize the
// same distribution under the node limit: per-group load shares and the hottest expert's share.
TEST(MoeRouting, LazySamplerMatchesDenseSelection) {
  const RoutingShape s = v3_shape(8, 4);
  const ZipfRouting zipf(256, 1.0, 4);
  const int tokens = 20000;
  RoutingBatch lazy, dense;
  Router(s, 10).route(zipf, 0, 0, 0, tokens, lazy);
  Router(s, 11).route_dense(zipf, 0, 0, 0, tokens, {}, dense);
  const auto a = expert_loads(lazy, 256), b = expert_loads(dense, 256);
  const double copies = double(tokens) * 8;
  std::vector<double> ga(8, 0), gb(8, 0);
  for (int e = 0; e < 256; ++e) ga[e / 32] += a[e] / copies, gb[e / 32] += b[e] / copies;
  for (int g = 0; g < 8; ++g) {
    // A token puts at most 8 copies in a group: the share's sd is below 8 * sqrt(p / tokens).
    EXPECT_NEAR(ga[g], gb[g], 8 * 3 * std::sqrt(2 * ga[g] / copies)) << g;
  }
  int hottest = 0;
  for (int e = 0; e < 256; ++e) {
    if (zipf.rank(0, e) == 0) hottest = e;
  }
  const double pa = a[hottest] / tokens, pb = b[hottest] / tokens;  // tokens that include it
  EXPECT_NEAR(pa, pb, 5 * std::sqrt(2 * pa * (1 - pa) / tokens));
  EXPECT_GT(pa, 0.5);  // Zipf 1.0 over 256: the hottest expert draws most tokens
  // The mean number of groups a token reaches agrees too.
  auto mean_groups = [&](const RoutingBatch& batch) {
    double sum = 0;
    for (int t = 0; t < batch.tokens; ++t) {
      std::set<int> g;
      for (int e : batch.row(t)) g.insert(e / 32);
      sum += double(g.size());
    }
    return sum / batch.tokens;
  };
  EXPECT_NEAR(mean_groups(lazy), mean_groups(dense), 0.03);
}

// Two groups of two experts, popularity 0.7 0.1 | 0.1 0.1, one group kept, top-1. Were groups
// ranked by their best affinity, the choice would be the overall best: expert 0 with probability
// 0.7. Ranked by the sum of the top two, group 0 sometimes loses (its second expert is weak),
// and the weak group-mate of the hot expert gains. Both samplers agree on it.
class FourExperts final : public RoutingModel {
 public:
  int experts() const override { return 4; }
  void popularity(int, std::int64_t, std::span<double> out) const override {
    out[0] = 0.7, out[1] = 0.1, out[2] = 0.1, out[3] = 0.1;
  }
};

TEST(MoeRouting, GroupsRankByTheSumOfTheirTopTwo) {
  RoutingShape s;
  s.experts = 4;
  s.experts_per_token = 1;
  s.groups = 2;
  s.max_groups_per_token = 1;
  const int tokens = 400000;
  RoutingBatch lazy, dense;
  Router(s, 1).route(FourExperts(), 0, 0, 0, tokens, lazy);
  Router(s, 2).route_dense(FourExperts(), 0, 0, 0, tokens, {}, dense);
  const auto a = expert_loads(lazy, 4), b = expert_loads(dense, 4);
  for (int e = 0; e < 4; ++e) {
    const double p = a[e] / tokens;
    EXPECT_NEAR(p, b[e] / tokens, 5 * std::sqrt(2 * p * (1 - p) / tokens)) << e;
  }
  EXPECT_LT(a[0] / tokens, 0.7 - 0.015);
  EXPECT_GT(a[1] / tokens, 0.1 + 0.007);
  EXPECT_GT(a[1], a[2]);
  EXPECT_GT(a[1], a[3]);
}

TEST(MoeRouting, BalancedIsEvenAndZipfIsNot) {
  const RoutingShape s = v3_shape();
  const ExpertMap map = ExpertMap::contiguous(256, 64);
  RoutingBatch batch;
  Router router(s, 8);
  router.route(BalancedRouting(256), 0, 0, 0, 8192, batch);
  const double balanced = max_over_mean(gpu_loads(batch, map));
  router.route(ZipfRouting(256, 1.0, 1), 0, 0, 0, 8192, batch);
  const double skewed = max_over_mean(gpu_loads(batch, map));
  EXPECT_LT(balanced, 1.15);  // 1024 copies per GPU: only sampling noise
  EXPECT_GT(skewed, 3.0);
  ZipfRouting flat(256, 0.0, 1);
  std::vector<double> p(256);
  flat.popularity(0, 0, p);
  for (double x : p) EXPECT_DOUBLE_EQ(x, 1.0 / 256);
}

TEST(MoeRouting, ZipfRanksArePermutedPerLayer) {
  const ZipfRouting zipf(64, 1.0, 3);
  std::vector<double> p0(64), p1(64);
  zipf.popularity(0, 0, p0);
  zipf.popularity(1, 0, p1);
  EXPECT_NE(p0, p1);
  std::set<int> ranks;
  for (int e = 0; e < 64; ++e) {
    ranks.insert(zipf.rank(0, e));
    EXPECT_NEAR(p0[e] / p0[0], std::pow(double(zipf.rank(0, 0) + 1) / (zipf.rank(0, e) + 1), 1.0),
                1e-12);
  }
  EXPECT_EQ(ranks.size(), 64u);
  EXPECT_NEAR(std::accumulate(p0.begin(), p0.end(), 0.0), 1.0, 1e-12);
}

TEST(MoeRouting, DriftMovesTheHotSet) {
  const DriftingRouting drift(256, 1.0, 1.5, 7);
  std::vector<double> p0(256), p2(256), p10(256);
  drift.popularity(0, 0, p0);
  drift.popularity(0, 2, p2);    // floor(3) = 3 experts on
  drift.popularity(0, 10, p10);  // 15 experts on
  for (int e = 0; e < 256; ++e) {
    EXPECT_DOUBLE_EQ(p2[(e + 3) % 256], p0[e]);
    EXPECT_DOUBLE_EQ(p10[(e + 15) % 256], p0[e]);
  }
  // The routed loads follow: the most loaded expert moves by 15.
  const RoutingShape s = v3_shape();
  Router router(s, 2);
  RoutingBatch batch;
  router.route(drift, 0, 0, 0, 4000, batch);
  const auto l0 = expert_loads(batch, 256);
  router.route(drift, 0, 0, 10, 4000, batch);
  const auto l10 = expert_loads(batch, 256);
  const auto hot0 = std::max_element(l0.begin(), l0.end()) - l0.begin();
  const auto hot10 = std::max_element(l10.begin(), l10.end()) - l10.begin();
  EXPECT_EQ(hot10, (hot0 + 15) % 256);
}

TEST(MoeRouting, MeasuredFollowsTheCounts) {
  ExpertCounts counts;
  counts.experts = 16;
  counts.layers.assign(2, std::vector<double>(16, 100.0));
  counts.layers[0][5] = 3000;  // hot
  counts.layers[0][9] = 0;     // never seen
  counts.layers[1][2] = 3000;
  const MeasuredRouting measured(counts);
  RoutingShape s;
  s.experts = 16;
  s.experts_per_token = 2;
  s.groups = 4;
  s.max_groups_per_token = 2;
  Router router(s, 1);
  RoutingBatch batch;
  router.route(measured, 0, 0, 0, 5000, batch);
  auto load = expert_loads(batch, 16);
  EXPECT_EQ(std::max_element(load.begin(), load.end()) - load.begin(), 5);
  EXPECT_EQ(load[9], 0.0);
  router.route(measured, 3, 0, 0, 5000, batch);  // layer 3 -> measured layer 1
  load = expert_loads(batch, 16);
  EXPECT_EQ(std::max_element(load.begin(), load.end()) - load.begin(), 2);
  ExpertCounts bad = counts;
  bad.layers[1].pop_back();
  EXPECT_THROW(MeasuredRouting{bad}, std::invalid_argument);
  bad = counts;
  bad.layers[0].assign(16, 0.0);
  EXPECT_THROW(MeasuredRouting{bad}, std::invalid_argument);
}

TEST(MoeRouting, ReplicasShareTheirExpertsTokensEvenly) {
  // 4 experts on 2 GPUs of 3 slots: expert 0 on both GPUs.
  const std::vector<int> slots = {0, 1, 0, 2, 3, 0};
  const ExpertMap map(4, 2, slots);
  EXPECT_EQ(map.replicas(0), 3);
  EXPECT_EQ(map.replicas(1), 1);
  std::vector<int> per_gpu(2, 0);
  for (int t = 0; t < 300; ++t) ++per_gpu[map.gpu(0, t)];
  EXPECT_EQ(per_gpu[0], 200);  // two of the three replicas are on GPU 0
  EXPECT_EQ(per_gpu[1], 100);
  EXPECT_EQ(map.gpu(3, 17), 1);
  EXPECT_THROW(ExpertMap(5, 2, slots), std::invalid_argument);  // expert 4 has no slot
}

// Auxiliary-loss-free balancing on a Zipf 1.0 router, EP64, 512 tokens a step: without updates
// the imbalance stays; with them it falls to the sampling-noise floor, the faster the larger
// gamma, until gamma is so large that the biases overshoot and the load swings around.
TEST(MoeRouting, BiasUpdatesBalanceTheLoad) {
  const ZipfRouting zipf(256, 1.0, 2);
  BiasBalancingConfig c;
  c.shape = v3_shape();
  c.gpus = 64;
  c.steps = 120;
  c.tokens_per_step = 512;
  auto tail_mean = [](const std::vector<double>& v) {
    return std::accumulate(v.end() - 20, v.end(), 0.0) / 20;
  };
  auto steps_below = [](const std::vector<double>& v, double level) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] < level) return int(i);
    }
    return int(v.size());
  };
  std::vector<BiasBalancingTrace> runs;
  for (double gamma : {0.0, 0.001, 0.01, 0.1}) {
    c.gamma = gamma;
    runs.push_back(simulate_bias_balancing(zipf, c));
  }
  const auto& none = runs[0].gpu_max_over_mean;
  const auto& slow = runs[1].gpu_max_over_mean;
  const auto& fast = runs[2].gpu_max_over_mean;
  const auto& swinging = runs[3].gpu_max_over_mean;
  ASSERT_EQ(none.size(), 120u);
  EXPECT_GT(none.front(), 4.0);
  EXPECT_GT(tail_mean(none), 4.0);
  EXPECT_EQ(none.front(), fast.front());  // the first step has zero biases
  EXPECT_LT(tail_mean(slow), 1.6);
  EXPECT_LT(tail_mean(fast), 1.6);
  EXPECT_GT(steps_below(slow, 2.0), 30);
  EXPECT_LT(steps_below(fast, 2.0), 10);
  EXPECT_GT(tail_mean(swinging), tail_mean(fast) + 0.5);
  // The hottest expert's bias ends below the others', the coldest's above.
  int hottest = 0, coldest = 0;
  for (int e = 0; e < 256; ++e) {
    if (zipf.rank(0, e) == 0) hottest = e;
    if (zipf.rank(0, e) == 255) coldest = e;
  }
  std::vector<float> bias = runs[1].bias;
  const float hot = bias[hottest], cold = bias[coldest];
  std::nth_element(bias.begin(), bias.begin() + 128, bias.end());
  EXPECT_LT(hot, bias[128]);
  EXPECT_GT(cold, bias[128]);
  EXPECT_GT(cold, 0.05f);  // raised most steps: underloaded until its bias lifts it
  for (float b : runs[0].bias) EXPECT_EQ(b, 0.0f);
}

// One token of GPU 0 (2 GPUs per node, 2 experts per GPU) to experts 2, 4, 6: GPUs 1, 2, 3.
TEST(MoeRouting, TrafficByHand) {
  RoutingBatch b;
  b.tokens = 1;
  b.k = 3;
  b.experts = {2, 4, 6};
  b.weights = {0.4f, 0.3f, 0.3f};
  EpTrafficCounter counter(4, 2, 128);
  counter.add(b, ExpertMap::contiguous(8, 4), 0);
  const double fp8 = 128 + 4, bf16 = 256;
  EXPECT_DOUBLE_EQ(counter.dispatch_bytes(0, 1), fp8);  // own node: NVLink from the sender
  EXPECT_DOUBLE_EQ(counter.dispatch_bytes(0, 2), fp8);  // IB to the same index of node 1
  EXPECT_DOUBLE_EQ(counter.dispatch_bytes(2, 3), fp8);  // forwarded over NVLink
  EXPECT_DOUBLE_EQ(counter.dispatch_bytes(0, 3), 0.0);
  EXPECT_DOUBLE_EQ(counter.combine_bytes(2, 0), bf16);  // reversed
  EXPECT_DOUBLE_EQ(counter.combine_bytes(3, 2), bf16);
  EXPECT_DOUBLE_EQ(counter.dispatch_ib_bytes(), fp8);
  EXPECT_DOUBLE_EQ(counter.dispatch_nvlink_bytes(), 2 * fp8);
  EXPECT_DOUBLE_EQ(counter.combine_ib_bytes(), bf16);
  EXPECT_DOUBLE_EQ(counter.combine_nvlink_bytes(), 2 * bf16);
  EXPECT_DOUBLE_EQ(counter.nodes_per_token(), 2.0);
  EXPECT_DOUBLE_EQ(counter.remote_nodes_per_token(), 1.0);
  EXPECT_DOUBLE_EQ(counter.gpus_per_token(), 3.0);
}

// Routes tokens_per_gpu tokens from each of V3's 64 EP GPUs and counts the traffic.
EpTrafficCounter v3_traffic(const RoutingModel& model, int k, int m, int tokens_per_gpu) {
  const RoutingShape s = v3_shape(k, m);
  Router router(s, 21);
  const ExpertMap map = ExpertMap::contiguous(256, 64);
  EpTrafficCounter counter(64, 8, 7168);
  RoutingBatch batch;
  for (int gpu = 0; gpu < 64; ++gpu) {
    router.route(model, 0, gpu, 0, tokens_per_gpu, batch);
    counter.add(batch, map, gpu);
  }
  return counter;
}

TEST(MoeRouting, IbBytesPerTokenFallAsMFalls) {
  const BalancedRouting balanced(256);
  const ZipfRouting zipf(256, 1.0, 6);
  for (const RoutingModel* model :
       {static_cast<const RoutingModel*>(&balanced), static_cast<const RoutingModel*>(&zipf)}) {
    double previous = 1e300;
    for (int m = 8; m >= 1; --m) {
      const auto t = v3_traffic(*model, 8, m, 100);
      EXPECT_LE(t.nodes_per_token(), m);
      EXPECT_LT(t.ib_dispatch_bytes_per_token(), previous) << m;
      previous = t.ib_dispatch_bytes_per_token();
      EXPECT_DOUBLE_EQ(t.ib_combine_bytes_per_token(),
                       t.ib_dispatch_bytes_per_token() * 14336 / 7392);
    }
  }
}

// DeepSeek-V3 sec 3.2.2: with each token sent to at most 4 nodes and IB at 1/3.2 of NVLink, a token
// could select 4 x 3.2 = 12.8, about 13, experts at the IB cost of 4 nodes.
TEST(MoeRouting, ThirteenExpertsCostNoMoreIbThanFourNodes) {
  EXPECT_NEAR(nodes_for_experts(13, 3.2), 4.0, 0.1);
  EXPECT_EQ(std::lround(4 * 3.2), 13);
  const BalancedRouting balanced(256);
  const auto k13 = v3_traffic(balanced, 13, 4, 100);
  const auto k8_unlimited = v3_traffic(balanced, 8, 8, 100);
  EXPECT_LE(k13.nodes_per_token(), 4.0);
  EXPECT_GT(k13.nodes_per_token(), 3.9);               // nearly always all 4 nodes
  EXPECT_NEAR(13 / k13.nodes_per_token(), 3.25, 0.1);  // ~3.2 experts per node reached
  EXPECT_NEAR(k13.remote_nodes_per_token(), 4.0 * 7 / 8, 0.05);
  // Thirteen experts within 4 nodes cost less IB than 8 experts with no node limit.
  EXPECT_LT(k13.ib_dispatch_bytes_per_token(), k8_unlimited.ib_dispatch_bytes_per_token());
  EXPECT_GT(k13.gpus_per_token(), 7.0);  // the extra experts ride NVLink
}

TEST(MoeRouting, RouteIsFastAtV3Scale) {
  const RoutingShape s = v3_shape();
  Router router(s, 1);
  const ZipfRouting zipf(256, 1.0, 1);
  RoutingBatch batch;
  router.route(zipf, 0, 0, 0, 4096, batch);  // warm: storage sized
  const auto start = std::chrono::steady_clock::now();
  const int calls = 10;
  for (int i = 0; i < calls; ++i) router.route(zipf, i, i, i, 4096, batch);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("ms_per_call", std::to_string(ms / calls));
  EXPECT_LT(ms / calls, 20.0);  // a loose bound for shared machines; ~1 ms expected
}

}  // namespace
}  // namespace codesim::workloads
