#include "workloads/moe/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <stdexcept>
#include <vector>

#include "v3_shape.hpp"
#include "workloads/moe/expert_map.hpp"

namespace codesim::workloads {
namespace {

using testing::v3_shape;

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

TEST(Router, EveryTokenStaysWithinItsGroups) {
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

TEST(Router, SeededAndDeterministic) {
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
TEST(Router, UnlimitedTopKIsSamplingWithoutReplacement) {
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
TEST(Router, LazySamplerMatchesDenseSelection) {
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

TEST(Router, GroupsRankByTheSumOfTheirTopTwo) {
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
}  // namespace
}  // namespace codesim::workloads
