#include "cli/train_report.hpp"

#include <fmt/format.h>

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
  j["pipeline_bubble"] = b.pipeline_bubble_s;
  j["dp_comm"] = b.dp_comm_s;
  j["optimizer"] = b.optimizer_s;
  return j;
}

}  // namespace

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
    nlohmann::ordered_json links = nlohmann::ordered_json::array();
    for (const auto& u : n.links) {
      links.push_back({{"tier", u.tier},
                       {"plane", u.plane},
                       {"links", u.links},
                       {"bytes", u.bytes},
                       {"mean_utilisation", u.mean_utilisation},
                       {"max_utilisation", u.max_utilisation}});
    }
    j["network"]["links"] = std::move(links);
    j["network"]["expert_load_max_over_mean"] = n.expert_load_max_over_mean;
    const auto& ph = e.step.phases;
    j["phases_s"] = {{"warm_up", ph.warm_up_s},
                     {"steady", ph.steady_s},
                     {"cool_down", ph.cool_down_s},
                     {"trailing_weight_gradients", ph.trailing_weight_s},
                     {"data_parallel_and_optimizer", ph.data_parallel_s},
                     {"idle", ph.idle_s}};
  }
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
      {"dp", s.dp()},
      {"schedule", schedule_registry().name_of(s.plan.schedule)},
      {"micro_batches", e.step.micro_batches},
      {"slowest_pipeline_rank", e.step.slowest_rank},
  };
  j["calibration"] = {{"name", s.calibration.name},
                      {"measured_on", s.calibration.measured_on.name},
                      {"source", s.calibration.source}};
  j["assumptions"] = e.assumptions;
  j["sim"] = {{"engine", run.engine},
              {"step_time_ps", e.step.step_time_ps},
              {"events", e.step.events},
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
  line(fmt::format("codesim train: {} ({} x {}, {}; {} PP{} EP{} TP{} DP{})", s.name, s.gpus(),
                   s.gpu.name, s.model.name, schedule_registry().name_of(s.plan.schedule), s.plan.pp,
                   s.plan.ep, s.plan.tp, s.dp()));
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
  part("pipeline bubble", b.pipeline_bubble_s);
  part("DP sync (ZeRO-1)", b.dp_comm_s);
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
