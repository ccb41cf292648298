#include "cli/scenario_loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>
#include <regex>
#include <sstream>

#include "cli/calibration_reader.hpp"
#include "cli/command_line.hpp"
#include "cli/failure_reader.hpp"
#include "cli/registry.hpp"
#include "cli/yaml_reader.hpp"
#include "workloads/inference/serve_costs.hpp"
#include "workloads/inference/serve_estimate.hpp"
#include "workloads/network/cluster_network.hpp"
#include "workloads/pipeline/bubble.hpp"
#include "workloads/pipeline/pipeline_map.hpp"
#include "workloads/step/stage_balance.hpp"
#include "workloads/training/scenario_check.hpp"

namespace codesim::cli {
namespace {

using workloads::TrainingScenario;

// --- overrides -----------------------------------------------------------------------------

std::map<std::string, std::string> apply_overrides(YAML::Node& root,
                                                   const std::vector<std::string>& sets) {
  static const std::regex kKey(R"([A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z_][A-Za-z0-9_\-]*)*)");
  std::map<std::string, std::string> origins;
  for (const auto& set : sets) {
    const std::string where = "--set " + set;
    const auto eq = set.find('=');
    if (eq == std::string::npos) {
      throw ScenarioError({where}, "", "expected --set dotted.key=value",
                          "e.g. --set plan.pp=8 --set cluster.topology.planes=4");
    }
    const std::string key = set.substr(0, eq);
    const std::string text = set.substr(eq + 1);
    if (!std::regex_match(key, kKey)) {
      throw ScenarioError({where}, key, "not a dotted key path", "e.g. plan.pp");
    }
    YAML::Node value;
    try {
      value = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw ScenarioError({where}, key, "value is not valid YAML: " + e.msg);
    }
    check_yaml_document(value, where, key);
    std::vector<std::string> parts;
    std::stringstream stream(key);
    for (std::string part; std::getline(stream, part, '.');) parts.push_back(part);
    YAML::Node node = root;
    std::string path;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      path += (path.empty() ? "" : ".") + parts[i];
      YAML::Node child = node[parts[i]];
      if (child && child.IsScalar() && (path == "model" || path == "cluster.gpu")) {
        // A preset named by a scalar becomes a map so that its fields can be overridden.
        const std::string preset = child.Scalar();
        YAML::Node expanded(YAML::NodeType::Map);
        expanded["preset"] = preset;
        node[parts[i]] = expanded;
        child.reset(node[parts[i]]);
      } else if (child && !child.IsMap()) {
        throw ScenarioError({where}, path, "is not a map, so it has no key '" + parts[i + 1] + "'");
      } else if (!child) {
        node[parts[i]] = YAML::Node(YAML::NodeType::Map);
        child.reset(node[parts[i]]);
      }
      node.reset(child);
    }
    node[parts.back()] = value;
    origins[key] = where;
  }
  return origins;
}

// --- problems ------------------------------------------------------------------------------

// Where a scenario file says what a problem is about.
std::string key_of(const workloads::ScenarioProblem& problem) {
  using F = workloads::ScenarioField;
  switch (problem.field) {
    case F::kNodeNics:
      return "cluster.node.nics";
    case F::kTopologyKind:
      return "cluster.topology.kind";
    case F::kTopology:
      switch (problem.topology_param) {
        case topo::TopologyParam::kNodes:
          return "cluster.nodes";
        case topo::TopologyParam::kNicsPerNode:
          return "cluster.node.nics";
        case topo::TopologyParam::kLink:
          return "cluster.node.nic";
        case topo::TopologyParam::kSwitchRadix:
          return "cluster.topology.switch_radix";
        case topo::TopologyParam::kOversubscription:
          return "cluster.topology.oversubscription";
        case topo::TopologyParam::kPlanes:
          return "cluster.topology.planes";
        default:
          return "cluster.topology";  // a parameter training scenarios do not set
      }
    case F::kRedundantExperts:
      return "plan.routing.redundant_experts";
    case F::kPipelineParallel:
      return "plan.pp";
    case F::kVirtualStages:
      return "plan.virtual_stages";
    case F::kTensorParallel:
      return "plan.tp";
    case F::kContextParallel:
      return "plan.cp";
    case F::kSequenceParallel:
      return "plan.sequence_parallel";
    case F::kExpertParallel:
      return "plan.ep";
    case F::kMaxNodesPerToken:
      return "plan.max_nodes_per_token";
    case F::kStageLayers:
      return "plan.stage_layers";
    case F::kGlobalBatch:
      return "plan.global_batch";
    case F::kCommSms:
      return "plan.comm_sms";
    case F::kPrecision:
      return "plan.precision";
    case F::kRecompute:
      return "plan.recompute";
    case F::kRampTokens:
      return "plan.batch_ramp.over_tokens";
    case F::kPlan:
      return "plan";
  }
  return "plan";
}

// The problem as the user reads it: names filled in from the registry.
void fail_on(const YamlContext& ctx, const YAML::Node& root, const TrainingScenario& s,
             const workloads::ScenarioProblem& problem) {
  std::string message = problem.message;
  std::string valid = problem.valid;
  if (problem.field == workloads::ScenarioField::kTopologyKind) {
    message = "a training cluster cannot be built on '" +
              topology_registry().name_of(s.cluster.fabric.kind) + "' yet (" + message + ")";
    std::vector<std::string> trainable;
    for (const auto& name : topology_registry().names()) {
      if (workloads::trainable_fabric(*topology_registry().find(name))) trainable.push_back(name);
    }
    valid = join(trainable);
  }
  ctx.fail(key_of(problem), root, message, valid);
}

// --- sections ------------------------------------------------------------------------------

std::vector<std::string> with(std::vector<std::string> names, const std::string& extra) {
  names.push_back(extra);
  return names;
}

models::GpuSpec read_gpu(const YamlContext& ctx, const YAML::Node& node) {
  const auto presets = gpu_registry().names();
  if (node.IsScalar()) {
    const std::string name = node.Scalar();
    if (const models::GpuSpec* gpu = gpu_registry().find(name)) return *gpu;
    const std::string guess = did_you_mean(name, presets);
    ctx.fail(
        "cluster.gpu", node,
        "unknown GPU '" + name + "'" + (guess.empty() ? "" : "; did you mean '" + guess + "'?"),
        join(presets));
  }
  MapReader r(
      ctx, node, "cluster.gpu",
      {"preset", "name", "sms", "bf16_dense", "fp8_dense", "hbm", "hbm_bandwidth", "nvlink"});
  models::GpuSpec gpu;
  if (r.has("preset")) {
    gpu = *gpu_registry().find(r.choice("preset", presets, std::nullopt));
  } else {
    gpu.source = "scenario";
  }
  const bool base = r.has("preset");
  auto opt = [&](double v) { return base ? std::optional<double>(v) : std::nullopt; };
  gpu.name = r.text("name", base ? gpu.name : "custom");
  gpu.sms = r.int_value("sms", base ? std::optional<long long>(gpu.sms) : std::nullopt);
  gpu.bf16_dense_tflops =
      r.quantity("bf16_dense", Quantity::kCompute, opt(gpu.bf16_dense_tflops * 1e12)) / 1e12;
  gpu.fp8_dense_tflops = r.has("fp8_dense")
                             ? r.quantity("fp8_dense", Quantity::kCompute, std::nullopt) / 1e12
                             : gpu.fp8_dense_tflops;
  const double hbm = r.quantity("hbm", Quantity::kDataSize, opt(double(gpu.hbm_bytes)));
  if (hbm > 0x1p62) r.fail("hbm", "too large for a GPU's memory", "e.g. 80GiB");
  gpu.hbm_bytes = int64_t(hbm);
  gpu.hbm_GBps = r.quantity("hbm_bandwidth", Quantity::kBandwidth, opt(gpu.hbm_GBps * 1e9)) / 1e9;
  gpu.nvlink_unidirectional_GBps =
      r.quantity("nvlink", Quantity::kBandwidth, opt(gpu.nvlink_unidirectional_GBps * 1e9)) / 1e9;
  return gpu;
}

void read_cluster(const YamlContext& ctx, const YAML::Node& node, TrainingScenario& s) {
  MapReader r(ctx, node, "cluster", {"gpu", "nodes", "node", "topology"});
  if (!r.has("gpu")) r.fail("gpu", "missing required key 'gpu'", join(gpu_registry().names()));
  s.gpu = read_gpu(ctx, r.node("gpu"));
  s.cluster.nodes = r.int_value("nodes", std::nullopt);
  s.cluster.node.nvlink_unidirectional_GBps = s.gpu.nvlink_unidirectional_GBps;
  if (r.has("node")) {
    MapReader n(ctx, r.node("node"), "cluster.node", {"gpus", "nvlink", "nics", "nic"});
    s.cluster.node.gpus = n.int_value("gpus", 8);
    s.cluster.node.nvlink_unidirectional_GBps =
        n.quantity("nvlink", Quantity::kBandwidth, s.gpu.nvlink_unidirectional_GBps * 1e9) / 1e9;
    s.cluster.node.nics = n.int_value("nics", s.cluster.node.gpus);
    s.cluster.node.nic_Gbps = n.quantity("nic", Quantity::kBandwidth, 400e9 / 8) * 8 / 1e9;
  }
  // GPUs and NICs are counted in ints everywhere past here.
  const long long ports =
      static_cast<long long>(s.cluster.nodes) * std::max(s.cluster.node.gpus, s.cluster.node.nics);
  if (ports > std::numeric_limits<int>::max()) {
    r.fail("nodes",
           fmt::format("{} nodes of {} GPUs and {} NICs make {} of them; codesim counts at most "
                       "{} GPUs or NICs",
                       s.cluster.nodes, s.cluster.node.gpus, s.cluster.node.nics, ports,
                       std::numeric_limits<int>::max()),
           "fewer nodes");
  }
  if (r.has("topology")) {
    MapReader t(ctx, r.node("topology"), "cluster.topology",
                {"kind", "planes", "switch_radix", "oversubscription", "failures"});
    s.cluster.fabric.kind =
        *topology_registry().find(t.choice("kind", topology_registry().names(), "mpft"));
    s.cluster.fabric.planes = t.int_value("planes", s.cluster.node.nics);
    s.cluster.fabric.switch_radix = t.int_value("switch_radix", 64, 2);
    s.cluster.fabric.oversubscription = t.number("oversubscription", 1.0);
    if (t.has("failures")) {
      const YAML::Node failures = t.node("failures");
      const std::string path = t.key_path("failures");
      s.cluster.fabric.failures = read_failures(ctx, failures, path);
    }
  }
}

models::ModelConfig read_model(const YamlContext& ctx, const YAML::Node& node) {
  auto presets = model_registry().names();
  const std::vector<std::string> choices = with(presets, "gpt");
  if (node.IsScalar()) {
    const std::string name = node.Scalar();
    if (name != "gpt") {
      if (const models::ModelConfig* model = model_registry().find(name)) return *model;
      const std::string guess = did_you_mean(name, choices);
      ctx.fail(
          "model", node,
          "unknown model '" + name + "'" + (guess.empty() ? "" : "; did you mean '" + guess + "'?"),
          join(presets) + ", or a map {preset: gpt, layers, hidden, heads, ffn_dim, vocab}");
    }
  }
  const std::vector<std::string> keys = {"preset",
                                         "name",
                                         "layers",
                                         "hidden",
                                         "vocab",
                                         "tied_embeddings",
                                         "heads",
                                         "kv_heads",
                                         "head_dim",
                                         "v_head_dim",
                                         "rope_head_dim",
                                         "kv_lora_rank",
                                         "q_lora_rank",
                                         "ffn",
                                         "ffn_dim",
                                         "dense_layers",
                                         "routed_experts",
                                         "shared_experts",
                                         "experts_per_token",
                                         "expert_ffn_dim",
                                         "expert_groups",
                                         "max_groups_per_token",
                                         "mtp_depth"};
  if (node.IsScalar()) {
    ctx.fail(
        "model", node, "the generic 'gpt' model needs its dimensions",
        "model: {preset: gpt, layers: 32, hidden: 4096, heads: 32, ffn_dim: 11008, vocab: 32000}");
  }
  MapReader r(ctx, node, "model", keys);
  const std::string preset = r.choice("preset", choices, "gpt");
  const bool gpt = preset == "gpt";
  models::ModelConfig m = gpt ? models::ModelConfig{} : *model_registry().find(preset);
  if (gpt) m.name = "gpt";
  auto dim = [&](const char* key, int current, long long min = 1) {
    return r.int_value(
        key, gpt && current == 0 && min > 0 ? std::nullopt : std::optional<long long>(current),
        min);
  };
  m.name = r.text("name", m.name);
  m.layers = dim("layers", m.layers);
  m.hidden = dim("hidden", m.hidden);
  m.vocab = dim("vocab", m.vocab);
  m.tied_embeddings = r.boolean("tied_embeddings", m.tied_embeddings);
  m.heads = dim("heads", m.heads);
  m.kv_heads = r.int_value("kv_heads", m.kv_heads > 0 ? m.kv_heads : m.heads);
  const int default_head_dim = m.head_dim > 0 ? m.head_dim : (m.heads > 0 ? m.hidden / m.heads : 0);
  m.head_dim = r.int_value("head_dim", default_head_dim);
  m.v_head_dim = r.int_value("v_head_dim", m.v_head_dim > 0 ? m.v_head_dim : m.head_dim);
  m.rope_head_dim = r.int_value("rope_head_dim", m.rope_head_dim, 0);
  m.kv_lora_rank = r.int_value("kv_lora_rank", m.kv_lora_rank, 0);
  m.q_lora_rank = r.int_value("q_lora_rank", m.q_lora_rank, 0);
  if (m.kv_lora_rank > 0) m.attention = models::AttentionKind::kMultiLatent;
  const std::string ffn =
      r.choice("ffn", {"swiglu", "gelu"}, m.ffn == models::FfnKind::kSwiGlu ? "swiglu" : "gelu");
  m.ffn = ffn == "swiglu" ? models::FfnKind::kSwiGlu : models::FfnKind::kGelu;
  m.ffn_dim = dim("ffn_dim", m.ffn_dim);
  m.routed_experts = r.int_value("routed_experts", m.routed_experts, 0);
  m.dense_layers = r.int_value("dense_layers", m.dense_layers, 0);
  m.shared_experts = r.int_value("shared_experts", m.shared_experts, 0);
  m.experts_per_token = r.int_value("experts_per_token", m.experts_per_token, 0);
  m.expert_ffn_dim = r.int_value("expert_ffn_dim", m.expert_ffn_dim, 0);
  m.expert_groups = r.int_value("expert_groups", m.expert_groups, 0);
  m.max_groups_per_token = r.int_value("max_groups_per_token", m.max_groups_per_token, 0);
  m.mtp_depth = r.int_value("mtp_depth", m.mtp_depth, 0);
  if (gpt) m.source = "scenario dimensions";
  if (m.is_moe()) {
    if (m.experts_per_token < 1 || m.experts_per_token > m.routed_experts) {
      r.fail("experts_per_token", "an MoE model needs 1 <= experts_per_token <= routed_experts (" +
                                      std::to_string(m.routed_experts) + ")");
    }
    if (m.expert_ffn_dim < 1) r.fail("expert_ffn_dim", "an MoE model needs expert_ffn_dim >= 1");
    if (m.dense_layers > m.layers) r.fail("dense_layers", "cannot exceed layers");
  }
  if (m.heads > 0 && m.kv_heads > 0 && m.heads % m.kv_heads != 0) {
    r.fail("kv_heads",
           fmt::format("{} query heads cannot be grouped over {} KV heads", m.heads, m.kv_heads),
           "a divisor of heads");
  }
  return m;
}

// A measured router's counts: a YAML file `{layers: [[tokens per expert], ...]}` (one row per MoE
// layer, repeated when the model has more), relative to the scenario file.
std::vector<std::vector<double>> read_expert_counts(const YamlContext& ctx, const MapReader& r,
                                                    int experts) {
  const YAML::Node node = r.node("counts");
  if (!node.IsScalar()) r.fail("counts", "'counts' names a file", "a path like counts.yaml");
  const auto file = std::filesystem::path(ctx.file()).parent_path() / node.Scalar();
  const YAML::Node root =
      load_yaml_file(file.string(), "expert counts file", "{layers: [[tokens per expert], ...]}");
  const YamlContext counts_ctx(file.string(), root, {});
  const MapReader top(counts_ctx, root, "", {"layers", "source"});
  if (!top.has("layers") || !top.node("layers").IsSequence() || top.node("layers").size() == 0) {
    top.fail("layers", "missing the list of per-layer counts", "layers: [[...], ...]");
  }
  std::vector<std::vector<double>> layers;
  const YAML::Node rows = top.node("layers");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const YAML::Node row = rows[i];
    const std::string where = fmt::format("layers[{}]", i);
    if (!row.IsSequence() || int(row.size()) != experts) {
      counts_ctx.fail(where, row,
                      fmt::format("a layer's counts must list every routed expert of the model "
                                  "({}), one number each",
                                  experts),
                      std::to_string(experts) + " non-negative numbers");
    }
    std::vector<double> counts;
    double sum = 0;
    for (std::size_t e = 0; e < row.size(); ++e) {
      double v = -1;
      if (!row[e].IsScalar() || !YAML::convert<double>::decode(row[e], v)) v = -1;
      if (!(v >= 0) || !std::isfinite(v)) {
        counts_ctx.fail(fmt::format("{}[{}]", where, e), row[e],
                        "a count must be a finite number >= 0, got '" +
                            (row[e].IsScalar() ? row[e].Scalar() : std::string("a list or map")) +
                            "'",
                        ">= 0");
      }
      counts.push_back(v);
      sum += v;
    }
    if (!(sum > 0) || !std::isfinite(sum)) {
      counts_ctx.fail(where, row,
                      !(sum > 0) ? "a layer's counts add up to zero"
                                 : "a layer's counts add up past what a double holds",
                      "token counts per expert, at least one > 0");
    }
    layers.push_back(std::move(counts));
  }
  return layers;
}

// A router: plan.routing of training, serve.routing of serving (whose redundant experts are
// serve.redundant_experts).
workloads::RoutingSpec read_routing(const YamlContext& ctx, const YAML::Node& node,
                                    const std::string& path, const models::ModelConfig& model,
                                    bool with_redundant) {
  std::vector<std::string> keys = {"model", "exponent", "seed",         "drift",
                                   "step",  "counts",   "sample_tokens"};
  if (with_redundant) keys.push_back("redundant_experts");
  MapReader routing(ctx, node, path, keys);
  workloads::RoutingSpec spec;
  using Kind = workloads::RoutingSpec::Kind;
  spec.kind =
      *routing_registry().find(routing.choice("model", routing_registry().names(), "balanced"));
  spec.exponent = routing.number("exponent", 1.0, 0, false);
  spec.seed = std::uint64_t(routing.integer("seed", 1, 0));
  spec.drift = routing.number("drift", 1.0, 0, false);
  spec.step = routing.integer("step", 0, 0);
  if (spec.kind == Kind::kMeasured) {
    if (!routing.has("counts")) {
      routing.fail("counts", "a measured router needs its per-layer expert token counts",
                   "counts: a file of {layers: [[count per expert], ...]}, relative to the "
                   "scenario");
    }
    spec.measured = read_expert_counts(ctx, routing, model.routed_experts);
  }
  if (with_redundant) spec.redundant_experts = routing.int_value("redundant_experts", 0, 0);
  spec.sample_tokens = routing.int_value("sample_tokens", 32768, 1);
  return spec;
}

void read_plan(const YamlContext& ctx, const YAML::Node& node, TrainingScenario& s) {
  MapReader r(ctx, node, "plan",
              {"pp", "virtual_stages", "ep", "tp", "cp", "sequence_parallel", "zero", "schedule",
               "sequence_length", "global_batch", "micro_batch", "batch_ramp", "tokens", "comm_sms",
               "max_nodes_per_token", "precision", "recompute", "stage_layers", "routing"});
  auto& p = s.plan;
  p.pp = r.int_value("pp", 1);
  p.ep = r.int_value("ep", 1);
  p.tp = r.int_value("tp", 1);
  p.cp = r.int_value("cp", 1);
  p.sequence_parallel = r.boolean("sequence_parallel", true);
  p.zero_stage = r.int_value("zero", 1, 0);
  if (p.zero_stage > 1) r.fail("zero", "only ZeRO stages 0 and 1 are modelled", "0, 1");
  p.schedule = *schedule_registry().find(r.choice("schedule", schedule_registry().names(), "1f1b"));
  p.virtual_stages = r.int_value("virtual_stages", 1);
  p.sequence_length = r.int_value("sequence_length", std::nullopt);
  p.global_batch_sequences = r.int_value("global_batch", std::nullopt);
  p.micro_batch_sequences = r.int_value("micro_batch", 1);
  if (r.has("batch_ramp")) {
    MapReader ramp(ctx, r.node("batch_ramp"), "plan.batch_ramp", {"from", "over_tokens"});
    p.ramp.from_sequences = ramp.int_value("from", std::nullopt);
    p.ramp.over_tokens = ramp.number("over_tokens", std::nullopt);
    if (p.ramp.from_sequences >= p.global_batch_sequences) {
      ramp.fail("from", fmt::format("the ramp must start below the global batch ({})",
                                    p.global_batch_sequences));
    }
  }
  p.tokens_total = r.number("tokens", std::nullopt);
  p.comm_sms = r.int_value("comm_sms", 0, 0);
  p.max_nodes_per_token = r.int_value("max_nodes_per_token", 0, 0);
  p.gemm_precision =
      *precision_registry().find(r.choice("precision", precision_registry().names(), "bf16"));
  if (r.has("recompute") && r.node("recompute").IsScalar()) {
    // Megatron-LM's granularities; selective is FlashAttention's own recomputation.
    p.recompute.full = r.choice("recompute", {"none", "selective", "full"}, "none") == "full";
  } else {
    for (const auto& item : r.choice_list("recompute", {"rmsnorm", "mla_up_projection"})) {
      if (item == "rmsnorm") p.recompute.rmsnorm = true;
      if (item == "mla_up_projection") p.recompute.mla_up_projection = true;
    }
  }
  if (r.has("stage_layers") && r.node("stage_layers").IsScalar()) {
    if (r.node("stage_layers").Scalar() != "auto") {
      r.fail("stage_layers", "expected auto or a list of layers per stage",
             "auto (balanced for work), or a list such as [4, 4, 4, 4]");
    }
    p.stage_layers_balanced = true;  // resolved once the model and plan are read
  } else {
    for (long long layers : r.integer_list("stage_layers", 0)) {
      p.stage_layers.push_back(int(layers));
    }
  }
  if (r.has("routing"))
    p.routing = read_routing(ctx, r.node("routing"), "plan.routing", s.model, true);
}

std::string divisors_of(int n) {
  std::string out;
  for (int d = 1; d <= n; ++d) {
    if (n % d == 0) out += (out.empty() ? "" : ", ") + std::to_string(d);
  }
  return out;
}

// The scenario's calibration file, or DeepSeek's published H800 figures.
models::Calibration read_calibration_of(const YamlContext& ctx, const MapReader& top,
                                        const std::string& path,
                                        const std::map<std::string, std::string>& origins) {
  return top.has("calibration")
             ? read_scenario_calibration(ctx, top, path, origins.count("calibration") > 0)
             : models::h800_published_calibration();
}

workloads::CostSpec read_cost(const YamlContext& ctx, const MapReader& top) {
  workloads::CostSpec cost;
  if (top.has("cost")) {
    MapReader c(ctx, top.node("cost"), "cost", {"usd_per_gpu_hour"});
    cost.usd_per_gpu_hour = c.number("usd_per_gpu_hour", 2.0, 0, false);
  }
  return cost;
}

void read_serve(const YamlContext& ctx, const YAML::Node& node, workloads::InferenceScenario& s) {
  using workloads::ServePhase;
  MapReader r(ctx, node, "serve",
              {"phase", "prompt_tokens", "output_tokens", "batch_per_gpu", "prefill_chunk_tokens",
               "attention_tp", "ep", "redundant_experts", "max_nodes_per_token", "micro_batches",
               "mtp", "prefix_cache_hit", "disaggregation", "precision", "reserved", "request_rate",
               "routing", "prefill_comm_sms"});
  workloads::ServePlan& p = s.serve;
  const std::string phase = r.choice("phase", {"decode", "prefill", "both"}, "decode");
  p.phase = phase == "decode"    ? ServePhase::kDecode
            : phase == "prefill" ? ServePhase::kPrefill
                                 : ServePhase::kBoth;
  // prompt_tokens: a length, or a mix [[tokens, share], ...] with shares summing to 1.
  if (r.has("prompt_tokens") && r.node("prompt_tokens").IsSequence()) {
    const YAML::Node mix = r.node("prompt_tokens");
    double total = 0;
    for (std::size_t i = 0; i < mix.size(); ++i) {
      const YAML::Node item = mix[i];
      int tokens = 0;
      double share = -1;
      try {
        if (item.IsSequence() && item.size() == 2) {
          tokens = item[0].as<int>();
          share = item[1].as<double>();
        }
      } catch (const YAML::Exception&) {
      }
      if (tokens < 1 || !(share > 0)) {
        ctx.fail(r.key_path("prompt_tokens"), item,
                 fmt::format("entry {} is not [tokens, share] with tokens >= 1 and share > 0", i),
                 "e.g. [[1024, 0.7], [16384, 0.3]]");
      }
      p.prompt_mix.push_back({tokens, share});
      total += share;
    }
    if (mix.size() == 0 || std::abs(total - 1) > 1e-6) {
      r.fail("prompt_tokens", fmt::format("the shares of the prompt mix sum to {}", total),
             "shares summing to 1");
    }
    p.prompt_tokens = int(std::lround(p.mean_prompt_tokens()));
  } else {
    p.prompt_tokens = r.int_value("prompt_tokens", 4096);
  }
  p.output_tokens = r.int_value("output_tokens", 1024);
  // batch_per_gpu: auto takes the batch from serve.request_rate.
  const bool auto_batch = r.has("batch_per_gpu") && r.node("batch_per_gpu").IsScalar() &&
                          r.node("batch_per_gpu").Scalar() == "auto";
  if (!auto_batch) p.batch_per_gpu = r.int_value("batch_per_gpu", 32);
  if (r.has("request_rate")) {
    if (r.has("batch_per_gpu") && !auto_batch) {
      r.fail("request_rate", "serve.batch_per_gpu and serve.request_rate both set the batch",
             "one of them (or serve.batch_per_gpu: auto)");
    }
    p.request_rate = r.number("request_rate", std::nullopt);
  } else if (auto_batch) {
    r.fail("batch_per_gpu", "auto needs serve.request_rate",
           "a number of sequences, or auto "
           "with serve.request_rate");
  }
  p.prefill_chunk_tokens = r.int_value("prefill_chunk_tokens", 4096);
  p.attention_tp = r.int_value("attention_tp", 1);
  p.ep = r.int_value("ep", 0, 0);
  p.redundant_experts = r.int_value("redundant_experts", 0, 0);
  p.max_nodes_per_token = r.int_value("max_nodes_per_token", 0, 0);
  if (r.has("routing")) {
    p.routing = read_routing(ctx, r.node("routing"), "serve.routing", s.model, false);
  }
  p.micro_batches = r.int_value("micro_batches", 2);
  p.prefill_comm_sms = r.int_value("prefill_comm_sms", 20, 0);
  if (p.prefill_comm_sms >= s.gpu.sms) {
    r.fail("prefill_comm_sms",
           fmt::format("{} SMs for communication leave none of the {} SMs of {} for compute",
                       p.prefill_comm_sms, s.gpu.sms, s.gpu.name),
           fmt::format("0 to {}", s.gpu.sms - 1));
  }
  p.prefix_cache_hit = r.number("prefix_cache_hit", 0.0, 0, false);
  if (p.prefix_cache_hit >= 1) r.fail("prefix_cache_hit", "must be below 1", "a share in [0, 1)");
  if (r.has("mtp")) {
    MapReader mtp(ctx, r.node("mtp"), "serve.mtp", {"depth", "acceptance"});
    p.mtp_depth = mtp.int_value("depth", 1, 0);
    p.mtp_acceptance = mtp.number("acceptance", std::nullopt, 0, false);
    if (p.mtp_acceptance > 1)
      mtp.fail("acceptance", "must be at most 1", "a probability in [0, 1]");
    if (p.mtp_depth > s.model.mtp_depth) {
      mtp.fail("depth", fmt::format("{} has {} MTP module(s)", s.model.name, s.model.mtp_depth),
               fmt::format("0 to {}", s.model.mtp_depth));
    }
  }
  if (r.has("disaggregation")) {
    MapReader d(ctx, r.node("disaggregation"), "serve.disaggregation",
                {"prefill_nodes", "decode_nodes"});
    p.prefill_nodes = d.int_value("prefill_nodes", std::nullopt);
    p.decode_nodes = d.int_value("decode_nodes", std::nullopt);
    if (p.prefill_nodes + p.decode_nodes > s.cluster.nodes) {
      d.fail("decode_nodes",
             fmt::format("{} prefill + {} decode nodes are more than the cluster's {}",
                         p.prefill_nodes, p.decode_nodes, s.cluster.nodes),
             fmt::format("at most {} nodes in all", s.cluster.nodes));
    }
  }
  p.gemm_precision =
      *precision_registry().find(r.choice("precision", precision_registry().names(), "fp8"));
  p.reserved_gib = r.quantity("reserved", Quantity::kDataSize, 2.0 * (1 << 30)) / (1 << 30);
  const double hbm_gib = double(s.gpu.hbm_bytes) / (1 << 30);
  if (p.reserved_gib >= hbm_gib) {
    r.fail("reserved",
           fmt::format("{:.1f} GiB reserved leaves nothing of {}'s {:.1f} GiB", p.reserved_gib,
                       s.gpu.name, hbm_gib),
           fmt::format("below {:.1f} GiB (the default is 2GiB)", hbm_gib));
  }

  // The layout.
  const auto& m = s.model;
  const int gpn = s.cluster.node.gpus;
  if (gpn % p.attention_tp != 0 || m.heads % p.attention_tp != 0) {
    r.fail("attention_tp",
           fmt::format("attention_tp = {} must divide the {} GPUs of a node and the {} heads",
                       p.attention_tp, gpn, m.heads),
           "one of " + divisors_of(std::gcd(gpn, m.heads)));
  }
  if (p.request_rate > 0) p.batch_per_gpu = p.micro_batches;  // resolved once the model is read
  if (p.batch_per_gpu % p.micro_batches != 0) {
    r.fail("batch_per_gpu",
           fmt::format("{} sequences do not split into {} equal micro-batches", p.batch_per_gpu,
                       p.micro_batches),
           fmt::format("a multiple of serve.micro_batches = {}", p.micro_batches));
  }
  for (const ServePhase ph : {ServePhase::kDecode, ServePhase::kPrefill}) {
    if (p.phase != ServePhase::kBoth && p.phase != ph) continue;
    const int gpus = s.phase_gpus(ph);
    const int ep = s.ep(ph);
    const bool fits = gpus % ep == 0 && (ep <= gpn ? gpn % ep == 0 : ep % gpn == 0);
    if (!fits) {
      r.fail(
          "ep",
          fmt::format("ep = {} does not cut the {} GPUs of the {} phase into node-aligned groups",
                      ep, gpus, ph == ServePhase::kDecode ? "decode" : "prefill"),
          "a divisor of " + std::to_string(gpn) + ", or a multiple of it dividing " +
              std::to_string(gpus));
    }
    if (m.is_moe() && (m.routed_experts + p.redundant_experts) % ep != 0) {
      r.fail("redundant_experts",
             fmt::format("{} routed + {} redundant experts do not spread evenly over ep = {}",
                         m.routed_experts, p.redundant_experts, ep),
             fmt::format("a count making the total a multiple of {}", ep));
    }
  }
}

}  // namespace

void fail_at_key(const std::string& path, const std::vector<std::string>& sets,
                 const std::string& key, const std::string& problem, const std::string& valid) {
  YAML::Node root = load_yaml_file(path, "scenario", "");
  const auto origins = apply_overrides(root, sets);
  const YamlContext ctx(path, root, origins);
  ctx.fail(key, root, problem, valid);
}

void check_event_engine_memory(const std::string& path, const std::vector<std::string>& sets,
                               int gpus, double bytes_per_gpu) {
  const double need = gpus * bytes_per_gpu;
  const double have = physical_memory_bytes();
  if (have > 0 && need > have) {
    fail_at_key(path, sets, "cluster.nodes",
                fmt::format("{} GPUs need about {:.1f} GiB in the event-driven engine ({:.1f} KB "
                            "a GPU, measured); this machine has {:.1f} GiB",
                            gpus, need / (1 << 30), bytes_per_gpu / 1e3, have / (1 << 30)),
                "fewer nodes, or --engine analytic (closed form, no per-GPU state)");
  }
}

workloads::InferenceScenario load_inference_scenario(const std::string& path,
                                                     const std::vector<std::string>& sets) {
  YAML::Node root = load_yaml_file(path, "scenario",
                                   "a map with cluster, model and serve, e.g. "
                                   "examples/serve/deepseek-v3-decode-h800-320.yaml");
  const auto origins = apply_overrides(root, sets);
  const YamlContext ctx(path, root, origins);
  MapReader top(ctx, root, "", {"name", "cluster", "model", "serve", "cost", "calibration"});
  workloads::InferenceScenario s;
  s.name = top.text("name", std::filesystem::path(path).stem().string());
  if (!top.has("cluster")) top.fail("cluster", "missing required section 'cluster'");
  if (!top.has("model"))
    top.fail("model", "missing required section 'model'", join(model_registry().names()));
  if (!top.has("serve")) top.fail("serve", "missing required section 'serve'");
  TrainingScenario t;
  read_cluster(ctx, top.node("cluster"), t);
  for (const auto& problem : workloads::check_cluster(t.cluster)) fail_on(ctx, root, t, problem);
  s.gpu = t.gpu;
  s.cluster = t.cluster;
  s.model = read_model(ctx, top.node("model"));
  read_serve(ctx, top.node("serve"), s);
  s.cost = read_cost(ctx, top);
  s.calibration = read_calibration_of(ctx, top, path, origins);
  if (s.serve.request_rate > 0) {
    // The batch the rate needs (Little's law, by the closed form).
    const int batch = workloads::batch_for_request_rate(s);
    if (batch == 0) {
      ctx.fail("serve.request_rate", root,
               fmt::format("no decode batch that fits in memory takes in {} requests a second "
                           "of {} output tokens on {} GPUs",
                           s.serve.request_rate, s.serve.output_tokens,
                           s.phase_gpus(workloads::ServePhase::kDecode)),
               "a lower rate, or more decode GPUs");
    }
    s.serve.batch_per_gpu = batch;
  }
  // Memory: the weights and the batch's KV cache must fit.
  const auto& p = s.serve;
  const workloads::ServePhase ph =
      p.phase == workloads::ServePhase::kPrefill ? p.phase : workloads::ServePhase::kDecode;
  const double weights = workloads::weight_bytes_per_gpu(s, s.ep(ph));
  const double capacity = double(s.gpu.hbm_bytes) - p.reserved_gib * (1 << 30);
  const double per_sequence =
      workloads::kv_bytes_per_sequence_per_gpu(s, p.mean_prompt_tokens() + p.output_tokens);
  constexpr double kGiB = 1 << 30;
  if (weights > capacity) {
    ctx.fail("serve.ep", root,
             fmt::format("the weights need {:.1f} GiB per GPU at ep = {}; {} has {:.1f} GiB "
                         "after {} GiB reserved",
                         weights / kGiB, s.ep(ph), s.gpu.name, capacity / kGiB, p.reserved_gib),
             "a larger serve.ep");
  }
  if (ph == workloads::ServePhase::kDecode && p.phase != workloads::ServePhase::kPrefill &&
      weights + p.batch_per_gpu * per_sequence > capacity) {
    const int largest = int((capacity - weights) / per_sequence);
    ctx.fail(
        "serve.batch_per_gpu", root,
        fmt::format("{} sequences of {} tokens need {:.1f} GiB of KV cache per GPU beside "
                    "{:.1f} GiB of weights; {} has {:.1f} GiB",
                    p.batch_per_gpu, int(std::lround(p.mean_prompt_tokens())) + p.output_tokens,
                    p.batch_per_gpu * per_sequence / kGiB, weights / kGiB, s.gpu.name,
                    capacity / kGiB),
        fmt::format("at most {} sequences per GPU", largest));
  }
  return s;
}

TrainingScenario load_training_scenario(const std::string& path,
                                        const std::vector<std::string>& sets) {
  YAML::Node root = load_yaml_file(path, "scenario",
                                   "a map with cluster, model and plan, e.g. "
                                   "examples/deepseek-v3-h800-2048.yaml");
  const auto origins = apply_overrides(root, sets);
  const YamlContext ctx(path, root, origins);

  MapReader top(ctx, root, "", {"name", "cluster", "model", "plan", "cost", "calibration"});
  TrainingScenario s;
  s.name = top.text("name", std::filesystem::path(path).stem().string());
  if (!top.has("cluster")) top.fail("cluster", "missing required section 'cluster'");
  if (!top.has("model"))
    top.fail("model", "missing required section 'model'", join(model_registry().names()));
  if (!top.has("plan")) top.fail("plan", "missing required section 'plan'");
  read_cluster(ctx, top.node("cluster"), s);
  s.model = read_model(ctx, top.node("model"));
  read_plan(ctx, top.node("plan"), s);
  s.cost = read_cost(ctx, top);
  s.calibration = read_calibration_of(ctx, top, path, origins);

  if (s.plan.stage_layers_balanced) {
    // plan.stage_layers: auto. What else is wrong with the plan (a pp the schedule cannot cut,
    // say) the check below says first; a balance it cannot find, after.
    std::string cannot;
    try {
      s.plan.stage_layers = workloads::balanced_stage_layers(s);
    } catch (const std::exception& e) {
      cannot = e.what();
    }
    for (const auto& problem : workloads::check_scenario(s)) fail_on(ctx, root, s, problem);
    if (!cannot.empty()) {
      ctx.fail("plan.stage_layers", root, "cannot balance the stages: " + cannot,
               "a list of layers per stage");
    }
  }
  for (const auto& problem : workloads::check_scenario(s)) fail_on(ctx, root, s, problem);
  if (!s.cluster.fabric.failures.empty()) {
    // Names are checked on the graph the event-driven engine builds: fabric and node insides.
    const std::string path = "cluster.topology.failures";
    resolve_failures_at(ctx, root["cluster"]["topology"]["failures"], path,
                        workloads::build_cluster_graph(s.cluster).topology,
                        s.cluster.fabric.failures);
  }
  return s;
}

}  // namespace codesim::cli
