#include "workloads/step/event_step_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "workloads/network/cluster_network.hpp"
#include "workloads/pipeline/bubble.hpp"
#include "workloads/step/chunk_costs.hpp"
#include "workloads/step/engine_input.hpp"

namespace codesim::workloads {
namespace {

// Where the recorded pair's compute went: each segment's time shared out over its kernels by
// their pair prices (routed kernels times their load factor).
ChunkPairReport chunk_pair_report(const ChunkPairRecord& record, const EngineInput& in,
                                  int pipeline_rank) {
  ChunkPairReport r;
  if (!record.recorded) return r;
  r.present = true;
  r.pipeline_rank = pipeline_rank;
  r.span_s = (record.end - record.start).seconds();
  r.input_wait_s = (record.begun - record.start).seconds();
  r.compute_busy_s = record.compute_busy.seconds();
  r.comm_busy_s = record.comm_busy.seconds();
  std::map<std::string, double> by_kernel;
  for (const ChunkPairRecord::Run& run : record.runs) {
    if (run.kernels >= in.kernel_lists.size()) continue;
    const auto& kernels = in.kernel_lists[run.kernels];
    double total = 0;
    for (const SegmentKernel& k : kernels)
      total += k.pair_seconds * (k.routed ? run.load_factor : 1);
    if (!(total > 0)) continue;
    for (const SegmentKernel& k : kernels) {
      const double share =
          run.duration.seconds() * k.pair_seconds * (k.routed ? run.load_factor : 1) / total;
      by_kernel[k.name] += share;
    }
  }
  KernelShares shares = kernel_shares(by_kernel);
  r.top_kernels = std::move(shares.top_kernels);
  r.classes = std::move(shares.classes);
  return r;
}

}  // namespace

StepResult EventStepModel::step(const TrainingScenario& s, int batch_sequences) const {
  const ChunkCostModel costs(chunk_cost_params(s));
  EngineInput in = engine_input(s, costs, batch_sequences);
  in.trace_ranks = trace_ranks_;
  if (progress_) {
    in.progress = [this](sim::Time now, std::uint64_t events) { progress_(now.seconds(), events); };
  }
  // A middle pipeline rank's steady pair, replica 0.
  const int middle = (s.plan.pp - 1) / 2;
  if (overlaps_forward_and_backward(s.plan.schedule)) {
    in.chunk_pair_rank = middle * in.replicas * in.tp;
  }
  ClusterNetwork network(s.cluster, link_efficiency(s.calibration));
  EngineResult run = run_step_engine(in, &network);
  if (trace_) *trace_ = std::move(run.trace);

  StepResult out;
  out.step_time_s = run.step_time.seconds();
  out.step_time_ps = run.step_time.ps();
  out.micro_batches = in.micro_batches;
  out.slowest_rank = run.slowest_rank / (in.replicas * in.tp);
  out.events = (long long)run.events;
  out.flow_work = run.flow_work;
  const RankTimes& slow = run.ranks[run.slowest_rank];
  StepBreakdown& b = out.breakdown;
  b.compute_s = slow.compute.seconds();
  b.comm_sm_share_s = slow.comm_sm_share.seconds();
  b.exposed_ep_comm_s = slow.wait_all_to_all.seconds();
  b.exposed_cp_comm_s = slow.wait_ring.seconds();
  b.tp_comm_s = slow.wait_tp.seconds();
  b.pipeline_bubble_s = (slow.wait_pipeline + slow.zero_wait).seconds();
  b.dp_comm_s = slow.dp_comm.seconds();
  b.optimizer_s = slow.optimizer.seconds();
  StepPhases& phases = out.phases;
  phases.warm_up_s = slow.warm_up_end.seconds();
  phases.steady_s = (slow.steady_end - slow.warm_up_end).seconds();
  phases.cool_down_s = (slow.operations_done - slow.steady_end).seconds();
  phases.trailing_weight_s = slow.trailing_weights.seconds();
  phases.idle_s =
      (slow.wait_all_to_all + slow.wait_ring + slow.wait_tp + slow.wait_pipeline).seconds();
  phases.data_parallel_s = (slow.finish - slow.operations_done).seconds();
  out.network.links = run.links;
  Table4Phases& t4 = out.table4;
  t4.one_f_s = slow.in_forwards.seconds();
  t4.bubble_s = (slow.bubble + slow.zero_wait).seconds();
  t4.one_b_s = slow.in_backwards.seconds();
  t4.one_w_s = slow.in_weights.seconds();
  t4.one_f_one_b_s = slow.in_pairs.seconds();
  t4.optimizer_s = (slow.dp_comm + slow.optimizer).seconds();
  out.chunk_pair = chunk_pair_report(run.chunk_pair, in, middle);

  const EpCommCost fwd = costs.ep_forward();
  StepNetwork& n = out.network;
  n.ep_ib_bytes_per_token_per_moe_layer = fwd.ib_bytes_per_token;
  n.ep_nvlink_bytes_per_token_per_moe_layer = fwd.nvlink_bytes_per_token;
  n.ep_ib_achieved_GBps = fwd.ib_GBps;
  n.ep_nvlink_achieved_GBps = fwd.nvlink_GBps;
  auto mean = [&](Exchange e) {
    const auto count = run.exchanges_run[int(e)];
    return count > 0 ? run.exchange_time[int(e)].seconds() / double(count) : 0.0;
  };
  n.ep_forward_comm_s_per_moe_layer =
      mean(Exchange::kForwardDispatch) + mean(Exchange::kForwardCombine);
  n.ep_backward_comm_s_per_moe_layer =
      mean(Exchange::kBackwardCombine) + mean(Exchange::kBackwardDispatch);
  n.pp_send_s_per_micro_batch = costs.pp_send_s();
  n.expert_load_max_over_mean = in.expert_load_max_over_mean;
  out.kernels = kernel_report(costs);
  return out;
}

std::vector<std::string> EventStepModel::assumptions(const TrainingScenario& s) const {
  std::vector<std::string> a = {
      "every rank (pipeline rank x replica) runs its schedule's operations event by event on a "
      "compute stream; all-to-alls, pipeline sends and ZeRO-1 collectives are flows on the "
      "topology, sharing links by max-min fairness",
      "an MoE layer's all-to-all starts when every rank of its EP group has reached it, runs its "
      "communication-stream kernels (DeepEP's FP8 cast, layout, notify: a notify waits one "
      "cross-leaf IB round of isca25 Table 5), then its data as flows, and ends when the last "
      "flow arrives; traffic is the expected traffic of a balanced router",
      "link rates: NVLink at the calibration's achieved fraction, fabric links at its achieved "
      "IB fraction of line rate",
      "ZeRO-1 in rings over the replicas, on the network with the step's other traffic: a "
      "chunk's reduce-scatter starts once every replica of its pipeline rank has its last "
      "weight gradients (overlapping the cool-down's remaining operations); the optimizer waits "
      "for every rank's reduce-scatters (it clips by the global gradient norm), then each rank "
      "updates its shard and all-gathers its weights. The reduce-scatters' reduction kernels "
      "take no SMs from the compute they overlap, and the all-gather does not overlap the next "
      "step's forwards",
  };
  const auto& routing = s.plan.routing;
  const std::string sampled = "each GPU's load per MoE layer estimated from " +
                              std::to_string(routing.sample_tokens) +
                              " routed tokens (node-limited top-k) and used for every micro-batch";
  switch (routing.kind) {
    case RoutingSpec::Kind::kZipf:
      a.push_back(fmt::format("routing: Zipf popularity, exponent {:g}; ", routing.exponent) +
                  sampled);
      break;
    case RoutingSpec::Kind::kDrifting:
      a.push_back(fmt::format("routing: Zipf popularity, exponent {:g}, drifting {:g} experts "
                              "per step, at step {}; ",
                              routing.exponent, routing.drift, routing.step) +
                  sampled);
      break;
    case RoutingSpec::Kind::kMeasured:
      a.push_back("routing: popularity from measured counts of " +
                  std::to_string(routing.measured.size()) + " layers; " + sampled);
      break;
    case RoutingSpec::Kind::kBalanced:
      a.push_back("routing: balanced (every GPU of an EP group receives the same tokens)");
      break;
  }
  if (routing.redundant_experts > 0) {
    a.push_back(std::to_string(routing.redundant_experts) +
                " redundant experts per EP group placed by EPLB on those loads; their weights' "
                "memory is not counted");
  }
  for (auto& line : cost_model_assumptions(s)) a.push_back(std::move(line));
  return a;
}

}  // namespace codesim::workloads
