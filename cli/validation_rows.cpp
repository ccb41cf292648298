#include "cli/validation_rows.hpp"

#include "cli/command_line.hpp"
#include "cli/json_fields.hpp"

namespace codesim::cli {

void ValidationRows::add(std::string figure, const std::string& source, double published,
                         double predicted) {
  const YAML::Node text = sources_[source];
  rows_.push_back({std::move(figure), text ? source + ": " + text.as<std::string>() : source,
                   published, predicted});
}

std::string default_reference_path() {
  return repository_path("validation/reference/published.yaml");
}

std::string model_source(const std::string& preset) {
  return preset.starts_with("deepseek-v2") ? "v2_report"
         : preset.starts_with("gpt3")      ? "gpt3"
         : preset.starts_with("mt-nlg")    ? "mtnlg"
         : preset.starts_with("megatron")  ? "megatron_sc21"
         : preset.starts_with("mixtral")   ? "mixtral"
         : preset.starts_with("llama-3-")  ? "llama3"
                                           : "v3_report";
}

std::vector<ValidationRow> result_rows(const YAML::Node& reference, const nlohmann::json& result) {
  ValidationRows rows(reference);
  const nlohmann::json model = result.value("model", nlohmann::json::object());
  const nlohmann::json plan = result.value("plan", nlohmann::json::object());
  const std::string name = model.value("name", "");
  if (const YAML::Node p = reference["params"][name]) {
    const std::string paper = model_source(name);
    const double total = model.value("params_total", 0.0);
    const double activated = model.value("params_activated", 0.0);
    if (p["total"]) rows.add(name + " parameters, total", paper, p["total"].as<double>(), total);
    if (p["activated"]) {
      rows.add(name + " parameters, activated per token", paper, p["activated"].as<double>(),
               activated);
    }
    if (p["activated_precise"]) {
      rows.add(name + " parameters, activated (released weights)", "v3_weights",
               p["activated_precise"].as<double>(), activated);
    }
    if (p["mtp_unique"]) {
      rows.add(name + " MTP module parameters", "v3_weights", p["mtp_unique"].as<double>(),
               model.value("params_mtp", 0.0));
    }
  }
  if (const YAML::Node kv =
          reference["expected_model_math"]["kv_cache_bytes_per_token_bf16"][name]) {
    rows.add(name + " KV cache bytes per token (BF16)", "isca25", kv.as<double>(),
             model.value("kv_cache_bytes_per_token", 0.0));
  }
  const YAML::Node v3 = reference["training_v3"];
  const std::string gpu = plan.value("gpu", "");
  if (name == "deepseek-v3" && v3 && int_field(plan, "gpus", 0) == v3["gpus"].as<int>() &&
      gpu.find("h800") != std::string::npos) {
    const std::string engine = result.value("sim", nlohmann::json::object()).value("engine", "");
    const std::string how = " (" + engine + " engine)";
    rows.add("deepseek-v3 pre-training GPU-hours, 14.8T tokens" + how, "v3_report",
             v3["pretraining_gpu_hours"].as<double>(), result.value("gpu_hours_total", 0.0));
    rows.add("deepseek-v3 GPU-hours per trillion tokens" + how, "v3_report",
             v3["gpu_hours_per_trillion_tokens"].as<double>(),
             result.value("gpu_hours_per_trillion_tokens", 0.0));
  }
  return rows.rows();
}

}  // namespace codesim::cli
