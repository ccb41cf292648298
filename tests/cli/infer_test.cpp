// `codesim infer`: every serving example runs and writes DESIGN.md's keys, the decode example's
// figures hang together, the same scenario gives the same bytes, and bad serving input is
// refused with the file, line and key.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "run_codesim.hpp"

namespace codesim::cli {
namespace {

namespace fs = std::filesystem;
using codesim::testing::example;
using codesim::testing::read_text;
using codesim::testing::run_codesim;
using codesim::testing::scratch_dir;

std::vector<std::string> serve_examples() {
  std::vector<std::string> names;
  for (const auto& e :
       fs::directory_iterator(std::string(CODESIM_SOURCE_DIR) + "/examples/serve")) {
    if (e.path().extension() == ".yaml") names.push_back("serve/" + e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

nlohmann::json infer(const std::string& name, const fs::path& dir, const std::string& more = "") {
  const auto json = dir / "r.json";
  const auto r =
      run_codesim("infer '" + example(name) + "' --json '" + json.string() + "' " + more, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(read_text(json)) : nlohmann::json();
}

void expect_positive(const nlohmann::json& j, const std::string& key) {
  ASSERT_TRUE(j.contains(key) && j[key].is_number()) << key << " in " << j.dump().substr(0, 300);
  EXPECT_TRUE(std::isfinite(j[key].get<double>()) && j[key].get<double>() > 0) << key;
}

TEST(Infer, EveryServingExampleWritesTheContractKeys) {
  const auto names = serve_examples();
  ASSERT_GE(names.size(), 5u);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const auto dir = scratch_dir("infer-" + fs::path(name).filename().string());
    const auto j = infer(name, dir, "--explain");
    if (j.is_null()) continue;
    ASSERT_TRUE(j.contains("phase"));
    const std::string phase = j["phase"];
    expect_positive(j, "tokens_per_s_per_gpu");
    expect_positive(j, "tokens_per_s_per_node");
    expect_positive(j, "kv_cache_bytes_per_token");
    expect_positive(j, "max_batch_per_gpu");
    if (phase != "prefill") {
      expect_positive(j, "tpot_ms");
      expect_positive(j, "tokens_per_s_per_user");
      expect_positive(j["bounds"], "tpot_lower_bound_ms");
      // (less the event clock's picosecond rounding)
      EXPECT_GE(j["tpot_ms"].get<double>(),
                j["bounds"]["tpot_lower_bound_ms"].get<double>() - 1e-6);
      for (const char* part : {"attention", "experts", "all_to_all", "all_to_all_exposed"}) {
        EXPECT_TRUE(j["decode"]["per_layer_us"].contains(part)) << part;
      }
    }
    if (phase != "decode") expect_positive(j, "ttft_ms");
    EXPECT_FALSE(j["assumptions"].empty());
  }
}

TEST(Infer, V3DecodeOnH800HangsTogetherAndIsDeterministic) {
  const auto dir = scratch_dir("infer-v3-decode");
  const auto j = infer("serve/deepseek-v3-decode-h800-320", dir);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["phase"], "decode");
  EXPECT_EQ(j["kv_cache_bytes_per_token"], 70272);  // isca25 Table 1
  EXPECT_DOUBLE_EQ(j["tokens_per_step"].get<double>(), 1.85);
  const double step_ms = j["decode"]["forward_ms"];
  EXPECT_NEAR(j["tpot_ms"].get<double>(), step_ms / 1.85, 1e-9);
  EXPECT_NEAR(j["tokens_per_s_per_gpu"].get<double>(), 32 * 1.85 / step_ms * 1e3, 1e-6);
  EXPECT_NEAR(j["tokens_per_s_per_node"].get<double>(), 8 * j["tokens_per_s_per_gpu"].get<double>(),
              1e-6);
  // The overlapped step lies between the larger of its loads and the unoverlapped step.
  EXPECT_LE(step_ms, j["decode"]["unoverlapped_ms"].get<double>());
  EXPECT_GE(step_ms, j["decode"]["compute_only_ms"].get<double>());
  // The all-to-all crossed the fabric: its links carried bytes.
  double fabric = 0;
  for (const auto& l : j["decode"]["network"]["links"]) {
    if (l["tier"] == "endpoint-switch") fabric += l["bytes"].get<double>();
  }
  EXPECT_GT(fabric, 0);
  // Same scenario, same bytes (but for the wall time).
  const auto again = infer("serve/deepseek-v3-decode-h800-320", dir);
  auto a = j, b = again;
  a["sim"].erase("wall_s");
  b["sim"].erase("wall_s");
  EXPECT_EQ(a.dump(), b.dump());
}

TEST(Infer, WhatIfsBySet) {
  const auto dir = scratch_dir("infer-what-if");
  const auto base = infer("serve/deepseek-v3-decode-h800-320", dir, "--engine analytic");
  const auto slow_ib = infer("serve/deepseek-v3-decode-h800-320", dir,
                             "--engine analytic --set cluster.node.nic=100Gbps");
  const auto small = infer("serve/deepseek-v3-decode-h800-320", dir,
                           "--engine analytic --set serve.batch_per_gpu=8");
  const auto no_mtp = infer("serve/deepseek-v3-decode-h800-320", dir,
                            "--engine analytic --set serve.mtp.acceptance=0");
  ASSERT_FALSE(base.is_null() || slow_ib.is_null() || small.is_null() || no_mtp.is_null());
  EXPECT_GT(slow_ib["tpot_ms"].get<double>(), base["tpot_ms"].get<double>());
  EXPECT_LT(small["tpot_ms"].get<double>(), base["tpot_ms"].get<double>());
  EXPECT_LT(small["tokens_per_s_per_gpu"].get<double>(),
            base["tokens_per_s_per_gpu"].get<double>());
  EXPECT_GT(no_mtp["tpot_ms"].get<double>(), base["tpot_ms"].get<double>());
  // EP160: two expert instances a GPU, and a group of 20 nodes sends fewer copies off-node.
  const auto ep160 =
      infer("serve/deepseek-v3-decode-h800-320", dir, "--engine analytic --set serve.ep=160");
  ASSERT_FALSE(ep160.is_null());
  EXPECT_GT(ep160["memory_per_gpu_gib"]["weights"].get<double>(),
            base["memory_per_gpu_gib"]["weights"].get<double>());
  EXPECT_LT(ep160["bounds"]["all_to_all_tpot_ms"].get<double>(),
            base["bounds"]["all_to_all_tpot_ms"].get<double>());
  // Node-limited routing in prefill's normal mode: M = 1 sends a token to one node, once.
  const auto prefill = infer("serve/deepseek-v3-prefill-h800-32", dir, "--engine analytic");
  const auto one_node = infer("serve/deepseek-v3-prefill-h800-32", dir,
                              "--engine analytic --set serve.max_nodes_per_token=1");
  ASSERT_FALSE(prefill.is_null() || one_node.is_null());
  EXPECT_LT(one_node["prefill"]["per_layer_us"]["all_to_all"].get<double>(),
            0.6 * prefill["prefill"]["per_layer_us"]["all_to_all"].get<double>());
}

TEST(Infer, RequestRateSetsTheBatchByLittlesLaw) {
  const auto dir = scratch_dir("infer-rate");
  std::vector<int> batches;
  for (const int rate : {100, 400}) {
    const auto j =
        infer("serve/deepseek-v3-decode-h800-320", dir,
              "--engine analytic --set serve.batch_per_gpu=auto --set serve.request_rate=" +
                  std::to_string(rate));
    ASSERT_FALSE(j.is_null());
    const int batch = j["layout"]["batch_per_gpu"];
    // The batch takes the rate in: 320 GPUs x batch sequences, each 1024 tokens long.
    const double served = 320.0 * batch / (1024 * j["tpot_ms"].get<double>() / 1e3);
    EXPECT_GE(served, rate);
    batches.push_back(batch);
  }
  EXPECT_LT(batches[0], batches[1]);
  const auto r = run_codesim("infer '" + example("serve/deepseek-v3-decode-h800-320") +
                                 "' --set serve.batch_per_gpu=auto --set serve.request_rate=5000",
                             dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("serve.request_rate"), std::string::npos) << r.err;
}

TEST(Infer, APromptMixIsPrefilledLengthByLengthAndDecodedAtItsMean) {
  const auto dir = scratch_dir("infer-mix");
  const auto j =
      infer("serve/deepseek-v3-both-b200-256", dir,
            "--engine analytic --set 'serve.prompt_tokens=[[1024, 0.75], [8192, 0.25]]'");
  ASSERT_FALSE(j.is_null());
  EXPECT_DOUBLE_EQ(j["decode"]["context_tokens"].get<double>(), 0.75 * 1024 + 0.25 * 8192 + 512);
  const auto& by = j["prefill"]["by_prompt"];
  ASSERT_EQ(by.size(), 2u);
  EXPECT_LT(by[0]["ttft_ms"].get<double>(), by[1]["ttft_ms"].get<double>());
  EXPECT_NEAR(j["ttft_ms"].get<double>(),
              0.75 * by[0]["ttft_ms"].get<double>() + 0.25 * by[1]["ttft_ms"].get<double>(), 1e-9);
  const auto r = run_codesim("infer '" + example("serve/deepseek-v3-both-b200-256") +
                                 "' --set 'serve.prompt_tokens=[[1024, 0.5], [8192]]'",
                             dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("serve.prompt_tokens"), std::string::npos) << r.err;
}

TEST(Infer, TraceHoldsEveryLayerOfTheTracedGpus) {
  const auto dir = scratch_dir("infer-trace");
  const auto t = dir / "t.json";
  const auto r = run_codesim("infer '" + example("serve/deepseek-v3-decode-h800-320") +
                                 "' --trace '" + t.string() + "' --trace-gpus 0,8",
                             dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto trace = nlohmann::json::parse(read_text(t));
  int attention = 0, dispatch = 0;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] != "X") continue;
    EXPECT_TRUE(e["pid"] == 0 || e["pid"] == 8);
    attention += e["args"]["pass"] == "attention";
    dispatch += e["args"]["pass"] == "dispatch";
  }
  // 58 MoE layers and the MTP block, two micro-batches, two GPUs.
  EXPECT_EQ(attention, 59 * 2 * 2);
  EXPECT_EQ(dispatch, 59 * 2 * 2);
  EXPECT_EQ(run_codesim(
                "infer '" + example("serve/deepseek-v3-decode-h800-320") + "' --trace-gpus 0", dir)
                .exit_code,
            2);
  EXPECT_EQ(run_codesim("infer '" + example("serve/deepseek-v3-decode-h800-320") + "' --trace '" +
                            t.string() + "' --trace-gpus 320",
                        dir)
                .exit_code,
            2);
}

TEST(Infer, BadServingInputNamesTheKey) {
  const auto dir = scratch_dir("infer-bad");
  const std::string v3 = example("serve/deepseek-v3-decode-h800-320");
  struct Case {
    std::string set;
    std::string message;
  };
  const Case cases[] = {
      {"serve.batch_size=3", "serve.batch_size"},
      {"serve.batch_per_gpu=33", "serve.batch_per_gpu"},
      {"serve.batch_per_gpu=512", "at most 44 sequences per GPU"},
      {"serve.ep=96", "serve.ep"},
      {"serve.redundant_experts=1", "serve.redundant_experts"},
      {"serve.attention_tp=3", "serve.attention_tp"},
      {"serve.mtp.depth=2", "serve.mtp.depth"},
      {"serve.mtp.acceptance=1.5", "serve.mtp.acceptance"},
      {"serve.phase=serve", "serve.phase"},
      {"serve.prefix_cache_hit=1", "serve.prefix_cache_hit"},
      {"serve.disaggregation={prefill_nodes: 30, decode_nodes: 20}", "serve.disaggregation"},
  };
  for (const Case& c : cases) {
    const auto r = run_codesim(
        "infer '" + v3 + "' --set '" + c.set + "' --json '" + (dir / "r.json").string() + "'", dir);
    EXPECT_EQ(r.exit_code, 2) << c.set << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.set << "\n" << r.err;
    EXPECT_FALSE(fs::exists(dir / "r.json")) << c.set;
  }
  // A key in the file is named with its line.
  std::ofstream(dir / "s.yaml") << read_text(v3) << "  micro_batchs: 2\n";
  const auto r = run_codesim("infer '" + (dir / "s.yaml").string() + "'", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("s.yaml:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("micro_batches"), std::string::npos) << r.err;  // did you mean
  EXPECT_EQ(run_codesim("infer '" + v3 + "' --engine fast", dir).exit_code, 2);
}

}  // namespace
}  // namespace codesim::cli
