// Bad input, end to end through the binary: every case exits 2 with one message naming the file
// (or the --set option), the line and the key, and writes no output file.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "run_codesim.hpp"

namespace codesim::cli {
namespace {

using codesim::testing::run_codesim;
using codesim::testing::scratch_dir;

// A valid scenario; each case replaces one line (1-based) or adds --set options.
const std::vector<std::string> kBase = {
    "name: bad-input-test",                                       // 1
    "cluster:",                                                   // 2
    "  gpu: h800",                                                // 3
    "  nodes: 256",                                               // 4
    "  node: {gpus: 8, nvlink: 200GBps, nics: 8, nic: 400Gbps}",  // 5
    "  topology: {kind: mpft, planes: 8}",                        // 6
    "model: deepseek-v3",                                         // 7
    "plan:",                                                      // 8
    "  pp: 16",                                                   // 9
    "  ep: 64",                                                   // 10
    "  schedule: dualpipe",                                       // 11
    "  sequence_length: 4096",                                    // 12
    "  global_batch: 15360",                                      // 13
    "  tokens: 14.8e12",                                          // 14
    "  comm_sms: 20",                                             // 15
    "  precision: fp8",                                           // 16
    "  recompute: [rmsnorm, mla_up_projection]",                  // 17
};

struct BadInput {
  std::string name;
  int line;              // line to replace (0: none); also the line the message must name
  std::string text;      // the replacement ("" with a line: delete it)
  std::string sets;      // extra command-line arguments
  std::string location;  // expected "file:line" suffix or "--set ..." in the message
  std::string key;       // the key the message must name ("" for syntax errors)
  std::string says;      // a phrase the message must contain
};

std::ostream& operator<<(std::ostream& os, const BadInput& c) {
  return os << c.name;
}

class BadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, ExitsTwoWithAMessageNamingWhereAndNoOutput) {
  const BadInput& c = GetParam();
  const auto dir = scratch_dir("bad-" + c.name);
  const auto scenario = dir / "scenario.yaml";
  {
    std::ofstream out(scenario);
    for (size_t i = 0; i < kBase.size(); ++i) {
      if (int(i) + 1 == c.line) {
        if (!c.text.empty()) out << c.text << "\n";
      } else {
        out << kBase[i] << "\n";
      }
    }
  }
  const auto json = dir / "out.json";
  const auto r = run_codesim(
      "train '" + scenario.string() + "' " + c.sets + " --json '" + json.string() + "'", dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(std::filesystem::exists(json)) << "a failed run must not write its output";
  EXPECT_TRUE(r.out.empty()) << r.out;
  const std::string where =
      c.location.rfind("--set", 0) == 0 ? c.location : scenario.string() + ":" + c.location;
  EXPECT_NE(r.err.find(where), std::string::npos) << "expected '" << where << "' in: " << r.err;
  if (!c.key.empty()) {
    EXPECT_NE(r.err.find("key '" + c.key + "'"), std::string::npos) << r.err;
  }
  EXPECT_NE(r.err.find(c.says), std::string::npos) << "expected '" << c.says << "' in: " << r.err;
  const auto lines = std::count(r.err.begin(), r.err.end(), '\n');
  EXPECT_GE(lines, 1);
  EXPECT_LE(lines, 2) << "one message, and at most one line saying what is valid: " << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, BadInputTest,
    ::testing::Values(
        BadInput{"syntax_error_line_3", 3, "  gpu: h800: x", "", "3:", "", "malformed YAML"},
        BadInput{"unknown_key_with_suggestion", 9, "  ppp: 16", "", "9:", "plan.ppp",
                 "did you mean 'pp'?"},
        BadInput{"unknown_top_level_key", 1, "nmae: x", "", "1:", "nmae", "did you mean 'name'?"},
        BadInput{"bandwidth_without_unit", 5, "  node: {gpus: 8, nvlink: 200, nics: 8}", "",
                 "5:", "cluster.node.nvlink", "not a bandwidth"},
        BadInput{"size_where_bandwidth_belongs", 5, "  node: {gpus: 8, nic: 80GiB}", "",
                 "5:", "cluster.node.nic", "400Gbps"},
        BadInput{"negative_node_count", 4, "  nodes: -4", "", "4:", "cluster.nodes", ">= 1"},
        BadInput{"zero_sequence_length", 12, "  sequence_length: 0", "",
                 "12:", "plan.sequence_length", ">= 1"},
        BadInput{"fractional_pp", 9, "  pp: 1.5", "", "9:", "plan.pp", "expected an integer"},
        BadInput{"pp_not_dividing_gpus", 9, "  pp: 12", "", "9:", "plan.pp", "does not divide"},
        BadInput{"pp_not_dividing_gpus_from_set", 0, "", "--set plan.pp=3", "--set plan.pp=3",
                 "plan.pp", "does not divide"},
        BadInput{"pp_not_dividing_layers", 0, "", "--set model.mtp_depth=0", "9:", "plan.pp",
                 "do not divide the 63 pipeline slots"},
        BadInput{"ep_not_dividing_experts", 10, "  ep: 48", "", "10:", "plan.ep", "must divide"},
        BadInput{"unknown_gpu", 3, "  gpu: h900", "", "3:", "cluster.gpu", "did you mean 'h800'?"},
        BadInput{"unknown_model", 7, "model: deepseek-v4", "", "7:", "model",
                 "did you mean 'deepseek-v3'?"},
        BadInput{"unknown_schedule", 11, "  schedule: dualpipee", "", "11:", "plan.schedule",
                 "did you mean 'dualpipe'?"},
        BadInput{"batch_not_divisible", 13, "  global_batch: 15000", "", "13:", "plan.global_batch",
                 "multiple of dp x micro_batch = 128"},
        BadInput{"too_few_micro_batches_for_dualpipe", 13, "  global_batch: 2048", "",
                 "13:", "plan.global_batch", ">= 2*pp = 32"},
        BadInput{"does_not_fit_in_memory", 12, "  sequence_length: 16384", "", "8:", "plan",
                 "does not fit in GPU memory"},
        BadInput{"all_sms_for_communication", 15, "  comm_sms: 132", "", "15:", "plan.comm_sms",
                 "leave none"},
        BadInput{"missing_required_key", 14, "", "", "8:", "plan.tokens", "missing required key"},
        BadInput{"unknown_recompute_item", 17, "  recompute: [rmsnorm, everything]", "",
                 "17:", "plan.recompute[1]", "unknown value 'everything'"},
        BadInput{"fp8_on_a_gpu_without_it", 3, "  gpu: a100-sxm-80gb", "", "16:", "plan.precision",
                 "no FP8 tensor cores"},
        BadInput{"set_without_value", 0, "", "--set plan.pp", "--set plan.pp", "",
                 "expected --set dotted.key=value"},
        BadInput{"set_of_unknown_key", 0, "", "--set plan.ppp=4", "--set plan.ppp=4", "plan.ppp",
                 "did you mean 'pp'?"},
        BadInput{"m_beyond_the_ep_group", 0, "", "--set plan.max_nodes_per_token=9",
                 "--set plan.max_nodes_per_token=9", "plan.max_nodes_per_token",
                 "exceeds the 8 nodes"},
        BadInput{"failed_switch_that_does_not_exist", 6,
                 "  topology: {kind: mpft, planes: 8, failures: {switches: [p0.spine99]}}", "",
                 "6:", "cluster.topology.failures.switches", "no switch is labelled 'p0.spine99'"},
        BadInput{"failed_plane_beyond_the_fabric", 0, "",
                 "--set cluster.topology.failures.planes=[8]",
                 "--set cluster.topology.failures.planes=[8]", "cluster.topology.failures.planes",
                 "the fabric has no plane 8"},
        BadInput{"failed_link_between_unjoined_switches", 6,
                 "  topology: {kind: mpft, failures: {links: [[p0.leaf0, p1.spine0]]}}", "",
                 "6:", "cluster.topology.failures.links", "are not joined by a link"},
        BadInput{"stage_layers_neither_auto_nor_a_list", 17,
                 "  recompute: [rmsnorm, mla_up_projection]\n  stage_layers: balanced", "",
                 "18:", "plan.stage_layers", "expected auto or a list of layers per stage"},
        BadInput{"stage_layers_auto_on_a_pipeline_that_cannot_be_cut", 0, "",
                 "--set plan.stage_layers=auto --set plan.pp=3", "--set plan.pp=3", "plan.pp",
                 "does not divide"},
        BadInput{"interleaved_with_one_virtual_stage", 0, "",
                 "--set plan.schedule=interleaved --set plan.virtual_stages=1",
                 "--set plan.virtual_stages=1", "plan.virtual_stages", "2 or more"},
        BadInput{"virtual_stages_without_the_interleaved_schedule", 0, "",
                 "--set plan.virtual_stages=2", "--set plan.virtual_stages=2",
                 "plan.virtual_stages", "only the interleaved schedule"},
        BadInput{"interleaved_micro_batches_not_a_multiple_of_pp", 0, "",
                 "--set plan.schedule=interleaved --set plan.virtual_stages=2",
                 "13:", "plan.global_batch", "a multiple of pp = 16"},
        BadInput{"recompute_full_with_expert_parallelism", 17, "  recompute: full", "",
                 "17:", "plan.recompute", "would run their all-to-alls again"},
        BadInput{"cp_not_dividing_the_gpus", 0, "", "--set plan.cp=3", "--set plan.cp=3", "plan.cp",
                 "2 x cp equal chunks"},
        BadInput{"cp_not_dividing_the_replicas", 0, "", "--set plan.cp=256", "--set plan.cp=256",
                 "plan.cp", "does not divide the cluster's 2048 GPUs"},
        BadInput{"moe_with_tp_without_sequence_parallelism", 0, "",
                 "--set plan.tp=2 --set plan.sequence_parallel=false",
                 "--set plan.sequence_parallel=false", "plan.sequence_parallel",
                 "as Megatron-Core requires"},
        BadInput{"recompute_mode_unknown", 17, "  recompute: partial", "", "17:", "plan.recompute",
                 "full"},
        BadInput{"topology_kind_a_cluster_cannot_use", 6, "  topology: {kind: slimfly}", "",
                 "6:", "cluster.topology.kind", "cannot be built on 'slimfly'"},
        BadInput{"global_batch_past_an_int", 13, "  global_batch: 1e12", "",
                 "13:", "plan.global_batch", "too large"},
        BadInput{"more_micro_batches_than_the_event_engine_holds", 13, "  global_batch: 268435456",
                 "", "13:", "plan.global_batch", "the event-driven engine holds at most 1048575"}),
    [](const ::testing::TestParamInfo<BadInput>& info) { return info.param.name; });

TEST(BadInputOptions, TraceNeedsTheEventEngineAndRealRanks) {
  const auto dir = scratch_dir("bad-trace");
  const std::string scenario = std::string(CODESIM_SOURCE_DIR) + "/examples/gpt-small-a100-64.yaml";
  const auto trace = dir / "trace.json";
  auto analytic = run_codesim(
      "train '" + scenario + "' --engine analytic --trace '" + trace.string() + "'", dir);
  EXPECT_EQ(analytic.exit_code, 2);
  EXPECT_NE(analytic.err.find("--engine event"), std::string::npos) << analytic.err;
  auto rank = run_codesim(
      "train '" + scenario + "' --engine event --trace '" + trace.string() + "' --trace-ranks 0,64",
      dir);
  EXPECT_EQ(rank.exit_code, 2);
  EXPECT_NE(rank.err.find("'64' is not a GPU"), std::string::npos) << rank.err;
  EXPECT_FALSE(std::filesystem::exists(trace));
  auto engine = run_codesim("train '" + scenario + "' --engine fast", dir);
  EXPECT_EQ(engine.exit_code, 2);
  EXPECT_NE(engine.err.find("valid: analytic, event"), std::string::npos) << engine.err;
}

TEST(BadInputFiles, MissingAndEmptyFiles) {
  const auto dir = scratch_dir("bad-files");
  const auto json = dir / "out.json";
  auto missing = run_codesim(
      "train '" + (dir / "nope.yaml").string() + "' --json '" + json.string() + "'", dir);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.yaml"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("no such file"), std::string::npos) << missing.err;
  std::ofstream(dir / "empty.yaml").close();
  auto empty = run_codesim(
      "train '" + (dir / "empty.yaml").string() + "' --json '" + json.string() + "'", dir);
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("empty.yaml"), std::string::npos) << empty.err;
  EXPECT_NE(empty.err.find("empty"), std::string::npos) << empty.err;
  EXPECT_FALSE(std::filesystem::exists(json));
}

TEST(BadInputFiles, UnknownCommandAndOption) {
  const auto dir = scratch_dir("bad-cli");
  EXPECT_EQ(run_codesim("trian x.yaml", dir).exit_code, 2);
  const auto r = run_codesim("train x.yaml --jsn out.json", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("jsn"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace codesim::cli
