#include "workloads/moe/expert_map.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <stdexcept>
#include <vector>

namespace codesim::workloads {
namespace {

TEST(ExpertMap, ReplicasShareTheirExpertsTokensEvenly) {
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

TEST(ExpertMap, LoadsCountCopiesPerGpuAndPerExpert) {
  // Three tokens of two copies over four experts on two GPUs (experts 0, 1 on GPU 0).
  RoutingBatch batch;
  batch.tokens = 3;
  batch.k = 2;
  batch.experts = {0, 1, 1, 2, 3, 1};
  batch.weights.assign(6, 0.5f);
  EXPECT_EQ(gpu_loads(batch, ExpertMap::contiguous(4, 2)), (std::vector<double>{4, 2}));
  EXPECT_EQ(expert_loads(batch, 4), (std::vector<double>{1, 3, 1, 1}));
  EXPECT_DOUBLE_EQ(max_over_mean(std::vector<double>{1, 3, 1, 1}), 2.0);
  EXPECT_EQ(max_over_mean(std::vector<double>{}), 0.0);
  EXPECT_EQ(max_over_mean(std::vector<double>{0, 0}), 0.0);
}
}  // namespace
}  // namespace codesim::workloads
