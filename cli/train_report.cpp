#include "cli/train_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "cli/registry.hpp"
#include "models/llm_math.hpp"
#include "workloads/pipeline/rank_memory.hpp"
#include "workloads/pipeline/stages.hpp"

namespace codesim::cli {
namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;

nlohmann::ordered_json breakdown_json(const workloads::StepBreakdown& b) {
  nlohmann::ordered_json j;
  j["compute"] = b.compute_s;
  j["comm_sm_share"] = b.comm_sm_share_s;
  j["exposed_ep_comm"] = b.exposed_ep_comm_s;
  j["exposed_cp_comm"] = b.exposed_cp_comm_s;
  j["tp_comm"] = b.tp_comm_s;
  j["pipeline_bubble"] = b.pipeline_bubble_s;
  j["dp_comm"] = b.dp_comm_s;
  j["optimizer"] = b.optimizer_s;
  return j;
}

nlohmann::ordered_json table4_json(const workloads::Table4Phases& t) {
  return {{"1F", t.one_f_s}, {"bubble", t.bubble_s},    {"1B", t.one_b_s},
          {"1W", t.one_w_s}, {"1F1B", t.one_f_one_b_s}, {"optimizer", t.optimizer_s}};
}

nlohmann::ordered_json chunk_pair_json(const workloads::ChunkPairReport& p) {
  nlohmann::ordered_json j;
  j["pipeline_rank"] = p.pipeline_rank;
  j["span_ms"] = p.span_s * 1e3;
  j["input_wait_ms"] = p.input_wait_s * 1e3;
  j["compute_busy_ms"] = p.compute_busy_s * 1e3;
  j["comm_busy_ms"] = p.comm_busy_s * 1e3;
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  for (const auto& [name, seconds] : p.top_kernels)
    top.push_back({{"name", name}, {"ms", seconds * 1e3}});
  j["top_kernels"] = std::move(top);
  nlohmann::ordered_json classes = nlohmann::ordered_json::array();
  for (const auto& [name, seconds] : p.classes) {
    classes.push_back({{"class", name},
                       {"ms", seconds * 1e3},
                       {"share", p.compute_busy_s > 0 ? seconds / p.compute_busy_s : 0.0}});
  }
  j["compute_by_class"] = std::move(classes);
  return j;
}

// Kernels by group (a kind of layer, or a piece outside the layers), pass and piece.
nlohmann::ordered_json kernels_json(const std::vector<workloads::KernelLine>& lines) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& k : lines) {
    auto& list = j[k.group][std::string(1, k.pass)][k.piece];
    if (list.is_null()) list = nlohmann::ordered_json::array();
    list.push_back({{"name", k.name},
                    {"stream", k.communication ? "communication" : "compute"},
                    {"count", k.count},
                    {"flops", k.flops},
                    {"bytes", k.bytes},
                    {"time_s", k.seconds},
                    {"pair_time_s", k.pair_seconds}});
  }
  return j;
}

}  // namespace

nlohmann::ordered_json links_json(const std::vector<workloads::LinkUse>& links) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& u : links) {
    out.push_back({{"tier", u.tier},
                   {"plane", u.plane},
                   {"links", u.links},
                   {"bytes", u.bytes},
                   {"mean_utilisation", u.mean_utilisation},
                   {"max_utilisation", u.max_utilisation}});
  }
  return out;
}

nlohmann::ordered_json training_json(const workloads::TrainingScenario& s,
                                     const workloads::TrainingEstimate& e, const RunInfo& run) {
  nlohmann::ordered_json j;
  j["scenario"] = s.name;
  j["step_time_s"] = e.step.step_time_s;
  j["breakdown_s"] = breakdown_json(e.step.breakdown);
  j["tokens_per_step"] = e.tokens_per_step;
  j["tokens_per_day"] = e.tokens_per_day;
  j["tflops_per_gpu"] = e.tflops_per_gpu;
  j["tflops_per_gpu_noncausal"] = e.tflops_per_gpu_noncausal;
  j["mfu"] = e.mfu;
  j["mfu_noncausal"] = e.mfu_noncausal;
  j["gpu_hours_per_trillion_tokens"] = e.gpu_hours_per_trillion_tokens;
  j["gpu_hours_total"] = e.gpu_hours_total;
  j["gpu_hours_batch_ramp"] = e.ramp_gpu_hours;
  j["cost_usd"] = e.cost_usd;
  j["usd_per_gpu_hour"] = s.cost.usd_per_gpu_hour;
  j["memory_per_gpu_gib"] = e.memory.total_bytes() / kGiB;
  j["memory_gib"] = {
      {"rank", e.memory.rank},
      {"weights", e.memory.weights_bytes / kGiB},
      {"gradients", e.memory.gradients_bytes / kGiB},
      {"optimizer", e.memory.optimizer_bytes / kGiB},
      {"activations", e.memory.activations_bytes / kGiB},
      {"reserved", e.memory.reserved_bytes / kGiB},
      {"capacity", double(s.gpu.hbm_bytes) / kGiB},
  };
  const auto& n = e.step.network;
  j["network"] = {
      {"ep_ib_bytes_per_token_per_moe_layer", n.ep_ib_bytes_per_token_per_moe_layer},
      {"ep_nvlink_bytes_per_token_per_moe_layer", n.ep_nvlink_bytes_per_token_per_moe_layer},
      {"ep_ib_achieved_GBps", n.ep_ib_achieved_GBps},
      {"ep_nvlink_achieved_GBps", n.ep_nvlink_achieved_GBps},
      {"ep_forward_comm_s_per_moe_layer", n.ep_forward_comm_s_per_moe_layer},
      {"ep_backward_comm_s_per_moe_layer", n.ep_backward_comm_s_per_moe_layer},
      {"pp_send_s_per_micro_batch", n.pp_send_s_per_micro_batch},
      {"dp_bytes_per_gpu_per_step", n.dp_bytes_per_gpu},
  };
  if (!n.links.empty()) {
    j["network"]["links"] = links_json(n.links);
    j["network"]["expert_load_max_over_mean"] = n.expert_load_max_over_mean;
    const auto& ph = e.step.phases;
    j["phases_s"] = {{"warm_up", ph.warm_up_s},
                     {"steady", ph.steady_s},
                     {"cool_down", ph.cool_down_s},
                     {"trailing_weight_gradients", ph.trailing_weight_s},
                     {"data_parallel_and_optimizer", ph.data_parallel_s},
                     {"idle", ph.idle_s}};
  }
  j["stage_split"] = s.plan.stage_layers_balanced  ? "balanced"
                     : s.plan.stage_layers.empty() ? "slots"
                                                   : "given";
  nlohmann::ordered_json stages = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < e.stages.size(); ++i) {
    const auto& w = e.stages[i];
    stages.push_back({{"stage", i},
                      {"first_layer", w.stage.first_layer},
                      {"layers", w.stage.layers},
                      {"embedding", w.stage.embedding},
                      {"output_head", w.stage.output_head},
                      {"mtp_modules", w.stage.mtp_modules},
                      {"forward_ms", w.forward_s * 1e3},
                      {"backward_ms", w.backward_s * 1e3},
                      {"weight_ms", w.weight_s * 1e3},
                      {"work_ms", w.total_s() * 1e3}});
  }
  j["stages"] = std::move(stages);
  j["table4_phases_s"] = table4_json(e.step.table4);
  if (e.step.chunk_pair.present) j["chunk_pair"] = chunk_pair_json(e.step.chunk_pair);
  j["kernels"] = kernels_json(e.step.kernels);
  j["model"] = {
      {"name", s.model.name},
      {"params_total", e.params.total},
      {"params_activated", e.params.activated},
      {"params_mtp", e.params.mtp},
      {"train_flops_per_token", e.train_flops_per_token},
      {"train_flops_per_token_noncausal", e.train_flops_per_token_noncausal},
      {"kv_cache_bytes_per_token", e.kv_cache_bytes_per_token},
  };
  j["plan"] = {
      {"gpus", s.gpus()},
      {"gpu", s.gpu.name},
      {"pp", s.plan.pp},
      {"ep", s.plan.ep},
      {"tp", s.plan.tp},
      {"cp", s.plan.cp},
      {"dp", s.dp()},
      {"schedule", schedule_registry().name_of(s.plan.schedule)},
      {"precision", precision_registry().name_of(s.plan.gemm_precision)},
      {"micro_batches", e.step.micro_batches},
      {"slowest_pipeline_rank", e.step.slowest_rank},
  };
  j["calibration"] = {{"name", s.calibration.name},
                      {"measured_on", s.calibration.measured_on.name},
                      {"source", s.calibration.source}};
  j["assumptions"] = e.assumptions;
  const auto& w = e.step.flow_work;
  j["sim"] = {{"engine", run.engine},
              {"step_time_ps", e.step.step_time_ps},
              {"events", e.step.events},
              {"flows", w.flows},
              {"flow_network",
               {{"solves", w.solves},
                {"components_solved", w.components_solved},
                {"variables_solved", w.variables_solved},
                {"flows_per_solve", w.solves ? double(w.variables_solved) / w.solves : 0.0},
                {"components_per_solve", w.solves ? double(w.components_solved) / w.solves : 0.0},
                {"components_searched", w.components_searched},
                {"activation_events", w.activation_events}}},
              {"wall_s", run.wall_s}};
  return j;
}

std::string training_summary(const workloads::TrainingScenario& s,
                             const workloads::TrainingEstimate& e, const RunInfo& run,
                             bool explain) {
  std::string out;
  auto line = [&](const std::string& text) { out += text + "\n"; };
  const auto& b = e.step.breakdown;
  const double step = e.step.step_time_s;
  line(fmt::format("codesim train: {} ({} x {}, {}; {} PP{} EP{} TP{}{} DP{})", s.name, s.gpus(),
                   s.gpu.name, s.model.name, schedule_registry().name_of(s.plan.schedule),
                   s.plan.pp, s.plan.ep, s.plan.tp,
                   s.plan.cp > 1 ? fmt::format(" CP{}", s.plan.cp) : "", s.dp()));
  line(
      fmt::format("  model          {:.1f}B params, {:.1f}B activated, {:.1f} GFLOPs/token "
                  "(training, causal, seq {})",
                  e.params.total / 1e9, e.params.activated / 1e9, e.train_flops_per_token / 1e9,
                  s.plan.sequence_length));
  line(fmt::format("  step           {:.2f} s for {:.1f}M tokens ({} micro-batches per replica)",
                   step, e.tokens_per_step / 1e6, e.step.micro_batches));
  auto part = [&](const char* name, double seconds) {
    line(fmt::format("    {:<22} {:8.3f} s  {:5.1f}%", name, seconds, 100 * seconds / step));
  };
  part("compute", b.compute_s);
  part("comm-SM share", b.comm_sm_share_s);
  part("exposed EP all-to-all", b.exposed_ep_comm_s);
  if (s.plan.cp > 1) part("exposed CP ring", b.exposed_cp_comm_s);
  if (s.plan.tp > 1) part("TP collectives", b.tp_comm_s);
  part("pipeline bubble", b.pipeline_bubble_s);
  part(s.plan.zero_stage >= 1 ? "DP sync (ZeRO-1)" : "DP sync (all-reduce)", b.dp_comm_s);
  part("optimizer", b.optimizer_s);
  if (!e.step.network.links.empty()) {
    const auto& ph = e.step.phases;
    line(fmt::format(
        "  phases         warm-up {:.3f} s, steady {:.3f} s, cool-down {:.3f} s (trailing weight "
        "gradients {:.3f} s), ZeRO-1 and optimizer {:.3f} s; idle {:.3f} s",
        ph.warm_up_s, ph.steady_s, ph.cool_down_s, ph.trailing_weight_s, ph.data_parallel_s,
        ph.idle_s));
    std::string tiers;
    for (const auto& u : e.step.network.links) {
      if (u.plane >= 0) continue;
      tiers += fmt::format("{}{} {:.0f}% mean / {:.0f}% max", tiers.empty() ? "" : ", ", u.tier,
                           100 * u.mean_utilisation, 100 * u.max_utilisation);
    }
    line("  link use       " + tiers);
    if (e.step.network.expert_load_max_over_mean > 1) {
      line(
          fmt::format("  expert load    busiest GPU of an EP group at {:.2f}x the mean (MoE "
                      "layers' average)",
                      e.step.network.expert_load_max_over_mean));
    }
  }
  if (!e.stages.empty()) {
    std::string layers;
    for (const auto& w : e.stages) {
      layers += fmt::format("{}{}", layers.empty() ? "" : " ", w.stage.layers);
    }
    const auto ranks = workloads::rank_pace(e.stages, s.plan.schedule);
    const double lo = *std::min_element(ranks.begin(), ranks.end());
    const double hi = *std::max_element(ranks.begin(), ranks.end());
    double sum = 0;
    for (double w : ranks) sum += w;
    const char* how = s.plan.stage_layers_balanced  ? "balanced for work"
                      : s.plan.stage_layers.empty() ? "by slots"
                                                    : "as given";
    const bool paired = s.plan.schedule == workloads::Schedule::kDualPipe ||
                        s.plan.schedule == workloads::Schedule::kDualPipeV;
    line(fmt::format(
        "  stages         layers [{}] ({}); {} {:.1f} to {:.1f} ms over the pipeline "
        "ranks, the longest {:.2f}x the mean",
        layers, how, paired ? "compute of the longer steady F&B pair" : "work per micro-batch",
        lo * 1e3, hi * 1e3, hi / (sum / double(ranks.size()))));
  }
  const auto& t4 = e.step.table4;
  line(fmt::format(
      "  Table 4        1F {:.3f} s, bubble {:.3f} s, 1B {:.3f} s, 1W {:.3f} s, 1F1B {:.3f} s, "
      "optimizer {:.3f} s (pipeline rank {})",
      t4.one_f_s, t4.bubble_s, t4.one_b_s, t4.one_w_s, t4.one_f_one_b_s, t4.optimizer_s,
      e.step.slowest_rank));
  if (e.step.chunk_pair.present) {
    const auto& p = e.step.chunk_pair;
    std::string top;
    for (std::size_t i = 0; i < std::min<std::size_t>(3, p.classes.size()); ++i) {
      top += fmt::format("{}{} {:.0f}%", i ? ", " : "", p.classes[i].first,
                         p.compute_busy_s > 0 ? 100 * p.classes[i].second / p.compute_busy_s : 0.0);
    }
    line(fmt::format(
        "  chunk pair     pipeline rank {}: {:.1f} ms ({:.1f} waiting for inputs), compute busy "
        "{:.1f} ms, all-to-all busy {:.1f} ms; compute by class: {}",
        p.pipeline_rank, p.span_s * 1e3, p.input_wait_s * 1e3, p.compute_busy_s * 1e3,
        p.comm_busy_s * 1e3, top));
  }
  line(
      fmt::format("  throughput     {:.1f}B tokens/day, {:.0f} TFLOPS/GPU, MFU {:.1f}% "
                  "(BF16 peak; {:.1f}% with non-causal FLOPs)",
                  e.tokens_per_day / 1e9, e.tflops_per_gpu, 100 * e.mfu, 100 * e.mfu_noncausal));
  line(fmt::format(
      "  GPU-hours      {:.0f}K per trillion tokens; {:.3f}M for {:.1f}T tokens "
      "(batch ramp included)",
      e.gpu_hours_per_trillion_tokens / 1e3, e.gpu_hours_total / 1e6, s.plan.tokens_total / 1e12));
  line(fmt::format("  cost           ${:.2f}M at ${:.2f}/GPU-hour", e.cost_usd / 1e6,
                   s.cost.usd_per_gpu_hour));
  line(
      fmt::format("  memory         {:.1f} of {:.1f} GiB on pipeline rank {} (weights {:.1f}, "
                  "grads {:.1f}, optimizer {:.1f}, activations {:.1f})",
                  e.memory.total_bytes() / kGiB, double(s.gpu.hbm_bytes) / kGiB, e.memory.rank,
                  e.memory.weights_bytes / kGiB, e.memory.gradients_bytes / kGiB,
                  e.memory.optimizer_bytes / kGiB, e.memory.activations_bytes / kGiB));
  const std::string engine =
      run.engine == "analytic"
          ? "analytic (fast mode)"
          : fmt::format("{}, {} events, {:.1f} s", run.engine, e.step.events, run.wall_s);
  line(fmt::format("  engine         {}; calibration {} measured on {}", engine, s.calibration.name,
                   s.calibration.measured_on.name));
  if (explain) {
    line("assumptions:");
    for (const auto& a : e.assumptions) line("  - " + a);
    line(
        "kernels of one micro-batch, by pass (F, B input gradients, W weight gradients) and "
        "piece: launches, GFLOP, MB of HBM, time on the whole GPU / in an overlapped pair (us):");
    std::string group;
    char pass = 0;
    for (const auto& k : e.step.kernels) {
      if (k.group != group || k.pass != pass) {
        group = k.group;
        pass = k.pass;
        double total = 0, pair = 0;
        for (const auto& o : e.step.kernels) {
          if (o.group == group && o.pass == pass && !o.communication) {
            total += o.seconds;
            pair += o.pair_seconds;
          }
        }
        line(fmt::format("  {} {} (compute {:.1f} / {:.1f} us):", group, pass, total * 1e6,
                         pair * 1e6));
      }
      line(fmt::format("    {:<10} {:<58} {:>3} {:>9.2f} {:>9.2f} {:>9.1f} {:>9.1f}{}", k.piece,
                       k.name, k.count, k.flops / 1e9, k.bytes / 1e6, k.seconds * 1e6,
                       k.pair_seconds * 1e6, k.communication ? "  (comm)" : ""));
    }
    line("activations kept per token per layer (bytes):");
    for (bool moe : {false, true}) {
      if (moe && !s.model.is_moe()) continue;
      line(moe ? "  MoE layer:" : "  dense layer:");
      for (const auto& item : workloads::layer_activation_items(workloads::memory_params(s), moe)) {
        line(fmt::format("    {:<48} {:>10.0f}", item.name, item.bytes_per_token));
      }
    }
  } else {
    line("  (--explain lists every assumption)");
  }
  return out;
}

}  // namespace codesim::cli
