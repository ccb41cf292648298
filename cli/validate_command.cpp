#include "cli/validate_command.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <iostream>

#include "cli/command_line.hpp"
#include "cli/progress.hpp"
#include "cli/registry.hpp"
#include "cli/scenario_error.hpp"
#include "cli/scenario_loader.hpp"
#include "cli/topo_command.hpp"
#include "cli/validation_rows.hpp"
#include "models/llm_math.hpp"
#include "topologies/structure.hpp"
#include "workloads/inference/serve_estimate.hpp"
#include "workloads/step/analytic_step_model.hpp"
#include "workloads/step/event_step_model.hpp"
#include "workloads/training/training_estimate.hpp"

namespace codesim::cli {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;

using Rows = ValidationRows;
using Row = ValidationRow;

const models::ModelConfig* preset(const std::string& name) {
  return model_registry().find(name);
}

void model_rows(const YAML::Node& reference, Rows& rows) {
  for (const auto& entry : reference["params"]) {
    const std::string name = entry.first.as<std::string>();
    const models::ModelConfig* m = preset(name);
    if (!m) continue;
    const models::ParamCounts c = models::count_params(*m);
    const YAML::Node p = entry.second;
    const std::string paper = model_source(name);
    if (p["total"]) {
      rows.add(name + " parameters, total", paper, p["total"].as<double>(), double(c.total));
    }
    if (p["activated"]) {
      rows.add(name + " parameters, activated per token", paper, p["activated"].as<double>(),
               double(c.activated));
    }
    if (p["activated_precise"]) {
      rows.add(name + " parameters, activated (released weights)", "v3_weights",
               p["activated_precise"].as<double>(), double(c.activated));
    }
    if (p["mtp_unique"]) {
      rows.add(name + " MTP module parameters", "v3_weights", p["mtp_unique"].as<double>(),
               double(c.mtp));
    }
  }
  const YAML::Node math = reference["expected_model_math"];
  for (const auto& entry : math["kv_cache_bytes_per_token_bf16"]) {
    const std::string name = entry.first.as<std::string>();
    if (const models::ModelConfig* m = preset(name)) {
      rows.add(name + " KV cache bytes per token (BF16)", "isca25", entry.second.as<double>(),
               double(models::kv_cache_bytes_per_token(*m)));
    }
  }
  // isca25 Table 2 names its dense models by family; the presets closest to them.
  const std::vector<std::pair<std::string, std::string>> table2 = {
      {"deepseek-v2", "deepseek-v2"},
      {"deepseek-v3", "deepseek-v3"},
      {"qwen-72b-dense", "qwen2.5-72b"},
      {"llama-405b-dense", "llama-3.1-405b"}};
  for (const auto& [published, name] : table2) {
    const YAML::Node value = math["training_gflops_per_token_seq4096"][published];
    const models::ModelConfig* m = preset(name);
    if (!value || !m) continue;
    rows.add(published + " training GFLOPs per token, seq 4096 (" + name + ")", "isca25",
             value.as<double>(),
             models::train_flops_per_token(*m, 4096, models::AttentionMask::kCausal) / 1e9);
  }
  if (const YAML::Node v = math["training_gflops_per_token_seq4096_noncausal"]["deepseek-v3"]) {
    rows.add(
        "deepseek-v3 training GFLOPs per token, seq 4096, non-causal", "isca25", v.as<double>(),
        models::train_flops_per_token(*preset("deepseek-v3"), 4096, models::AttentionMask::kFull) /
            1e9);
  }
}

void topology_rows(const YAML::Node& reference, const fs::path& examples, Rows& rows) {
  for (const auto& entry : reference["topologies"]["structure"]) {
    const std::string kind = entry.first.as<std::string>();
    const YAML::Node row = entry.second;
    const fs::path file = examples / "topologies" / (row["example"].as<std::string>() + ".yaml");
    const TopologyRequest request = load_topology_request(file.string());
    const topo::Structure s = topo::measure(topo::build_topology(request.params));
    rows.add(kind + " endpoints", "isca25", row["endpoints"].as<double>(), double(s.endpoints));
    rows.add(kind + " switches", "isca25", row["switches"].as<double>(), double(s.switches));
    rows.add(kind + " switch-to-switch links", "isca25", row["links"].as<double>(),
             double(s.links));
  }
}

// DeepSeek-V3 decode with MTP against without, on the decode example (v3_report sec 3.4.2's
// layout), at the low end of the published acceptance: the TPS speed-up sec 5.4.3 reports.
void inference_rows(const YAML::Node& reference, const fs::path& examples,
                    const std::string& engine, Rows& rows) {
  const YAML::Node v3 = reference["inference_v3"];
  if (!v3) return;
  const double acceptance = v3["mtp_second_token_acceptance"][0].as<double>();
  const std::string path = (examples / "serve" / "deepseek-v3-decode-h800-320.yaml").string();
  const auto with = load_inference_scenario(
      path, {"serve.mtp.depth=1", "serve.mtp.acceptance=" + std::to_string(acceptance)});
  const auto without = load_inference_scenario(path, {"serve.mtp.depth=0"});
  const bool event = engine == "event";
  const double speedup = workloads::estimate_serving(with, event).tokens_per_s_per_gpu /
                         workloads::estimate_serving(without, event).tokens_per_s_per_gpu;
  rows.add(fmt::format("deepseek-v3 decode TPS with MTP over without (acceptance {}, {} engine)",
                       acceptance, engine),
           "v3_report", v3["mtp_tps_speedup"].as<double>(), speedup);
}

void training_rows(const YAML::Node& reference, const fs::path& examples, const std::string& engine,
                   Rows& rows) {
  const YAML::Node v3 = reference["training_v3"];
  const auto scenario =
      load_training_scenario((examples / "deepseek-v3-h800-2048.yaml").string(), {});
  const workloads::AnalyticStepModel analytic;
  workloads::EventStepModel event;
  ProgressLine progress;
  if (progress.enabled() && engine == "event") {
    event.set_progress(
        step_watcher(progress, "codesim validate: deepseek-v3-h800-2048",
                     analytic.step(scenario, scenario.plan.global_batch_sequences).step_time_s));
  }
  const workloads::StepTimeModel& model =
      engine == "event" ? static_cast<const workloads::StepTimeModel&>(event) : analytic;
  const auto e =
      workloads::estimate_training(scenario, model, engine == "event" ? &analytic : nullptr);
  progress.clear();
  const std::string how = " (" + engine + " engine)";
  rows.add("deepseek-v3 pre-training GPU-hours, 14.8T tokens" + how, "v3_report",
           v3["pretraining_gpu_hours"].as<double>(), e.gpu_hours_total);
  rows.add("deepseek-v3 GPU-hours per trillion tokens" + how, "v3_report",
           v3["gpu_hours_per_trillion_tokens"].as<double>(), e.gpu_hours_per_trillion_tokens);
}

}  // namespace

int run_validate(const std::vector<std::string>& args) {
  po::options_description options("codesim validate [options]");
  std::string json_path;
  std::string engine = "event";
  std::string reference_path = default_reference_path();
  options.add_options()("help,h", "show this help")("json", po::value<std::string>(&json_path),
                                                    "write the rows as JSON to FILE")(
      "engine", po::value<std::string>(&engine),
      "event (the default) or analytic, for the training rows")(
      "reference", po::value<std::string>(&reference_path),
      "the published figures (default: this repository's validation/reference/published.yaml)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error("validate", e.what());
  }
  if (vm.count("help")) {
    std::cout << options;
    return kExitOk;
  }
  if (engine != "event" && engine != "analytic") {
    std::cerr << "codesim validate: error: --engine '" << engine
              << "' is not an engine; valid: analytic, event\n";
    return kExitBadInput;
  }
  if (!json_path.empty()) check_output_file("--json", json_path);
  const YAML::Node reference = load_yaml_file(
      reference_path, "reference file", "validation/reference/published.yaml of this repository");
  // The examples beside the reference file: <repository>/validation/reference/.. /../examples.
  const fs::path examples = fs::path(reference_path).parent_path() / ".." / ".." / "examples";

  Rows rows(reference);
  try {
    model_rows(reference, rows);
    topology_rows(reference, examples, rows);
    training_rows(reference, examples, engine, rows);
    inference_rows(reference, examples, engine, rows);
  } catch (const YAML::Exception& e) {
    // A --reference file that is YAML but not the published figures this version reads.
    throw ScenarioError({reference_path, e.mark.is_null() ? 0 : e.mark.line + 1}, "",
                        "not the reference file this codesim reads: " + e.msg,
                        "validation/reference/published.yaml of this repository");
  }

  std::string out =
      fmt::format("codesim validate: {} published figures, simulated now\n", rows.rows().size());
  out += fmt::format("  {:<72} {:>12} {:>12} {:>8}  {}\n", "figure", "published", "codesim",
                     "error", "source");
  nlohmann::ordered_json j;
  j["engine"] = engine;
  j["rows"] = nlohmann::ordered_json::array();
  for (const Row& r : rows.rows()) {
    out += fmt::format("  {:<72} {:>12.6g} {:>12.6g} {:>+7.1f}%  {}\n", r.figure, r.published,
                       r.predicted, 100 * r.error(), r.source.substr(0, r.source.find(':')));
    j["rows"].push_back({{"figure", r.figure},
                         {"published", r.published},
                         {"predicted", r.predicted},
                         {"error", r.error()},
                         {"source", r.source}});
  }
  if (!json_path.empty()) write_file_atomically(json_path, j.dump(2) + "\n");
  std::cout << out;
  return kExitOk;
}

}  // namespace codesim::cli
