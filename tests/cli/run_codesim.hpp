#pragma once
// Runs the codesim binary the way a user does, for end-to-end tests of the command line.

#include <sys/wait.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace codesim::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// `arguments` is appended to the binary's path as shell words; the caller quotes them.
inline RunResult run_codesim(const std::string& arguments, const std::filesystem::path& workdir) {
  const auto out = workdir / "stdout.txt";
  const auto err = workdir / "stderr.txt";
  const std::string command = std::string("'") + CODESIM_BINARY + "' " + arguments + " >'" +
                              out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(command.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

// The path of examples/<name>.yaml in this repository.
inline std::string example(const std::string& name) {
  return std::string(CODESIM_SOURCE_DIR) + "/examples/" + name + ".yaml";
}

// A fresh, empty folder for one test.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("codesim-test-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace codesim::testing
