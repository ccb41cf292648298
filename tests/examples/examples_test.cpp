// Every example scenario runs, end to end, and its JSON has every key of the contract with
// finite, positive values, and the headline numbers pinned exactly: the step in picoseconds,
// the events simulated and the GPU-hours. The default scenario's result is byte-identical across
// runs.
//
// The pins are golden numbers: a change that moves one updates it in the same commit and says
// why in the commit message.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../cli/run_codesim.hpp"

namespace codesim {
namespace {

using codesim::testing::read_text;
using codesim::testing::run_codesim;
using codesim::testing::scratch_dir;

std::vector<std::string> example_names() {
  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(CODESIM_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string example_path(const std::string& name) {
  return std::string(CODESIM_SOURCE_DIR) + "/examples/" + name + ".yaml";
}

void expect_positive(const nlohmann::json& j, const std::string& key) {
  ASSERT_TRUE(j.contains(key)) << key;
  ASSERT_TRUE(j[key].is_number()) << key;
  const double v = j[key].get<double>();
  EXPECT_TRUE(std::isfinite(v) && v > 0) << key << " = " << v;
}

// What each example must give, exactly.
struct Golden {
  long long step_time_ps;
  long long events;
  double gpu_hours_total;
};

const std::map<std::string, Golden>& goldens() {
  static const std::map<std::string, Golden> kGoldens = {
      {"deepseek-v2-lite-h800-64", {679901388088, 40883, 11527.190960150825}},
      {"deepseek-v3-h800-2048", {16475539734461, 5250936, 2206822.9674138436}},
      {"gpt-small-a100-64", {8010199851945, 8206, 67903.30549405415}},
      {"gpt3-175b-a100-1024", {20117426023780, 2971365, 551929.5447763234}},
      {"megatron-1t-a100-3072", {74132831743282, 28042505, 4524708.968706177}},
      {"llama-3-70b-h100-64", {9790199209465, 228364, 2489776.410284678}},
      {"llama-3-8b-h100-8", {7811888686956, 41529, 248333.25344581605}},
      {"mt-nlg-530b-a100-3360", {24788394018411, 9423734, 1588611.6772052948}},
      {"llama-3.1-405b-h100-16384", {5929256969183, 54093020, 25091256.70552702}},
      {"llama-3.1-405b-h100-16384-cp16", {13290983334995, 70517396, 2884327.980684679}},
      {"mixtral-8x7b-h100-256", {3323890123658, 287504, 56353.9314042494}},
  };
  return kGoldens;
}

class ExampleTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ExampleTest, RunsAndWritesTheContractKeys) {
  const auto dir = scratch_dir("example-" + GetParam());
  const auto json_path = dir / "out.json";
  const auto r = run_codesim(
      "train '" + example_path(GetParam()) + "' --json '" + json_path.string() + "' --explain",
      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("GPU-hours"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("assumptions:"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(read_text(json_path));
  for (const char* key :
       {"step_time_s", "tokens_per_step", "tokens_per_day", "tflops_per_gpu", "mfu",
        "gpu_hours_per_trillion_tokens", "gpu_hours_total", "cost_usd", "memory_per_gpu_gib"}) {
    expect_positive(j, key);
  }
  EXPECT_LT(j["mfu"].get<double>(), 1.0);
  ASSERT_TRUE(j["breakdown_s"].is_object());
  double parts = 0;
  for (const auto& [name, value] : j["breakdown_s"].items()) {
    EXPECT_TRUE(value.is_number() && value.get<double>() >= 0) << name;
    parts += value.get<double>();
  }
  EXPECT_NEAR(parts, j["step_time_s"].get<double>(), 1e-9 * parts);
  for (const char* key :
       {"params_total", "params_activated", "train_flops_per_token", "kv_cache_bytes_per_token"}) {
    expect_positive(j["model"], key);
  }
  ASSERT_TRUE(j["network"].is_object());
  ASSERT_TRUE(j["sim"].is_object());
  EXPECT_TRUE(j["sim"].contains("events"));
  EXPECT_TRUE(j["sim"].contains("wall_s"));
  ASSERT_TRUE(j["assumptions"].is_array());
  EXPECT_FALSE(j["assumptions"].empty());

  // isca25 Table 4's phases of the slowest rank add up to the step; a schedule with overlapped
  // pairs reports one of a middle rank, and every example its kernels per pass.
  ASSERT_TRUE(j["table4_phases_s"].is_object());
  double phases = 0;
  for (const char* key : {"1F", "bubble", "1B", "1W", "1F1B", "optimizer"}) {
    ASSERT_TRUE(j["table4_phases_s"].contains(key)) << key;
    const double v = j["table4_phases_s"][key].get<double>();
    EXPECT_TRUE(std::isfinite(v) && v >= 0) << key;
    phases += v;
  }
  EXPECT_NEAR(phases, j["step_time_s"].get<double>(), 1e-3 * j["step_time_s"].get<double>());
  if (j["plan"]["schedule"] == "dualpipe" || j["plan"]["schedule"] == "dualpipev") {
    ASSERT_TRUE(j.contains("chunk_pair"));
    for (const char* key : {"span_ms", "compute_busy_ms", "comm_busy_ms"}) {
      expect_positive(j["chunk_pair"], key);
    }
    EXPECT_LE(j["chunk_pair"]["compute_busy_ms"].get<double>(),
              j["chunk_pair"]["span_ms"].get<double>() * (1 + 1e-9));
    EXPECT_FALSE(j["chunk_pair"]["top_kernels"].empty());
  }
  ASSERT_TRUE(j["kernels"].is_object());
  EXPECT_FALSE(j["kernels"].empty());

  const auto golden = goldens().find(GetParam());
  ASSERT_NE(golden, goldens().end()) << "a new example needs its golden numbers in this file";
  EXPECT_EQ(j["sim"]["step_time_ps"].get<long long>(), golden->second.step_time_ps);
  EXPECT_EQ(j["sim"]["events"].get<long long>(), golden->second.events);
  EXPECT_EQ(j["gpu_hours_total"].get<double>(), golden->second.gpu_hours_total);
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleTest, ::testing::ValuesIn(example_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace_if(
                               name.begin(), name.end(), [](char c) { return !std::isalnum(c); },
                               '_');
                           return name;
                         });

// The reference run's pair and phases, all six positive (DualPipe has lone forwards, backwards
// and weight gradients in its warm-up and cool-down).
TEST(DefaultScenario, ReportsAChunkPairAndTheSixTable4Phases) {
  const auto dir = scratch_dir("default-table4");
  const auto path = dir / "r.json";
  ASSERT_EQ(run_codesim("train '" + example_path("deepseek-v3-h800-2048") +
                            "' --engine analytic "
                            "--json '" +
                            path.string() + "'",
                        dir)
                .exit_code,
            0);
  const auto j = nlohmann::json::parse(read_text(path));
  double sum = 0;
  for (const char* key : {"1F", "bubble", "1B", "1W", "1F1B", "optimizer"}) {
    expect_positive(j["table4_phases_s"], key);
    sum += j["table4_phases_s"][key].get<double>();
  }
  EXPECT_NEAR(sum, j["step_time_s"].get<double>(), 1e-3 * sum);
  for (const char* key : {"span_ms", "compute_busy_ms", "comm_busy_ms"}) {
    expect_positive(j["chunk_pair"], key);
  }
  // The moe layer's forward lists the attention, dispatch, experts and combine pieces.
  for (const char* piece : {"attention", "dispatch", "experts", "combine"}) {
    EXPECT_TRUE(j["kernels"]["moe layer"]["F"].contains(piece)) << piece;
  }
}

TEST(DefaultScenario, SameScenarioSameBytes) {
  const auto dir = scratch_dir("determinism");
  std::vector<std::string> outputs;
  for (int run = 0; run < 2; ++run) {
    const auto path = dir / ("run" + std::to_string(run) + ".json");
    ASSERT_EQ(run_codesim("train '" + example_path("deepseek-v3-h800-2048") + "' --json '" +
                              path.string() + "'",
                          dir)
                  .exit_code,
              0);
    auto j = nlohmann::json::parse(read_text(path));
    j["sim"].erase("wall_s");  // the one field that measures the machine, not the model
    outputs.push_back(j.dump());
  }
  EXPECT_EQ(outputs[0], outputs[1]);
}

TEST(DefaultScenario, SetOverridesAnyKey) {
  const auto dir = scratch_dir("set");
  const auto base = dir / "base.json";
  const auto changed = dir / "changed.json";
  // The analytic engine: this checks --set, not the engine.
  const std::string scenario =
      "train '" + example_path("deepseek-v3-h800-2048") + "' --engine analytic";
  ASSERT_EQ(run_codesim(scenario + " --json '" + base.string() + "'", dir).exit_code, 0);
  const auto r = run_codesim(scenario +
                                 " --set plan.pp=32 --set plan.comm_sms=32 --set "
                                 "cluster.node.nic=200Gbps --json '" +
                                 changed.string() + "'",
                             dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto a = nlohmann::json::parse(read_text(base));
  const auto b = nlohmann::json::parse(read_text(changed));
  EXPECT_EQ(b["plan"]["pp"], 32);
  EXPECT_EQ(b["plan"]["dp"], 64);
  EXPECT_NE(a["step_time_s"], b["step_time_s"]);
  EXPECT_LT(b["network"]["ep_ib_achieved_GBps"].get<double>(),
            a["network"]["ep_ib_achieved_GBps"].get<double>());
}

// The event-driven engine on the small MoE example: every rank event by event, a Chrome trace of
// one pipeline, and the same bytes (JSON and trace) from two runs.
TEST(EventEngine, SmallMoeExampleRunsWithATraceAndTheSameBytes) {
  const auto dir = scratch_dir("event-engine");
  std::vector<std::string> results, traces;
  for (int run = 0; run < 2; ++run) {
    const auto json_path = dir / ("run" + std::to_string(run) + ".json");
    const auto trace_path = dir / ("trace" + std::to_string(run) + ".json");
    const auto r = run_codesim("train '" + example_path("deepseek-v2-lite-h800-64") +
                                   "' --engine event --json '" + json_path.string() +
                                   "' --trace '" + trace_path.string() + "'",
                               dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(read_text(json_path));
    EXPECT_EQ(j["sim"]["engine"], "event-driven");
    EXPECT_GT(j["sim"]["events"].get<double>(), 0);
    EXPECT_GT(j["breakdown_s"]["exposed_ep_comm"].get<double>(), 0);
    ASSERT_TRUE(j["network"].contains("links"));
    j["sim"].erase("wall_s");
    results.push_back(j.dump());
    traces.push_back(read_text(trace_path));
  }
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(traces[0], traces[1]);
  const auto trace = nlohmann::json::parse(traces[0]);
  // One pipeline by default: replica 0 of pipeline ranks 0..3, GPUs 0, 16, 32, 48 (dp 16), each
  // with compute spans and all-to-all spans on the communication stream.
  std::set<std::pair<int, int>> streams;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == "X") streams.insert({e["pid"].get<int>(), e["tid"].get<int>()});
  }
  for (int gpu : {0, 16, 32, 48}) {
    EXPECT_TRUE(streams.count({gpu, 0})) << "compute of GPU " << gpu;
    EXPECT_TRUE(streams.count({gpu, 1})) << "all-to-alls of GPU " << gpu;
  }
  EXPECT_EQ(streams.size(), 8u);
}

}  // namespace
}  // namespace codesim
