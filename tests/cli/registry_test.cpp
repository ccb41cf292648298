#include "cli/registry.hpp"

#include <gtest/gtest.h>

namespace codesim::cli {
namespace {

TEST(Registry, EveryGpuAndModelPresetGoesByItsOwnName) {
  EXPECT_EQ(gpu_registry().names(),
            (std::vector<std::string>{"h800", "h100-sxm", "h200", "a100-sxm-80gb", "a100-pcie-40gb",
                                      "b200", "h20", "gb200"}));
  for (const auto& name : gpu_registry().names()) EXPECT_EQ(gpu_registry().find(name)->name, name);
  EXPECT_EQ(gpu_registry().find("h900"), nullptr);
  EXPECT_EQ(model_registry().names(),
            (std::vector<std::string>{"deepseek-v3", "deepseek-v2", "llama-3.1-405b", "llama-3-70b",
                                      "llama-3-8b", "gpt3-175b", "mt-nlg-530b", "megatron-1t",
                                      "mixtral-8x7b", "qwen2.5-72b"}));
  EXPECT_EQ(model_registry().find("deepseek-v3")->layers, 61);
  EXPECT_EQ(model_registry().find("gpt"), nullptr);  // the generic model is built from a map
}

TEST(Registry, EnumNamesRoundTrip) {
  EXPECT_EQ(topology_registry().names().size(), 7u);
  for (const auto& name : topology_registry().names()) {
    const topo::TopologyKind* kind = topology_registry().find(name);
    ASSERT_NE(kind, nullptr) << name;
    EXPECT_EQ(topology_registry().name_of(*kind), name);
  }
  EXPECT_EQ(topology_registry().find("torus"), nullptr);
  EXPECT_EQ(*topology_registry().find("mpft"), topo::TopologyKind::kMultiPlaneFatTree);
  EXPECT_EQ(schedule_registry().names(),
            (std::vector<std::string>{"1f1b", "zb1p", "dualpipe", "dualpipev", "interleaved"}));
  EXPECT_EQ(schedule_registry().name_of(workloads::Schedule::kDualPipe), "dualpipe");
  EXPECT_EQ(*schedule_registry().find("interleaved"), workloads::Schedule::kInterleaved1F1B);
  EXPECT_EQ(*routing_registry().find("zipf"), workloads::RoutingSpec::Kind::kZipf);
  EXPECT_EQ(routing_registry().names().size(), 4u);
  EXPECT_EQ(*precision_registry().find("fp8"), models::Precision::kFp8);
  EXPECT_EQ(precision_registry().name_of(models::Precision::kBf16), "bf16");
  EXPECT_EQ(precision_registry().name_of(models::Precision::kFp16), "fp16");
}

}  // namespace
}  // namespace codesim::cli
