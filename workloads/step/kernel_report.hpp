#pragma once
// The kernel inventory of a step as an output: for each kind of piece a stage holds (a dense and
// an MoE layer, the embedding, the output head, an MTP module's extras), each pass and each
// piece, every kernel with its launches, FLOPs, HBM bytes and time, on the whole GPU and in an
// overlapped pair. The all-to-alls' data moves are listed too, at the analytic model's DeepEP
// rate (the event engine plays them as flows).

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace codesim::workloads {

class ChunkCostModel;

struct KernelLine {
  std::string group;  // "moe layer", "dense layer", "embedding", "output head", "mtp module"
  char pass = 'F';    // F, B (input gradients), W (weight gradients)
  std::string piece;  // attention, dispatch, experts, combine; "all" outside the layers
  std::string name;
  bool communication = false;  // on the communication stream
  int count = 0;
  double flops = 0;  // all launches
  double bytes = 0;  // all launches
  double seconds = 0;
  double pair_seconds = 0;
};

std::vector<KernelLine> kernel_report(const ChunkCostModel& costs);

// The class a kernel's name belongs to, for shares: "GEMM", "grouped GEMM", "attention",
// "FP8 cast", "RMSNorm", "RoPE", "SwiGLU", "gate", "permute and sum", "residual", "loss",
// "tensor-parallel collectives", "other".
std::string kernel_class(const std::string& name);

// Time by kernel name, largest first: the `most` longest kernels, and each class's total.
struct KernelShares {
  std::vector<std::pair<std::string, double>> top_kernels;
  std::vector<std::pair<std::string, double>> classes;
};
KernelShares kernel_shares(const std::map<std::string, double>& seconds_by_kernel,
                           std::size_t most = 10);

}  // namespace codesim::workloads
