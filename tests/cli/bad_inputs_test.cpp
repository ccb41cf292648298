// The bad-input corpus (tests/cli/bad_inputs/): every file there is one bad input, run through
// the binary as a user runs it. A case's leading comment lines say how to run it and what must
// come out:
//
//   # run: train {case} --json {out}      the arguments (default: train {case} --json {out})
//   # setup: mkfifo {scratch}/pipe        shell commands run first, in the case's scratch folder
//   # exit: 2                             the exit code (default 2)
//   # stderr: {case}:4:                   a fragment the message must hold (any number)
//
// {case} is the case's own file, {corpus} its folder, {examples} the repository's examples/,
// {scratch} a fresh folder for the case and {out} a file in it the run must not create. Besides
// the fragments, every case must print nothing on stdout, at most two lines on stderr (the
// message and what would be valid) and write no file: the scratch folder holds afterwards
// exactly what its setup made, byte for byte (an earlier output there stays as it was).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "run_codesim.hpp"

namespace codesim::cli {
namespace {

namespace fs = std::filesystem;
using codesim::testing::read_text;
using codesim::testing::run_codesim;
using codesim::testing::scratch_dir;

const fs::path kCorpus = fs::path(CODESIM_SOURCE_DIR) / "tests" / "cli" / "bad_inputs";

struct Case {
  fs::path file;
  std::string run = "train {case} --json {out}";
  std::vector<std::string> setup;
  int exit = 2;
  std::vector<std::string> stderr_fragments;
};

Case read_case(const fs::path& file) {
  Case c;
  c.file = file;
  const std::string text = read_text(file);
  std::size_t at = 0;
  while (at < text.size() && text[at] == '#') {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    const auto field = [&](const std::string& name, std::string& value) {
      const std::string prefix = "# " + name + ": ";
      if (line.rfind(prefix, 0) != 0) return false;
      value = line.substr(prefix.size());
      return true;
    };
    std::string value;
    if (field("run", value)) {
      c.run = value;
    } else if (field("setup", value)) {
      c.setup.push_back(value);
    } else if (field("exit", value)) {
      c.exit = std::stoi(value);
    } else if (field("stderr", value)) {
      c.stderr_fragments.push_back(value);
    }
  }
  return c;
}

// `text` with each {name} replaced: quoted for the shell (`quoted`) or as it is.
std::string expand(std::string text, const std::map<std::string, std::string>& values,
                   bool quoted) {
  for (const auto& [name, value] : values) {
    const std::string from = "{" + name + "}";
    const std::string to = quoted ? "'" + value + "'" : value;
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
      text.replace(at, from.size(), to);
      at += to.size();
    }
  }
  return text;
}

// What a folder holds: each entry, with a regular file's bytes (a large one's size).
std::map<std::string, std::string> files_in(const fs::path& dir) {
  std::map<std::string, std::string> files;
  // One level: setups make files, links and empty folders (a link loop must not be followed).
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string& bytes = files[entry.path().filename().string()];
    if (entry.is_symlink() || !fs::is_regular_file(entry.symlink_status())) continue;
    const auto size = entry.file_size();
    bytes = size <= (1u << 20) ? read_text(entry.path()) : "size " + std::to_string(size);
  }
  return files;
}

std::vector<fs::path> corpus() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kCorpus)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(BadInputCorpus, HoldsAtLeast150Cases) {
  EXPECT_GE(corpus().size(), 150u);
}

TEST(BadInputCorpus, EveryCaseFailsAsItSays) {
  for (const fs::path& file : corpus()) {
    const Case c = read_case(file);
    const std::string name = file.stem().string();
    SCOPED_TRACE(file.filename().string());
    const fs::path scratch = scratch_dir("corpus-" + name);
    const fs::path out = scratch / "out.json";
    const std::map<std::string, std::string> values = {
        {"case", file.string()},
        {"corpus", kCorpus.string()},
        {"examples", (fs::path(CODESIM_SOURCE_DIR) / "examples").string()},
        {"scratch", scratch.string()},
        {"out", out.string()}};
    for (const std::string& command : c.setup) {
      const std::string shell = "cd '" + scratch.string() + "' && " + expand(command, values, true);
      ASSERT_EQ(std::system(shell.c_str()), 0) << "setup failed: " << shell;
    }
    // The run's own stdout and stderr go beside the case's scratch folder, not into it.
    const fs::path logs = scratch_dir("corpus-" + name + "-logs");
    const auto before = files_in(scratch);
    const auto r = run_codesim(expand(c.run, values, true), logs);
    EXPECT_EQ(r.exit_code, c.exit) << r.err;
    EXPECT_TRUE(r.out.empty()) << "stdout: " << r.out;
    for (const std::string& fragment : c.stderr_fragments) {
      const std::string expected = expand(fragment, values, false);
      EXPECT_NE(r.err.find(expected), std::string::npos)
          << "expected '" << expected << "' in: " << r.err;
    }
    const auto lines = std::count(r.err.begin(), r.err.end(), '\n');
    EXPECT_GE(lines, 1) << "no message";
    EXPECT_LE(lines, 2) << "one message, and at most one line saying what is valid: " << r.err;
    EXPECT_TRUE(files_in(scratch) == before)
        << "a failed run must not write, change or leave a file in " << scratch;
    // Setups may make folders without write permission; give them back so the folder goes.
    std::system(("chmod -R u+rwx '" + scratch.string() + "' 2>/dev/null").c_str());
    fs::remove_all(scratch);
    fs::remove_all(logs);
  }
}

}  // namespace
}  // namespace codesim::cli
