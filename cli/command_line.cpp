#include "cli/command_line.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

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

int usage_error(const std::string& command, const std::string& message) {
  std::cerr << "codesim " << command << ": error: " << message << "\n  run 'codesim " << command
            << " --help' for the options\n";
  return kExitBadInput;
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
    return usage_error(command, e.what());
  }
  if (vm.count("help")) {
    std::cout << options;
    return kExitOk;
  }
  if (file.empty()) {
    return usage_error(command, "no file given");
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
  // The file is written through its temporary and a rename: try that temporary now.
  const fs::path temporary = temporary_output(path);
  const bool existed = fs::exists(temporary, ec);
  std::optional<RemovedOnInterrupt> guard;
  if (!existed) guard.emplace(temporary.string());
  if (!std::ofstream(temporary, std::ios::binary | std::ios::app)) {
    fail("the folder '" + folder.string() + "' is not writable");
  }
  if (!existed) fs::remove(temporary, ec);
}

void check_yaml_document(const YAML::Node& root, const std::string& file,
                         const std::string& key_path) {
  struct Item {
    YAML::Node node;
    std::string path;
    int depth;
  };
  const bool from_set = file.rfind("--set", 0) == 0;  // a --set value has no lines to name
  const auto at = [&](const YAML::Node& node) {
    return from_set ? SourceLocation{file}
                    : SourceLocation{file, node.Mark().line + 1, node.Mark().column + 1};
  };
  std::vector<Item> stack = {{root, key_path, 0}};
  std::size_t visited = 0;
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    if (++visited > kMaxYamlNodes) {
      throw ScenarioError({file}, "",
                          fmt::format("the YAML holds more than {} values once its aliases are "
                                      "expanded",
                                      kMaxYamlNodes),
                          "a scenario-sized file (aliases that do not nest exponentially)");
    }
    if (item.depth > kMaxYamlDepth) {
      const std::string shown = item.path.size() > 40 ? item.path.substr(0, 40) + "..." : item.path;
      throw ScenarioError(
          at(item.node), shown,
          fmt::format("nested more than {} levels deep (an alias inside itself?)", kMaxYamlDepth));
    }
    if (item.node.IsSequence()) {
      for (std::size_t i = 0; i < item.node.size(); ++i) {
        stack.push_back({item.node[i], fmt::format("{}[{}]", item.path, i), item.depth + 1});
      }
    } else if (item.node.IsMap()) {
      std::map<std::string, int> lines;  // key -> the line it is first given on
      for (const auto& entry : item.node) {
        if (!entry.first.IsScalar()) {
          throw ScenarioError(at(entry.first), item.path,
                              "a key must be a single name, not a list or a map");
        }
        const std::string key = entry.first.Scalar();
        const std::string path = item.path.empty() ? key : item.path + "." + key;
        const int line = entry.first.Mark().line + 1;
        if (const auto [first, fresh] = lines.emplace(key, line); !fresh) {
          throw ScenarioError(at(entry.first), path,
                              fmt::format("given twice (first on line {})", first->second),
                              "each key once per map");
        }
        stack.push_back({entry.second, path, item.depth + 1});
      }
    }
  }
}

namespace {

// Where each document of a YAML stream starts, parsed without building nodes.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

YAML::Node load_yaml_file(const std::string& path, const std::string& what,
                          const std::string& expected) {
  check_readable_file(path, what, expected);
  const std::string text = read_text(path);
  YAML::Node root;
  DocumentStarts documents;
  try {
    // Count the documents first, stopping at two. yaml-cpp's own LoadAll never ends on a stray
    // ',', ']' or '}' at the top level: the parser hands out an empty document there without
    // moving on, again and again; a document that starts where the one before it did is that.
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    while (documents.starts.size() < 3 && parser.HandleNextDocument(documents)) {
      const auto& s = documents.starts;
      if (s.size() >= 2 && s[s.size() - 1].pos == s[s.size() - 2].pos) {
        throw ScenarioError({path, s.back().line + 1, s.back().column + 1}, "",
                            "malformed YAML: a ',', ']' or '}' outside any flow list or map");
      }
    }
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ScenarioError({path, e.mark.line + 1, e.mark.column + 1}, "", "malformed YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw ScenarioError({path}, "", "cannot read YAML: " + e.msg);
  }
  if (documents.starts.size() > 1) {
    throw ScenarioError({path, documents.starts[1].line + 1}, "",
                        fmt::format("the {} holds more than one YAML document (separated by "
                                    "---); codesim reads one",
                                    what),
                        expected);
  }
  if (!root || root.IsNull()) {
    throw ScenarioError({path}, "", "the " + what + " is empty", expected);
  }
  check_yaml_document(root, path);
  return root;
}

double physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? double(pages) * double(page) : 0;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::filesystem::path temporary_output(const std::string& path) {
  std::filesystem::path temporary(path);
  temporary += ".tmp";
  return temporary;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::filesystem::path target(path);
  const std::filesystem::path temporary = temporary_output(path);
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
