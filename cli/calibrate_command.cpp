#include "cli/calibrate_command.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/calibration_reader.hpp"
#include "cli/command_line.hpp"
#include "cli/scenario_error.hpp"

namespace codesim::cli {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

constexpr const char* kRunnerName = "codesim-calibrate-runner";

// The runner: --runner, else beside this executable, else where this build put it.
std::string find_runner(const std::string& given) {
  if (!given.empty()) return given;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::is_regular_file(self.parent_path() / kRunnerName)) {
    return (self.parent_path() / kRunnerName).string();
  }
#ifdef CODESIM_CALIBRATE_RUNNER
  if (fs::is_regular_file(CODESIM_CALIBRATE_RUNNER)) return CODESIM_CALIBRATE_RUNNER;
#endif
  return "";
}

std::string shell_quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

int run_calibrate(const std::vector<std::string>& args) {
  po::options_description options("codesim calibrate [options]");
  std::string out_path = "calibration.yaml";
  std::string runner_path;
  std::string measured_on;
  int repeats = 20;
  int warmup = 3;
  options.add_options()("help,h", "show this help")(
      "out", po::value<std::string>(&out_path),
      "write the calibration YAML to FILE (default calibration.yaml); a scenario reads it with "
      "'calibration: FILE'")("repeats", po::value<int>(&repeats),
                             "timed launches per kernel and shape (default 20)")(
      "warmup", po::value<int>(&warmup), "untimed launches before them (default 3)")(
      "quick", "a few shapes only, for a smoke run")(
      "skip-checks", "time the kernels even without checking them against the CPU references")(
      "measured-on", po::value<std::string>(&measured_on),
      "the codesim GPU preset this GPU is (default: told from the device's name)")(
      "runner", po::value<std::string>(&runner_path),
      "the codesim-calibrate-runner to use (default: the one beside codesim)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error("calibrate", e.what());
  }
  if (vm.count("help")) {
    std::cout << options;
    return kExitOk;
  }
  if (repeats < 1 || warmup < 0) {
    std::cerr << "codesim calibrate: error: --repeats must be >= 1 and --warmup >= 0\n";
    return kExitBadInput;
  }

  check_output_file("--out", out_path);
  if (!runner_path.empty() && !fs::is_regular_file(runner_path)) {
    std::cerr << "codesim calibrate: error: --runner " << runner_path << ": no such file\n";
    return kExitBadInput;
  }
  const std::string runner = find_runner(runner_path);
  if (runner.empty() || !fs::is_regular_file(runner)) {
    std::cerr
        << "codesim calibrate: error: this build has no CUDA kernels (nvcc was not found "
           "when it was configured), so it cannot calibrate on a GPU; the published H800 "
           "calibration stays the default. Build with the CUDA toolkit (validation/README.md)."
        << "\n";
    return kExitNoGpu;
  }

  // The runner writes a scratch file; only a file that reads back as a valid calibration
  // reaches --out, through a rename.
  const fs::path scratch =
      fs::temp_directory_path() / ("codesim-calibrate-" + std::to_string(getpid()) + ".yaml");
  std::string command = shell_quoted(runner) + " --out " + shell_quoted(scratch.string()) +
                        " --repeats " + std::to_string(repeats) + " --warmup " +
                        std::to_string(warmup);
  if (vm.count("quick")) command += " --quick";
  if (vm.count("skip-checks")) command += " --skip-checks";
  if (!measured_on.empty()) command += " --measured-on " + shell_quoted(measured_on);
  const int status = std::system(command.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == kExitNoGpu || code == kExitBadInput) {
    fs::remove(scratch);
    return code;  // the runner has said why, in one line
  }
  if (code != 0) {
    fs::remove(scratch);
    std::cerr << "codesim calibrate: error: " << runner << " failed (exit status " << code
              << "); no calibration written\n";
    return kExitInternal;
  }
  models::Calibration calibration;
  try {
    calibration = read_calibration_file(scratch.string());
  } catch (const ScenarioError& e) {
    fs::remove(scratch);
    std::cerr << "codesim calibrate: error: the runner wrote a calibration that does not read "
                 "back: "
              << e.what() << "\n";
    return kExitInternal;
  }
  const std::string text = read_text(scratch);
  fs::remove(scratch);
  write_file_atomically(out_path, text);
  std::cout << "wrote " << out_path << ": calibration '" << calibration.name << "' measured on "
            << calibration.measured_on.name << " (" << calibration.provenance << "); "
            << calibration.dense_fp8_gemm.size() << " dense and "
            << calibration.grouped_fp8_gemm.size()
            << " grouped FP8 GEMM shapes. Use it with 'calibration: " << out_path
            << "' in a scenario.\n";
  return kExitOk;
}

}  // namespace codesim::cli
