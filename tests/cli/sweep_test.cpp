// `codesim sweep`: the expansion of grids and zips, errors that name the sweep file's line and
// key, points run in parallel into a table, failing points recorded, and a sweep killed mid-way
// and started again that loses no point and redoes none.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cli/scenario_error.hpp"
#include "cli/sweep_spec.hpp"
#include "run_codesim.hpp"

namespace codesim::cli {
namespace {

namespace fs = std::filesystem;
using codesim::testing::example;
using codesim::testing::read_text;
using codesim::testing::run_codesim;
using codesim::testing::scratch_dir;

// dir/sweep.yaml: a sweep of the example `base` with `body`'s keys (indented under sweep:).
fs::path write_sweep(const fs::path& dir, const std::string& base, const std::string& body) {
  const fs::path path = dir / "sweep.yaml";
  std::ofstream(path) << "sweep:\n  base: " << example(base) << "\n" << body;
  return path;
}

int lines_of(const std::string& text) {
  return int(std::count(text.begin(), text.end(), '\n'));
}

TEST(SweepSpec, GridTimesZipInOrderTheLastAxisFastest) {
  const auto dir = scratch_dir("sweep-expand");
  const auto path = write_sweep(dir, "gpt-small-a100-64",
                                "  set: {plan.comm_sms: 4}\n"
                                "  grid:\n"
                                "    plan.pp: [2, 4, 8]\n"
                                "    plan.micro_batch: [1, 2]\n"
                                "  zip:\n"
                                "    plan.sequence_length: [1024, 2048]\n"
                                "    plan.global_batch: [128, 64]\n");
  const SweepSpec spec = read_sweep(path.string());
  EXPECT_EQ(spec.engine, "event");
  const std::vector<SweepPoint> points = expand(spec);
  ASSERT_EQ(points.size(), 12u);
  EXPECT_EQ(points[0].id, "p0000");
  EXPECT_EQ(points[11].id, "p0011");
  using Sets = std::vector<SweepSet>;
  EXPECT_EQ(points[0].sets, (Sets{{"plan.comm_sms", "4"},
                                  {"plan.pp", "2"},
                                  {"plan.micro_batch", "1"},
                                  {"plan.sequence_length", "1024"},
                                  {"plan.global_batch", "128"}}));
  EXPECT_EQ(points[1].sets[3], (SweepSet{"plan.sequence_length", "2048"}));
  EXPECT_EQ(points[1].sets[4], (SweepSet{"plan.global_batch", "64"}));
  EXPECT_EQ(points[2].sets[2], (SweepSet{"plan.micro_batch", "2"}));
  EXPECT_EQ(points[11].sets[1], (SweepSet{"plan.pp", "8"}));
}

TEST(SweepSpec, ListValuesPassAsFlowYaml) {
  const auto dir = scratch_dir("sweep-lists");
  const auto path = write_sweep(dir, "gpt-small-a100-64",
                                "  grid:\n"
                                "    plan.stage_layers: [[1, 1, 2, 2], [2, 2, 1, 1]]\n");
  const auto points = expand(read_sweep(path.string()));
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(set_argument(points[1].sets[0]), "plan.stage_layers=[2, 2, 1, 1]");
}

// Errors name the sweep file, the line and the key.
TEST(SweepSpec, BadSweepsNameTheLineAndKey) {
  const auto dir = scratch_dir("sweep-bad");
  auto error_of = [&](const std::string& body) -> std::string {
    const auto path = write_sweep(dir, "gpt-small-a100-64", body);
    try {
      read_sweep(path.string());
    } catch (const ScenarioError& e) {
      return e.what();
    }
    return "";
  };
  const std::string zip = error_of("  zip:\n    plan.pp: [2, 4]\n    plan.global_batch: [64]\n");
  EXPECT_NE(zip.find("sweep.yaml:5:"), std::string::npos) << zip;
  EXPECT_NE(zip.find("zipped lists must be of one length"), std::string::npos) << zip;
  const std::string unknown = error_of("  grid:\n    plan.ppp: [2, 4]\n");
  EXPECT_NE(unknown.find("sweep.yaml:4:"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("plan.ppp"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("did you mean 'pp'"), std::string::npos) << unknown;
  const std::string empty = error_of("  grid:\n    plan.pp: []\n");
  EXPECT_NE(empty.find("non-empty list"), std::string::npos) << empty;
  const std::string nothing = error_of("  engine: analytic\n");
  EXPECT_NE(nothing.find("a grid or a zip"), std::string::npos) << nothing;
  const std::string top = error_of("  gird:\n    plan.pp: [2]\n");
  EXPECT_NE(top.find("did you mean 'grid'"), std::string::npos) << top;
}

// Points run into a table; a point whose plan is impossible is recorded with its message and the
// sweep goes on; started again, the sweep runs nothing it has; a removed point is run again alone.
TEST(Sweep, RunsEveryPointIntoATableAndResumes) {
  const auto dir = scratch_dir("sweep-run");
  const auto path = write_sweep(dir, "gpt-small-a100-64",
                                "  engine: analytic\n"
                                "  grid:\n"
                                "    plan.pp: [1, 2, 7]\n"
                                "    plan.micro_batch: [1, 2]\n"
                                "  outputs: [step_time_s, mfu, breakdown_s.compute]\n");
  const auto out = dir / "out";
  const std::string command = "sweep '" + path.string() + "' --jobs 2 --out '" + out.string() + "'";
  const auto first = run_codesim(command, dir);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("6 points, 6 run now, 0 finished before; 2 failed"), std::string::npos)
      << first.out;
  const std::string csv = read_text(out / "table.csv");
  EXPECT_EQ(lines_of(csv), 7) << csv;
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "point,plan.pp,plan.micro_batch,step_time_s,mfu,breakdown_s.compute,error");
  const auto table = nlohmann::json::parse(read_text(out / "table.json"));
  ASSERT_EQ(table.size(), 6u);
  EXPECT_TRUE(table[0]["error"].is_null());
  EXPECT_GT(table[0]["step_time_s"].get<double>(), 0);
  EXPECT_GT(table[3]["breakdown_s.compute"].get<double>(), 0);
  // pp = 7 does not divide 64 GPUs: recorded, with the message train gives.
  ASSERT_TRUE(table[4]["error"].is_string());
  EXPECT_NE(table[4]["error"].get<std::string>().find("does not divide"), std::string::npos);
  EXPECT_TRUE(fs::exists(out / "points" / "p0004.error.json"));

  const auto stamp = fs::last_write_time(out / "points" / "p0000.json");
  const auto again = run_codesim(command, dir);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("6 points, 0 run now, 6 finished before"), std::string::npos)
      << again.out;
  fs::remove(out / "points" / "p0003.json");
  const auto one = run_codesim(command, dir);
  EXPECT_NE(one.out.find("6 points, 1 run now, 5 finished before"), std::string::npos) << one.out;
  EXPECT_EQ(fs::last_write_time(out / "points" / "p0000.json"), stamp);
  EXPECT_EQ(read_text(out / "table.csv"), csv);
  // Another sweep's points are not mixed into this folder.
  const auto other = run_codesim(command + " --engine event", dir);
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("holds another sweep's points"), std::string::npos) << other.err;
}

// Killed mid-way (SIGKILL, no chance to clean up) and started again: every point finished
// before the kill is kept as it was, none is run twice, and the rest run.
TEST(Sweep, AKilledSweepLosesNoPointAndRedoesNone) {
  const auto dir = scratch_dir("sweep-kill");
  const auto path = write_sweep(dir, "gpt3-175b-a100-1024",
                                "  engine: event\n"
                                "  grid:\n"
                                "    plan.comm_sms: [0, 1, 2, 3, 4, 5]\n");
  const auto out = dir / "out";
  const std::string command = "sweep '" + path.string() + "' --jobs 1 --out '" + out.string() + "'";
  const std::string kill_after_3s =
      "timeout -s KILL 3 '" + std::string(CODESIM_BINARY) + "' " + command + " >/dev/null 2>&1";
  EXPECT_NE(std::system(kill_after_3s.c_str()), 0);  // killed
  // Its running point died with it: nothing more appears.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  std::map<std::string, fs::file_time_type> kept;
  for (const auto& entry : fs::directory_iterator(out / "points")) {
    if (entry.path().extension() == ".json")
      kept[entry.path().filename()] = entry.last_write_time();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int after = 0;
  for (const auto& entry : fs::directory_iterator(out / "points")) {
    after += entry.path().extension() == ".json";
  }
  EXPECT_EQ(after, int(kept.size()));
  ASSERT_LT(kept.size(), 6u) << "the sweep finished before it was killed";

  const auto resumed = run_codesim(command, dir);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("6 points, " + std::to_string(6 - kept.size()) + " run now, " +
                             std::to_string(kept.size()) + " finished before; 0 failed"),
            std::string::npos)
      << resumed.out;
  for (const auto& [name, time] : kept) {
    EXPECT_EQ(fs::last_write_time(out / "points" / name), time) << name << " was run again";
  }
  const auto table = nlohmann::json::parse(read_text(out / "table.json"));
  ASSERT_EQ(table.size(), 6u);
  for (const auto& row : table) EXPECT_TRUE(row["error"].is_null()) << row.dump();
}

// Under mpirun (OpenMPI) the ranks share the points out; the table is the one --jobs gives.
TEST(Sweep, UnderMpirunTheRanksShareThePointsForTheSameTable) {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "no mpirun";
  const auto dir = scratch_dir("sweep-mpi");
  const auto path = write_sweep(dir, "gpt-small-a100-64",
                                "  engine: analytic\n"
                                "  grid:\n"
                                "    plan.pp: [1, 2]\n"
                                "    plan.comm_sms: [0, 8, 16]\n");
  const auto jobs = run_codesim(
      "sweep '" + path.string() + "' --jobs 2 --out '" + (dir / "jobs").string() + "'", dir);
  ASSERT_EQ(jobs.exit_code, 0) << jobs.err;
  const std::string mpi =
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
      "OMPI_MCA_mpi_warn_on_fork=0 mpirun -np 2 --oversubscribe '" +
      std::string(CODESIM_BINARY) + "' sweep '" + path.string() + "' --jobs 1 --out '" +
      (dir / "mpi").string() + "' >'" + (dir / "mpi.out").string() + "' 2>'" +
      (dir / "mpi.err").string() + "'";
  ASSERT_EQ(std::system(mpi.c_str()), 0) << read_text(dir / "mpi.err");
  const std::string said = read_text(dir / "mpi.out");
  EXPECT_NE(said.find("6 points, 6 run now, 0 finished before; 0 failed"), std::string::npos)
      << said;
  EXPECT_EQ(read_text(dir / "mpi" / "table.csv"), read_text(dir / "jobs" / "table.csv"));
}

// The example sweeps run (with the analytic engine, to keep the suite short).
TEST(Sweep, ExampleSweepsRun) {
  for (const auto& entry :
       fs::directory_iterator(std::string(CODESIM_SOURCE_DIR) + "/examples/sweeps")) {
    if (entry.path().extension() != ".yaml") continue;
    const auto dir = scratch_dir("sweep-example-" + entry.path().stem().string());
    const auto r =
        run_codesim("sweep '" + entry.path().string() + "' --engine analytic --jobs 2 --out '" +
                        (dir / "out").string() + "'",
                    dir);
    ASSERT_EQ(r.exit_code, 0) << entry.path() << "\n" << r.err;
    EXPECT_NE(r.out.find(" 0 failed"), std::string::npos) << r.out;
  }
}

// The topology x M example cut down to two points on the event engine (its 12 points take about
// 4 minutes on two cores): M = 1 and M = 8 on the multi-plane fabric. Routing a token to more
// nodes sends more of its copies over InfiniBand, so more of the all-to-all is exposed.
TEST(Sweep, TopologyExampleCutDownOnTheEventEngine) {
  const auto dir = scratch_dir("sweep-topology-event");
  std::ofstream(dir / "cut.yaml") << "sweep:\n  base: " << std::string(CODESIM_SOURCE_DIR)
                                  << "/examples/deepseek-v3-h800-2048.yaml\n"
                                     "  engine: event\n"
                                     "  grid:\n"
                                     "    cluster.topology.kind: [mpft]\n"
                                     "    plan.max_nodes_per_token: [1, 8]\n"
                                     "  outputs: [step_time_s, breakdown_s.exposed_ep_comm, "
                                     "network.ep_ib_bytes_per_token_per_moe_layer]\n";
  const auto r = run_codesim(
      "sweep '" + (dir / "cut.yaml").string() + "' --jobs 2 --out '" + (dir / "out").string() + "'",
      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto table = nlohmann::json::parse(read_text(dir / "out" / "table.json"));
  ASSERT_EQ(table.size(), 2u);
  const auto& one = table[0];
  const auto& eight = table[1];
  EXPECT_EQ(one["plan.max_nodes_per_token"], "1");
  EXPECT_GT(eight["network.ep_ib_bytes_per_token_per_moe_layer"].get<double>(),
            one["network.ep_ib_bytes_per_token_per_moe_layer"].get<double>());
  EXPECT_GT(eight["breakdown_s.exposed_ep_comm"].get<double>(),
            one["breakdown_s.exposed_ep_comm"].get<double>());
  EXPECT_GT(eight["step_time_s"].get<double>(), one["step_time_s"].get<double>());
}

// The skew sweep as written (the event engine, a second a point): at each Zipf exponent, 16
// redundant experts bring the busiest GPU's load towards the mean and shorten the step.
TEST(Sweep, RedundantExpertsEvenTheLoadAtEverySkew) {
  const auto dir = scratch_dir("sweep-skew");
  const auto r =
      run_codesim("sweep '" + std::string(CODESIM_SOURCE_DIR) +
                      "/examples/sweeps/v2-lite-redundant-x-skew.yaml' --jobs 2 --out '" +
                      (dir / "out").string() + "'",
                  dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto table = nlohmann::json::parse(read_text(dir / "out" / "table.json"));
  ASSERT_EQ(table.size(), 9u);
  for (int skew = 0; skew < 3; ++skew) {
    const auto& none = table[3 * skew];
    const auto& sixteen = table[3 * skew + 1];
    EXPECT_LT(sixteen["network.expert_load_max_over_mean"].get<double>(),
              none["network.expert_load_max_over_mean"].get<double>());
    EXPECT_LT(sixteen["step_time_s"].get<double>(), none["step_time_s"].get<double>());
  }
}

}  // namespace
}  // namespace codesim::cli
