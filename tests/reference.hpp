#pragma once
// The published figures under validation/reference, for tests. Found through CODESIM_SOURCE_DIR.

#include <yaml-cpp/yaml.h>

#include <string>

namespace codesim::testing {

inline std::string source_path(const std::string& relative) {
  return std::string(CODESIM_SOURCE_DIR) + "/" + relative;
}

inline const YAML::Node& published() {
  static const YAML::Node kPublished =
      YAML::LoadFile(source_path("validation/reference/published.yaml"));
  return kPublished;
}

}  // namespace codesim::testing
