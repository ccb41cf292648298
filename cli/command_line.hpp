#pragma once
// What every codesim subcommand shares: exit codes, parsing one positional file plus options,
// and reading a YAML file with errors that name it.

#include <yaml-cpp/yaml.h>

#include <boost/program_options.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace codesim::cli {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitNoGpu = 3;  // `codesim calibrate` without a usable CUDA GPU

// A usage error of `command` (an unknown option, a missing argument): one line saying what is
// wrong and one pointing at --help, on stderr. Returns kExitBadInput.
int usage_error(const std::string& command, const std::string& message);

// Parses `args` of `command` against `options` plus one positional file into `file` and `vm`.
// Returns the exit code when the command should stop here (--help: 0, a usage error or no file:
// 2, with the message printed), or nullopt to go on.
std::optional<int> parse_subcommand(const std::vector<std::string>& args,
                                    const std::string& command,
                                    const boost::program_options::options_description& options,
                                    std::string& file, boost::program_options::variables_map& vm);

// Input files are read whole; larger ones are refused before reading.
constexpr std::uintmax_t kMaxInputFileBytes = std::uintmax_t{256} << 20;  // 256 MiB

// Why `path` cannot be read as an input file ("no such file", "it is a directory", ...), or ""
// when it is a regular file this process can read, of at most kMaxInputFileBytes.
std::string unreadable_reason(const std::string& path);

// A ScenarioError naming `path` unless it is a regular file this process can read, of at most
// kMaxInputFileBytes: it says whether the file is missing, a directory, a pipe or unreadable.
void check_readable_file(const std::string& path, const std::string& what,
                         const std::string& expected);

// A ScenarioError naming `option` and `path` unless an output can be written there (its folder
// exists and takes a new file; the path is not a directory). Checked before a run, so that a
// long run does not end in an error about where to put its result.
void check_output_file(const std::string& option, const std::string& path);

// What a YAML document may hold: values once aliases are expanded, and levels of nesting.
constexpr std::size_t kMaxYamlNodes = 1'000'000;
constexpr int kMaxYamlDepth = 64;

// A ScenarioError naming `file` (a path, or the --set that gave the document) and the line of the
// first problem, unless every map's keys are single names given once, nesting is at most
// kMaxYamlDepth deep and the whole holds at most kMaxYamlNodes values. `key_path` is where the
// document sits (a --set value's key), for the keys messages name.
void check_yaml_document(const YAML::Node& root, const std::string& file,
                         const std::string& key_path = "");

// Loads a YAML file (one document, checked by check_yaml_document); a missing, malformed or empty
// file is a ScenarioError naming it (and the line of a syntax error). `what` names the file in
// messages ("scenario", "topology file"); `expected` says what a valid one holds.
YAML::Node load_yaml_file(const std::string& path, const std::string& what,
                          const std::string& expected);

// The machine's physical memory in bytes (0 when it cannot be told).
double physical_memory_bytes();

// A path inside the repository this binary was built from (its reference figures, examples and
// the report's chart renderer), or relative to the working folder when that is not known.
std::string repository_path(const std::string& relative);

// The whole of a file (empty when it cannot be read).
std::string read_text(const std::string& path);

// The temporary file an output at `path` is written to before its rename: PATH.tmp.
std::filesystem::path temporary_output(const std::string& path);

// Writes `text` to `path` through a temporary file and a rename, so that a failure never leaves
// a half-written file. Throws std::runtime_error.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace codesim::cli
