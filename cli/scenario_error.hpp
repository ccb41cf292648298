#pragma once
// The one kind of error bad input produces: where (file, line, column or the --set option that
// gave the value), which key, what is wrong and what would be valid.

#include <stdexcept>
#include <string>
#include <vector>

namespace codesim::cli {

struct SourceLocation {
  std::string file;  // scenario path, or "--set key=value" for command-line overrides
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
};

class ScenarioError : public std::runtime_error {
 public:
  ScenarioError(SourceLocation where, std::string key, std::string problem, std::string valid = "");

  const SourceLocation& where() const { return where_; }
  const std::string& key() const { return key_; }
  const std::string& problem() const { return problem_; }
  const std::string& valid() const { return valid_; }

 private:
  SourceLocation where_;
  std::string key_;
  std::string problem_;
  std::string valid_;
};

// Closest candidate by edit distance, or "" when none is close enough to be a likely typo.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace codesim::cli
