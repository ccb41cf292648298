#include "workloads/step/kernel_report.hpp"

#include <algorithm>

#include "workloads/step/chunk_costs.hpp"

namespace codesim::workloads {
namespace {

void add_piece(std::vector<KernelLine>& out, const ChunkCostModel& costs, const char* group,
               const char* piece, const PieceKernels& kernels) {
  const std::pair<char, const std::vector<models::Kernel>*> passes[] = {
      {'F', &kernels.forward}, {'B', &kernels.backward}, {'W', &kernels.weight}};
  for (const auto& [pass, list] : passes) {
    for (const PricedKernel& p : costs.price(*list)) {
      const models::Kernel& k = p.kernel;
      out.push_back({group, pass, piece, k.name, k.stream == models::KernelStream::kCommunication,
                     k.count, k.total_flops(), k.total_bytes(), p.seconds, p.pair_seconds});
    }
  }
}

// An all-to-all's data move, at DeepEP's measured rate.
void add_exchange(std::vector<KernelLine>& out, char pass, const char* piece, const char* name,
                  double bytes, double seconds) {
  out.push_back({"moe layer", pass, piece, name, true, 1, 0, bytes, seconds, seconds});
}

}  // namespace

std::vector<KernelLine> kernel_report(const ChunkCostModel& costs) {
  std::vector<KernelLine> out;
  const auto& m = costs.shapes().model;
  if (m.dense_layers > 0 || !m.is_moe()) {
    const LayerKernels k = costs.kernels(0);
    add_piece(out, costs, "dense layer", "attention", k.attention);
    add_piece(out, costs, "dense layer", "experts", k.experts);
  }
  if (m.is_moe()) {
    const LayerKernels k = costs.kernels(m.layers);
    add_piece(out, costs, "moe layer", "attention", k.attention);
    add_piece(out, costs, "moe layer", "dispatch", k.dispatch);
    if (costs.shapes().ep > 1) {
      // Each all-to-all's bytes out of one GPU (over IB and NVLink) at DeepEP's rate.
      const double t = double(costs.shapes().tokens);
      const EpCommCost f = costs.ep_forward(), b = costs.ep_backward();
      add_exchange(out, 'F', "dispatch", "dispatch (data)", t * f.dispatch_bytes_per_token,
                   f.dispatch_s);
      add_exchange(out, 'F', "combine", "combine (data)", t * f.combine_bytes_per_token,
                   f.combine_s);
      add_exchange(out, 'B', "combine", "combine gradient, sent as a dispatch (data)",
                   t * b.dispatch_bytes_per_token, b.dispatch_s);
      add_exchange(out, 'B', "dispatch", "dispatch gradient, sent as a combine (data)",
                   t * b.combine_bytes_per_token, b.combine_s);
    }
    add_piece(out, costs, "moe layer", "experts", k.routed);
    add_piece(out, costs, "moe layer", "experts", k.experts);
    add_piece(out, costs, "moe layer", "combine", k.combine);
  }
  add_piece(out, costs, "embedding", "all", embedding_kernels(costs.shapes()));
  add_piece(out, costs, "output head", "all", output_head_kernels(costs.shapes()));
  if (m.mtp_depth > 0)
    add_piece(out, costs, "mtp module", "all", mtp_extra_kernels(costs.shapes()));
  return out;
}

std::string kernel_class(const std::string& name) {
  auto starts = [&](const char* prefix) { return name.rfind(prefix, 0) == 0; };
  if (starts("grouped gemm")) return "grouped GEMM";
  if (starts("gemm")) return "GEMM";
  if (starts("attention")) return "attention";
  if (starts("fp8 cast")) return "FP8 cast";
  if (starts("rmsnorm")) return "RMSNorm";
  if (starts("rotary") || starts("key ")) return "RoPE";
  if (starts("swiglu")) return "SwiGLU";
  if (starts("gate")) return "gate";
  if (starts("permute") || starts("weighted sum") || starts("gradient of the weighted sum") ||
      starts("expert token counts")) {
    return "permute and sum";
  }
  if (starts("residual")) return "residual";
  if (starts("embedding") || starts("softmax")) return "loss";
  if (starts("tensor-parallel")) return "tensor-parallel collectives";
  return "other";
}

KernelShares kernel_shares(const std::map<std::string, double>& seconds_by_kernel,
                           std::size_t most) {
  std::map<std::string, double> by_class;
  for (const auto& [name, seconds] : seconds_by_kernel) by_class[kernel_class(name)] += seconds;
  auto sorted = [](const std::map<std::string, double>& m) {
    std::vector<std::pair<std::string, double>> v(m.begin(), m.end());
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    return v;
  };
  KernelShares out{sorted(seconds_by_kernel), sorted(by_class)};
  if (out.top_kernels.size() > most) out.top_kernels.resize(most);
  return out;
}

}  // namespace codesim::workloads
