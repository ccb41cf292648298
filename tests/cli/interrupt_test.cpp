// A run stopped by SIGINT or SIGTERM exits 130 or 143, leaves an output that existed before as
// it was, and leaves no partial or temporary file.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "cli/interrupts.hpp"
#include "run_codesim.hpp"

namespace codesim::cli {
namespace {

namespace fs = std::filesystem;
using codesim::testing::example;
using codesim::testing::read_text;
using codesim::testing::scratch_dir;

// Starts `codesim train` on the default scenario (half a minute of work), signals it after a
// second, and returns its exit code.
int interrupted_train(int signal, const fs::path& json) {
  const pid_t pid = fork();
  if (pid == 0) {
    // Quiet: the child's output is not the test's.
    freopen("/dev/null", "w", stdout);
    execl(CODESIM_BINARY, CODESIM_BINARY, "train", example("deepseek-v3-h800-2048").c_str(),
          "--json", json.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  kill(pid, signal);
  int status = 0;
  waitpid(pid, &status, 0);
  // An exit, not a death by the signal: the handler ran.
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

TEST(Interrupt, SigtermAndSigintStopCleanlyAndTouchNoOutput) {
  const auto dir = scratch_dir("interrupt");
  for (const auto& [signal, code] : {std::pair{SIGTERM, 143}, std::pair{SIGINT, 130}}) {
    SCOPED_TRACE(signal);
    const fs::path json = dir / "out.json";
    std::ofstream(json) << "the result of an earlier run\n";
    EXPECT_EQ(interrupted_train(signal, json), code);
    EXPECT_EQ(read_text(json), "the result of an earlier run\n");
    EXPECT_FALSE(fs::exists(dir / "out.json.tmp"));
    // Without an earlier output, none appears.
    fs::remove(json);
    EXPECT_EQ(interrupted_train(signal, json), code);
    EXPECT_FALSE(fs::exists(json));
    EXPECT_FALSE(fs::exists(dir / "out.json.tmp"));
  }
}

// Interrupted while an output's temporary file is being written: the file goes.
TEST(Interrupt, TheTemporaryOutputBeingWrittenIsRemoved) {
  const auto dir = scratch_dir("interrupt-temporary");
  const fs::path temporary = dir / "out.json.tmp";
  const pid_t pid = fork();
  if (pid == 0) {
    install_interrupt_handlers();
    std::ofstream(temporary) << "half a result";
    const RemovedOnInterrupt guard(temporary.string());
    raise(SIGTERM);
    _exit(0);  // not reached
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 143);
  EXPECT_FALSE(fs::exists(temporary));
}

}  // namespace
}  // namespace codesim::cli
