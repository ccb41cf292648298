#pragma once
// `codesim sweep SWEEP.yaml [--jobs N] [--out DIR] [--engine event|analytic]`: every point of a
// sweep (cli/sweep_spec.hpp) run as its own `codesim train` process, --jobs at a time, each
// writing DIR/points/<id>.json through a rename (or <id>.error.json with the message of a point
// that failed), then one table of the chosen outputs (DIR/table.csv and DIR/table.json).
// DIR/sweep.json lists the points; a sweep started again on the same DIR runs only the points
// with neither file, so a killed sweep loses no finished point and redoes none. Under mpirun the
// ranks share the points out (point i to rank i mod ranks) in a folder they all see.

#include <string>
#include <vector>

namespace codesim::cli {

int run_sweep(const std::vector<std::string>& args);

}  // namespace codesim::cli
