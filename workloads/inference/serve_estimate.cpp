#include "workloads/inference/serve_estimate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "models/llm_math.hpp"

namespace codesim::workloads {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

ServeStep time_forward(const InferenceScenario& s, ServePhase phase, const ForwardCost& cost,
                       bool event_driven, const std::vector<int>& traced) {
  const int n = s.serve.micro_batches;
  return event_driven ? event_forward(s, cost, n, s.phase_gpus(phase), s.ep(phase), traced)
                      : closed_form_forward(cost, n);
}

}  // namespace

double all_to_all_bound_s(double tokens_per_micro_batch, double copies, int hidden,
                          double bytes_per_second, int micro_batches) {
  return micro_batches * tokens_per_micro_batch * copies * hidden * (1.0 + 2.0) / bytes_per_second;
}

ServeEstimate estimate_serving(const InferenceScenario& s, bool event_driven,
                               const std::vector<int>& traced) {
  const auto& plan = s.serve;
  const auto& m = s.model;
  const models::ComputeCostModel compute(s.gpu, s.calibration);
  const int n = plan.micro_batches;
  ServeEstimate e;
  e.engine = event_driven ? "event-driven" : "closed-form";
  e.decode = plan.phase != ServePhase::kPrefill;
  e.prefill = plan.phase != ServePhase::kDecode;

  // Memory per GPU of the decode layout (or prefill's, prefill alone).
  const ServePhase memory_phase = e.decode ? ServePhase::kDecode : ServePhase::kPrefill;
  const double full_context = plan.mean_prompt_tokens() + plan.output_tokens;
  e.weights_bytes = weight_bytes_per_gpu(s, s.ep(memory_phase));
  e.kv_bytes_per_sequence = kv_bytes_per_sequence_per_gpu(s, full_context);
  e.capacity_bytes = double(s.gpu.hbm_bytes) - plan.reserved_gib * kGiB;
  e.max_batch_per_gpu = e.kv_bytes_per_sequence > 0
                            ? int(std::floor(std::max(0.0, e.capacity_bytes - e.weights_bytes) /
                                             e.kv_bytes_per_sequence))
                            : 0;

  if (e.decode) {
    const double drafts = plan.mtp_depth;
    ForwardShape& shape = e.decode_shape;
    shape.prefill = false;
    shape.sequences = double(plan.batch_per_gpu) / n;
    shape.tokens = shape.sequences * (1 + drafts);
    shape.context = plan.mean_prompt_tokens() + plan.output_tokens / 2.0;
    shape.ep = s.ep(ServePhase::kDecode);
    e.decode_cost = price_forward(s, shape, compute);
    e.decode_load_max_over_mean = apply_expert_load(s, e.decode_cost, shape.ep);
    e.decode_step = time_forward(s, ServePhase::kDecode, e.decode_cost, event_driven, traced);
    e.tokens_per_step = 1;
    for (int d = 1; d <= plan.mtp_depth; ++d) e.tokens_per_step += std::pow(plan.mtp_acceptance, d);
    const double step = e.decode_step.forward_s;
    e.tpot_s = step / e.tokens_per_step;
    e.tokens_per_s_per_user = e.tokens_per_step / step;
    e.tokens_per_s_per_gpu = plan.batch_per_gpu * e.tokens_per_s_per_user;
    e.tokens_per_s_per_node = e.tokens_per_s_per_gpu * s.cluster.node.gpus;
    e.kv_bytes = plan.batch_per_gpu * e.kv_bytes_per_sequence;

    ServeBounds& b = e.bounds;
    const ForwardCost& f = e.decode_cost;
    const int moe_layers = m.is_moe() ? m.moe_layers() + plan.mtp_depth : 0;
    const double copies = m.experts_per_token + m.shared_experts;
    b.isca25_layer_s =
        m.is_moe()
            ? all_to_all_bound_s(shape.tokens, copies, m.hidden,
                                 f.nodes_in_group > 1 ? f.ib_GBps * 1e9 : f.nvlink_GBps * 1e9, n)
            : 0;
    b.isca25_tpot_s = b.isca25_layer_s * moe_layers / e.tokens_per_step;
    for (const auto& l : f.layers) {
      if (!l.moe) continue;
      double ib = 0, nv = 0;
      for (const AllToAllBytes* x : {&l.dispatch, &l.combine}) {
        ib += x->per_remote_node * (f.nodes_in_group - 1);
        nv += x->per_node_peer * (f.gpus_per_node_in_group - 1);
      }
      b.all_to_all_layer_s = n * std::max(ib / (f.ib_GBps * 1e9), nv / (f.nvlink_GBps * 1e9));
      break;
    }
    b.all_to_all_tpot_s = b.all_to_all_layer_s * moe_layers / e.tokens_per_step;
    const double hbm = compute.achieved_hbm_bytes_per_second();
    b.hbm_tpot_s = (n * e.weights_bytes +
                    plan.batch_per_gpu * kv_bytes_per_sequence_per_gpu(s, shape.context)) /
                   hbm / e.tokens_per_step;
    b.compute_tpot_s = e.decode_step.compute_only_s / e.tokens_per_step;
    b.lower_bound_tpot_s = std::max(b.compute_tpot_s, b.all_to_all_tpot_s);
  }

  if (e.prefill) {
    // Each prompt length of the mix apart, shortest first; the longest's forward is kept.
    const int tp = plan.attention_tp;
    auto prompts = plan.prompts();
    std::sort(prompts.begin(), prompts.end());
    double tokens_per_gpu = 0, seconds = 0;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      const auto [tokens, share] = prompts[i];
      const bool longest = i + 1 == prompts.size();
      const double computed = tokens * (1 - plan.prefix_cache_hit);
      const double per_gpu = std::min<double>(plan.prefill_chunk_tokens, computed / tp);
      const int chunks = std::max(1, int(std::ceil(computed / (tp * per_gpu))));
      ForwardShape shape;
      shape.prefill = true;
      shape.tokens = per_gpu / n;
      shape.sequences = 1.0 / (tp * n);  // one prompt's chunk per attention group, split in n
      shape.context = tokens * plan.prefix_cache_hit + (chunks - 1) / 2.0 * tp * per_gpu;
      shape.ep = s.ep(ServePhase::kPrefill);
      ForwardCost cost = price_forward(s, shape, compute);
      const double load = apply_expert_load(s, cost, shape.ep);
      ServeStep step = time_forward(s, ServePhase::kPrefill, cost, event_driven,
                                    e.decode || !longest ? std::vector<int>{} : traced);
      e.prompt_classes.push_back({tokens, share, chunks, step.forward_s, chunks * step.forward_s});
      e.ttft_s += share * chunks * step.forward_s;
      tokens_per_gpu += share * computed / tp;
      seconds += share * chunks * step.forward_s;
      if (longest) {
        e.prefill_chunks = chunks;
        e.prefill_shape = shape;
        e.prefill_cost = std::move(cost);
        e.prefill_step = std::move(step);
        e.prefill_load_max_over_mean = load;
      }
    }
    e.prefill_tokens_per_s_per_gpu = tokens_per_gpu / seconds;
  }

  auto& a = e.assumptions;
  a.push_back(
      "layout: attention data-parallel over groups of serve.attention_tp GPUs (tensor parallel "
      "inside, sequence parallel after), experts over EP groups of serve.ep consecutive GPUs; "
      "every GPU carries serve.batch_per_gpu sequences in serve.micro_batches micro-batches");
  a.push_back(
      "routing: serve.routing (balanced by default: every expert instance gets the same share of "
      "the copies; a skewed router's per-GPU loads are sampled with the node-limited rule, "
      "redundant experts placed on them by EPLB, and a GPU's routed experts and copies scale "
      "with its load, the busiest holding the combine); decode's all-to-all is DeepEP's "
      "low-latency mode (each of a token's k copies "
      "to its expert's GPU), prefill's the normal mode (a copy per node, forwarded over NVLink)");
  a.push_back(
      "decode's all-to-alls hold no SMs (its low-latency kernels post RDMA from a hook); "
      "prefill's normal kernels hold serve.prefill_comm_sms SMs throughout (its compute kernels "
      "run on the rest, in more waves); the event engine plays them as flows over the "
      "topology in two stages: scale-out to the sender's-index GPU of each node, which forwards "
      "over NVLink once every inbound copy is in (combine: the other way)");
  a.push_back(
      "overlap: each layer runs every micro-batch's attention, then their experts, each waiting "
      "for its all-to-all; the closed form takes the longest of the compute load, the "
      "communication load and one micro-batch's own chain per MoE layer");
  a.push_back(
      "decode attention: MLA absorbed (W_UK into the query, W_UV into the output), FlashMLA's "
      "roofline: the larger of FLOPs at the calibration's attention rate and KV-cache bytes at "
      "its achieved HBM bandwidth; context = prompt + half the output (the mean over a request)");
  a.push_back(
      "prefill: one prompt's chunk of serve.prefill_chunk_tokens per GPU per forward, "
      "micro-batches "
      "of equal attention load; TTFT = chunks x one forward at the mean context (no queueing); "
      "prefix-cache hits skip their tokens' compute but stay in the context");
  a.push_back(
      "GEMMs at the calibration's measured efficiency, with a roofline floor that makes decode's "
      "small-M GEMMs weight-read bound; element-wise kernels at the achieved HBM bandwidth");
  a.push_back(fmt::format(
      "MTP: {} draft token(s) a step at acceptance {} each, {:.3f} tokens a step; drafts are "
      "verified as extra tokens of the next step's batch",
      plan.mtp_depth, plan.mtp_acceptance, e.tokens_per_step));
  a.push_back(fmt::format(
      "memory: weights in their GEMM precision (attention / attention_tp, every expert instance "
      "of the GPU, the shared experts, BF16 embedding and head), BF16 KV cache at prompt + output "
      "tokens, {} GiB reserved",
      plan.reserved_gib));
  return e;
}

int batch_for_request_rate(InferenceScenario s) {
  const double rate = s.serve.request_rate;
  const int n = s.serve.micro_batches;
  const double gpus = s.phase_gpus(ServePhase::kDecode);
  s.serve.phase = ServePhase::kDecode;
  s.serve.request_rate = 0;
  s.serve.batch_per_gpu = n;
  const int largest = estimate_serving(s, false).max_batch_per_gpu;
  for (int batch = n; batch <= largest; batch += n) {
    s.serve.batch_per_gpu = batch;
    const ServeEstimate e = estimate_serving(s, false);
    // Requests served a second with this batch: every sequence finishes after its output.
    const double served = gpus * batch / (s.serve.output_tokens * e.tpot_s);
    if (served >= rate) return batch;
  }
  return 0;
}

}  // namespace codesim::workloads
