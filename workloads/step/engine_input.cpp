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

// A piece of compute in one pass: its time on every SM and in an overlapped pair, its kernels,
// and the tensor-parallel collectives' bytes that follow it round the group's ring (their ring
// steps' latencies count as one more kernel).
struct Work {
  double seconds = 0;
  double pair_seconds = 0;
  double tp_bytes = 0;
  std::vector<SegmentKernel> kernels;
  // One kernel's time (or a share of it).
  void add(const char* name, double s, double pair, bool routed = false) {
    seconds += s;
    pair_seconds += pair;
    kernels.push_back({name, s, pair, routed});
  }
  Work& operator+=(const Work& o) {
    seconds += o.seconds;
    pair_seconds += o.pair_seconds;
    tp_bytes += o.tp_bytes;
    kernels.insert(kernels.end(), o.kernels.begin(), o.kernels.end());
    return *this;
  }
};

// One piece (or a stage's piece outside the layers) in its three passes.
struct PieceWork {
  Work forward, backward, weight;
  PieceWork& operator+=(const PieceWork& o) {
    forward += o.forward;
    backward += o.backward;
    weight += o.weight;
    return *this;
  }
  Work full_backward() const {
    Work w = backward;
    w += weight;
    return w;
  }
};

Work priced(const ChunkCostModel& costs, const std::vector<models::Kernel>& kernels, bool routed) {
  Work w;
  for (const PricedKernel& p : costs.price(kernels)) {
    if (p.kernel.stream == models::KernelStream::kCompute) {
      w.add(p.kernel.name, p.seconds, p.pair_seconds, routed);
    }
  }
  return w;
}

PieceWork piece_work(const ChunkCostModel& costs, const PieceKernels& piece, bool routed = false) {
  return {priced(costs, piece.forward, routed), priced(costs, piece.backward, routed),
          priced(costs, piece.weight, routed)};
}

void add_tensor_parallel(Work& w, const ChunkCostModel::TensorParallelPass& tp) {
  w.tp_bytes += tp.bytes_per_gpu;
  if (tp.latency_s > 0) {
    w.add("tensor-parallel collectives: ring-step latency", tp.latency_s, tp.latency_s);
  }
}

// Builds the segments of a stage's passes, and the kernel lists they name.
class SegmentBuilder {
 public:
  explicit SegmentBuilder(std::vector<std::vector<SegmentKernel>>& lists) : lists_(lists) {}

  // Appends compute, merging it into a compute segment just before it.
  void compute(std::vector<Segment>& segs, const Work& work) {
    if (work.seconds <= 0 && work.tp_bytes <= 0) return;
    if (!segs.empty() && segs.back().kind == Segment::Kind::kCompute) {
      Segment& last = segs.back();
      last.duration += sim::from_seconds_ceil(work.seconds);
      last.pair_duration += sim::from_seconds_ceil(work.pair_seconds);
      last.bytes += work.tp_bytes;
      auto& list = lists_[last.kernels];
      list.insert(list.end(), work.kernels.begin(), work.kernels.end());
      return;
    }
    segs.push_back(segment(work, {}, -1));
  }

  // A compute segment with routed-expert work of `layer` in it, whose time scales with the
  // GPU's load; kept apart from neighbouring compute (another layer's routed work must not merge
  // in).
  void routed(std::vector<Segment>& segs, const Work& work, const Work& routed, int layer) {
    segs.push_back(segment(work, routed, layer));
  }

  // Ring attention's overlapped steps: `work` computed while `bytes` go to the next GPU.
  void ring(std::vector<Segment>& segs, const Work& work, double bytes) {
    Segment s = segment(work, {}, -1);
    s.kind = Segment::Kind::kRing;
    s.bytes = bytes;
    segs.push_back(s);
  }

  void exchange(std::vector<Segment>& segs, Exchange exchange, int layer) {
    Segment s;
    s.kind = Segment::Kind::kAllToAll;
    s.exchange = exchange;
    s.layer = layer;
    segs.push_back(s);
  }

 private:
  Segment segment(const Work& work, const Work& routed, int layer) {
    Segment s;
    s.duration = sim::from_seconds_ceil(std::max(0.0, work.seconds));
    s.pair_duration = sim::from_seconds_ceil(std::max(0.0, work.pair_seconds));
    s.routed = sim::from_seconds_ceil(std::max(0.0, routed.seconds));
    s.pair_routed = sim::from_seconds_ceil(std::max(0.0, routed.pair_seconds));
    s.layer = layer;
    s.bytes = work.tp_bytes;
    s.kernels = std::uint32_t(lists_.size());
    lists_.push_back(work.kernels);
    lists_.back().insert(lists_.back().end(), routed.kernels.begin(), routed.kernels.end());
    return s;
  }
  std::vector<std::vector<SegmentKernel>>& lists_;
};

// Ring attention (context parallelism) cuts a pass of the attention piece at its fused attention
// kernel: what is listed before it (`head`), its first cp - 1 of cp steps, which the K/V ring
// overlaps (`ring`), and the rest with its last step, after the last blocks arrived.
struct RingCut {
  Work head;
  Work ring;
  Work rest;
};

RingCut cut_at_attention(const ChunkCostModel& costs, const std::vector<models::Kernel>& pass,
                         models::KernelKind core, int cp) {
  RingCut cut;
  Work* into = &cut.head;
  const double overlapped = double(cp - 1) / cp;
  for (const PricedKernel& p : costs.price(pass)) {
    if (p.kernel.stream != models::KernelStream::kCompute) continue;
    if (p.kernel.kind == core && into == &cut.head) {
      const double s = overlapped * p.seconds, pair = overlapped * p.pair_seconds;
      cut.ring.add(p.kernel.name, s, pair);
      into = &cut.rest;
      into->add(p.kernel.name, p.seconds - s, p.pair_seconds - pair);
      continue;
    }
    into->add(p.kernel.name, p.seconds, p.pair_seconds);
  }
  return cut;
}

// The passes of one model stage: each layer's pieces, their kernels priced by the chunk cost
// model, an MoE layer cut at its all-to-alls; the backward runs the layers in reverse.
StagePasses stage_passes(const ChunkCostModel& costs, const models::ModelConfig& model,
                         const Stage& stage, bool ep_exchanges,
                         std::vector<std::vector<SegmentKernel>>& lists) {
  const ContextRingTraffic ring = costs.context_ring();
  const int cp = ring.steps + 1;
  struct Piece {
    PieceWork before;   // compute before the dispatch (the whole piece when nothing cuts it)
    PieceWork between;  // between dispatch and combine, routed experts apart
    PieceWork routed;   // routed experts at a balanced load
    PieceWork after;    // after the combine
    bool exchange = false;
    int layer = -1;
    // Ring attention: compute before the ring and the ring's overlapped steps, forward and
    // input-gradient backward (the rest of the attention piece is in `before`).
    bool ring = false;
    Work ring_head_forward, ring_forward, ring_head_backward, ring_backward;
  };
  std::vector<Piece> pieces;
  auto whole = [&](const PieceKernels& kernels) {
    Piece p;
    p.before = piece_work(costs, kernels);
    pieces.push_back(std::move(p));
  };
  const KernelShapes& shapes = costs.shapes();
  if (stage.embedding) whole(embedding_kernels(shapes));
  auto add_layer = [&](int layer) {
    const LayerKernels k = costs.kernels(layer);
    const LayerParts parts = costs.layer_parts(layer);
    Piece p;
    p.before = piece_work(costs, k.attention);
    if (cp > 1) {
      const RingCut f =
          cut_at_attention(costs, k.attention.forward, models::KernelKind::kAttentionForward, cp);
      const RingCut b =
          cut_at_attention(costs, k.attention.backward, models::KernelKind::kAttentionBackward, cp);
      p.ring = true;
      p.ring_head_forward = f.head;
      p.ring_forward = f.ring;
      p.before.forward = f.rest;
      p.ring_head_backward = b.head;
      p.ring_backward = b.ring;
      p.before.backward = b.rest;
    }
    add_tensor_parallel(p.before.forward, costs.tensor_parallel_pass(false));
    add_tensor_parallel(p.before.backward, costs.tensor_parallel_pass(true));
    p.between = piece_work(costs, k.dispatch);
    p.between += piece_work(costs, k.experts);
    p.routed = piece_work(costs, k.routed, true);
    p.after = piece_work(costs, k.combine);
    if (parts.moe && ep_exchanges) {
      p.exchange = true;
      p.layer = layer;
    } else {
      // Nothing cuts the layer: one piece, its routed experts at a balanced load.
      for (Work* w : {&p.routed.forward, &p.routed.backward, &p.routed.weight}) {
        for (SegmentKernel& kernel : w->kernels) kernel.routed = false;
      }
      p.before += p.between;
      p.before += p.routed;
      p.before += p.after;
      p.between = p.routed = p.after = PieceWork{};
    }
    pieces.push_back(std::move(p));
  };
  for (int l = stage.first_layer; l < stage.first_layer + stage.layers; ++l) add_layer(l);
  for (int i = 0; i < stage.mtp_modules; ++i) {
    PieceKernels extras = mtp_extra_kernels(shapes);
    const PieceKernels head = output_head_kernels(shapes);
    for (auto [to, from] :
         {std::pair{&extras.forward, &head.forward}, std::pair{&extras.backward, &head.backward},
          std::pair{&extras.weight, &head.weight}}) {
      to->insert(to->end(), from->begin(), from->end());
    }
    whole(extras);
    add_layer(model.layers);
  }
  if (stage.output_head) whole(output_head_kernels(shapes));

  SegmentBuilder build(lists);
  StagePasses out;
  for (const Piece& piece : pieces) {
    if (piece.ring) {
      build.compute(out.forward, piece.ring_head_forward);
      build.ring(out.forward, piece.ring_forward, ring.forward_bytes_per_gpu);
    }
    build.compute(out.forward, piece.before.forward);
    if (piece.exchange) {
      build.exchange(out.forward, Exchange::kForwardDispatch, piece.layer);
      build.routed(out.forward, piece.between.forward, piece.routed.forward, piece.layer);
      build.exchange(out.forward, Exchange::kForwardCombine, piece.layer);
      build.compute(out.forward, piece.after.forward);
    }
  }
  for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
    const Piece& piece = *it;
    if (piece.exchange) {
      build.compute(out.backward, piece.after.backward);
      build.compute(out.backward_full, piece.after.full_backward());
      build.exchange(out.backward, Exchange::kBackwardCombine, piece.layer);
      build.exchange(out.backward_full, Exchange::kBackwardCombine, piece.layer);
      build.routed(out.backward, piece.between.backward, piece.routed.backward, piece.layer);
      build.routed(out.backward_full, piece.between.full_backward(), piece.routed.full_backward(),
                   piece.layer);
      build.exchange(out.backward, Exchange::kBackwardDispatch, piece.layer);
      build.exchange(out.backward_full, Exchange::kBackwardDispatch, piece.layer);
    }
    if (piece.ring) {
      for (std::vector<Segment>* pass : {&out.backward, &out.backward_full}) {
        build.compute(*pass, piece.ring_head_backward);
        build.ring(*pass, piece.ring_backward, ring.backward_bytes_per_gpu);
      }
    }
    build.compute(out.backward, piece.before.backward);
    build.compute(out.backward_full, piece.before.full_backward());
    Work weights = piece.before.weight;
    weights += piece.between.weight;
    weights += piece.after.weight;
    build.compute(out.weight, weights);
    if (piece.routed.weight.seconds > 0) {
      build.routed(out.weight, {}, piece.routed.weight, piece.layer);
    }
  }
  return out;
}

// The communication-stream kernels an all-to-all runs before its data moves.
std::vector<SegmentKernel> setup_kernels(const ChunkCostModel& costs, Exchange exchange) {
  const LayerKernels k = costs.kernels(costs.shapes().model.layers);
  const std::vector<models::Kernel>* list = nullptr;
  switch (exchange) {
    case Exchange::kForwardDispatch:
      list = &k.dispatch.forward;
      break;
    case Exchange::kForwardCombine:
      list = &k.combine.forward;
      break;
    case Exchange::kBackwardCombine:
      list = &k.combine.backward;
      break;
    case Exchange::kBackwardDispatch:
      list = &k.dispatch.backward;
      break;
  }
  std::vector<SegmentKernel> out;
  for (const PricedKernel& p : costs.price(*list)) {
    if (p.kernel.stream == models::KernelStream::kCommunication) {
      out.push_back({p.kernel.name, p.seconds, p.seconds, false});
    }
  }
  return out;
}

}  // namespace

EngineInput engine_input(const TrainingScenario& s, const ChunkCostModel& costs,
                         int batch_sequences) {
  const auto& plan = s.plan;
  const std::vector<Stage> stages = split_stages(
      s.model, stage_count(plan.schedule, plan.pp, plan.virtual_stages), plan.stage_layers);
  EngineInput in;
  in.schedule = plan.schedule;
  in.pp = plan.pp;
  in.virtual_stages = plan.virtual_stages;
  in.replicas = s.gradient_replicas();
  in.cp = plan.cp;
  in.tp = plan.tp;
  const bool ep_exchanges = s.model.is_moe() && plan.ep > 1;
  in.ep = ep_exchanges ? plan.ep : 1;
  in.micro_batches = std::max(1, s.micro_batches(batch_sequences));
  for (const Stage& stage : stages) {
    in.stages.push_back(stage_passes(costs, s.model, stage, ep_exchanges, in.kernel_lists));
  }
  if (ep_exchanges) {
    const auto& node = s.cluster.node;
    const EpCopiesPerToken copies =
        expected_copies_per_token({s.model.routed_experts, s.model.experts_per_token, plan.ep,
                                   node.gpus, s.max_nodes_per_token()});
    const int group_nodes = std::max(1, plan.ep / node.gpus);
    const int peers = std::min(plan.ep, node.gpus) - 1;
    // The rows each GPU routes: its share of the residual stream (layer_kernels.hpp).
    const double tokens = double(costs.shapes().moe_tokens());
    // Every MoE layer runs the same communication-stream kernels before its all-to-alls.
    const LayerParts moe = costs.layer_parts(s.model.layers);
    for (int e = 0; e < kExchanges; ++e) {
      in.exchanges[e].setup = sim::from_seconds_ceil(moe.exchange_setup_s[e]);
      in.exchanges[e].setup_kernels = std::uint32_t(in.kernel_lists.size());
      in.kernel_lists.push_back(setup_kernels(costs, Exchange(e)));
      const double per_copy = copy_bytes(Exchange(e), plan.gemm_precision, s.model.hidden);
      ExchangeBytes& b = in.exchanges[e];
      b.ib_per_remote_node =
          group_nodes > 1 ? tokens * copies.remote_nodes / (group_nodes - 1) * per_copy : 0.0;
      b.nvlink_per_peer = peers > 0 ? tokens * copies.nvlink_copies / peers * per_copy : 0.0;
    }
  }
  in.shard_optimizer = plan.zero_stage >= 1;
  in.pp_bytes = pipeline_send_bytes(s.tokens_per_micro_batch(), s.model.hidden, plan.tp);
  if (ep_exchanges) {
    ExpertLoad load = expert_load(expert_load_params(s));
    in.expert_load = std::move(load.factor);
    in.expert_load_max_over_mean = load.mean_max_over_mean;
  }
  const models::ComputeCostModel& compute = costs.compute();
  const MemoryParams memory = memory_params(s);
  for (const Stage& stage : stages) {
    const StageParams params = stage_params(memory, stage);
    in.dense_params.push_back(params.dense);
    in.expert_params.push_back(params.expert);
  }
  for (int p = 0; p < plan.pp; ++p) {
    const RankMemory mem = rank_memory(memory, stages, p);
    in.optimizer.push_back(sim::from_seconds_ceil(
        compute.memory_seconds(mem.optimizer_shard_params * kOptimizerStepBytesPerParam)));
  }
  return in;
}

}  // namespace codesim::workloads
