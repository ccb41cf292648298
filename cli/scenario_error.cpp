#include "cli/scenario_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace codesim::cli {
namespace {

std::string format(const SourceLocation& where, const std::string& key, const std::string& problem,
                   const std::string& valid) {
  std::string out = where.file;
  if (where.line > 0) out += fmt::format(":{}", where.line);
  if (where.line > 0 && where.column > 0) out += fmt::format(":{}", where.column);
  out += ": error";
  if (!key.empty()) out += fmt::format(": key '{}'", key);
  out += fmt::format(": {}", problem);
  if (!valid.empty()) out += fmt::format("\n  valid: {}", valid);
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

ScenarioError::ScenarioError(SourceLocation where, std::string key, std::string problem,
                             std::string valid)
    : std::runtime_error(format(where, key, problem, valid)),
      where_(std::move(where)),
      key_(std::move(key)),
      problem_(std::move(problem)),
      valid_(std::move(valid)) {}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    const size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace codesim::cli
