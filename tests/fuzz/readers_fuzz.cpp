// libFuzzer target over every reader of user input: the scenario loaders (training and serving,
// with --set overrides), calibration, sweep, topology and expert-counts files, and the report's
// JSON inputs (read and rendered). The input's first byte picks the reader; the rest is the
// file. A reader may refuse its input only with a ScenarioError (exit 2 in the binary); any
// other exception, a crash or a sanitizer report is a finding.
//
// Built by scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined). Without libFuzzer the
// same file builds with replay_main.cpp into a program that runs a corpus once (a ctest).

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/calibration_reader.hpp"
#include "cli/report_command.hpp"
#include "cli/scenario_error.hpp"
#include "cli/scenario_loader.hpp"
#include "cli/sweep_spec.hpp"
#include "cli/topo_command.hpp"
#include "cli/validation_rows.hpp"

namespace {

namespace fs = std::filesystem;

// One folder per process for the file under test (and what a case may name beside it).
const fs::path& work_dir() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("codesim-fuzz-" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

void write(const fs::path& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
}

// Lines of the input as --set arguments against the default scenario.
std::vector<std::string> lines_of(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> lines;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace cli = codesim::cli;
  if (size == 0) return 0;
  const int reader = data[0] % 8;
  ++data;
  --size;
  const fs::path file = work_dir() / "input.yaml";
  write(file, data, size);
  try {
    switch (reader) {
      case 0:
        cli::load_training_scenario(file.string(), {});
        break;
      case 1:
        cli::load_inference_scenario(file.string(), {});
        break;
      case 2:
        cli::read_calibration_file(file.string());
        break;
      case 3:
        cli::read_sweep(file.string());
        break;
      case 4:
        cli::load_topology_request(file.string());
        break;
      case 5: {
        const fs::path json = work_dir() / "input.json";
        write(json, data, size);
        const std::vector<cli::ReportInput> inputs = {cli::read_report_input(json.string())};
        cli::write_report(inputs, (work_dir() / "report.html").string(),
                          cli::default_report_assets(), cli::default_reference_path());
        break;
      }
      case 6: {
        // The default scenario with the input's lines as --set overrides.
        const std::string base =
            std::string(CODESIM_SOURCE_DIR) + "/examples/deepseek-v3-h800-2048.yaml";
        cli::load_training_scenario(base, lines_of(data, size));
        break;
      }
      case 7: {
        // An expert-counts file, named by a scenario beside it.
        const fs::path counts = work_dir() / "counts.yaml";
        write(counts, data, size);
        const std::string base =
            std::string(CODESIM_SOURCE_DIR) + "/examples/deepseek-v2-lite-h800-64.yaml";
        cli::load_training_scenario(
            base, {"plan.routing.model=measured", "plan.routing.counts=" + counts.string()});
        break;
      }
    }
  } catch (const cli::ScenarioError&) {
    // The one way bad input may be refused.
  }
  return 0;
}
