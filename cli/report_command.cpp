#include "cli/report_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "cli/command_line.hpp"
#include "cli/json_fields.hpp"
#include "cli/report_page.hpp"
#include "cli/scenario_error.hpp"
#include "cli/validation_rows.hpp"

namespace codesim::cli {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using Json = nlohmann::ordered_json;

constexpr const char* kInputs =
    "a codesim train or infer --json result, a --trace file, or a codesim sweep folder";

// The chart renderer's scripts, in the order they load.
const std::vector<std::string> kScripts = {"vega/build/vega.min.js",
                                           "vega-lite/build/vega-lite.min.js",
                                           "vega-embed/build/vega-embed.min.js"};

using Input = ReportInput;

ScenarioError input_error(const std::string& path, const std::string& problem) {
  return ScenarioError({path}, "", problem, kInputs);
}

// A field of an input that codesim would not have written (the wrong type, a missing key).
ScenarioError field_error(const std::string& path, const std::exception& e) {
  return input_error(path, "a field is not what codesim writes: " + std::string(e.what()));
}

Json parse_json_file(const std::string& path) {
  const std::string text = read_text(path);
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // The line of the byte the parser stopped at.
    const std::size_t upto = std::min<std::size_t>(e.byte, text.size());
    const int line = 1 + int(std::count(text.begin(), text.begin() + upto, '\n'));
    throw ScenarioError({path, line}, "", "not valid JSON: " + std::string(e.what()), kInputs);
  }
}

// A number as a person reads it: 4 significant figures, no exponent in the usual range.
std::string num(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e15 || a < 1e-4) return fmt::format("{:.4g}", v);
  if (a >= 1e4) return fmt::format("{:.0f}", v);
  return fmt::format("{:.4g}", v);
}

std::string cell(const Json& v) {
  if (v.is_null()) return "";
  if (v.is_number()) return num(v.get<double>());
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

double number_at(const Json& j, const std::string& key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

// A person's name for each part of breakdown_s.
std::string part_name(const std::string& key) {
  static const std::map<std::string, std::string> names = {
      {"compute", "compute"},
      {"comm_sm_share", "compute slowed by communication SMs"},
      {"exposed_ep_comm", "exposed EP all-to-all"},
      {"exposed_cp_comm", "exposed context-parallel ring"},
      {"tp_comm", "tensor-parallel collectives"},
      {"pipeline_bubble", "pipeline bubble"},
      {"dp_comm", "data-parallel gradients (exposed)"},
      {"optimizer", "optimizer"}};
  const auto it = names.find(key);
  return it == names.end() ? key : it->second;
}

// One stacked horizontal bar per entry of `bars` (label, breakdown_s).
Json breakdown_chart(const std::string& title,
                     const std::vector<std::pair<std::string, Json>>& bars) {
  Json values = Json::array();
  std::vector<std::string> order;
  for (const auto& [label, breakdown] : bars) {
    int i = 0;
    for (const auto& [key, seconds] : breakdown.items()) {
      const std::string part = part_name(key);
      if (std::find(order.begin(), order.end(), part) == order.end()) order.push_back(part);
      values.push_back({{"run", label},
                        {"part", part},
                        {"order", i++},
                        {"seconds", seconds.is_number() ? seconds.get<double>() : 0.0}});
    }
  }
  return {{"title", title},
          {"width", 900},
          {"height", std::max(40, 28 * int(bars.size()))},
          {"data", {{"values", values}}},
          {"mark", {{"type", "bar"}, {"tooltip", true}}},
          {"encoding",
           {{"y", {{"field", "run"}, {"type", "nominal"}, {"title", nullptr}, {"sort", nullptr}}},
            {"x",
             {{"field", "seconds"},
              {"type", "quantitative"},
              {"stack", "zero"},
              {"title", "seconds of one step"}}},
            {"color",
             {{"field", "part"},
              {"type", "nominal"},
              {"sort", order},
              {"legend", {{"orient", "bottom"}, {"columns", 3}, {"title", nullptr}}}}},
            {"order", {{"field", "order"}}}}}};
}

// Bars of `values` ({"x", "part", "value"}) stacked by part along x.
Json stacked_columns(const std::string& title, const std::string& x_title,
                     const std::string& y_title, Json values, int width = 900) {
  return {{"title", title},
          {"width", width},
          {"height", 260},
          {"data", {{"values", std::move(values)}}},
          {"mark", {{"type", "bar"}, {"tooltip", true}}},
          {"encoding",
           {{"x", {{"field", "x"}, {"type", "ordinal"}, {"title", x_title}, {"sort", nullptr}}},
            {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", y_title}}},
            {"color",
             {{"field", "part"},
              {"type", "nominal"},
              {"sort", nullptr},
              {"legend", {{"orient", "bottom"}, {"title", nullptr}}}}},
            {"order", {{"field", "order"}}}}}};
}

void plan_tables(ReportPage& page, const Json& r) {
  const Json plan = r.value("plan", Json::object());
  const Json model = r.value("model", Json::object());
  const Json sim = r.value("sim", Json::object());
  const Json cal = r.value("calibration", Json::object());
  std::vector<std::vector<std::string>> rows = {
      {"scenario", cell(r.value("scenario", Json()))},
      {"model",
       fmt::format("{} ({}B parameters, {}B activated per token)",
                   cell(model.value("name", Json())), num(number_at(model, "params_total") / 1e9),
                   num(number_at(model, "params_activated") / 1e9))},
      {"cluster",
       fmt::format("{} x {}", cell(plan.value("gpus", Json())), cell(plan.value("gpu", Json())))},
      {"parallelism", fmt::format("PP{} EP{} TP{} CP{} DP{}", cell(plan.value("pp", Json())),
                                  cell(plan.value("ep", Json())), cell(plan.value("tp", Json())),
                                  cell(plan.value("cp", Json(1))), cell(plan.value("dp", Json())))},
      {"schedule", cell(plan.value("schedule", Json()))},
      {"GEMM precision", cell(plan.value("precision", Json()))},
      {"micro-batches per replica", cell(plan.value("micro_batches", Json()))},
      {"stage split", cell(r.value("stage_split", Json()))},
      {"calibration",
       fmt::format("{} (measured on {}): {}", cell(cal.value("name", Json())),
                   cell(cal.value("measured_on", Json())), cell(cal.value("source", Json())))},
      {"engine", fmt::format("{}, {} events", cell(sim.value("engine", Json())),
                             cell(sim.value("events", Json())))},
  };
  page.heading(3, "Scenario and plan");
  page.table({}, rows);

  const Json mem = r.value("memory_gib", Json::object());
  page.heading(3, "Headline figures");
  page.table(
      {"figure", "value"},
      {{"step time", num(number_at(r, "step_time_s")) + " s"},
       {"tokens per step", num(number_at(r, "tokens_per_step"))},
       {"tokens per day", fmt::format("{}B", num(number_at(r, "tokens_per_day") / 1e9))},
       {"TFLOPS per GPU", num(number_at(r, "tflops_per_gpu"))},
       {"MFU (BF16 dense peak, causal attention)",
        fmt::format("{:.1f}%", 100 * number_at(r, "mfu"))},
       {"GPU-hours per trillion tokens", num(number_at(r, "gpu_hours_per_trillion_tokens"))},
       {"GPU-hours, whole run", num(number_at(r, "gpu_hours_total"))},
       {"cost", fmt::format("${}M at ${}/GPU-hour", num(number_at(r, "cost_usd") / 1e6),
                            num(number_at(r, "usd_per_gpu_hour")))},
       {"memory per GPU",
        fmt::format("{} of {} GiB (pipeline rank {})", num(number_at(r, "memory_per_gpu_gib")),
                    num(number_at(mem, "capacity")), cell(mem.value("rank", Json())))}});
}

void breakdown_charts(ReportPage& page, const Json& r) {
  const Json breakdown = r.value("breakdown_s", Json::object());
  double sum = 0;
  for (const auto& [key, v] : breakdown.items()) sum += v.is_number() ? v.get<double>() : 0;
  page.heading(3, "Step breakdown");
  page.paragraph(fmt::format(
      "Where the {} s of the slowest pipeline rank's step go; the parts add up to {} s.",
      num(number_at(r, "step_time_s")), num(sum)));
  page.chart(breakdown_chart("Step time by part (s)", {{r.value("scenario", ""), breakdown}}));

  if (r.contains("phases_s")) {
    // The phases that follow one another; trailing weight gradients (part of the cool-down) and
    // idle time (spread over all of them) are said beside.
    const Json& phases = r.at("phases_s");
    Json values = Json::array();
    int i = 0;
    for (const char* key : {"warm_up", "steady", "cool_down", "data_parallel_and_optimizer"}) {
      std::string name = key;
      std::replace(name.begin(), name.end(), '_', ' ');
      values.push_back(
          {{"run", "step"}, {"part", name}, {"order", i++}, {"seconds", number_at(phases, key)}});
    }
    page.paragraph(fmt::format(
        "The slowest rank's step in the order it happened: forwards only (warm-up), until its "
        "last forward (steady), the remaining backwards (cool-down, of which {} s of weight "
        "gradients after the last forward), then ZeRO-1 and the optimizer. Its compute stream "
        "was idle {} s in all.",
        num(number_at(phases, "trailing_weight_gradients")), num(number_at(phases, "idle"))));
    Json spec = breakdown_chart("Phases of the step (s)", {});
    spec["data"]["values"] = values;
    spec["encoding"]["color"]["sort"] = nullptr;
    spec["height"] = 40;
    page.chart(spec);
  }

  if (r.contains("stages") && r["stages"].is_array() && !r["stages"].empty()) {
    Json values = Json::array();
    for (const Json& s : r["stages"]) {
      int i = 0;
      for (const char* k : {"forward_ms", "backward_ms", "weight_ms"}) {
        const std::string part = std::string(k) == "forward_ms"    ? "forward"
                                 : std::string(k) == "backward_ms" ? "backward (input)"
                                                                   : "backward (weights)";
        values.push_back({{"x", int_field(s, "stage", 0)},
                          {"part", part},
                          {"order", i++},
                          {"value", s.value(k, 0.0)}});
      }
    }
    page.heading(3, "Work per pipeline stage");
    page.chart(stacked_columns("Compute work of one micro-batch per stage (ms)", "pipeline stage",
                               "ms per micro-batch", values));
  }

  const Json mem = r.value("memory_gib", Json::object());
  if (!mem.empty()) {
    Json values = Json::array();
    int i = 0;
    for (const char* k : {"weights", "gradients", "optimizer", "activations", "reserved"}) {
      values.push_back(
          {{"run", "GPU"}, {"part", k}, {"order", i++}, {"seconds", number_at(mem, k)}});
    }
    Json bar = breakdown_chart("", {});
    bar["data"]["values"] = values;
    bar["encoding"]["x"]["title"] = "GiB";
    bar["encoding"]["color"]["sort"] = nullptr;
    bar.erase("title");
    bar["height"] = 40;
    const Json capacity = {
        {"data", {{"values", Json::array({{{"capacity", number_at(mem, "capacity")}}})}}},
        {"mark", {{"type", "rule"}, {"color", "#c00"}, {"strokeWidth", 2}}},
        {"encoding", {{"x", {{"field", "capacity"}, {"type", "quantitative"}}}}}};
    Json layer = bar;
    layer.erase("width");
    layer.erase("height");
    page.heading(3, "Memory per GPU");
    page.paragraph(
        fmt::format("Pipeline rank {}'s GPU, the fullest; the red rule is the {} GiB it has.",
                    cell(mem.value("rank", Json())), num(number_at(mem, "capacity"))));
    page.chart({{"title", "Memory of the fullest GPU (GiB)"},
                {"width", 900},
                {"height", 40},
                {"layer", Json::array({layer, capacity})}});
  }
}

void network_section(ReportPage& page, const Json& r) {
  const Json net = r.value("network", Json::object());
  if (!net.contains("links") || net["links"].empty()) return;
  page.heading(3, "Link use by tier and plane");
  page.paragraph(
      "Mean and busiest-link utilisation over the step of each tier's links: 'all' is every "
      "link of the tier, then each plane of a multi-plane fabric on its own. Utilisation: bytes "
      "carried over capacity x step time.");
  Json values = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (const Json& l : net["links"]) {
    const std::string tier = l.value("tier", "");
    const int number = int_field(l, "plane", -1);
    const std::string plane = number < 0 ? "all" : std::to_string(number);
    values.push_back({{"tier", tier},
                      {"plane", plane},
                      {"what", "mean"},
                      {"utilisation", l.value("mean_utilisation", 0.0)}});
    values.push_back({{"tier", tier},
                      {"plane", plane},
                      {"what", "busiest link"},
                      {"utilisation", l.value("max_utilisation", 0.0)}});
    rows.push_back({tier, plane, cell(l.value("links", Json())), num(l.value("bytes", 0.0) / 1e9),
                    fmt::format("{:.1f}%", 100 * l.value("mean_utilisation", 0.0)),
                    fmt::format("{:.1f}%", 100 * l.value("max_utilisation", 0.0))});
  }
  page.chart(
      {{"title", "Utilisation of links over the step"},
       {"data", {{"values", values}}},
       {"mark", {{"type", "bar"}, {"tooltip", true}}},
       {"resolve", {{"scale", {{"x", "independent"}}}}},
       {"encoding",
        {{"facet",
          {{"field", "tier"},
           {"type", "nominal"},
           {"title", nullptr},
           {"columns", 3},
           {"sort", nullptr}}},
         {"x", {{"field", "plane"}, {"type", "ordinal"}, {"title", "plane"}, {"sort", nullptr}}},
         {"xOffset", {{"field", "what"}, {"type", "nominal"}, {"sort", {"mean", "busiest link"}}}},
         {"y",
          {{"field", "utilisation"},
           {"type", "quantitative"},
           {"axis", {{"format", ".0%"}}},
           {"title", "utilisation"}}},
         {"color",
          {{"field", "what"},
           {"type", "nominal"},
           {"title", nullptr},
           {"sort", {"mean", "busiest link"}},
           {"legend", {{"orient", "bottom"}}}}}}},
       {"width", {{"step", 14}}},
       {"height", 200}});
  page.table({"tier", "plane", "links", "GB carried", "mean utilisation", "busiest link"}, rows);
  std::vector<std::vector<std::string>> ep;
  for (const auto& [key, v] : net.items()) {
    if (key != "links" && v.is_number()) ep.push_back({key, num(v.get<double>())});
  }
  if (!ep.empty()) page.table({"network figure", "value"}, ep);
}

// A bar chart of the 25 longest kernels by time (name -> seconds, stream).
void kernel_chart(ReportPage& page,
                  const std::map<std::string, std::pair<double, std::string>>& time,
                  const std::string& text, const std::string& title) {
  std::vector<std::pair<double, std::string>> sorted;
  for (const auto& [name, t] : time) sorted.push_back({t.first, name});
  std::sort(sorted.rbegin(), sorted.rend());
  if (sorted.size() > 25) sorted.resize(25);
  Json values = Json::array();
  for (const auto& [seconds, name] : sorted) {
    values.push_back({{"kernel", name}, {"ms", seconds * 1e3}, {"stream", time.at(name).second}});
  }
  if (values.empty()) return;
  page.heading(3, "Kernels");
  page.paragraph(text);
  page.chart(
      {{"title", title},
       {"width", 700},
       {"data", {{"values", values}}},
       {"mark", {{"type", "bar"}, {"tooltip", true}}},
       {"encoding",
        {{"y", {{"field", "kernel"}, {"type", "nominal"}, {"sort", "-x"}, {"title", nullptr}}},
         {"x", {{"field", "ms"}, {"type", "quantitative"}, {"title", "ms"}}},
         {"color", {{"field", "stream"}, {"type", "nominal"}}}}}});
}

void kernel_section(ReportPage& page, const Json& r) {
  if (!r.contains("kernels") || !r["kernels"].is_object()) return;
  // Time of one micro-batch per kernel name, summed over groups, passes and pieces.
  std::map<std::string, std::pair<double, std::string>> time;
  for (const auto& [group, passes] : r["kernels"].items()) {
    for (const auto& [pass, pieces] : passes.items()) {
      for (const auto& [piece, list] : pieces.items()) {
        for (const Json& k : list) {
          auto& t = time[k.value("name", "?")];
          t.first += k.value("time_s", 0.0) * k.value("count", 1.0);
          t.second = k.value("stream", "compute");
        }
      }
    }
  }
  kernel_chart(page, time,
               "The kernels the step is priced from, by time summed over one micro-batch's "
               "launches of every stage (the 25 longest).",
               "Time by kernel, one micro-batch (ms)");
}

// Serving's kernels: one forward's, summed over its layers and micro-batches.
void serve_kernel_section(ReportPage& page, const Json& forward, const std::string& what) {
  std::map<std::string, std::pair<double, std::string>> time;
  for (const Json& k : forward.value("kernels", Json::array())) {
    auto& t = time[k.value("name", "?")];
    t.first += k.value("time_s", 0.0);
    t.second = "compute";
  }
  kernel_chart(page, time,
               "The kernels one " + what +
                   " forward is priced from, by time summed over its "
                   "layers and micro-batches (the 25 longest).",
               "Time by kernel, one " + what + " forward (ms)");
}

// A `codesim infer` result: the headline figures, each forward's split and kernels, the
// decode layout's bounds, the links, the assumptions.
void serve_section(ReportPage& page, const Input& in) {
  const Json& r = in.json;
  const Json layout = r.value("layout", Json::object());
  page.heading(2, "Serving estimate: " + r.value("scenario", in.path));
  page.paragraph("From " + in.path + ".");
  page.heading(3, "Layout and headline figures");
  std::vector<std::vector<std::string>> rows = {
      {"phase", cell(r.value("phase", Json()))},
      {"cluster", fmt::format("{} x {}", cell(layout.value("gpus", Json())),
                              cell(layout.value("gpu", Json())))},
      {"model", cell(layout.value("model", Json()))},
      {"layout", fmt::format("attention TP{} x DP; EP{} decode, EP{} prefill; {} redundant experts",
                             cell(layout.value("attention_tp", Json())),
                             cell(layout.value("ep_decode", Json())),
                             cell(layout.value("ep_prefill", Json())),
                             cell(layout.value("redundant_experts", Json())))},
      {"batch", fmt::format("{} sequences per GPU in {} micro-batches",
                            cell(layout.value("batch_per_gpu", Json())),
                            cell(layout.value("micro_batches", Json())))},
      {"TPOT",
       r.value("tpot_ms", Json()).is_number() ? num(r.at("tpot_ms").get<double>()) + " ms" : "-"},
      {"TTFT",
       r.value("ttft_ms", Json()).is_number() ? num(r.at("ttft_ms").get<double>()) + " ms" : "-"},
      {"tokens per step (MTP)", cell(r.value("tokens_per_step", Json()))},
      {"tokens/s per GPU", cell(r.value("tokens_per_s_per_gpu", Json()))},
      {"tokens/s per node", cell(r.value("tokens_per_s_per_node", Json()))},
      {"tokens/s per user", cell(r.value("tokens_per_s_per_user", Json()))},
      {"largest batch that fits",
       cell(r.value("max_batch_per_gpu", Json())) + " sequences per GPU"},
  };
  page.table({}, rows);
  std::vector<std::pair<std::string, Json>> bars;
  for (const char* phase : {"decode", "prefill"}) {
    if (!r.contains(phase)) continue;
    Json parts = Json::object();
    for (const auto& [key, ms] : r.at(phase).at("breakdown_ms").items()) {
      parts[key] = ms.is_number() ? ms.get<double>() / 1e3 : 0.0;
    }
    bars.push_back({std::string(phase) + " forward", parts});
  }
  if (!bars.empty()) {
    page.heading(3, "Where a forward goes");
    page.paragraph(
        "The compute stream's attention (with the gate), experts and output head over every "
        "layer and micro-batch, and the all-to-all time it could not hide.");
    page.chart(breakdown_chart("One forward by part (s)", bars));
  }
  if (r.contains("bounds")) {
    Json values = Json::array();
    values.push_back({{"what", "TPOT (this estimate)"}, {"ms", r.at("tpot_ms")}});
    for (const auto& [key, label] : std::vector<std::pair<std::string, std::string>>{
             {"compute_tpot_ms", "compute (sum of kernels)"},
             {"all_to_all_tpot_ms", "all-to-all bytes of the layout"},
             {"hbm_tpot_ms", "HBM reads"},
             {"isca25_all_to_all_tpot_ms", "isca25: every copy on the wire"}}) {
      values.push_back({{"what", label}, {"ms", r.at("bounds").value(key, 0.0)}});
    }
    page.heading(3, "TPOT against its bounds");
    page.chart(
        {{"title", "ms per accepted token"},
         {"width", 600},
         {"data", {{"values", values}}},
         {"mark", {{"type", "bar"}, {"tooltip", true}}},
         {"encoding",
          {{"y", {{"field", "what"}, {"type", "nominal"}, {"sort", nullptr}, {"title", nullptr}}},
           {"x", {{"field", "ms"}, {"type", "quantitative"}, {"title", "ms"}}}}}});
  }
  for (const char* phase : {"decode", "prefill"}) {
    if (!r.contains(phase)) continue;
    network_section(page, r[phase]);
    serve_kernel_section(page, r[phase], phase);
  }
  if (r.contains("assumptions") && r["assumptions"].is_array()) {
    std::vector<std::string> items;
    for (const Json& a : r["assumptions"]) items.push_back(cell(a));
    page.heading(3, "Assumptions");
    page.list(items);
  }
}

void result_section(ReportPage& page, const Input& in, const YAML::Node& reference) {
  const Json& r = in.json;
  page.heading(2, "Training estimate: " + r.value("scenario", in.path));
  page.paragraph("From " + in.path + ".");
  plan_tables(page, r);
  breakdown_charts(page, r);
  network_section(page, r);
  kernel_section(page, r);

  const auto rows = result_rows(reference, r);
  page.heading(3, "Against published figures");
  if (rows.empty()) {
    page.paragraph("The reference file publishes no figure for this model and plan.");
  } else {
    std::vector<std::vector<std::string>> cells;
    for (const ValidationRow& v : rows) {
      cells.push_back({v.figure, num(v.published), num(v.predicted),
                       fmt::format("{:+.1f}%", 100 * v.error()), v.source});
    }
    page.table({"figure", "published", "codesim", "error", "source"}, cells);
  }
  if (r.contains("assumptions") && r["assumptions"].is_array()) {
    std::vector<std::string> items;
    for (const Json& a : r["assumptions"]) items.push_back(cell(a));
    page.heading(3, "Assumptions");
    page.list(items);
  }
}

// A timeline of the trace's streams: consecutive spans of one stream that are one operation
// (same pass or exchange, micro-batch and direction, touching in time) drawn as one bar.
void trace_section(ReportPage& page, const Input& in) {
  const Json& t = in.json;
  std::map<int, std::string> gpu_name;
  std::map<std::pair<int, int>, std::string> stream_name;
  struct Bar {
    int pid, tid;
    std::string kind;
    int micro_batch, direction, stage;
    double start, end;  // microseconds
  };
  std::vector<Bar> spans;
  for (const Json& e : t["traceEvents"]) {
    const std::string ph = e.value("ph", "");
    const int pid = int_field(e, "pid", 0);
    if (ph == "M" && e.value("name", "") == "process_name") {
      gpu_name[pid] = e.at("args").value("name", "");
    } else if (ph == "M" && e.value("name", "") == "thread_name") {
      stream_name[{pid, int_field(e, "tid", 0)}] = e.at("args").value("name", "");
    } else if (ph == "X") {
      const Json args = e.value("args", Json::object());
      std::string kind;
      if (e.value("cat", "") == "compute") {
        const std::string pass = args.value("pass", "");
        kind = pass == "F"   ? "forward"
               : pass == "B" ? "backward (input)"
               : pass == "b" ? "backward (full)"
               : pass == "W" ? "backward (weights)"
                             : pass;
      } else {
        const std::string name = e.value("name", "");
        kind = name.substr(0, name.rfind(" mb"));
      }
      const double ts = e.value("ts", 0.0);
      spans.push_back({pid, int_field(e, "tid", 0), kind, int_field(args, "micro_batch", 0),
                       int_field(args, "direction", 0), int_field(args, "stage", 0), ts,
                       ts + e.value("dur", 0.0)});
    }
  }
  std::stable_sort(spans.begin(), spans.end(), [](const Bar& a, const Bar& b) {
    return std::tie(a.pid, a.tid, a.start) < std::tie(b.pid, b.tid, b.start);
  });
  std::vector<Bar> bars;
  for (const Bar& s : spans) {
    if (!bars.empty()) {
      Bar& last = bars.back();
      if (last.pid == s.pid && last.tid == s.tid && last.kind == s.kind &&
          last.micro_batch == s.micro_batch && last.direction == s.direction &&
          s.start <= last.end + 1e-3) {
        last.end = std::max(last.end, s.end);
        continue;
      }
    }
    bars.push_back(s);
  }
  // Lanes top to bottom: GPUs in order, compute above communication.
  std::vector<std::string> lanes;
  auto lane_of = [&](int pid, int tid) {
    std::string gpu = gpu_name.count(pid) ? gpu_name[pid] : fmt::format("GPU {}", pid);
    const std::size_t paren = gpu.find(" (pipeline rank ");
    if (paren != std::string::npos) {
      const std::size_t end = gpu.find(',', paren);
      gpu = "PP " + gpu.substr(paren + 16, end - paren - 16) + " · " + gpu.substr(0, paren);
    }
    std::string stream =
        stream_name.count({pid, tid}) ? stream_name[{pid, tid}] : fmt::format("stream {}", tid);
    stream = stream.substr(0, stream.find(" ("));
    return gpu + " · " + stream;
  };
  Json values = Json::array();
  double end_ms = 0;
  for (const Bar& b : bars) {
    const std::string lane = lane_of(b.pid, b.tid);
    if (std::find(lanes.begin(), lanes.end(), lane) == lanes.end()) lanes.push_back(lane);
    values.push_back({{"lane", lane},
                      {"kind", b.kind},
                      {"micro_batch", b.micro_batch},
                      {"direction", b.direction},
                      {"start_ms", std::round(b.start * 10) / 1e4},
                      {"end_ms", std::round(b.end * 10) / 1e4}});
    end_ms = std::max(end_ms, b.end / 1e3);
  }
  const Json other = t.value("otherData", Json::object());
  page.heading(2, "Timeline: " + other.value("scenario", in.path));
  page.paragraph(fmt::format(
      "From {}: {} spans of {} GPUs drawn as {} operations over {} ms. Drag to pan, scroll to "
      "zoom in time; hover for the micro-batch.",
      in.path, spans.size(), gpu_name.size(), bars.size(), num(end_ms)));
  if (values.empty()) {
    page.paragraph("The trace holds no spans.");
    return;
  }
  page.chart(
      {{"title", "Streams of one pipeline over the step"},
       {"width", 1100},
       {"height", {{"step", 16}}},
       {"data", {{"values", values}}},
       {"mark", {{"type", "bar"}, {"tooltip", true}}},
       {"params", Json::array({{{"name", "zoom"},
                                {"select", {{"type", "interval"}, {"encodings", {"x"}}}},
                                {"bind", "scales"}}})},
       {"encoding",
        {{"y", {{"field", "lane"}, {"type", "nominal"}, {"sort", lanes}, {"title", nullptr}}},
         {"x",
          {{"field", "start_ms"}, {"type", "quantitative"}, {"title", "ms from the step's start"}}},
         {"x2", {{"field", "end_ms"}}},
         {"color",
          {{"field", "kind"},
           {"type", "nominal"},
           {"legend", {{"orient", "bottom"}, {"title", nullptr}}}}},
         {"tooltip", Json::array({{{"field", "kind"}},
                                  {{"field", "micro_batch"}},
                                  {{"field", "direction"}},
                                  {{"field", "start_ms"}},
                                  {{"field", "end_ms"}}})}}}},
      "canvas");
}

// Whether a larger value of an output is better.
bool larger_is_better(const std::string& key) {
  for (const char* good : {"mfu", "tflops", "tokens_per", "throughput", "achieved"}) {
    if (key.find(good) != std::string::npos) return true;
  }
  return false;
}

bool is_number(const std::string& text, double& value) {
  std::istringstream in(text);
  in >> value;
  return !in.fail() && in.eof();
}

void sweep_section(ReportPage& page, const Input& in) {
  const Json& m = in.manifest;
  const Json& table = in.table;
  // Axes: the keys whose values differ between points; the rest were set on every point alike.
  std::vector<std::string> keys;
  std::map<std::string, std::set<std::string>> seen;
  for (const Json& p : m["points"]) {
    const Json sets = p.value("sets", Json::object());
    for (const auto& [key, value] : sets.items()) {
      if (!seen.count(key)) keys.push_back(key);
      seen[key].insert(cell(value));
    }
  }
  std::vector<std::string> axes, fixed;
  for (const auto& k : keys) (seen[k].size() > 1 ? axes : fixed).push_back(k);
  std::vector<std::string> outputs;
  if (!table.empty()) {
    for (const auto& [key, value] : table[0].items()) {
      if (key != "point" && key != "error" && !seen.count(key)) outputs.push_back(key);
    }
  }
  const std::string name = fs::path(m.value("sweep", in.path)).stem().string();
  page.heading(2, "Sweep: " + name);
  std::size_t failed = 0;
  for (const Json& row : table) failed += row.value("error", Json()).is_null() ? 0 : 1;
  page.paragraph(fmt::format(
      "From {}: {} points of {} ({} engine){}, {} failed. Axes: {}.{}", in.path, table.size(),
      m.value("base", ""), m.value("engine", ""), fixed.empty() ? "" : " with the same sets",
      failed, axes.empty() ? "none" : fmt::format("{}", fmt::join(axes, ", ")),
      fixed.empty() ? "" : fmt::format(" Set on every point: {}.", fmt::join(fixed, ", "))));

  // The best point by the first output.
  int best = -1;
  std::string best_key;
  for (const auto& o : outputs) {
    bool numeric = false;
    for (const Json& row : table) numeric |= row[o].is_number();
    if (!numeric) continue;
    best_key = o;
    const bool larger = larger_is_better(o);
    for (std::size_t i = 0; i < table.size(); ++i) {
      if (!table[i][o].is_number()) continue;
      const double v = table[i][o].get<double>();
      if (best < 0 ||
          (larger ? v > table[best][o].get<double>() : v < table[best][o].get<double>())) {
        best = int(i);
      }
    }
    break;
  }
  if (best >= 0) {
    std::vector<std::string> where;
    for (const auto& a : axes) where.push_back(a + " = " + cell(table[best][a]));
    page.paragraph(fmt::format("Best point by {} ({} is better): {} ({}), {} = {}.", best_key,
                               larger_is_better(best_key) ? "larger" : "smaller",
                               cell(table.at(best).at("point")), fmt::join(where, ", "), best_key,
                               cell(table[best][best_key])));
  }
  std::vector<std::string> header = {"point"};
  header.insert(header.end(), axes.begin(), axes.end());
  header.insert(header.end(), outputs.begin(), outputs.end());
  header.push_back("error");
  std::vector<std::vector<std::string>> rows;
  for (const Json& row : table) {
    std::vector<std::string> r;
    for (const auto& h : header) r.push_back(cell(row.value(h, Json())));
    rows.push_back(std::move(r));
  }
  page.table(header, rows, best);

  // Each output against each axis; the other axes as series.
  for (const auto& o : outputs) {
    for (const auto& axis : axes) {
      bool numeric_axis = true;
      for (const auto& v : seen[axis]) {
        double x;
        numeric_axis &= is_number(v, x);
      }
      Json values = Json::array();
      for (std::size_t i = 0; i < table.size(); ++i) {
        const Json& row = table[i];
        if (!row[o].is_number()) continue;
        std::vector<std::string> series;
        for (const auto& other : axes) {
          if (other != axis) series.push_back(other + "=" + cell(row[other]));
        }
        Json v = {{"point", cell(row.at("point"))},
                  {"series", series.empty() ? std::string("all")
                                            : fmt::format("{}", fmt::join(series, ", "))},
                  {"y", row[o]},
                  {"best", int(i) == best}};
        double x = 0;
        if (numeric_axis && is_number(cell(row[axis]), x)) {
          v["x"] = x;
        } else {
          v["x"] = cell(row.at(axis));
        }
        values.push_back(std::move(v));
      }
      if (values.empty()) continue;
      const Json x = {{"field", "x"},
                      {"type", numeric_axis ? "quantitative" : "nominal"},
                      {"title", axis},
                      {"sort", nullptr}};
      const Json y = {{"field", "y"}, {"type", "quantitative"}, {"title", o}};
      const Json color = {{"field", "series"}, {"type", "nominal"}, {"title", nullptr}};
      Json main;
      if (numeric_axis) {
        main = {{"mark", {{"type", "line"}, {"point", true}, {"tooltip", true}}},
                {"encoding", {{"x", x}, {"y", y}, {"color", color}}}};
      } else {
        main = {{"mark", {{"type", "bar"}, {"tooltip", true}}},
                {"encoding",
                 {{"x", x}, {"y", y}, {"color", color}, {"xOffset", {{"field", "series"}}}}}};
      }
      Json mark_best = {{"transform", Json::array({{{"filter", "datum.best"}}})},
                        {"mark",
                         {{"type", "point"},
                          {"shape", "diamond"},
                          {"size", 260},
                          {"filled", true},
                          {"color", "#d40000"},
                          {"tooltip", true}}},
                        {"encoding", {{"x", x}, {"y", y}}}};
      if (!numeric_axis) mark_best["encoding"]["xOffset"] = {{"field", "series"}};
      page.chart({{"title", o + " against " + axis + (best >= 0 ? " (red: best point)" : "")},
                  {"width", 420},
                  {"height", 240},
                  {"data", {{"values", values}}},
                  {"layer", Json::array({main, mark_best})}});
    }
  }

  // The step breakdown of every finished point.
  std::vector<std::pair<std::string, Json>> bars;
  for (const Json& row : table) {
    const std::string id = cell(row.at("point"));
    const auto it = in.point.find(id);
    if (it == in.point.end() || !it->second.contains("breakdown_s")) continue;
    std::vector<std::string> where;
    for (const auto& a : axes) where.push_back(cell(row[a]));
    bars.push_back({fmt::format("{} {}", id, fmt::join(where, " ")), it->second.at("breakdown_s")});
  }
  if (!bars.empty()) {
    page.heading(3, "Step breakdown per point");
    page.chart(breakdown_chart("Step time by part (s)", bars));
  }
}

}  // namespace

std::vector<std::string> report_scripts(const std::string& assets) {
  std::vector<std::string> scripts;
  for (const auto& s : kScripts) {
    const fs::path file = fs::path(assets) / s;
    std::string text = read_text(file.string());
    if (text.empty()) {
      throw ScenarioError({file.string()}, "--assets",
                          "the report's chart renderer is not installed here",
                          "run scripts/setup.sh (it runs npm ci in report/), or give --assets a "
                          "node_modules folder with vega, vega-lite and vega-embed");
    }
    scripts.push_back(std::move(text));
  }
  return scripts;
}

std::string default_report_assets() {
  return repository_path("report/node_modules");
}

namespace {

ReportInput read_input(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw input_error(path, "no such file or folder");
  Input in;
  in.path = path;
  if (fs::is_directory(path, ec)) {
    in.kind = Input::Kind::kSweep;
    const fs::path dir(path);
    for (const char* name : {"sweep.json", "table.json"}) {
      if (!fs::exists(dir / name)) {
        throw input_error(path, fmt::format("a folder without {}: not a finished codesim sweep "
                                            "(run the sweep to the end first)",
                                            name));
      }
    }
    in.manifest = parse_json_file((dir / "sweep.json").string());
    in.table = parse_json_file((dir / "table.json").string());
    if (!in.manifest.contains("points") || !in.table.is_array()) {
      throw input_error(path, "sweep.json or table.json is not a codesim sweep's");
    }
    for (const Json& p : in.manifest["points"]) {
      const std::string id = p.value("id", "");
      const fs::path result = dir / "points" / (id + ".json");
      if (!id.empty() && fs::exists(result)) in.point[id] = parse_json_file(result.string());
    }
    return in;
  }
  if (const std::string problem = unreadable_reason(path); !problem.empty()) {
    throw input_error(path, "cannot read it (" + problem + ")");
  }
  if (fs::file_size(path, ec) == 0 && !ec) {
    throw input_error(path, "an empty file");
  }
  in.json = parse_json_file(path);
  if (in.json.is_object() && in.json.contains("traceEvents")) {
    in.kind = Input::Kind::kTrace;
  } else if (in.json.is_object() && in.json.contains("step_time_s")) {
    in.kind = Input::Kind::kResult;
  } else if (in.json.is_object() && in.json.contains("tpot_ms") && in.json.contains("layout")) {
    in.kind = Input::Kind::kServe;
  } else {
    throw input_error(path,
                      "JSON that is neither a result (step_time_s, or infer's tpot_ms) nor a trace "
                      "(traceEvents)");
  }
  return in;
}

}  // namespace

ReportInput read_report_input(const std::string& path) {
  try {
    return read_input(path);
  } catch (const Json::exception& e) {
    throw field_error(path, e);
  }
}

// An input's JSON may not be what codesim writes (edited by hand, or another program's): a field
// of the wrong type met while reading it is bad input naming the file, not an internal error.
template <class F>
auto reading(const Input& in, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Json::exception& e) {
    throw field_error(in.path, e);
  } catch (const BadJsonField& e) {
    throw field_error(in.path, e);
  }
}

int write_report(const std::vector<ReportInput>& read, const std::string& out_path,
                 const std::string& assets, const std::string& reference_path) {
  // Everything is read and checked before anything is written.
  const std::vector<std::string> scripts = report_scripts(assets);
  const YAML::Node reference = load_yaml_file(reference_path, "reference file",
                                              "validation/reference/published.yaml of codesim");

  std::vector<std::string> names;
  for (const Input& in : read) {
    names.push_back(reading(in, [&] {
      return in.kind == Input::Kind::kSweep
                 ? fs::path(in.manifest.value("sweep", in.path)).stem().string()
                 : in.json.value(
                       "scenario",
                       in.json.value("otherData", Json::object()).value("scenario", in.path));
    }));
  }
  ReportPage page("codesim report: " + fmt::format("{}", fmt::join(names, ", ")));
  page.heading(1, "codesim report");
  std::vector<std::string> paths;
  for (const Input& in : read) paths.push_back(in.path);
  page.paragraph(fmt::format("{} input{}: {}.", read.size(), read.size() == 1 ? "" : "s",
                             fmt::join(paths, ", ")));
  std::vector<std::pair<std::string, Json>> results;
  for (const Input& in : read) {
    if (in.kind == Input::Kind::kResult) {
      reading(in, [&] {
        results.push_back({in.json.value("scenario", in.path) + " (" + in.path + ")",
                           in.json.value("breakdown_s", Json::object())});
      });
    }
  }
  if (results.size() > 1) {
    page.heading(2, "The results side by side");
    page.chart(breakdown_chart("Step time by part (s)", results));
  }
  for (const Input& in : read) {
    reading(in, [&] {
      switch (in.kind) {
        case Input::Kind::kResult:
          result_section(page, in, reference);
          break;
        case Input::Kind::kTrace:
          trace_section(page, in);
          break;
        case Input::Kind::kSweep:
          sweep_section(page, in);
          break;
        case Input::Kind::kServe:
          serve_section(page, in);
          break;
      }
    });
  }
  write_file_atomically(out_path, page.html(scripts));
  return page.charts();
}

int run_report(const std::vector<std::string>& args) {
  po::options_description options("codesim report INPUT... --out FILE.html [options]");
  std::vector<std::string> inputs;
  std::string out_path;
  std::string assets = default_report_assets();
  std::string reference_path = default_reference_path();
  options.add_options()("help,h", "show this help")("out", po::value<std::string>(&out_path),
                                                    "the HTML file to write (required)")(
      "assets", po::value<std::string>(&assets),
      "the folder holding vega, vega-lite and vega-embed (default: this repository's "
      "report/node_modules, installed by scripts/setup.sh)")(
      "reference", po::value<std::string>(&reference_path),
      "the published figures (default: this repository's validation/reference/published.yaml)");
  po::options_description hidden;
  hidden.add_options()("input", po::value<std::vector<std::string>>(&inputs));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("input", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error("report", e.what());
  }
  if (vm.count("help")) {
    std::cout << options << "\nINPUT: " << kInputs << " (any number, in the report's order).\n";
    return kExitOk;
  }
  if (inputs.empty()) {
    return usage_error("report", std::string("no input; give ") + kInputs);
  }
  if (out_path.empty()) {
    std::cerr << "codesim report: error: --out FILE.html is required\n";
    return kExitBadInput;
  }

  check_output_file("--out", out_path);
  report_scripts(assets);  // a missing renderer is reported before the inputs are read
  std::vector<Input> read;
  for (const auto& path : inputs) read.push_back(read_report_input(path));
  const int charts = write_report(read, out_path, assets, reference_path);
  std::cout << fmt::format("codesim report: {} charts from {} input{} into {}\n", charts,
                           read.size(), read.size() == 1 ? "" : "s", out_path);
  return kExitOk;
}

}  // namespace codesim::cli
