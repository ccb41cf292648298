#pragma once
// `codesim validate [--json FILE] [--engine event|analytic] [--reference FILE]`: every published
// figure in validation/reference/published.yaml that codesim predicts, simulated now, beside the
// published value with the error and the source: parameter counts, KV-cache bytes and training
// FLOPs per token of the model presets, the structure of the example fabrics (isca25 Table 3),
// and DeepSeek-V3's pre-training GPU-hours from the default scenario. Exit 0 unless a run
// fails: the errors are the result, not a test gate.

#include <string>
#include <vector>

namespace codesim::cli {

int run_validate(const std::vector<std::string>& args);

}  // namespace codesim::cli
