#include "workloads/step/engine_input.hpp"

#include <algorithm>
#include <stdexcept>

#include "workloads/moe/expected_traffic.hpp"
#include "workloads/moe/expert_load.hpp"
#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/pipeline/rank_memory.hpp"
#include "workloads/pipeline/stages.hpp"
#include "workloads/step/chunk_costs.hpp"

namespace codesim::workloads {
namespace {

using sim::Time;

// Appends a compute segment, merging it into a compute segment just before it.
void add_compute(std::vector<Segment>& segs, double seconds) {
  if (seconds <= 0) return;
  const Time t = sim::from_seconds_ceil(seconds);
  if (!segs.empty() && segs.back().kind == Segment::Kind::kCompute) {
    segs.back().duration += t;
  } else {
    segs.push_back({Segment::Kind::kCompute, Exchange::kForwardDispatch, t, Time::zero(), -1});
  }
}

void add_exchange(std::vector<Segment>& segs, Exchange exchange, int layer) {
  segs.push_back({Segment::Kind::kAllToAll, exchange, Time::zero(), Time::zero(), layer});
}

// A compute segment with routed-expert work of `layer` in it, whose time scales with the GPU's
// load; kept apart from neighbouring compute (another layer's routed work must not merge in).
void add_routed(std::vector<Segment>& segs, double seconds, double routed_seconds, int layer) {
  segs.push_back({Segment::Kind::kCompute, Exchange::kForwardDispatch,
                  sim::from_seconds_ceil(std::max(0.0, seconds)),
                  sim::from_seconds_ceil(std::max(0.0, routed_seconds)), layer});
}

// The passes of one model stage: whole-layer costs from the chunk cost model, each MoE layer cut
// at its all-to-alls; the backward runs the layers in reverse.
StagePasses stage_passes(const ChunkCostModel& costs, const models::ModelConfig& model,
                         const Stage& stage, bool ep_exchanges) {
  struct Piece {
    ChunkCost before;  // compute before the dispatch (or the whole piece when no exchange)
    ChunkCost after;   // compute between dispatch and combine, routed experts apart
    ChunkCost routed;  // routed experts at a balanced load
    bool exchange = false;
    int layer = -1;
  };
  std::vector<Piece> pieces;
  if (stage.embedding) pieces.push_back({costs.embedding(), {}, {}, false, -1});
  auto add_layer = [&](int layer) {
    const LayerParts parts = costs.layer_parts(layer);
    if (parts.moe && ep_exchanges) {
      pieces.push_back({parts.attention, parts.ffn, parts.routed, true, layer});
    } else {
      ChunkCost whole = parts.attention;
      whole += parts.ffn;
      whole += parts.routed;
      pieces.push_back({whole, {}, {}, false, -1});
    }
  };
  for (int l = stage.first_layer; l < stage.first_layer + stage.layers; ++l) add_layer(l);
  for (int i = 0; i < stage.mtp_modules; ++i) {
    pieces.push_back({costs.mtp_module_extras(), {}, {}, false, -1});
    add_layer(model.layers);
  }
  if (stage.output_head) pieces.push_back({costs.output_head(), {}, {}, false, -1});

  // A piece's communication left in it (a tensor-parallel all-reduce, over NVLink inside the
  // group) runs in series with its compute.
  auto forward = [](const ChunkCost& c) { return c.forward.compute_s + c.forward.comm_s; };
  auto input = [](const ChunkCost& c) {
    return c.backward_input.compute_s + c.backward_input.comm_s;
  };
  StagePasses out;
  for (const Piece& piece : pieces) {
    add_compute(out.forward, forward(piece.before));
    if (piece.exchange) {
      add_exchange(out.forward, Exchange::kForwardDispatch, piece.layer);
      add_routed(out.forward, forward(piece.after), forward(piece.routed), piece.layer);
      add_exchange(out.forward, Exchange::kForwardCombine, piece.layer);
    }
  }
  for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
    const Piece& piece = *it;
    if (piece.exchange) {
      add_exchange(out.backward, Exchange::kBackwardCombine, piece.layer);
      add_exchange(out.backward_full, Exchange::kBackwardCombine, piece.layer);
      add_routed(out.backward, input(piece.after), input(piece.routed), piece.layer);
      add_routed(out.backward_full, input(piece.after) + piece.after.backward_weight_s,
                 input(piece.routed) + piece.routed.backward_weight_s, piece.layer);
      add_exchange(out.backward, Exchange::kBackwardDispatch, piece.layer);
      add_exchange(out.backward_full, Exchange::kBackwardDispatch, piece.layer);
    }
    add_compute(out.backward, input(piece.before));
    add_compute(out.backward_full, input(piece.before) + piece.before.backward_weight_s);
    add_compute(out.weight, piece.before.backward_weight_s + piece.after.backward_weight_s);
    if (piece.routed.backward_weight_s > 0) {
      add_routed(out.weight, 0.0, piece.routed.backward_weight_s, piece.layer);
    }
  }
  return out;
}

}  // namespace

std::string event_engine_limitation(const TrainingScenario& s) {
  if (s.plan.tp > 1 && s.model.is_moe() && s.plan.ep > 1) {
    return "the event-driven engine does not yet combine expert parallelism (ep = " +
           std::to_string(s.plan.ep) +
           ") with tensor parallelism (tp = " + std::to_string(s.plan.tp) + ")";
  }
  return "";
}

EngineInput engine_input(const TrainingScenario& s, const ChunkCostModel& costs,
                         int batch_sequences) {
  const auto& plan = s.plan;
  if (const std::string why = event_engine_limitation(s); !why.empty()) {
    throw std::invalid_argument(why);
  }
  const std::vector<Stage> stages =
      split_stages(s.model, stage_count(plan.schedule, plan.pp), plan.stage_layers);
  EngineInput in;
  in.schedule = plan.schedule;
  in.pp = plan.pp;
  in.replicas = s.dp();
  in.tp = plan.tp;
  const bool ep_exchanges = s.model.is_moe() && plan.ep > 1;
  in.ep = ep_exchanges ? plan.ep : 1;
  in.micro_batches = std::max(1, s.micro_batches(batch_sequences));
  for (const Stage& stage : stages) {
    in.stages.push_back(stage_passes(costs, s.model, stage, ep_exchanges));
  }
  in.overlapped_pair_slowdown = overlapped_pair_slowdown(s.gpu, plan.comm_sms, plan.schedule);
  if (ep_exchanges) {
    const auto& node = s.cluster.node;
    const EpCopiesPerToken copies =
        expected_copies_per_token({s.model.routed_experts, s.model.experts_per_token, plan.ep,
                                   node.gpus, s.max_nodes_per_token()});
    const int group_nodes = std::max(1, plan.ep / node.gpus);
    const int peers = std::min(plan.ep, node.gpus) - 1;
    const double tokens = s.tokens_per_micro_batch();
    for (int e = 0; e < kExchanges; ++e) {
      const double per_copy = copy_bytes(Exchange(e), plan.gemm_precision, s.model.hidden);
      ExchangeBytes& b = in.exchanges[e];
      b.ib_per_remote_node =
          group_nodes > 1 ? tokens * copies.remote_nodes / (group_nodes - 1) * per_copy : 0.0;
      b.nvlink_per_peer = peers > 0 ? tokens * copies.nvlink_copies / peers * per_copy : 0.0;
    }
  }
  in.pp_bytes = 2.0 * s.tokens_per_micro_batch() * s.model.hidden;
  if (ep_exchanges) {
    ExpertLoad load = expert_load(expert_load_params(s));
    in.expert_load = std::move(load.factor);
    in.expert_load_max_over_mean = load.mean_max_over_mean;
  }
  const models::ComputeCostModel& compute = costs.compute();
  const MemoryParams memory = memory_params(s);
  for (int p = 0; p < plan.pp; ++p) {
    const RankMemory mem = rank_memory(memory, stages, p);
    in.dense_params.push_back(mem.dense_params);
    in.expert_params.push_back(mem.expert_params);
    in.optimizer.push_back(sim::from_seconds_ceil(
        compute.memory_seconds(mem.optimizer_shard_params * kOptimizerStepBytesPerParam)));
  }
  return in;
}

}  // namespace codesim::workloads
