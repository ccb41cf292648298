#include "cli/command_line.hpp"

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

YAML::Node load_yaml_file(const std::string& path, const std::string& what,
                          const std::string& expected) {
  if (!std::filesystem::is_regular_file(path)) {
    throw ScenarioError({path}, "", "cannot read the " + what + " (no such file)", expected);
  }
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
