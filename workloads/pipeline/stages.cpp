#include "workloads/pipeline/stages.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace codesim::workloads {

int pipeline_slots(const models::ModelConfig& model) {
  return 1 + model.layers + model.mtp_depth + 1;
}

static std::string divisors_of(int n) {
  std::string out;
  for (int d = 1; d <= n; ++d) {
    if (n % d == 0) out += (out.empty() ? "" : ", ") + std::to_string(d);
  }
  return out;
}

std::vector<Stage> split_stages(const models::ModelConfig& model, int stages,
                                const std::vector<int>& stage_layers) {
  std::vector<Stage> out(stages);
  if (!stage_layers.empty()) {
    if (int(stage_layers.size()) != stages) {
      throw std::invalid_argument("stage_layers lists " + std::to_string(stage_layers.size()) +
                                  " stages but the schedule cuts the model into " +
                                  std::to_string(stages));
    }
    const int sum = std::accumulate(stage_layers.begin(), stage_layers.end(), 0);
    if (sum != model.layers) {
      throw std::invalid_argument("stage_layers adds up to " + std::to_string(sum) + " layers; " +
                                  model.name + " has " + std::to_string(model.layers));
    }
    int next = 0;
    for (int s = 0; s < stages; ++s) {
      if (stage_layers[s] < 0) throw std::invalid_argument("stage_layers has a negative entry");
      out[s].first_layer = next;
      out[s].layers = stage_layers[s];
      next += stage_layers[s];
    }
  } else {
    const int slots = pipeline_slots(model);
    if (slots % stages != 0) {
      throw std::invalid_argument(std::to_string(stages) + " pipeline stages do not divide the " +
                                  std::to_string(slots) + " pipeline slots of " + model.name +
                                  " (embedding + " + std::to_string(model.layers) + " layers + " +
                                  std::to_string(model.mtp_depth) +
                                  " MTP + output head); valid stage counts: " + divisors_of(slots) +
                                  ", or list the layers of each stage");
    }
    const int per_stage = slots / stages;
    int layer = 0;
    for (int s = 0; s < stages; ++s) {
      int free_slots = per_stage - (s == 0 ? 1 : 0);
      if (s == stages - 1) free_slots -= 1 + model.mtp_depth;
      if (free_slots < 0) {
        throw std::invalid_argument("stages of " + std::to_string(per_stage) +
                                    " slots cannot hold the embedding, MTP and output head");
      }
      out[s].first_layer = layer;
      out[s].layers = std::min(free_slots, model.layers - layer);
      layer += out[s].layers;
    }
  }
  out.front().embedding = true;
  out.back().output_head = true;
  out.back().mtp_modules = model.mtp_depth;
  return out;
}

}  // namespace codesim::workloads
