// What one overlapped chunk pair of DeepSeek-V3 FP8 training launches (4 MoE layers forward, 4
// backward with their weight gradients), as codesim's kernel inventory lists it, against the
// counts of deepseek-ai/profile-data's trace (validation/reference/published.yaml,
// fp8_moe_chunk_pair_kernels). Where codesim models a kernel class one to one, the counts must be
// the profile's; where it prices several of the profile's kernels as one, or leaves PyTorch's
// glue kernels out, the test says by how much.

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "../../reference.hpp"
#include "../scenarios.hpp"
#include "workloads/step/chunk_costs.hpp"

namespace codesim::workloads {
namespace {

using models::Kernel;
using models::KernelStream;

bool starts(const char* name, const char* prefix) {
  return std::string(name).rfind(prefix, 0) == 0;
}

// The profile's name of the kernel class one of codesim's kernels belongs to ("" for none).
std::string profile_class(const Kernel& k) {
  const char* n = k.name;
  const bool comm = k.stream == KernelStream::kCommunication;
  if (starts(n, "gemm:") || starts(n, "grouped gemm:") || starts(n, "attention backward")) {
    return "cutlass::device_kernel";
  }
  if (starts(n, "attention forward")) return "flash::compute_attn_ws";
  if (starts(n, "fp8 cast per token")) return "cuda::per_token_cast_to_fp8_with_channels";
  if (starts(n, "fp8 cast and transpose per channel")) return "cuda::per_channel_cast_and_transpose";
  if (starts(n, "rmsnorm backward finalize")) return "layer_norm::ln_bwd_finalize_kernel";
  if (starts(n, "rmsnorm backward")) return "layer_norm::ln_bwd_kernel";
  if (starts(n, "rmsnorm forward")) return "layer_norm::ln_fwd_kernel";
  if (starts(n, "rotary embedding")) return "rotary_kernel";
  if (starts(n, "swiglu forward")) {
    return "cuda::swiglu_forward_with_weight_and_per_token_cast_to_fp8_with_channels_impl";
  }
  if (starts(n, "permute received tokens") || starts(n, "gradient of the weighted sum")) {
    return "cuda::expand_to_fused_with_scales_impl";
  }
  if (starts(n, "weighted sum") || starts(n, "permute gradients back")) {
    return "cuda::reduce_fused_impl";
  }
  if (starts(n, "gate group scores")) return "cuda::topk_sum_and_topk_idx";
  if (starts(n, "gate top-k")) return "at::native::sbtopk::gatherTopK";
  if (comm && starts(n, "dispatch layout")) return "dpsk::ep::cuda::get_dispatch_layout";
  if (comm && starts(n, "notify dispatch")) return "dpsk::ep::internode::notify_dispatch";
  if (comm && starts(n, "notify (cached")) return "dpsk::ep::internode::cached_notify";
  return "";
}

TEST(ChunkPairInventory, CountsAgainstDeepSeeksProfile) {
  const auto s = codesim::testing::deepseek_v3_on_2048_h800();
  const ChunkCostModel costs(chunk_cost_params(s));
  const LayerKernels k = costs.kernels(10);
  std::map<std::string, int> ours;  // "stream|class"
  int unmapped = 0;
  auto tally = [&](const std::vector<Kernel>& list, int layers) {
    for (const Kernel& kernel : list) {
      const std::string c = profile_class(kernel);
      if (c.empty()) {
        unmapped += kernel.count * layers;
        continue;
      }
      const bool comm = kernel.stream == KernelStream::kCommunication;
      ours[std::string(comm ? "communication|" : "compute|") + c] += kernel.count * layers;
    }
  };
  for (const PieceKernels* piece : {&k.attention, &k.dispatch, &k.routed, &k.experts, &k.combine}) {
    tally(piece->forward, 4);
    tally(piece->backward, 4);
    tally(piece->weight, 4);
  }
  // The all-to-alls themselves: forward dispatch and combine, and their gradients, which run as a
  // dispatch (the combine's) and a combine (the dispatch's).
  ours["communication|dpsk::ep::internode::dispatch"] = 2 * 4;
  ours["communication|dpsk::ep::internode::combine"] = 2 * 4;

  const auto reference = codesim::testing::published()["fp8_moe_chunk_pair_kernels"];
  std::map<std::string, int> profile;
  int profile_total = 0;
  for (const char* stream : {"compute", "communication", "other"}) {
    for (const auto& entry : reference[stream]) {
      // The profile's "other" stream holds more GEMMs (cutlass kernels): count them with compute.
      const std::string key = std::string(std::string(stream) == "other" ? "compute" : stream) +
                              "|" + entry.first.as<std::string>();
      profile[key] += entry.second.as<int>();
      profile_total += entry.second.as<int>();
    }
  }
  int matched_profile = 0, matched_ours = 0;
  std::printf("%-92s %8s %8s\n", "stream|kernel class", "profile", "codesim");
  for (const auto& [key, n] : ours) {
    ASSERT_TRUE(profile.count(key)) << key << " is not a class of the profile";
    std::printf("%-92s %8d %8d\n", key.c_str(), profile[key], n);
    matched_profile += profile[key];
    matched_ours += n;
  }
  std::printf("classes codesim models: %d launches in the profile, %d in codesim; profile total %d; "
              "codesim kernels outside them %d\n",
              matched_profile, matched_ours, profile_total, unmapped);
  RecordProperty("profile_launches", profile_total);
  RecordProperty("codesim_launches_in_profile_classes", matched_ours);

  // One to one with the profile.
  for (const char* exact :
       {"compute|layer_norm::ln_fwd_kernel", "compute|layer_norm::ln_bwd_kernel",
        "compute|layer_norm::ln_bwd_finalize_kernel", "compute|rotary_kernel",
        "compute|flash::compute_attn_ws",
        "compute|cuda::swiglu_forward_with_weight_and_per_token_cast_to_fp8_with_channels_impl",
        "compute|cuda::expand_to_fused_with_scales_impl", "compute|cuda::reduce_fused_impl",
        "compute|cuda::topk_sum_and_topk_idx", "communication|dpsk::ep::internode::dispatch",
        "communication|dpsk::ep::internode::combine",
        "communication|dpsk::ep::internode::cached_notify",
        "communication|dpsk::ep::internode::notify_dispatch",
        "communication|dpsk::ep::cuda::get_dispatch_layout",
        "communication|cuda::per_token_cast_to_fp8_with_channels"}) {
    EXPECT_EQ(ours[exact], profile[exact]) << exact;
  }
  // Priced as fewer kernels than the profile launches (e.g. split or fused GEMMs, casts of
  // tensors the profile casts in parts), within a quarter.
  for (const char* near :
       {"compute|cutlass::device_kernel", "compute|cuda::per_token_cast_to_fp8_with_channels",
        "compute|cuda::per_channel_cast_and_transpose"}) {
    EXPECT_NEAR(ours[near], profile[near], 0.25 * profile[near]) << near;
  }
}

}  // namespace
}  // namespace codesim::workloads
