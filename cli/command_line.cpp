#include "cli/command_line.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "cli/interrupts.hpp"
#include "cli/scenario_error.hpp"

namespace po = boost::program_options;

namespace codesim::cli {

std::string repository_path(const std::string& relative) {
#ifdef CODESIM_REPOSITORY
  return std::string(CODESIM_REPOSITORY) + "/" + relative;
#else
  return relative;
#endif
}

std::optional<int> parse_subcommand(const std::vector<std::string>& args,
                                    const std::string& command,
                                    const po::options_description& options, std::string& file,
                                    po::variables_map& vm) {
  po::options_description hidden;
  hidden.add_options()("file", po::value<std::string>(&file));
  po::positional_options_description positional;
  positional.add("file", 1);
  po::options_description all;
  all.add(options).add(hidden);
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "codesim " << command << ": error: " << e.what() << "\n" << options;
    return kExitBadInput;
  }
  if (vm.count("help")) {
    std::cout << options;
    return kExitOk;
  }
  if (file.empty()) {
    std::cerr << "codesim " << command << ": error: no file given\n" << options;
    return kExitBadInput;
  }
  return std::nullopt;
}

std::string unreadable_reason(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (path.empty()) return "no file named (an empty path)";
  if (!fs::exists(status)) return "no such file";
  if (fs::is_directory(status)) return "it is a directory, not a file";
  if (!fs::is_regular_file(status)) return "it is not a regular file (a pipe, socket or device)";
  if (!std::ifstream(path, std::ios::binary)) return "permission denied";
  const std::uintmax_t bytes = fs::file_size(path, ec);
  if (!ec && bytes > kMaxInputFileBytes) {
    return fmt::format("it holds {} bytes; input files are read whole, at most {}", bytes,
                       kMaxInputFileBytes);
  }
  return "";
}

void check_readable_file(const std::string& path, const std::string& what,
                         const std::string& expected) {
  if (const std::string problem = unreadable_reason(path); !problem.empty()) {
    throw ScenarioError({path}, "", "cannot read the " + what + " (" + problem + ")", expected);
  }
}

void check_output_file(const std::string& option, const std::string& path) {
  namespace fs = std::filesystem;
  const auto fail = [&](const std::string& problem) {
    throw ScenarioError({option + " " + path}, "", "cannot write the output: " + problem,
                        "a file path in an existing, writable folder");
  };
  if (path.empty()) fail("no file named (an empty path)");
  std::error_code ec;
  const fs::path target(path);
  if (fs::is_directory(target, ec)) fail("it is a directory");
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::exists(folder, ec)) fail("its folder '" + folder.string() + "' does not exist");
  if (!fs::is_directory(folder, ec)) fail("'" + folder.string() + "' is not a folder");
  if (fs::exists(target, ec) && !fs::is_regular_file(target, ec)) {
    fail("it exists and is not a regular file");
  }
  // The file is written through PATH.tmp and a rename: try that temporary now, before the run.
  fs::path temporary = target;
  temporary += ".tmp";
  const bool existed = fs::exists(temporary, ec);
  if (!std::ofstream(temporary, std::ios::binary | std::ios::app)) {
    fail("the folder '" + folder.string() + "' is not writable");
  }
  if (!existed) fs::remove(temporary, ec);
}

YAML::Node load_yaml_file(const std::string& path, const std::string& what,
                          const std::string& expected) {
  check_readable_file(path, what, expected);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    throw ScenarioError({path, e.mark.line + 1, e.mark.column + 1}, "", "malformed YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw ScenarioError({path}, "", "cannot read YAML: " + e.msg);
  }
  if (!root || root.IsNull()) {
    throw ScenarioError({path}, "", "the " + what + " is empty", expected);
  }
  return root;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::filesystem::path target(path);
  std::filesystem::path temporary = target;
  temporary += ".tmp";
  const RemovedOnInterrupt guard(temporary.string());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + temporary.string());
    out << text;
    out.flush();
    if (!out) {
      std::filesystem::remove(temporary);
      throw std::runtime_error("cannot write " + temporary.string());
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, target, ec);
  if (ec) {
    std::filesystem::remove(temporary);
    throw std::runtime_error("cannot write " + path + ": " + ec.message());
  }
}

}  // namespace codesim::cli
