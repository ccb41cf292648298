#pragma once
// `codesim calibrate [--out FILE]`: runs the CUDA microkernels (validation/kernels) on GPU 0
// through codesim-calibrate-runner and writes the calibration file that a scenario's
// `calibration:` key reads. Without a GPU, or in a build without the kernels, one message and
// exit code 3 (kExitNoGpu); the output file is then left untouched.

#include <string>
#include <vector>

namespace codesim::cli {

int run_calibrate(const std::vector<std::string>& args);

}  // namespace codesim::cli
