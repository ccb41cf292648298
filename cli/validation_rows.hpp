#pragma once
// Rows of a validation table: a figure codesim predicts, the published value, the error and the
// source (a key of the reference file's `sources:`, with its text). `codesim validate` fills
// them by simulating; `codesim report` picks the ones a training result can be checked against.

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace codesim::cli {

struct ValidationRow {
  std::string figure;
  std::string source;  // "key: text of the source"
  double published = 0;
  double predicted = 0;
  double error() const { return published != 0 ? predicted / published - 1 : 0; }
};

class ValidationRows {
 public:
  explicit ValidationRows(const YAML::Node& reference) : sources_(reference["sources"]) {}
  void add(std::string figure, const std::string& source, double published, double predicted);
  const std::vector<ValidationRow>& rows() const { return rows_; }

 private:
  YAML::Node sources_;
  std::vector<ValidationRow> rows_;
};

// This repository's published figures: <repository>/validation/reference/published.yaml.
std::string default_reference_path();

// The source (a key of `sources:`) that gives a model preset's size.
std::string model_source(const std::string& preset);

// The published figures a `codesim train --json` result can be checked against, from the
// result's own numbers: its model's parameter counts and KV-cache bytes where the reference
// names the model, and DeepSeek-V3's pre-training GPU-hours where the result runs DeepSeek-V3
// on the reference plan's GPU count and GPU.
std::vector<ValidationRow> result_rows(const YAML::Node& reference, const nlohmann::json& result);

}  // namespace codesim::cli
