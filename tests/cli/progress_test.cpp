// Progress lines: `codesim train`'s event engine shows the simulated time of the step and an ETA
// on stderr when stderr is a terminal (a pseudo-terminal here), and writes nothing into a file;
// watching the step does not change it.

#include <gtest/gtest.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <string>
#include <vector>

#include "cli/progress.hpp"
#include "run_codesim.hpp"

namespace codesim::cli {
namespace {

using codesim::testing::example;
using codesim::testing::read_text;
using codesim::testing::run_codesim;
using codesim::testing::scratch_dir;

// Runs codesim with `args` on a pseudo-terminal; everything it wrote there, and its exit code.
std::pair<std::string, int> run_on_terminal(const std::vector<std::string>& args) {
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) return {"forkpty failed", -1};
  if (pid == 0) {
    std::vector<char*> argv;
    std::string binary = CODESIM_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(master, buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, std::size_t(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EIO once the child has closed the terminal
    }
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST(Progress, TrainShowsTheSimulatedTimeOnATerminalOnly) {
  const auto dir = scratch_dir("progress");
  const std::string watched = (dir / "watched.json").string();
  const auto [terminal, code] = run_on_terminal(
      {"train", example("deepseek-v2-lite-h800-64"), "--engine", "event", "--json", watched});
  ASSERT_EQ(code, 0) << terminal;
  EXPECT_NE(terminal.find("codesim train: simulated "), std::string::npos) << terminal;
  EXPECT_NE(terminal.find(" of ~"), std::string::npos) << terminal;  // the analytic estimate
  EXPECT_NE(terminal.find("M events"), std::string::npos) << terminal;
  // The line is cleared before the summary is printed.
  EXPECT_NE(terminal.find("\r\x1b[K"), std::string::npos);
  EXPECT_NE(terminal.find("step "), std::string::npos);

  const auto r = run_codesim("train '" + example("deepseek-v2-lite-h800-64") + "' --json '" +
                                 (dir / "plain.json").string() + "'",
                             dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // Watched or not, the same result (but for the wall time).
  auto a = nlohmann::json::parse(read_text(watched));
  auto b = nlohmann::json::parse(read_text(dir / "plain.json"));
  a["sim"].erase("wall_s");
  b["sim"].erase("wall_s");
  EXPECT_EQ(a, b);
}

TEST(Progress, EtaFromTheFractionDone) {
  ProgressLine off(false);
  EXPECT_FALSE(off.enabled());
  off.show("nothing");          // writes nothing when disabled
  EXPECT_EQ(off.eta(0.5), "");  // under half a second in: nothing to go on
}

}  // namespace
}  // namespace codesim::cli
