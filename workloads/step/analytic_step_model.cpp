#include "workloads/step/analytic_step_model.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "models/calibration.hpp"
#include "workloads/network/cluster_network.hpp"
#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/rank_memory.hpp"
#include "workloads/pipeline/schedule_replay.hpp"
#include "workloads/pipeline/schedules.hpp"
#include "workloads/pipeline/stages.hpp"
#include "workloads/step/chunk_costs.hpp"

namespace codesim::workloads {
namespace {

// One stage's costs for one micro-batch, from the chunk cost model: compute on every SM and in
// an overlapped pair (chunk_costs.hpp's comm-SM rule), and the communication each pass waits on.
struct StageTimes {
  double f = 0, f_pair = 0;  // forward compute
  double b = 0, b_pair = 0;  // input-gradient compute (recomputation included)
  double w = 0, w_pair = 0;  // weight-gradient compute
  double f_comm = 0;         // communication the forward cannot finish without (all-to-alls, TP)
  double b_comm = 0;
  double f_ring = 0;  // ring attention's K/V exchange not hidden by attention (context parallel)
  double b_ring = 0;
  double f_tp = 0;  // tensor-parallel collectives' bytes over NVLink, in series
  double b_tp = 0;
};

// What one operation costs: its compute on every SM, the extra time the SMs and HBM bandwidth
// held by communication cost it (overlapped pairs only), and its communication not hidden by
// compute.
struct OpTimes {
  double compute = 0;
  double comm_sm_share = 0;
  double exposed_comm = 0;
  double exposed_ring = 0;
  double tp_comm = 0;
  double duration() const {
    return compute + comm_sm_share + exposed_comm + exposed_ring + tp_comm;
  }
};

OpTimes op_times(const PipelineOp& op, const StageTimes* forward, const StageTimes* backward) {
  OpTimes t;
  switch (op.kind) {
    case PipelineOp::Kind::kForward:
      t.compute = forward->f;
      t.exposed_comm = forward->f_comm;
      t.exposed_ring = forward->f_ring;
      t.tp_comm = forward->f_tp;
      break;
    case PipelineOp::Kind::kBackward:
      t.compute = backward->b + (op.split_backward ? 0.0 : backward->w);
      t.exposed_comm = backward->b_comm;
      t.exposed_ring = backward->b_ring;
      t.tp_comm = backward->b_tp;
      break;
    case PipelineOp::Kind::kWeight:
      t.compute = backward->w;
      break;
    case PipelineOp::Kind::kForwardBackward: {
      // One micro-batch's compute, at the pair's price, hides the other's all-to-all as far as
      // it lasts.
      t.compute = forward->f + backward->b + backward->w;
      const double pair = forward->f_pair + backward->b_pair + backward->w_pair;
      t.comm_sm_share = pair - t.compute;
      const double comm = forward->f_comm + backward->b_comm;
      t.exposed_comm = std::max(0.0, comm - pair);
      t.exposed_ring = forward->f_ring + backward->b_ring;
      t.tp_comm = forward->f_tp + backward->b_tp;
      break;
    }
  }
  return t;
}

// Contention-free transfer rates and latencies, at the calibration's achieved fractions.
struct Links {
  double nvlink_Bps = 0;  // per GPU and direction
  double ib_Bps = 0;      // per GPU
  double nvlink_latency_s = 0;
  double ib_latency_s = 0;  // under one leaf
};

Links links_of(const TrainingScenario& s) {
  const LinkEfficiency e = link_efficiency(s.calibration);
  Links l;
  l.nvlink_Bps = s.cluster.node.nvlink_unidirectional_GBps * 1e9 * e.nvlink;
  l.ib_Bps = s.cluster.node.nic_bytes_per_second_per_gpu() * e.fabric;
  l.nvlink_latency_s = 2 * models::nvlink_link_latency(s.calibration.latency).seconds();
  l.ib_latency_s =
      models::fabric_hop_latency(s.calibration.latency, models::FabricTransport::kInfiniBand)
          .end_to_end(1)
          .seconds();
  return l;
}

// The pieces of one stage, every layer's and those outside the layers.
std::vector<const PieceKernels*> stage_pieces(const ChunkCostModel& costs, const Stage& stage,
                                              std::vector<PieceKernels>& storage) {
  const KernelShapes& shapes = costs.shapes();
  storage.clear();
  if (stage.embedding) storage.push_back(embedding_kernels(shapes));
  auto add_layer = [&](int layer) {
    const LayerKernels k = costs.kernels(layer);
    for (const PieceKernels* p : {&k.attention, &k.dispatch, &k.routed, &k.experts, &k.combine}) {
      storage.push_back(*p);
    }
  };
  for (int l = stage.first_layer; l < stage.first_layer + stage.layers; ++l) add_layer(l);
  for (int i = 0; i < stage.mtp_modules; ++i) {
    storage.push_back(mtp_extra_kernels(shapes));
    storage.push_back(output_head_kernels(shapes));
    add_layer(shapes.model.layers);
  }
  if (stage.output_head) storage.push_back(output_head_kernels(shapes));
  std::vector<const PieceKernels*> out;
  for (const PieceKernels& p : storage) out.push_back(&p);
  return out;
}

// One F&B pair as the analytic model prices it: its forward on `forward`, its full backward on
// `backward`, its compute at the pair's price, its all-to-alls hidden behind it as far as it
// lasts.
ChunkPairReport pair_of(const ChunkCostModel& costs, const Stage& forward, const Stage& backward,
                        const OpTimes& t, double comm_s, int rank) {
  ChunkPairReport r;
  r.present = true;
  r.pipeline_rank = rank;
  r.span_s = t.duration();
  r.compute_busy_s = t.compute + t.comm_sm_share;
  r.comm_busy_s = comm_s;
  std::map<std::string, double> by_kernel;
  std::vector<PieceKernels> storage;
  auto add = [&](const std::vector<models::Kernel>& kernels) {
    for (const PricedKernel& p : costs.price(kernels)) {
      if (p.kernel.stream != models::KernelStream::kCompute) continue;
      by_kernel[p.kernel.name] += p.pair_seconds;
    }
  };
  for (const PieceKernels* p : stage_pieces(costs, forward, storage)) add(p->forward);
  for (const PieceKernels* p : stage_pieces(costs, backward, storage)) {
    add(p->backward);
    add(p->weight);
  }
  KernelShares shares = kernel_shares(by_kernel);
  r.top_kernels = std::move(shares.top_kernels);
  r.classes = std::move(shares.classes);
  return r;
}

}  // namespace

StepResult AnalyticStepModel::step(const TrainingScenario& s, int batch_sequences) const {
  return step_with(s, ChunkCostModel(chunk_cost_params(s)), batch_sequences);
}

std::vector<StepResult> AnalyticStepModel::steps(const TrainingScenario& s,
                                                 const std::vector<int>& batches) const {
  const ChunkCostModel costs(chunk_cost_params(s));
  std::vector<StepResult> out;
  for (const int batch : batches) out.push_back(step_with(s, costs, batch));
  return out;
}

StepResult AnalyticStepModel::step_with(const TrainingScenario& s, const ChunkCostModel& costs,
                                        int batch_sequences) const {
  const auto& plan = s.plan;
  const std::vector<Stage> stages = split_stages(
      s.model, stage_count(plan.schedule, plan.pp, plan.virtual_stages), plan.stage_layers);
  const int n = std::max(1, s.micro_batches(batch_sequences));
  const MemoryParams memory = memory_params(s);
  const Links links = links_of(s);
  // GPUs of one pipeline rank (its replicas and tensor-parallel shards) sit consecutively, so
  // they share a node only when they fit in one.
  const int width = s.gpus_per_stage();
  const bool rank_in_one_node = width <= s.cluster.node.gpus;

  // Ring attention (cp > 1): each layer's K/V blocks go to the next GPU of the ring (tp apart:
  // over NVLink when the ring's cp x tp GPUs share a node) while the attention of the first
  // cp - 1 steps runs; what outlasts it is exposed.
  const ContextRingTraffic context_ring = costs.context_ring();
  double ring_exposed_f = 0, ring_exposed_b = 0;
  if (context_ring.steps > 0) {
    const bool ring_in_node = plan.cp * plan.tp <= s.cluster.node.gpus;
    const double rate = ring_in_node ? links.nvlink_Bps : links.ib_Bps;
    const double latency = ring_in_node ? links.nvlink_latency_s : links.ib_latency_s;
    const double overlapped = double(context_ring.steps) / plan.cp;
    auto exposed = [&](double bytes, bool backward) {
      const double attention = costs.attention_core(s.model.layers - 1, backward).seconds;
      return std::max(0.0, bytes / rate + latency - overlapped * attention);
    };
    ring_exposed_f = exposed(context_ring.forward_bytes_per_gpu, false);
    ring_exposed_b = exposed(context_ring.backward_bytes_per_gpu, true);
  }
  std::vector<StageTimes> times;
  for (const Stage& stage : stages) {
    const ChunkCost c = costs.stage(stage);
    const int layers = stage.layers + stage.mtp_modules;
    times.push_back({c.forward.compute_s, c.forward.pair_compute_s, c.backward_input.compute_s,
                     c.backward_input.pair_compute_s, c.backward_weight.compute_s,
                     c.backward_weight.pair_compute_s, c.forward.comm_s, c.backward_input.comm_s,
                     layers * ring_exposed_f, layers * ring_exposed_b, c.forward.tp_comm_s,
                     c.backward_input.tp_comm_s});
  }
  auto op_of = [&](const PipelineOp& op, int forward_stage, int backward_stage) {
    return op_times(op, forward_stage >= 0 ? &times[forward_stage] : nullptr,
                    backward_stage >= 0 ? &times[backward_stage] : nullptr);
  };

  // The operations' timeline: the schedule replayed with these costs, the pipeline sends at
  // their contention-free time. A plan with too few micro-batches for its schedule (a batch-ramp
  // step) falls back to the Table 2 bubble formula.
  // A pipeline send: its bytes over NVLink between ranks of one node, else over the NICs, at the
  // calibration's achieved rates, plus the transfer's latency. Sends that leave a GPU together
  // share its port.
  const double send_bytes =
      pipeline_send_bytes(s.tokens_per_micro_batch(), s.model.hidden, plan.tp);
  const int gpus_per_node = s.cluster.node.gpus;
  auto send_s = [&](int from, int to, int together) {
    const bool one_node = from * width / gpus_per_node == to * width / gpus_per_node;
    return together * send_bytes / (one_node ? links.nvlink_Bps : links.ib_Bps) +
           (one_node ? links.nvlink_latency_s : links.ib_latency_s);
  };
  const bool replayed =
      micro_batch_requirement(plan.schedule, plan.pp, n, plan.virtual_stages).empty();
  ReplayResult replay;
  if (replayed) {
    ReplayCosts replay_costs;
    replay_costs.send_s = send_s;
    replay_costs.duration = [&](const PipelineOp& op, int f, int b) {
      return op_of(op, f, b).duration();
    };
    replay = replay_schedule(plan.schedule, plan.pp, n, replay_costs, plan.virtual_stages);
  }

  StepResult result;
  result.micro_batches = n;
  const PipelineMap map(plan.schedule, plan.pp, plan.virtual_stages);
  // Each rank's operations: its breakdown up to its last operation's end.
  struct RankOps {
    StepBreakdown breakdown;
    Table4Phases table4;
  };
  std::vector<RankOps> ranks;
  ChunkPairReport pair_report;
  for (int rank = 0; rank < plan.pp; ++rank) {
    StepBreakdown b;
    Table4Phases t4;
    if (replayed) {
      const std::vector<PipelineOp> ops =
          schedule_rank_ops(plan.schedule, plan.pp, rank, n, plan.virtual_stages);
      const auto pairs = std::count_if(ops.begin(), ops.end(), [](const PipelineOp& op) {
        return op.kind == PipelineOp::Kind::kForwardBackward;
      });
      std::int64_t pair_index = 0;
      for (const PipelineOp& op : ops) {
        const int forward =
            op.kind == PipelineOp::Kind::kForward || op.kind == PipelineOp::Kind::kForwardBackward
                ? map.place({rank, op.chunk}).position
                : -1;
        const int backward =
            op.kind == PipelineOp::Kind::kForward
                ? -1
                : map.place({rank, op.kind == PipelineOp::Kind::kForwardBackward ? op.backward_chunk
                                                                                 : op.chunk})
                      .position;
        const OpTimes t = op_of(op, forward, backward);
        b.compute_s += t.compute;
        b.comm_sm_share_s += t.comm_sm_share;
        b.exposed_ep_comm_s += t.exposed_comm;
        b.exposed_cp_comm_s += t.exposed_ring;
        b.tp_comm_s += t.tp_comm;
        switch (op.kind) {
          case PipelineOp::Kind::kForward:
            t4.one_f_s += t.duration();
            break;
          case PipelineOp::Kind::kBackward:
            t4.one_b_s += t.duration();
            break;
          case PipelineOp::Kind::kWeight:
            t4.one_w_s += t.duration();
            break;
          case PipelineOp::Kind::kForwardBackward:
            t4.one_f_one_b_s += t.duration();
            // A middle rank's steady pair (its middle one), as the event engine records it.
            if (rank == (plan.pp - 1) / 2 && pair_index++ == pairs / 2) {
              pair_report = pair_of(costs, stages[forward], stages[backward], t,
                                    times[forward].f_comm + times[backward].b_comm, rank);
            }
            break;
        }
      }
      b.pipeline_bubble_s = std::max(0.0, replay.finish[rank] - replay.busy[rank]);
      t4.bubble_s = b.pipeline_bubble_s;
    } else {
      // Table 2: every micro-batch through each stage the rank holds, in pairs where the schedule
      // overlaps them, plus the formula's bubble on the stages' mean chunk times.
      const std::vector<int> held = map.stages_of(rank);
      const double in_pairs =
          std::min(1.0, double(overlapped_pairs(plan.schedule, plan.pp, rank, n)) / n);
      ChunkTimes mean;
      const bool overlapped = overlaps_forward_and_backward(plan.schedule);
      for (int index : held) {
        const StageTimes& t = times[index];
        const double share = double(n) / held.size();  // micro-batches through this stage
        const double compute = t.f + t.b + t.w;
        const double pair = overlapped ? t.f_pair + t.b_pair + t.w_pair : compute;
        const double comm = t.f_comm + t.b_comm;
        b.compute_s += share * compute;
        b.comm_sm_share_s += in_pairs * share * (pair - compute);
        b.exposed_ep_comm_s += share * (overlapped ? std::max(0.0, comm - pair) : comm);
        b.exposed_cp_comm_s += share * (t.f_ring + t.b_ring);
        b.tp_comm_s += share * (t.f_tp + t.b_tp);
        mean.f += (t.f + t.f_comm + t.f_ring + t.f_tp) / held.size();
        mean.b += (t.b + t.w + t.b_comm + t.b_ring + t.b_tp) / held.size();
        mean.w += t.w / held.size();
        mean.fb += (std::max(pair, comm) + t.f_ring + t.b_ring + t.f_tp + t.b_tp) / held.size();
      }
      b.pipeline_bubble_s = std::max(0.0, bubble_seconds(plan.schedule, plan.pp, mean));
    }

    ranks.push_back({b, t4});
  }

  // ZeRO-1: FP32 gradients reduce-scattered and BF16 weights all-gathered in rings over the
  // replicas, on NVLink when they share a node, else at a NIC's rate (the cross-node hops set
  // a ring's pace), each of the replicas - 1 steps of a ring paying a transfer's latency. A
  // chunk's reduce-scatter starts when its last weight gradients are done (where the schedule
  // was replayed; else after the rank's last operation), one after another on the rank's links.
  // The optimizer clips by the global gradient norm, so no rank starts it before every rank's
  // reduce-scatters are done; then its shard's AdamW step and the all-gather. Plain data
  // parallelism (zero: 0) all-reduces the gradients instead (a reduce-scatter and an all-gather
  // of them: two passes round the ring), updates every weight and gathers nothing.
  const bool sharded = plan.zero_stage >= 1;
  auto ring = [](double bytes, int replicas) {
    return replicas > 1 ? bytes * (replicas - 1) / replicas : 0.0;
  };
  const double rate = rank_in_one_node ? links.nvlink_Bps : links.ib_Bps;
  const double latency = rank_in_one_node ? links.nvlink_latency_s : links.ib_latency_s;
  const int replicas = s.gradient_replicas();
  const int ring_steps = std::max(replicas, s.expert_dp()) - 1;
  auto ring_seconds = [&](const StageParams& params, double bytes_per_param, int passes) {
    const double bytes = passes * (ring(params.dense * bytes_per_param, replicas) +
                                   ring(params.expert * bytes_per_param, s.expert_dp()));
    return bytes > 0 ? bytes / rate + passes * ring_steps * latency : 0.0;
  };
  double all_reduced = 0;  // every rank's reduce-scatters done
  std::vector<double> reduced(plan.pp, 0.0), gather(plan.pp, 0.0), dp_bytes(plan.pp, 0.0);
  for (int rank = 0; rank < plan.pp; ++rank) {
    const double ops_end = ranks[rank].breakdown.total();
    std::vector<std::pair<double, double>> chunks;  // (gradients done, reduce-scatter seconds)
    StageParams held;
    const std::vector<int> chunk_stages = map.stages_of(rank);
    for (std::size_t c = 0; c < chunk_stages.size(); ++c) {
      const StageParams params = stage_params(memory, stages[chunk_stages[c]]);
      held.dense += params.dense;
      held.expert += params.expert;
      const double done = replayed ? replay.gradients_done[rank][c] : ops_end;
      chunks.emplace_back(done, ring_seconds(params, kGradientBytes, sharded ? 1 : 2));
    }
    std::sort(chunks.begin(), chunks.end());
    double at = 0;
    for (const auto& [done, seconds] : chunks) at = std::max(at, done) + seconds;
    reduced[rank] = std::max(at, ops_end);
    all_reduced = std::max(all_reduced, reduced[rank]);
    gather[rank] = sharded ? ring_seconds(held, kWeightBytes, 1) : 0.0;
    const double per_param = sharded ? kGradientBytes + kWeightBytes : 2 * kGradientBytes;
    dp_bytes[rank] =
        ring(held.dense * per_param, replicas) + ring(held.expert * per_param, s.expert_dp());
  }
  double slowest = -1;
  for (int rank = 0; rank < plan.pp; ++rank) {
    StepBreakdown b = ranks[rank].breakdown;
    Table4Phases t4 = ranks[rank].table4;
    const RankMemory mem = rank_memory(memory, stages, rank);
    // After its last operation: its own reduce-scatters, the wait for the other ranks' (idle, as
    // a bubble is), the optimizer and the all-gather.
    const double wait = all_reduced - reduced[rank];
    b.dp_comm_s = reduced[rank] - b.total() + gather[rank];
    b.pipeline_bubble_s += wait;
    t4.bubble_s += wait;
    b.optimizer_s =
        costs.compute().memory_seconds(mem.optimizer_shard_params * kOptimizerStepBytesPerParam);
    t4.optimizer_s = b.dp_comm_s + b.optimizer_s;
    if (b.total() > slowest) {
      slowest = b.total();
      result.breakdown = b;
      result.table4 = t4;
      result.slowest_rank = rank;
      result.network.dp_bytes_per_gpu = dp_bytes[rank];
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
  result.network.pp_send_s_per_micro_batch = plan.pp > 1 ? send_s(0, 1, 1) : 0.0;
  result.kernels = kernel_report(costs);
  result.chunk_pair = pair_report;
  return result;
}

std::vector<std::string> AnalyticStepModel::assumptions(const TrainingScenario& s) const {
  const auto& plan = s.plan;
  std::vector<std::string> a = {
      "Step time is analytic: per-chunk costs, and every pipeline rank's schedule replayed with "
      "them and contention-free transfers (no network, no event queue); a batch with too few "
      "micro-batches for the schedule takes its bubble from the formula " +
          bubble_formula(plan.schedule) +
          " (DeepSeek-V3 report Table 2) instead. The slowest pipeline rank sets the step.",
      "Routing is balanced: every expert receives ep*tokens*k/E copies; a token picks M nodes "
      "uniformly and its k experts uniformly among their experts (hypergeometric copy counts).",
      "Expert all-to-all: FP8 dispatch (one FP32 scale per 128 values) and BF16 combine forward, "
      "BF16 both ways backward; IB at DeepEP's measured per-GPU bandwidth for the nearest EP size "
      "(scaled by NIC speed / 400 Gb/s), NVLink forwarding at 160 GB/s per 200 GB/s of NVLink, "
      "IB and NVLink concurrent.",
      "A pipeline send takes its latency plus its bytes over NVLink (neighbours in one node) or "
      "a NIC at the calibration's achieved rate, and delays only the stage that waits for it.",
      "ZeRO-1 gradient reduce-scatter (FP32) and weight all-gather (BF16) are rings over the "
      "replicas, on NVLink when they share a node, else at a NIC's achieved rate. A chunk's "
      "reduce-scatter starts when its last weight gradients are done, overlapping the rest of "
      "the cool-down with no contention; the optimizer waits for every rank's (it clips by the "
      "global gradient norm), then the all-gather follows it.",
  };
  for (auto& line : cost_model_assumptions(s)) a.push_back(std::move(line));
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
