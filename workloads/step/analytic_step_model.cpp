#include "workloads/step/analytic_step_model.hpp"

#include <algorithm>

#include "workloads/step/chunk_costs.hpp"
#include "workloads/pipeline/rank_memory.hpp"
#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/schedules.hpp"
#include "workloads/pipeline/stages.hpp"

namespace codesim::workloads {
StepResult AnalyticStepModel::step(const TrainingScenario& s, int batch_sequences) const {
  const auto& plan = s.plan;
  const ChunkCostModel costs(chunk_cost_params(s));
  const std::vector<Stage> stages =
      split_stages(s.model, stage_count(plan.schedule, plan.pp), plan.stage_layers);
  const int n = std::max(1, s.micro_batches(batch_sequences));
  const double sm_slowdown = overlapped_pair_slowdown(s.gpu, plan.comm_sms, plan.schedule);
  const bool overlapped = overlaps_forward_and_backward(plan.schedule);

  const MemoryParams memory = memory_params(s);
  StepResult result;
  result.micro_batches = n;
  double slowest = -1;
  for (int rank = 0; rank < plan.pp; ++rank) {
    const std::vector<int> held = PipelineMap(plan.schedule, plan.pp).stages_of(rank);
    StepBreakdown b;
    ChunkTimes mean;  // chunk times averaged over the stages this rank holds
    // The share of this rank's forwards and backwards that run in overlapped pairs, the only
    // compute that the SMs held by communication slow down.
    const double in_pairs =
        std::min(1.0, double(overlapped_pairs(plan.schedule, plan.pp, rank, n)) / n);
    for (int index : held) {
      const ChunkCost c = costs.stage(stages[index]);
      const double f = c.forward.compute_s;
      const double bwd = c.full_backward_compute_s();
      const double w = c.backward_weight_s;
      const double fc = c.forward.comm_s;
      const double bc = c.backward_input.comm_s;
      const double share = double(n) / held.size();  // micro-batches through this stage
      ChunkTimes t;
      t.w = w;
      if (overlapped) {
        // In a pair, one micro-batch's compute on (sms - comm_sms) SMs overlaps the other's
        // all-to-all.
        const double compute = (f + bwd) * sm_slowdown;
        const double comm = fc + bc;
        t.fb = std::max(compute, comm);
        t.f = f + fc;
        t.b = bwd + bc;
        b.compute_s += share * (f + bwd);
        b.comm_sm_share_s += in_pairs * share * (compute - (f + bwd));
        b.exposed_ep_comm_s += share * std::max(0.0, comm - compute);
      } else {
        t.f = f + fc;
        t.b = bwd + bc;
        t.fb = t.f + t.b;
        b.compute_s += share * (f + bwd);
        b.exposed_ep_comm_s += share * (fc + bc);
      }
      mean.f += t.f / held.size();
      mean.b += t.b / held.size();
      mean.w += t.w / held.size();
      mean.fb += t.fb / held.size();
    }
    b.pipeline_bubble_s = std::max(0.0, bubble_seconds(plan.schedule, plan.pp, mean));

    // ZeRO-1: reduce-scatter FP32 gradients, all-gather BF16 weights, ring over the replicas.
    const RankMemory mem = rank_memory(memory, stages, rank);
    const double ib =
        s.cluster.nic_bytes_per_second_per_gpu() *
        std::min(1.0, s.calibration.ib_achieved_GBps * 8.0 / s.calibration.nic_line_rate_Gbps);
    auto ring = [](double bytes, int replicas) {
      return replicas > 1 ? bytes * (replicas - 1) / replicas : 0.0;
    };
    const double dp_bytes =
        ring(mem.dense_params * (kGradientBytes + kWeightBytes), s.dp()) +
        ring(mem.expert_params * (kGradientBytes + kWeightBytes), s.expert_dp());
    b.dp_comm_s = dp_bytes / ib;
    b.optimizer_s =
        costs.compute().memory_seconds(mem.optimizer_shard_params * kOptimizerStepBytesPerParam);

    if (b.total() > slowest) {
      slowest = b.total();
      result.breakdown = b;
      result.slowest_rank = rank;
      result.network.dp_bytes_per_gpu = dp_bytes;
    }
  }
  result.step_time_s = result.breakdown.total();

  const EpCommCost fwd = costs.ep_forward();
  const EpCommCost bwd = costs.ep_backward();
  result.network.ep_ib_bytes_per_token_per_moe_layer = fwd.ib_bytes_per_token;
  result.network.ep_nvlink_bytes_per_token_per_moe_layer = fwd.nvlink_bytes_per_token;
  result.network.ep_ib_achieved_GBps = fwd.ib_GBps;
  result.network.ep_nvlink_achieved_GBps = fwd.nvlink_GBps;
  result.network.ep_forward_comm_s_per_moe_layer = fwd.dispatch_s + fwd.combine_s;
  result.network.ep_backward_comm_s_per_moe_layer = bwd.dispatch_s + bwd.combine_s;
  result.network.pp_send_s_per_micro_batch = costs.pp_send_s();
  return result;
}

std::vector<std::string> AnalyticStepModel::assumptions(const TrainingScenario& s) const {
  const auto& plan = s.plan;
  std::vector<std::string> a = {
      "Step time is analytic: per-chunk costs, the schedule's bubble formula " +
          bubble_formula(plan.schedule) +
          " (DeepSeek-V3 report Table 2) and exposed communication; no contention, no event "
          "queue. The slowest pipeline rank sets the step.",
      "FP8 GEMM efficiency is DeepGEMM's measured TFLOPS on H800 (fraction of FP8 peak), "
      "interpolated in log2 M at the nearest measured (N, K) and applied to this GPU's peak; BF16 "
      "GEMMs (gate, output head) use the same fraction of BF16 peak.",
      "Backward GEMMs (data and weight gradients) take the forward GEMM's time: same FLOPs, "
      "efficiency of the forward shape.",
      "Attention score/value matmuls run at FlashMLA's 660 TFLOPS on H800 (66.7% of BF16 peak); "
      "backward takes 2.5x forward (FlashAttention-style recomputation of scores).",
      "Element-wise kernels (norms, activations, residuals, cross-entropy) are memory-bound at "
      "FlashMLA's 3000 GB/s on H800 (89.6% of HBM peak); backward moves twice the bytes.",
      "Routing is balanced: every expert receives ep*tokens*k/E copies; a token picks M nodes "
      "uniformly and its k experts uniformly among their experts (hypergeometric copy counts).",
      "Expert all-to-all: FP8 dispatch (one FP32 scale per 128 values) and BF16 combine forward, "
      "BF16 both ways backward; IB at DeepEP's measured per-GPU bandwidth for the nearest EP size "
      "(scaled by NIC speed / 400 Gb/s), NVLink forwarding at 160 GB/s per 200 GB/s of NVLink, "
      "IB and NVLink concurrent.",
      "Pipeline point-to-point sends are asynchronous and hidden behind compute.",
      "ZeRO-1 gradient reduce-scatter (FP32) and weight all-gather (BF16) are rings over IB at "
      "50 GB/s per 400 Gb/s NIC and are not overlapped with compute.",
      "The AdamW step is memory-bound over this GPU's optimizer shard (22 bytes per parameter).",
      "Memory: BF16 weights, FP32 gradients, FP32 master weights and BF16 moments sharded by "
      "ZeRO-1; activations are itemised per layer (--explain) times the schedule's micro-batches "
      "in flight; 2 GiB reserved for CUDA context and communication buffers (assumed).",
      "GPU-hours include the batch-size ramp, integrated over 16 equal token segments; the bubble "
      "formula is used even where a ramp segment has fewer than 2*PP micro-batches.",
  };
  if (overlaps_forward_and_backward(plan.schedule)) {
    a.push_back("In the overlapped F&B pair, compute gets (SMs - comm_sms)/SMs = " +
                std::to_string(s.gpu.sms - plan.comm_sms) + "/" + std::to_string(s.gpu.sms) +
                " of the GPU and hides the pair's all-to-all; warm-up and cool-down chunks do not "
                "overlap, and run on every SM.");
  }
  if (!s.cluster.fabric.failures.empty() || plan.routing.kind != RoutingSpec::Kind::kBalanced ||
      plan.routing.redundant_experts > 0) {
    a.push_back(
        "This closed form ignores failed links and skewed routing (it has no network and "
        "assumes balanced routing); the event-driven engine models them.");
  }
  if (s.calibration.name != "h800-published" || s.gpu.name != s.calibration.measured_on.name) {
    a.push_back("Calibration '" + s.calibration.name + "' was measured on " +
                s.calibration.measured_on.name + "; its efficiencies are carried over to " +
                s.gpu.name + ".");
  }
  return a;
}

}  // namespace codesim::workloads
