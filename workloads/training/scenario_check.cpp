#include "workloads/training/scenario_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "workloads/network/cluster_network.hpp"
#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/rank_memory.hpp"
#include "workloads/pipeline/stages.hpp"

namespace codesim::workloads {
namespace {

std::string divisors(int n, int limit = 1 << 30) {
  std::string out;
  for (int d = 1; d <= n && d <= limit; ++d) {
    if (n % d == 0) out += (out.empty() ? "" : ", ") + std::to_string(d);
  }
  return out;
}

std::string common_divisors(int a, int b) {
  std::string out;
  for (int d = 1; d <= std::min(a, b); ++d) {
    if (a % d == 0 && b % d == 0) out += (out.empty() ? "" : ", ") + std::to_string(d);
  }
  return out;
}

}  // namespace

bool trainable_fabric(topo::TopologyKind kind) {
  using topo::TopologyKind;
  return kind == TopologyKind::kFatTree2 || kind == TopologyKind::kMultiPlaneFatTree ||
         kind == TopologyKind::kMultiRailFatTree || kind == TopologyKind::kFatTree3;
}

std::vector<ScenarioProblem> check_cluster(const topo::ClusterSpec& cluster) {
  using F = ScenarioField;
  std::vector<ScenarioProblem> problems;
  auto problem = [&](F field, std::string message, std::string valid = "") {
    problems.push_back({field, std::move(message), std::move(valid)});
  };
  const topo::NodeSpec& node = cluster.node;
  if (node.gpus > 0 && node.nics > 0 && node.gpus % node.nics != 0 && node.nics % node.gpus != 0) {
    problem(F::kNodeNics,
            fmt::format("{} NICs cannot be shared evenly by {} GPUs", node.nics, node.gpus),
            fmt::format("a divisor or multiple of the {} GPUs of a node", node.gpus));
  }
  // The fabric the event-driven engine builds (the analytic one only needs it to be buildable).
  if (!trainable_fabric(cluster.fabric.kind)) {
    // The edge names the kind: "cannot be built on <kind> yet (...)".
    problem(F::kTopologyKind, "its parameters are topology-file keys; see codesim topo");
    return problems;
  }
  for (const auto& p : topo::check_params(fabric_params(cluster, node.nic_Gbps))) {
    problems.push_back({F::kTopology, p.message, p.valid, p.param});
  }
  return problems;
}

std::vector<ScenarioProblem> check_scenario(const TrainingScenario& s) {
  using F = ScenarioField;
  std::vector<ScenarioProblem> problems = check_cluster(s.cluster);
  auto problem = [&](F field, std::string message, std::string valid = "") {
    problems.push_back({field, std::move(message), std::move(valid)});
  };
  const auto& plan = s.plan;
  const auto& m = s.model;
  const int gpus = s.gpus();
  if (std::any_of(problems.begin(), problems.end(),
                  [](const ScenarioProblem& p) { return p.field == F::kTopologyKind; })) {
    return problems;
  }

  const auto& routing = plan.routing;
  if (routing.redundant_experts > 0) {
    if (!m.is_moe()) {
      problem(F::kRedundantExperts, "the model has no routed experts", "0");
    } else if ((m.routed_experts + routing.redundant_experts) % std::max(1, plan.ep) != 0) {
      problem(F::kRedundantExperts,
              fmt::format("{} routed + {} redundant experts do not spread evenly over ep = {}",
                          m.routed_experts, routing.redundant_experts, plan.ep),
              fmt::format("a multiple of {}", plan.ep));
    }
  }
  if (plan.cp > 1 && plan.sequence_length % (2 * plan.cp) != 0) {
    problem(F::kContextParallel,
            fmt::format("cp = {} does not split {}-token sequences into 2 x cp equal chunks",
                        plan.cp, plan.sequence_length),
            "a cp with 2 x cp dividing the sequence length");
    return problems;
  }
  if (plan.cp > 1 && gpus % (plan.pp * plan.tp * plan.cp) != 0) {
    problem(F::kContextParallel,
            fmt::format("pp x tp x cp = {} x {} x {} does not divide the cluster's {} GPUs",
                        plan.pp, plan.tp, plan.cp, gpus),
            "a cp dividing " + std::to_string(gpus / std::max(1, plan.pp * plan.tp)));
    return problems;
  }
  if (gpus % (plan.pp * plan.tp) != 0) {
    problem(F::kPipelineParallel,
            fmt::format("pp x tp = {} x {} does not divide the cluster's {} GPUs", plan.pp, plan.tp,
                        gpus),
            "pp x tp dividing " + std::to_string(gpus) + "; pp in " + divisors(gpus / plan.tp));
    return problems;
  }
  if (plan.tp > s.cluster.node.gpus) {
    problem(F::kTensorParallel,
            fmt::format("tp = {} spans nodes; tensor parallelism stays on NVLink", plan.tp),
            divisors(s.cluster.node.gpus));
  }
  if (m.heads % plan.tp != 0 || m.kv_heads % plan.tp != 0) {
    problem(F::kTensorParallel,
            fmt::format("tp = {} does not divide {} heads and {} KV heads", plan.tp, m.heads,
                        m.kv_heads),
            common_divisors(m.heads, m.kv_heads));
  }
  if (plan.tp > 1 && plan.sequence_parallel && s.tokens_per_micro_batch() % plan.tp != 0) {
    problem(F::kSequenceParallel,
            fmt::format("a micro-batch's {} tokens do not split over tp = {} for sequence "
                        "parallelism",
                        s.tokens_per_micro_batch(), plan.tp),
            "false, or a sequence_length x micro_batch that tp divides");
  }
  if (plan.tp > 1 && m.is_moe() && !plan.sequence_parallel) {
    problem(F::kSequenceParallel,
            fmt::format("an MoE model with tp = {} routes each GPU's rows of the "
                        "sequence-parallel residual stream (as Megatron-Core requires)",
                        plan.tp),
            "true");
  }
  if (!m.is_moe() && plan.ep > 1) {
    problem(F::kExpertParallel,
            fmt::format("{} has no experts to spread over ep = {}", m.name, plan.ep), "1");
  }
  if (m.is_moe()) {
    const int per_stage = s.gpus_per_stage();
    if (per_stage % plan.ep != 0 || m.routed_experts % plan.ep != 0) {
      problem(
          F::kExpertParallel,
          fmt::format(
              "ep = {} must divide both the {} GPUs of a pipeline stage and the {} routed experts",
              plan.ep, per_stage, m.routed_experts),
          common_divisors(per_stage, m.routed_experts));
    }
    const int ep_nodes = std::max(1, plan.ep / s.cluster.node.gpus);
    if (plan.max_nodes_per_token > ep_nodes) {
      problem(F::kMaxNodesPerToken,
              fmt::format("M = {} exceeds the {} nodes of an EP group", plan.max_nodes_per_token,
                          ep_nodes),
              fmt::format("0 (the model's default) or 1..{}", ep_nodes));
    }
  }
  if (!problems.empty()) return problems;

  const bool interleaved = plan.schedule == Schedule::kInterleaved1F1B;
  if (interleaved ? plan.virtual_stages < 2 : plan.virtual_stages != 1) {
    problem(
        F::kVirtualStages,
        interleaved
            ? fmt::format("interleaved 1F1B with {} virtual stage(s) per rank", plan.virtual_stages)
            : fmt::format("{} virtual stages per rank, but only the interleaved "
                          "schedule holds more than one model chunk per rank",
                          plan.virtual_stages),
        interleaved ? "2 or more (model chunks per pipeline rank)" : "1, or schedule: interleaved");
    return problems;
  }
  try {
    split_stages(m, stage_count(plan.schedule, plan.pp, plan.virtual_stages), plan.stage_layers);
  } catch (const std::invalid_argument& e) {
    problem(plan.stage_layers.empty() ? F::kPipelineParallel : F::kStageLayers, e.what());
    return problems;
  }
  const int granule = s.dp() * plan.micro_batch_sequences;
  if (plan.global_batch_sequences % granule != 0) {
    problem(F::kGlobalBatch,
            fmt::format(
                "{} sequences do not split into micro-batches of {} over {} data-parallel replicas",
                plan.global_batch_sequences, plan.micro_batch_sequences, s.dp()),
            fmt::format("a multiple of dp x micro_batch = {}", granule));
    return problems;
  }
  const std::string requirement =
      micro_batch_requirement(plan.schedule, plan.pp, s.micro_batches(), plan.virtual_stages);
  if (!requirement.empty()) {
    problem(F::kGlobalBatch,
            fmt::format("{} micro-batches per replica: {}", s.micro_batches(), requirement),
            fmt::format("a global batch, a multiple of {}, giving enough micro-batches",
                        (interleaved ? plan.pp : 2) * granule));
  }
  if (plan.comm_sms >= s.gpu.sms) {
    problem(F::kCommSms,
            fmt::format("{} SMs reserved for communication leave none of the {} for compute",
                        plan.comm_sms, s.gpu.sms),
            fmt::format("0..{}", s.gpu.sms - 1));
  }
  if (plan.recompute.full && m.is_moe() && plan.ep > 1) {
    problem(F::kRecompute,
            "full recomputation of MoE layers would run their all-to-alls again, which codesim "
            "does not model",
            "none, selective, or a list of operations such as [rmsnorm, mla_up_projection]");
  }
  if (plan.gemm_precision == models::Precision::kFp8 && s.gpu.fp8_dense_tflops <= 0) {
    problem(F::kPrecision, s.gpu.name + " has no FP8 tensor cores", "bf16 or fp16");
  }
  if (plan.ramp.from_sequences > 0 && plan.ramp.over_tokens > plan.tokens_total) {
    problem(F::kRampTokens, "the ramp is longer than the token budget",
            fmt::format("<= the token budget, {:g}", plan.tokens_total));
  }
  if (!problems.empty()) return problems;

  const auto stages =
      split_stages(m, stage_count(plan.schedule, plan.pp, plan.virtual_stages), plan.stage_layers);
  const RankMemory mem = peak_rank_memory(memory_params(s), stages);
  if (mem.total_bytes() > double(s.gpu.hbm_bytes)) {
    constexpr double kGiB = 1024.0 * 1024 * 1024;
    problem(
        F::kPlan,
        fmt::format(
            "does not fit in GPU memory: pipeline rank {} needs {:.1f} GiB (weights {:.1f}, "
            "gradients {:.1f}, optimizer {:.1f}, activations {:.1f}, reserved {:.1f}) of "
            "{}'s {:.1f} GiB",
            mem.rank, mem.total_bytes() / kGiB, mem.weights_bytes / kGiB,
            mem.gradients_bytes / kGiB, mem.optimizer_bytes / kGiB, mem.activations_bytes / kGiB,
            mem.reserved_bytes / kGiB, s.gpu.name, double(s.gpu.hbm_bytes) / kGiB),
        "a larger pp or ep, recompute, FP8, a smaller micro_batch or sequence_length, or a "
        "GPU with more memory");
  }
  return problems;
}

}  // namespace codesim::workloads
