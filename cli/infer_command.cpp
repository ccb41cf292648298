#include "cli/infer_command.hpp"

#include <fmt/format.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/command_line.hpp"
#include "cli/registry.hpp"
#include "cli/scenario_error.hpp"
#include "cli/scenario_loader.hpp"
#include "cli/trace_writer.hpp"
#include "cli/train_report.hpp"
#include "models/llm_math.hpp"
#include "workloads/inference/serve_estimate.hpp"

namespace codesim::cli {
namespace {

namespace po = boost::program_options;
using Json = nlohmann::ordered_json;
using workloads::ServeEstimate;
using workloads::ServePhase;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

const char* phase_name(ServePhase p) {
  return p == ServePhase::kDecode ? "decode" : p == ServePhase::kPrefill ? "prefill" : "both";
}

// Kernels of a forward by name, summed over its layers and micro-batches: seconds, FLOPs, bytes.
Json kernels_json(const workloads::ForwardCost& f, int micro_batches) {
  std::map<std::string, std::array<double, 4>> sums;  // seconds, flops, bytes, launches
  std::vector<std::string> order;
  auto add = [&](const workloads::ServeKernel& k) {
    auto [it, fresh] = sums.try_emplace(k.name, std::array<double, 4>{0, 0, 0, 0});
    if (fresh) order.push_back(k.name);
    it->second[0] += k.seconds * micro_batches;
    it->second[1] += k.flops * micro_batches;
    it->second[2] += k.bytes * micro_batches;
    it->second[3] += micro_batches;
  };
  for (const auto& l : f.layers) {
    for (const auto& k : l.kernels) add(k);
  }
  for (const auto& k : f.head_kernels) add(k);
  Json out = Json::array();
  for (const auto& name : order) {
    const auto& v = sums[name];
    out.push_back(
        {{"name", name}, {"launches", v[3]}, {"time_s", v[0]}, {"flops", v[1]}, {"bytes", v[2]}});
  }
  return out;
}

Json step_json(const workloads::ServeStep& st, const workloads::ForwardCost& f,
               const workloads::ForwardShape& shape, int micro_batches) {
  int moe = 0;
  for (const auto& l : f.layers) moe += l.moe ? 1 : 0;
  const int layers = int(f.layers.size());
  const Json links = links_json(st.links);
  return {{"forward_ms", st.forward_s * 1e3},
          {"tokens_per_gpu_per_micro_batch", shape.tokens},
          {"sequences_per_gpu_per_micro_batch", shape.sequences},
          {"context_tokens", shape.context},
          {"compute_only_ms", st.compute_only_s * 1e3},
          {"unoverlapped_ms", st.unoverlapped_s * 1e3},
          {"breakdown_ms",
           {{"attention", st.attention_s * 1e3},
            {"experts", st.experts_s * 1e3},
            {"head", st.head_s * 1e3},
            {"all_to_all_exposed", st.all_to_all_exposed_s * 1e3}}},
          {"per_layer_us",
           {{"layers", layers},
            {"moe_layers", moe},
            {"attention", layers ? st.attention_s / layers * 1e6 : 0},
            {"experts", layers ? st.experts_s / layers * 1e6 : 0},
            {"all_to_all", moe ? st.all_to_all_s / moe * 1e6 : 0},
            {"all_to_all_exposed", moe ? st.all_to_all_exposed_s / moe * 1e6 : 0}}},
          {"network",
           {{"nodes_per_ep_group", f.nodes_in_group},
            {"gpus_per_node_in_group", f.gpus_per_node_in_group},
            {"scale_out_achieved_GBps", f.ib_GBps},
            {"nvlink_achieved_GBps", f.nvlink_GBps},
            {"links", links}}},
          {"kernels", kernels_json(f, micro_batches)}};
}

Json infer_json(const workloads::InferenceScenario& s, const ServeEstimate& e, double wall_s) {
  const auto& p = s.serve;
  Json j;
  j["scenario"] = s.name;
  j["phase"] = phase_name(p.phase);
  j["tpot_ms"] = e.decode ? Json(e.tpot_s * 1e3) : Json(nullptr);
  j["ttft_ms"] = e.prefill ? Json(e.ttft_s * 1e3) : Json(nullptr);
  j["tokens_per_s_per_gpu"] = e.decode ? e.tokens_per_s_per_gpu : e.prefill_tokens_per_s_per_gpu;
  j["tokens_per_s_per_node"] =
      (e.decode ? e.tokens_per_s_per_gpu : e.prefill_tokens_per_s_per_gpu) * s.cluster.node.gpus;
  j["tokens_per_s_per_user"] = e.decode ? Json(e.tokens_per_s_per_user) : Json(nullptr);
  j["tokens_per_step"] = e.tokens_per_step;
  j["memory_per_gpu_gib"] = {{"weights", e.weights_bytes / kGiB},
                             {"kv_cache", e.kv_bytes / kGiB},
                             {"capacity", e.capacity_bytes / kGiB},
                             {"kv_cache_per_sequence", e.kv_bytes_per_sequence / kGiB}};
  j["kv_cache_bytes_per_token"] =
      double(models::kv_cache_bytes_per_token(s.model, p.kv_bytes_per_element));
  j["max_batch_per_gpu"] = e.max_batch_per_gpu;
  if (e.decode) {
    j["decode"] = step_json(e.decode_step, e.decode_cost, e.decode_shape, p.micro_batches);
    j["decode"]["expert_load_max_over_mean"] = e.decode_load_max_over_mean;
    const auto& b = e.bounds;
    j["bounds"] = {{"tpot_lower_bound_ms", b.lower_bound_tpot_s * 1e3},
                   {"all_to_all_layer_us", b.all_to_all_layer_s * 1e6},
                   {"all_to_all_tpot_ms", b.all_to_all_tpot_s * 1e3},
                   {"compute_tpot_ms", b.compute_tpot_s * 1e3},
                   {"hbm_tpot_ms", b.hbm_tpot_s * 1e3},
                   {"isca25_all_to_all_layer_us", b.isca25_layer_s * 1e6},
                   {"isca25_all_to_all_tpot_ms", b.isca25_tpot_s * 1e3}};
  }
  if (e.prefill) {
    j["prefill"] = step_json(e.prefill_step, e.prefill_cost, e.prefill_shape, p.micro_batches);
    j["prefill"]["chunks"] = e.prefill_chunks;
    Json classes = Json::array();
    for (const auto& c : e.prompt_classes) {
      classes.push_back({{"prompt_tokens", c.tokens},
                         {"share", c.share},
                         {"chunks", c.chunks},
                         {"forward_ms", c.forward_s * 1e3},
                         {"ttft_ms", c.ttft_s * 1e3}});
    }
    j["prefill"]["by_prompt"] = std::move(classes);
    j["prefill"]["expert_load_max_over_mean"] = e.prefill_load_max_over_mean;
    j["prefill"]["tokens_per_s_per_gpu"] = e.prefill_tokens_per_s_per_gpu;
  }
  j["layout"] = {{"gpus", s.gpus()},
                 {"gpu", s.gpu.name},
                 {"model", s.model.name},
                 {"attention_tp", p.attention_tp},
                 {"decode_gpus", s.phase_gpus(ServePhase::kDecode)},
                 {"prefill_gpus", s.phase_gpus(ServePhase::kPrefill)},
                 {"ep_decode", s.ep(ServePhase::kDecode)},
                 {"ep_prefill", s.ep(ServePhase::kPrefill)},
                 {"redundant_experts", p.redundant_experts},
                 {"batch_per_gpu", p.batch_per_gpu},
                 {"micro_batches", p.micro_batches},
                 {"mtp_depth", p.mtp_depth},
                 {"mtp_acceptance", p.mtp_acceptance},
                 {"precision", precision_registry().name_of(p.gemm_precision)}};
  j["assumptions"] = e.assumptions;
  const std::uint64_t events = e.decode_step.events + e.prefill_step.events;
  const std::uint64_t flows = e.decode_step.flows + e.prefill_step.flows;
  j["sim"] = {{"engine", e.engine}, {"events", events}, {"flows", flows}, {"wall_s", wall_s}};
  return j;
}

// A Chrome-trace (Perfetto) JSON of the traced GPUs' spans, in the shape codesim train writes:
// a process per GPU, its compute stream and its all-to-alls as threads, microseconds.
Json serve_trace(const workloads::InferenceScenario& s,
                 const std::vector<workloads::ServeSpan>& spans, const std::vector<int>& gpus,
                 const char* phase) {
  Json events = Json::array();
  const int gpn = s.cluster.node.gpus;
  for (const int g : gpus) {
    events.push_back(
        {{"name", "process_name"},
         {"ph", "M"},
         {"pid", g},
         {"args", {{"name", fmt::format("GPU {} (node {}, index {})", g, g / gpn, g % gpn)}}}});
    events.push_back(
        {{"name", "process_sort_index"}, {"ph", "M"}, {"pid", g}, {"args", {{"sort_index", g}}}});
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", g},
                      {"tid", 0},
                      {"args", {{"name", "compute"}}}});
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", g},
                      {"tid", 1},
                      {"args", {{"name", "all-to-all (no SMs)"}}}});
  }
  for (const auto& sp : spans) {
    events.push_back(
        {{"name", fmt::format("{} mb{} layer {}", sp.what, sp.micro_batch, sp.layer)},
         {"cat", sp.compute ? "compute" : "all-to-all"},
         {"ph", "X"},
         {"pid", sp.gpu},
         {"tid", sp.compute ? 0 : 1},
         {"ts", sp.start_s * 1e6},
         {"dur", (sp.end_s - sp.start_s) * 1e6},
         {"args", {{"pass", sp.what}, {"layer", sp.layer}, {"micro_batch", sp.micro_batch}}}});
  }
  Json trace;
  trace["traceEvents"] = std::move(events);
  trace["displayTimeUnit"] = "ms";
  trace["otherData"] = {
      {"scenario", s.name}, {"generator", "codesim infer --engine event"}, {"phase", phase}};
  return trace;
}

// The GPUs --trace-gpus names; empty: the traced phase's first node's.
std::vector<int> trace_gpus(const std::string& text, int gpus, int gpn) {
  if (!text.empty()) return parse_gpu_list(text, gpus, "--trace-gpus", "the traced phase");
  std::vector<int> out;
  for (int g = 0; g < std::min(gpus, gpn); ++g) out.push_back(g);
  return out;
}

std::string summary(const workloads::InferenceScenario& s, const ServeEstimate& e, double wall_s,
                    bool explain) {
  const auto& p = s.serve;
  std::string out;
  auto line = [&](const std::string& text) { out += text + "\n"; };
  line(fmt::format(
      "codesim infer: {} ({} x {}, {}; {}, attention TP{} DP, EP{}{})", s.name, s.gpus(),
      s.gpu.name, s.model.name, phase_name(p.phase), p.attention_tp,
      s.ep(e.decode ? ServePhase::kDecode : ServePhase::kPrefill),
      p.redundant_experts ? fmt::format(" with {} redundant experts", p.redundant_experts) : ""));
  if (e.decode) {
    const auto& st = e.decode_step;
    line(fmt::format(
        "  decode         TPOT {:.2f} ms ({:.3g} tokens a step of {:.2f} ms), {:.1f} "
        "tokens/s per user",
        e.tpot_s * 1e3, e.tokens_per_step, st.forward_s * 1e3, e.tokens_per_s_per_user));
    line(fmt::format(
        "  throughput     {:.0f} tokens/s per GPU, {:.0f} per node ({} sequences per "
        "GPU, context {:.0f})",
        e.tokens_per_s_per_gpu, e.tokens_per_s_per_node, p.batch_per_gpu, e.decode_shape.context));
    line(
        fmt::format("  step split     attention {:.2f} ms, experts {:.2f} ms, head {:.2f} ms, "
                    "all-to-all exposed {:.2f} ms (unoverlapped {:.2f} ms)",
                    st.attention_s * 1e3, st.experts_s * 1e3, st.head_s * 1e3,
                    st.all_to_all_exposed_s * 1e3, st.unoverlapped_s * 1e3));
    line(fmt::format(
        "  bounds         TPOT >= {:.2f} ms: compute {:.2f}, all-to-all {:.2f} "
        "(isca25's every-copy-on-the-wire form {:.2f}), HBM reads {:.2f}",
        e.bounds.lower_bound_tpot_s * 1e3, e.bounds.compute_tpot_s * 1e3,
        e.bounds.all_to_all_tpot_s * 1e3, e.bounds.isca25_tpot_s * 1e3, e.bounds.hbm_tpot_s * 1e3));
  }
  if (e.prefill) {
    if (e.prompt_classes.size() > 1) {
      line(
          fmt::format("  prefill        TTFT {:.1f} ms on average over {} prompt lengths ({:.0f}% "
                      "cached), {:.0f} tokens/s per GPU",
                      e.ttft_s * 1e3, e.prompt_classes.size(), 100 * p.prefix_cache_hit,
                      e.prefill_tokens_per_s_per_gpu));
      for (const auto& c : e.prompt_classes) {
        line(fmt::format("                 {:>6} tokens ({:.0f}%): TTFT {:.1f} ms, {} chunk(s)",
                         c.tokens, 100 * c.share, c.ttft_s * 1e3, c.chunks));
      }
    } else {
      line(
          fmt::format("  prefill        TTFT {:.1f} ms ({} chunk(s) of {:.1f} ms for a {}-token "
                      "prompt, {:.0f}% cached), {:.0f} tokens/s per GPU",
                      e.ttft_s * 1e3, e.prefill_chunks, e.prefill_step.forward_s * 1e3,
                      p.prompt_tokens, 100 * p.prefix_cache_hit, e.prefill_tokens_per_s_per_gpu));
    }
  }
  line(fmt::format(
      "  memory         weights {:.1f} GiB + KV cache {:.1f} GiB of {:.1f} GiB per GPU; "
      "{} sequences fit ({:.0f} KB of KV cache a token)",
      e.weights_bytes / kGiB, e.kv_bytes / kGiB, e.capacity_bytes / kGiB, e.max_batch_per_gpu,
      double(models::kv_cache_bytes_per_token(s.model, p.kv_bytes_per_element)) / 1e3));
  line(fmt::format("  engine         {}, {} events, {} flows, {:.1f} s", e.engine,
                   e.decode_step.events + e.prefill_step.events,
                   e.decode_step.flows + e.prefill_step.flows, wall_s));
  if (explain) {
    line("  assumptions:");
    for (const auto& a : e.assumptions) line("    - " + a);
  } else {
    line("  (--explain lists every assumption)");
  }
  return out;
}

}  // namespace

int run_infer(const std::vector<std::string>& args) {
  po::options_description options("codesim infer SCENARIO.yaml [options]");
  std::string scenario_path;
  std::vector<std::string> sets;
  std::string json_path;
  std::string engine = "event";
  std::string trace_path;
  std::string trace_gpus_text;
  options.add_options()("help,h", "show this help")(
      "set", po::value<std::vector<std::string>>(&sets)->composing(),
      "override a scenario key by its dotted path, e.g. --set serve.batch_per_gpu=64")(
      "json", po::value<std::string>(&json_path), "write the result as JSON to FILE")(
      "engine", po::value<std::string>(&engine),
      "event (every GPU's micro-batches event by event, all-to-alls as flows on the topology; "
      "the default) or analytic (the closed form)")(
      "trace", po::value<std::string>(&trace_path),
      "write a Chrome-trace/Perfetto JSON of the decode step (prefill's forward, without decode) "
      "to FILE (event engine)")("trace-gpus", po::value<std::string>(&trace_gpus_text),
                                "GPUs to trace, e.g. 0,8,16 (default: the first node's)")(
      "explain", "list every assumption");
  po::variables_map vm;
  if (const auto exit = parse_subcommand(args, "infer", options, scenario_path, vm)) return *exit;
  if (!json_path.empty()) check_output_file("--json", json_path);
  if (!trace_path.empty()) check_output_file("--trace", trace_path);
  if (engine != "event" && engine != "analytic") {
    std::cerr << "codesim infer: error: --engine '" << engine
              << "' is not an engine; valid: analytic, event\n";
    return kExitBadInput;
  }
  if (!trace_path.empty() && engine != "event") {
    std::cerr << "codesim infer: error: --trace needs --engine event (the closed form has no "
                 "timeline)\n";
    return kExitBadInput;
  }
  if (!trace_gpus_text.empty() && trace_path.empty()) {
    std::cerr << "codesim infer: error: --trace-gpus needs --trace FILE\n";
    return kExitBadInput;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto scenario = load_inference_scenario(scenario_path, sets);
  if (engine == "event") {
    check_event_engine_memory(scenario_path, sets, scenario.cluster.gpus(),
                              workloads::kServeEngineBytesPerGpu);
  }
  const ServePhase traced_phase =
      scenario.serve.phase == ServePhase::kPrefill ? ServePhase::kPrefill : ServePhase::kDecode;
  std::vector<int> traced;
  if (!trace_path.empty()) {
    traced =
        trace_gpus(trace_gpus_text, scenario.phase_gpus(traced_phase), scenario.cluster.node.gpus);
  }
  const ServeEstimate e = workloads::estimate_serving(scenario, engine == "event", traced);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!json_path.empty()) {
    write_file_atomically(json_path, infer_json(scenario, e, wall_s).dump(2) + "\n");
  }
  if (!trace_path.empty()) {
    const auto& spans = e.decode ? e.decode_step.trace : e.prefill_step.trace;
    write_file_atomically(
        trace_path, serve_trace(scenario, spans, traced, phase_name(traced_phase)).dump() + "\n");
  }
  std::cout << summary(scenario, e, wall_s, vm.count("explain") > 0);
  return kExitOk;
}

}  // namespace codesim::cli
