#pragma once
// Reading YAML maps with checked keys, types and units. Every failure is a ScenarioError that
// names the file, line and key path, and what would be valid.

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/scenario_error.hpp"
#include "cli/units.hpp"

namespace codesim::cli {

class YamlContext {
 public:
  // `overrides` maps dotted key paths set on the command line to their "--set k=v" text.
  YamlContext(std::string file, YAML::Node root, std::map<std::string, std::string> overrides);

  // Where `key_path` was written: the --set that gave it, else the line of its key in the file
  // (of its nearest written parent when the key is missing), else the mark of `node`.
  SourceLocation location(const std::string& key_path, const YAML::Node& node) const;
  [[noreturn]] void fail(const std::string& key_path, const YAML::Node& node,
                         const std::string& problem, const std::string& valid = "") const;
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  YAML::Node root_;
  std::map<std::string, std::string> overrides_;
};

class MapReader {
 public:
  // Checks that `node` is a map whose keys are all in `allowed` (with a did-you-mean).
  MapReader(const YamlContext& context, const YAML::Node& node, std::string path,
            std::vector<std::string> allowed);

  bool has(const std::string& key) const;
  YAML::Node node(const std::string& key) const;
  std::string key_path(const std::string& key) const;
  const YAML::Node& self() const { return node_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& key, const std::string& problem,
                         const std::string& valid = "") const;

  // Each getter returns the default when the key is absent and the default is given; a missing
  // key without a default is an error. Integers and numbers must be >= `min`.
  long long integer(const std::string& key, std::optional<long long> fallback,
                    long long min = 1) const;
  // An integer that must also fit an int (at most 2,147,483,647): counts, sizes, degrees.
  int int_value(const std::string& key, std::optional<long long> fallback, long long min = 1) const;
  double number(const std::string& key, std::optional<double> fallback, double min = 0,
                bool min_exclusive = true) const;
  double quantity(const std::string& key, Quantity kind, std::optional<double> fallback) const;
  std::string choice(const std::string& key, const std::vector<std::string>& choices,
                     std::optional<std::string> fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  // A single value (a name, a path) as written.
  std::string text(const std::string& key, std::optional<std::string> fallback) const;
  std::vector<long long> integer_list(const std::string& key, long long min) const;
  std::vector<std::string> choice_list(const std::string& key,
                                       const std::vector<std::string>& choices) const;

 private:
  YAML::Node required(const std::string& key) const;

  const YamlContext& context_;
  YAML::Node node_;
  std::string path_;
  std::vector<std::string> allowed_;
};

std::string join(const std::vector<std::string>& words, const std::string& separator = ", ");

}  // namespace codesim::cli
