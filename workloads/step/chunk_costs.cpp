#include "workloads/step/chunk_costs.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "models/llm_math.hpp"
#include "workloads/moe/expected_traffic.hpp"
#include "workloads/pipeline/bubble.hpp"

namespace codesim::workloads {

using models::Precision;

namespace {

void add(PassCost& a, const PassCost& b) {
  a.compute_s += b.compute_s;
  a.pair_compute_s += b.pair_compute_s;
  a.comm_s += b.comm_s;
  a.tp_comm_s += b.tp_comm_s;
}

}  // namespace

ChunkCost& ChunkCost::operator+=(const ChunkCost& o) {
  add(forward, o.forward);
  add(backward_input, o.backward_input);
  add(backward_weight, o.backward_weight);
  return *this;
}

ChunkCostParams chunk_cost_params(const TrainingScenario& s) {
  ChunkCostParams p;
  p.model = s.model;
  p.gpu = s.gpu;
  p.calibration = s.calibration;
  p.node = s.cluster.node;
  p.tp = s.plan.tp;
  p.sequence_parallel = s.plan.sequence_parallel;
  p.cp = s.plan.cp;
  p.ep = s.plan.ep;
  p.max_nodes_per_token = s.max_nodes_per_token();
  p.sequence_length = s.plan.sequence_length;
  p.tokens = s.tokens_per_micro_batch();
  p.gemm_precision = s.plan.gemm_precision;
  p.recompute = s.plan.recompute;
  p.comm_sms = s.plan.comm_sms;
  return p;
}

ChunkCostModel::ChunkCostModel(ChunkCostParams params)
    : params_(std::move(params)), compute_(params_.gpu, params_.calibration) {
  const auto& m = params_.model;
  shapes_.model = m;
  shapes_.tokens = params_.tokens;
  shapes_.sequence_length = params_.sequence_length;
  shapes_.tp = params_.tp;
  shapes_.sequence_parallel = params_.sequence_parallel;
  shapes_.ep = m.is_moe() ? params_.ep : 1;
  shapes_.gemm_precision = params_.gemm_precision;
  shapes_.recompute = params_.recompute;
  // A notify exchanges counts across the EP group: one small transfer's end-to-end time, across
  // leaves when the group spans nodes (isca25 Table 5), over NVLink when it fits in one.
  const auto& latency = params_.calibration.latency;
  shapes_.notify_latency_s =
      params_.ep > params_.node.gpus
          ? models::fabric_hop_latency(latency, models::FabricTransport::kInfiniBand)
                .end_to_end(3)
                .seconds()
          : latency.nvlink_us * 1e-6;
  full_ = {};
  // The pair's compute keeps the SMs communication does not hold, and the HBM bandwidth that
  // DeepEP's kernels leave while they stream the all-to-all: every byte crosses HBM twice on its
  // way (read where it leaves a GPU, written where it lands), at the IB and NVLink rates the
  // calibration says DeepEP reaches.
  pair_.sms = params_.gpu.sms - std::clamp(params_.comm_sms, 0, params_.gpu.sms - 1);
  const EpCommCost ep = ep_forward();
  const double comm_hbm_GBps = 2.0 * (ep.ib_GBps + ep.nvlink_GBps);
  pair_.hbm_fraction =
      std::clamp(1.0 - comm_hbm_GBps * 1e9 / compute_.achieved_hbm_bytes_per_second(), 0.05, 1.0);
}

bool ChunkCostModel::moe_layer(int layer) const {
  const auto& m = params_.model;
  return m.is_moe() && !(layer < m.layers && layer < m.dense_layers);
}

LayerKernels ChunkCostModel::kernels(int layer) const {
  return layer_kernels(shapes_, layer);
}

std::vector<PricedKernel> ChunkCostModel::price(const std::vector<models::Kernel>& kernels) const {
  std::vector<PricedKernel> out;
  out.reserve(kernels.size());
  for (const models::Kernel& k : kernels) {
    out.push_back({k, compute_.kernel_seconds(k, full_), compute_.kernel_seconds(k, pair_)});
  }
  return out;
}

ChunkCost ChunkCostModel::cost(const PieceKernels& piece) const {
  auto pass = [&](const std::vector<models::Kernel>& kernels) {
    PassCost c;
    for (const models::Kernel& k : kernels) {
      if (k.stream != models::KernelStream::kCompute) continue;
      c.compute_s += compute_.kernel_seconds(k, full_);
      c.pair_compute_s += compute_.kernel_seconds(k, pair_);
    }
    return c;
  };
  ChunkCost c;
  c.forward = pass(piece.forward);
  c.backward_input = pass(piece.backward);
  c.backward_weight = pass(piece.weight);
  return c;
}

double ChunkCostModel::comm_stream_seconds(const std::vector<models::Kernel>& kernels) const {
  double s = 0;
  for (const models::Kernel& k : kernels) {
    // They run on the SMs reserved for communication, beside the compute.
    if (k.stream == models::KernelStream::kCommunication) s += compute_.kernel_seconds(k, full_);
  }
  return s;
}

ContextRingTraffic context_ring_traffic(const models::ModelConfig& m, double tokens, int tp,
                                        int cp) {
  ContextRingTraffic out;
  if (cp <= 1) return out;
  const double per_token =
      m.attention == models::AttentionKind::kMultiLatent
          ? double(m.heads / tp) * (models::attention_qk_dim(m) + models::attention_v_dim(m))
          : double(std::max(1, m.kv_heads / tp)) * (m.head_dim + m.v_head_dim);
  out.steps = cp - 1;
  out.forward_bytes_per_gpu = out.steps * tokens * per_token * 2.0;
  out.backward_bytes_per_gpu = 2 * out.forward_bytes_per_gpu;
  return out;
}

PricedKernel ChunkCostModel::attention_core(int layer, bool backward) const {
  const LayerKernels k = kernels(layer);
  const auto kind =
      backward ? models::KernelKind::kAttentionBackward : models::KernelKind::kAttentionForward;
  for (const PricedKernel& p : price(backward ? k.attention.backward : k.attention.forward)) {
    if (p.kernel.kind == kind) return p;
  }
  return {};
}

ContextRingTraffic ChunkCostModel::context_ring() const {
  ContextRingTraffic r =
      context_ring_traffic(params_.model, double(params_.tokens), params_.tp, params_.cp);
  // Full recomputation runs the forward's ring again in the backward: its bytes join the
  // backward's ring.
  if (params_.recompute.full) r.backward_bytes_per_gpu += r.forward_bytes_per_gpu;
  return r;
}

double pipeline_send_bytes(double tokens, int hidden, int tp) {
  return 2.0 * tokens * hidden / std::max(1, tp);
}

TensorParallelTraffic tensor_parallel_traffic(double tokens, int hidden, int tp,
                                              bool sequence_parallel) {
  TensorParallelTraffic out;
  if (tp <= 1) return out;
  const double buffer = tokens * hidden * 2.0;  // BF16 block output
  // Either way two blocks' worth of (t - 1) / t of the buffer, twice: an all-reduce is a
  // reduce-scatter and an all-gather.
  out.collectives = sequence_parallel ? 4 : 2;
  out.bytes_per_gpu = 4 * double(tp - 1) / tp * buffer;
  out.ring_steps = 4 * (tp - 1);
  return out;
}

ChunkCostModel::TensorParallelPass ChunkCostModel::tensor_parallel_pass(bool backward) const {
  if (params_.tp <= 1) return {};
  const TensorParallelTraffic traffic = tensor_parallel_traffic(
      double(params_.tokens), params_.model.hidden, params_.tp, params_.sequence_parallel);
  TensorParallelPass out{traffic.bytes_per_gpu,
                         traffic.ring_steps * params_.calibration.latency.nvlink_us * 1e-6};
  // A fully recomputed layer runs its forward's collectives again in its backward.
  if (backward && params_.recompute.full) {
    out.bytes_per_gpu *= 2;
    out.latency_s *= 2;
  }
  return out;
}

void ChunkCostModel::add_tensor_parallel(ChunkCost& cost) const {
  // In series with the compute stream (each collective waits for the block before it and the
  // next block for it): the ring steps' latencies with the compute, the bytes over NVLink at the
  // achieved rate, contention-free (the event engine runs them as flows).
  for (auto [pass, backward] : {std::pair{&cost.forward, false}, {&cost.backward_input, true}}) {
    const TensorParallelPass tp = tensor_parallel_pass(backward);
    pass->compute_s += tp.latency_s;
    pass->pair_compute_s += tp.latency_s;
    pass->tp_comm_s += tp.bytes_per_gpu / (achieved_nvlink_GBps() * 1e9);
  }
}

LayerParts ChunkCostModel::layer_parts(int layer) const {
  // Layers of one kind launch the same kernels (layer_kernels.hpp): priced once per kind.
  auto& cached = layer_parts_[is_moe_layer(params_.model, layer) ? 1 : 0];
  if (!cached) cached = price_layer_parts(layer);
  return *cached;
}

LayerParts ChunkCostModel::price_layer_parts(int layer) const {
  const LayerKernels k = kernels(layer);
  LayerParts parts;
  parts.moe = k.moe && shapes_.ep > 1;
  parts.before = cost(k.attention);
  add_tensor_parallel(parts.before);
  parts.between = cost(k.dispatch);
  parts.between += cost(k.experts);
  parts.routed = cost(k.routed);
  parts.after = cost(k.combine);
  if (!parts.moe) {
    // Nothing cuts the layer: one piece.
    parts.before += parts.between;
    parts.before += parts.routed;
    parts.before += parts.after;
    parts.between = parts.routed = parts.after = ChunkCost{};
    return parts;
  }
  parts.exchange_setup_s[int(Exchange::kForwardDispatch)] = comm_stream_seconds(k.dispatch.forward);
  parts.exchange_setup_s[int(Exchange::kForwardCombine)] = comm_stream_seconds(k.combine.forward);
  parts.exchange_setup_s[int(Exchange::kBackwardCombine)] = comm_stream_seconds(k.combine.backward);
  parts.exchange_setup_s[int(Exchange::kBackwardDispatch)] =
      comm_stream_seconds(k.dispatch.backward);
  return parts;
}

ChunkCost ChunkCostModel::layer(int layer) const {
  const LayerParts parts = layer_parts(layer);
  ChunkCost cost = parts.before;
  cost += parts.between;
  cost += parts.routed;
  cost += parts.after;
  if (parts.moe) {
    const EpCommCost fwd = ep_forward();
    const EpCommCost bwd = ep_backward();
    const auto* setup = parts.exchange_setup_s;
    cost.forward.comm_s += fwd.dispatch_s + fwd.combine_s + setup[int(Exchange::kForwardDispatch)] +
                           setup[int(Exchange::kForwardCombine)];
    cost.backward_input.comm_s += bwd.dispatch_s + bwd.combine_s +
                                  setup[int(Exchange::kBackwardCombine)] +
                                  setup[int(Exchange::kBackwardDispatch)];
  }
  return cost;
}

ChunkCost ChunkCostModel::embedding() const {
  return cost(embedding_kernels(shapes_));
}

ChunkCost ChunkCostModel::output_head() const {
  return cost(output_head_kernels(shapes_));
}

ChunkCost ChunkCostModel::mtp_module_extras() const {
  ChunkCost c = cost(mtp_extra_kernels(shapes_));
  c += output_head();
  return c;
}

ChunkCost ChunkCostModel::mtp_module() const {
  ChunkCost c = mtp_module_extras();
  c += layer(params_.model.layers);
  return c;
}

ChunkCost ChunkCostModel::stage(const Stage& stage) const {
  ChunkCost c;
  if (stage.embedding) c += embedding();
  for (int l = stage.first_layer; l < stage.first_layer + stage.layers; ++l) c += layer(l);
  for (int i = 0; i < stage.mtp_modules; ++i) c += mtp_module();
  if (stage.output_head) c += output_head();
  return c;
}

double ChunkCostModel::achieved_nvlink_GBps() const {
  // The calibration's achieved fraction of its GPU's NVLink, applied to this node's NVLink.
  const auto& cal = params_.calibration;
  return params_.node.nvlink_unidirectional_GBps * cal.nvlink_achieved_GBps /
         cal.measured_on.nvlink_unidirectional_GBps;
}

EpCommCost ChunkCostModel::ep_cost(double dispatch_bytes, double combine_bytes) const {
  const auto& m = params_.model;
  const auto& plan = params_;
  const auto& cal = params_.calibration;
  const auto& node = params_.node;
  EpCommCost out;
  if (!m.is_moe() || plan.ep <= 1) return out;
  const EpCopiesPerToken copies = expected_copies_per_token(
      {m.routed_experts, m.experts_per_token, plan.ep, node.gpus, params_.max_nodes_per_token});
  out.nvlink_GBps = achieved_nvlink_GBps();

  // Achieved per-GPU IB rate: DeepEP's measurement at the nearest EP size, scaled to this NIC.
  const models::EpBandwidthMeasurement* nearest = nullptr;
  for (const auto& row : cal.ep_all_to_all) {
    if (row.over_nvlink) continue;
    if (!nearest || std::abs(std::log2(double(row.ep) / plan.ep)) <
                        std::abs(std::log2(double(nearest->ep) / plan.ep))) {
      nearest = &row;
    }
  }
  const double nic_scale =
      params_.node.nic_bytes_per_second_per_gpu() * 8.0 / 1e9 / cal.nic_line_rate_Gbps;
  const double dispatch_ib_GBps = nearest ? nearest->dispatch_GBps * nic_scale : 0.0;
  const double combine_ib_GBps = nearest ? nearest->combine_GBps * nic_scale : 0.0;
  out.ib_GBps = dispatch_ib_GBps;

  const double t = double(shapes_.moe_tokens());
  auto phase = [&](double bytes_per_copy, double ib_GBps) {
    const double ib_bytes = t * copies.remote_nodes * bytes_per_copy;
    const double nvlink_bytes = t * copies.nvlink_copies * bytes_per_copy;
    const double ib_s = ib_bytes > 0 ? ib_bytes / (ib_GBps * 1e9) : 0.0;
    // IB sends and NVLink forwarding run concurrently, as in DeepEP's normal kernels.
    return std::max(ib_s, nvlink_bytes / (out.nvlink_GBps * 1e9));
  };
  out.dispatch_s = phase(dispatch_bytes, dispatch_ib_GBps);
  out.combine_s = phase(combine_bytes, combine_ib_GBps);
  out.ib_bytes_per_token = copies.remote_nodes * (dispatch_bytes + combine_bytes);
  out.dispatch_bytes_per_token = (copies.remote_nodes + copies.nvlink_copies) * dispatch_bytes;
  out.combine_bytes_per_token = (copies.remote_nodes + copies.nvlink_copies) * combine_bytes;
  out.nvlink_bytes_per_token = copies.nvlink_copies * (dispatch_bytes + combine_bytes);
  return out;
}

EpCommCost ChunkCostModel::ep_forward() const {
  const int h = params_.model.hidden;
  const Precision p = params_.gemm_precision;
  return ep_cost(copy_bytes(Exchange::kForwardDispatch, p, h),
                 copy_bytes(Exchange::kForwardCombine, p, h));
}

EpCommCost ChunkCostModel::ep_backward() const {
  const int h = params_.model.hidden;
  const Precision p = params_.gemm_precision;
  return ep_cost(copy_bytes(Exchange::kBackwardCombine, p, h),
                 copy_bytes(Exchange::kBackwardDispatch, p, h));
}

double ChunkCostModel::pp_send_s() const {
  const double bytes =
      pipeline_send_bytes(double(params_.tokens), params_.model.hidden, params_.tp);
  return bytes / params_.node.nic_bytes_per_second_per_gpu();
}

std::vector<std::string> cost_model_assumptions(const TrainingScenario& s) {
  const models::Calibration& c = s.calibration;
  const models::ComputeCostModel compute(s.gpu, c);
  const models::Gemm16Measurement* gemm16 = compute.gemm_16bit();
  std::vector<std::string> a = {
      fmt::format(
          "Compute is priced kernel by kernel (step/layer_kernels.hpp lists what an FP8 "
          "DeepSeek-style step launches per layer pass: GEMMs, casts, norms, RoPE, attention, "
          "SwiGLU, gate, permutations, sums; --explain prints them): each the larger of its "
          "FLOPs over its efficiency and its HBM bytes over the achieved HBM bandwidth, plus "
          "{:g} us of launch and tail per kernel ({}).",
          c.kernel_overhead_us,
          c.kernel_overhead_us > 0 ? "calibration '" + c.name + "'"
                                   : std::string("no measurement of it: a GPU calibration run "
                                                 "gives it; real steps pay it")),
      "GEMM efficiency is the FP8 TFLOPS measured on " + c.measured_on.name + " in calibration '" +
          c.name +
          "' (a fraction of its FP8 peak; DeepGEMM's published figures by default), interpolated "
          "in log2 M at the nearest measured (N, K) and applied to this GPU's peak; tiles of "
          "128 x 128 fill the SMs in waves. Data and weight gradients are GEMMs of their own "
          "shapes, (tokens, in, out) and (out, in, tokens).",
      gemm16 ? fmt::format("16-bit GEMMs run at {:g} TFLOPS of {}'s {:g} ({}), the same fraction "
                           "of this GPU's BF16 peak (the same chip), whatever the shape beyond "
                           "its roofline and waves.",
                           gemm16->tflops, gemm16->measured_on.name,
                           gemm16->measured_on.bf16_dense_tflops, gemm16->source)
             : std::string("16-bit GEMMs (BF16 plans; the gate and output head of FP8 ones) take "
                           "the FP8 tables' fraction of BF16 peak: no 16-bit GEMM measurement "
                           "of this GPU's chip is in the calibration."),
      c.attention_training.empty()
          ? fmt::format("Training attention runs at the compute-bound attention kernel's {:g} "
                        "TFLOPS (no training attention measurement in this calibration).",
                        c.attention_bf16_tflops)
          : fmt::format("Training attention runs at the throughput of {} ({} "
                        "points, causal and not, by sequence length), at this plan's sequence; "
                        "a causal backward without its own figure is the non-causal one times "
                        "the forward's causal ratio; FLOPs count the model's real head dims "
                        "(V3: 192 for Q/K, 128 for V).",
                        c.attention_training_source, c.attention_training.size()),
      fmt::format("Element-wise and cast kernels are memory-bound at {:g} GB/s of HBM "
                  "({:.1f}% of {}'s peak; calibration '{}').",
                  c.hbm_achieved_GBps, 100 * c.hbm_achieved_GBps / c.measured_on.hbm_GBps,
                  c.measured_on.name, c.name),
      "The AdamW step is memory-bound over this GPU's optimizer shard (22 bytes per parameter).",
      "Memory: BF16 weights, FP32 gradients, FP32 master weights and BF16 moments sharded by "
      "ZeRO-1; activations are itemised per layer (--explain) times the schedule's micro-batches "
      "in flight; 2 GiB reserved for CUDA context and communication buffers (assumed).",
  };
  if (overlaps_forward_and_backward(s.plan.schedule)) {
    a.push_back(fmt::format(
        "In an overlapped F&B pair compute runs on the {} of {} SMs communication leaves "
        "(GEMMs and attention slower by their wave counts) with the HBM bandwidth DeepEP's "
        "all-to-all leaves (every byte read and written once, at DeepEP's IB and NVLink rates); "
        "elsewhere (warm-up forwards, lone backwards, trailing weight gradients) compute has the "
        "whole GPU.",
        s.gpu.sms - s.plan.comm_sms, s.gpu.sms));
  }
  if (s.plan.zero_stage == 0) {
    a.push_back(
        "zero: 0, plain data parallelism (Megatron-LM's DDP): instead of ZeRO-1's reduce-scatter "
        "and all-gather, each chunk's FP32 gradients are all-reduced in a ring (as soon as they "
        "are done, as ZeRO-1's reduce-scatter would be), every replica updates all its weights, "
        "and nothing is gathered.");
  }
  const Recompute& r = s.plan.recompute;
  a.push_back(r.full ? "Recomputation full (Megatron-LM): a layer keeps only its input; its "
                       "backward first runs its forward's kernels and tensor-parallel collectives "
                       "again; one layer's activations are the working set."
                     : fmt::format("Recomputation: {}{}; the attention scores are rebuilt in "
                                   "FlashAttention's backward, which is Megatron-LM's selective "
                                   "recomputation (recompute: selective is none here).",
                                   r.rmsnorm || r.mla_up_projection ? "" : "none",
                                   std::string(r.rmsnorm ? "RMSNorm outputs" : "") +
                                       (r.rmsnorm && r.mla_up_projection ? ", " : "") +
                                       (r.mla_up_projection ? "MLA up-projections" : "")));
  if (s.plan.cp > 1) {
    a.push_back(fmt::format(
        "Context parallelism {} (ring attention, Megatron-Core's order: tp, then cp, then dp): "
        "every sequence in 2 x cp chunks, each GPU two of them (balancing the causal mask), so "
        "its GEMMs, norms and activations are 1/cp of a micro-batch's and its attention 1/cp of "
        "the whole sequence's FLOPs. Per layer each GPU sends the next GPU of its ring its K and "
        "V blocks of cp - 1 steps (the backward: with their gradients{}) as one transfer on the "
        "topology, while the attention of the first cp - 1 of its cp steps runs; the last step "
        "waits for the blocks (exposed CP ring). Gradients are reduced and ZeRO-1 sharded over "
        "dp x cp GPUs.",
        s.plan.cp, s.plan.recompute.full ? ", and the recomputed forward's ring again" : ""));
  }
  if (s.plan.tp > 1) {
    a.push_back(fmt::format(
        "Tensor parallelism {} (Megatron-LM){}: per layer and pass {}, 4 (t - 1) / t of the "
        "block output per GPU, in series with compute: the bytes round the group's ring over "
        "NVLink (the event engine: after each compute segment, one flow to the next GPU of the "
        "group, sharing NVLink with everything else on it, and a wait for the previous GPU's; "
        "the analytic model: at the calibration's achieved rate), reported as TP collectives; "
        "one GPU-to-GPU latency per ring step, reported within compute; a pipeline send carries "
        "each GPU's 1/{} slice.",
        s.plan.tp, s.plan.sequence_parallel ? " with sequence parallelism" : "",
        s.plan.sequence_parallel
            ? "two all-gathers and two reduce-scatters, the norms and residual adds on 1/tp of "
              "the tokens"
            : "two all-reduces, the norms and residual adds on every token of every GPU",
        s.plan.tp));
  }
  a.push_back(s.plan.stage_layers_balanced
                  ? "Stages: plan.stage_layers: auto, the split whose slowest pipeline rank is "
                    "fastest by the compute that paces its schedule (the steady F&B pair, or F + "
                    "B), among splits that fit in HBM; exposed communication is not in the "
                    "objective."
              : s.plan.stage_layers.empty()
                  ? "Stages: slots shared out evenly (embedding, each layer, each MTP "
                    "module and the output head one slot each)."
                  : "Stages: plan.stage_layers as written.");
  return a;
}

}  // namespace codesim::workloads
