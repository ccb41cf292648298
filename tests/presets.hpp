#pragma once
// The shipped presets by name, for tests (production code looks names up only in
// cli/registry.hpp). Throws std::out_of_range for a name no preset has.

#include <stdexcept>
#include <string>

#include "models/gpu.hpp"
#include "models/llm.hpp"

namespace codesim::testing {

inline const models::GpuSpec& gpu_preset(const std::string& name) {
  for (const auto& gpu : models::gpu_presets()) {
    if (gpu.name == name) return gpu;
  }
  throw std::out_of_range("no GPU preset " + name);
}

inline const models::ModelConfig& model_preset(const std::string& name) {
  for (const auto& model : models::model_presets()) {
    if (model.name == name) return model;
  }
  throw std::out_of_range("no model preset " + name);
}

}  // namespace codesim::testing
