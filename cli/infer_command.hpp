#pragma once
// `codesim infer SCENARIO.yaml [--set key=value]... [--json FILE] [--engine event|analytic]
// [--explain]`: serving a model (the scenario's `serve:` section): decode's TPOT and
// throughput, prefill's TTFT, the KV cache and the largest batch that fits, the time split per
// layer, and the closed-form bounds of the layout.

#include <string>
#include <vector>

namespace codesim::cli {

int run_infer(const std::vector<std::string>& args);

}  // namespace codesim::cli
