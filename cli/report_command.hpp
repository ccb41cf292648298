#pragma once
// `codesim report INPUT... --out FILE.html`: one self-contained HTML report of `codesim train
// --json` results, `--trace` files and `codesim sweep` folders. Charts are Vega-Lite
// specifications rendered by vega-embed, whose JavaScript (report/node_modules, installed by
// scripts/setup.sh from the npm registry) is inlined so that the report opens offline. Vega-Lite
// rather than gnuplot's SVG: one declarative JSON per chart that nlohmann-json writes directly,
// tooltips and zoom on a 10,000-bar timeline, and the same specification is data a user can
// take elsewhere.
//
// A result gives: the scenario and plan, the headline figures, the step breakdown (stacked bar),
// the phases of the step, the work per pipeline stage, memory per GPU, link use per tier and
// plane, compute time by kernel, validation rows against published figures for its model and
// plan, and the assumptions. A trace gives the timeline of its GPUs' streams. A sweep gives its
// table with the best point marked, each output against each axis, and the breakdown per point.
// A `codesim infer` result gives its layout and headline figures, each forward's split, TPOT
// against its bounds, link use and kernels.

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace codesim::cli {

struct ReportInput {
  enum class Kind { kResult, kTrace, kSweep, kServe } kind = Kind::kResult;
  std::string path;                                     // where it came from, for the page
  nlohmann::ordered_json json;                          // a result or a trace
  nlohmann::ordered_json manifest;                      // a sweep: sweep.json
  nlohmann::ordered_json table;                         // a sweep: table.json
  std::map<std::string, nlohmann::ordered_json> point;  // a sweep: finished points, by id

  // A result or a trace held in memory (what `train --report` passes).
  static ReportInput of(Kind kind, std::string path, nlohmann::ordered_json json) {
    ReportInput in;
    in.kind = kind;
    in.path = std::move(path);
    in.json = std::move(json);
    return in;
  }
};

// Reads a result, a trace or a sweep folder; bad input is a ScenarioError naming the file.
ReportInput read_report_input(const std::string& path);

// Where the chart renderer is: this repository's report/node_modules.
std::string default_report_assets();

// The chart renderer's JavaScript from `assets`, in load order; a ScenarioError naming the
// missing file when it is not installed there.
std::vector<std::string> report_scripts(const std::string& assets);

// Writes the report of `inputs` to `out_path` (through a rename); returns the number of charts.
// A missing chart renderer or reference file is a ScenarioError, and nothing is written.
int write_report(const std::vector<ReportInput>& inputs, const std::string& out_path,
                 const std::string& assets, const std::string& reference_path);

int run_report(const std::vector<std::string>& args);

}  // namespace codesim::cli
