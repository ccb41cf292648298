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

// A compute piece's time on every SM and in an overlapped pair; its communication left in series
// (a tensor-parallel all-reduce over NVLink inside the group) counts in both.
struct Work {
  double seconds = 0;
  double pair_seconds = 0;
  Work& operator+=(const Work& o) {
    seconds += o.seconds;
    pair_seconds += o.pair_seconds;
    return *this;
  }
};
Work forward_of(const ChunkCost& c) {
  return {c.forward.compute_s + c.forward.comm_s, c.forward.pair_compute_s + c.forward.comm_s};
}
Work input_of(const ChunkCost& c) {
  return {c.backward_input.compute_s + c.backward_input.comm_s,
          c.backward_input.pair_compute_s + c.backward_input.comm_s};
}
Work weight_of(const ChunkCost& c) {
  return {c.backward_weight.compute_s, c.backward_weight.pair_compute_s};
}
Work full_backward_of(const ChunkCost& c) {
  Work w = input_of(c);
  w += weight_of(c);
  return w;
}

Segment compute_segment(const Work& work, const Work& routed, int layer) {
  Segment s;
  s.duration = sim::from_seconds_ceil(std::max(0.0, work.seconds));
  s.pair_duration = sim::from_seconds_ceil(std::max(0.0, work.pair_seconds));
  s.routed = sim::from_seconds_ceil(std::max(0.0, routed.seconds));
  s.pair_routed = sim::from_seconds_ceil(std::max(0.0, routed.pair_seconds));
  s.layer = layer;
  return s;
}

// Appends a compute segment, merging it into a compute segment just before it.
void add_compute(std::vector<Segment>& segs, const Work& work) {
  if (work.seconds <= 0) return;
  const Segment s = compute_segment(work, {}, -1);
  if (!segs.empty() && segs.back().kind == Segment::Kind::kCompute) {
    segs.back().duration += s.duration;
    segs.back().pair_duration += s.pair_duration;
  } else {
    segs.push_back(s);
  }
}

void add_exchange(std::vector<Segment>& segs, Exchange exchange, int layer) {
  Segment s;
  s.kind = Segment::Kind::kAllToAll;
  s.exchange = exchange;
  s.layer = layer;
  segs.push_back(s);
}

// A compute segment with routed-expert work of `layer` in it, whose time scales with the GPU's
// load; kept apart from neighbouring compute (another layer's routed work must not merge in).
void add_routed(std::vector<Segment>& segs, const Work& work, const Work& routed, int layer) {
  segs.push_back(compute_segment(work, routed, layer));
}

// The passes of one model stage: each layer's pieces from the chunk cost model, an MoE layer cut
// at its all-to-alls; the backward runs the layers in reverse.
StagePasses stage_passes(const ChunkCostModel& costs, const models::ModelConfig& model,
                         const Stage& stage, bool ep_exchanges) {
  struct Piece {
    ChunkCost before;   // compute before the dispatch (the whole piece when nothing cuts it)
    ChunkCost between;  // between dispatch and combine, routed experts apart
    ChunkCost routed;   // routed experts at a balanced load
    ChunkCost after;    // after the combine
    bool exchange = false;
    int layer = -1;
  };
  std::vector<Piece> pieces;
  auto whole = [&](const ChunkCost& c) { pieces.push_back({c, {}, {}, {}, false, -1}); };
  if (stage.embedding) whole(costs.embedding());
  auto add_layer = [&](int layer) {
    const LayerParts parts = costs.layer_parts(layer);
    if (parts.moe && ep_exchanges) {
      pieces.push_back({parts.before, parts.between, parts.routed, parts.after, true, layer});
    } else {
      ChunkCost c = parts.before;
      c += parts.between;
      c += parts.routed;
      c += parts.after;
      whole(c);
    }
  };
  for (int l = stage.first_layer; l < stage.first_layer + stage.layers; ++l) add_layer(l);
  for (int i = 0; i < stage.mtp_modules; ++i) {
    whole(costs.mtp_module_extras());
    add_layer(model.layers);
  }
  if (stage.output_head) whole(costs.output_head());

  StagePasses out;
  for (const Piece& piece : pieces) {
    add_compute(out.forward, forward_of(piece.before));
    if (piece.exchange) {
      add_exchange(out.forward, Exchange::kForwardDispatch, piece.layer);
      add_routed(out.forward, forward_of(piece.between), forward_of(piece.routed), piece.layer);
      add_exchange(out.forward, Exchange::kForwardCombine, piece.layer);
      add_compute(out.forward, forward_of(piece.after));
    }
  }
  for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
    const Piece& piece = *it;
    if (piece.exchange) {
      add_compute(out.backward, input_of(piece.after));
      add_compute(out.backward_full, full_backward_of(piece.after));
      add_exchange(out.backward, Exchange::kBackwardCombine, piece.layer);
      add_exchange(out.backward_full, Exchange::kBackwardCombine, piece.layer);
      add_routed(out.backward, input_of(piece.between), input_of(piece.routed), piece.layer);
      add_routed(out.backward_full, full_backward_of(piece.between),
                 full_backward_of(piece.routed), piece.layer);
      add_exchange(out.backward, Exchange::kBackwardDispatch, piece.layer);
      add_exchange(out.backward_full, Exchange::kBackwardDispatch, piece.layer);
    }
    add_compute(out.backward, input_of(piece.before));
    add_compute(out.backward_full, full_backward_of(piece.before));
    Work weights = weight_of(piece.before);
    weights += weight_of(piece.between);
    weights += weight_of(piece.after);
    add_compute(out.weight, weights);
    if (piece.routed.backward_weight.compute_s > 0) {
      add_routed(out.weight, {}, weight_of(piece.routed), piece.layer);
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
  if (ep_exchanges) {
    const auto& node = s.cluster.node;
    const EpCopiesPerToken copies =
        expected_copies_per_token({s.model.routed_experts, s.model.experts_per_token, plan.ep,
                                   node.gpus, s.max_nodes_per_token()});
    const int group_nodes = std::max(1, plan.ep / node.gpus);
    const int peers = std::min(plan.ep, node.gpus) - 1;
    const double tokens = s.tokens_per_micro_batch();
    // Every MoE layer runs the same communication-stream kernels before its all-to-alls.
    const LayerParts moe = costs.layer_parts(s.model.layers);
    for (int e = 0; e < kExchanges; ++e) {
      in.exchanges[e].setup = sim::from_seconds_ceil(moe.exchange_setup_s[e]);
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
