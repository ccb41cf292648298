#pragma once
// How a model is cut into pipeline stages: which layers, and where the embedding, the MTP modules
// and the output head go. Which rank runs which stage is pipeline_map.hpp's business.

#include <vector>

#include "models/llm.hpp"

namespace codesim::workloads {

struct Stage {
  int first_layer = 0;
  int layers = 0;
  bool embedding = false;
  bool output_head = false;
  int mtp_modules = 0;
};

// Slots a balanced split shares out: the embedding, every layer, every MTP module and the output
// head take one each (DeepSeek-V3: 1 + 61 + 1 + 1 = 64 = 16 stages x 4).
int pipeline_slots(const models::ModelConfig& model);

// Splits the model into `stages` stages: by `stage_layers` when given, else evenly by slots.
// Throws std::invalid_argument saying what would be valid when the split is impossible.
std::vector<Stage> split_stages(const models::ModelConfig& model, int stages,
                                const std::vector<int>& stage_layers);

}  // namespace codesim::workloads
