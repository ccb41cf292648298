// codesim: the command line. Parses arguments, loads the scenario, runs the step model, prints.

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "cli/calibrate_command.hpp"
#include "cli/command_line.hpp"
#include "cli/infer_command.hpp"
#include "cli/interrupts.hpp"
#include "cli/progress.hpp"
#include "cli/report_command.hpp"
#include "cli/scenario_error.hpp"
#include "cli/scenario_loader.hpp"
#include "cli/sweep_command.hpp"
#include "cli/topo_command.hpp"
#include "cli/trace_writer.hpp"
#include "cli/train_report.hpp"
#include "cli/validate_command.hpp"
#include "cli/validation_rows.hpp"
#include "workloads/step/analytic_step_model.hpp"
#include "workloads/step/engine.hpp"
#include "workloads/step/engine_input.hpp"
#include "workloads/step/event_step_model.hpp"
#include "workloads/training/training_estimate.hpp"

namespace po = boost::program_options;

namespace {

using codesim::cli::kExitBadInput;
using codesim::cli::kExitInternal;
using codesim::cli::kExitOk;

const char* kUsage =
    "usage: codesim <command> [options]\n"
    "\n"
    "commands:\n"
    "  train SCENARIO.yaml [--set key=value]... [--json FILE] [--engine event|analytic]\n"
    "        [--trace FILE [--trace-ranks LIST]] [--report FILE.html] [--explain]\n"
    "        estimate a training run: step time and breakdown, MFU, GPU-hours, cost, memory\n"
    "  infer SCENARIO.yaml [--set key=value]... [--json FILE] [--engine event|analytic]\n"
    "        [--explain]\n"
    "        estimate serving (the scenario's serve:): TPOT, TTFT, tokens/s per GPU, node and\n"
    "        user, KV cache and the largest batch, the bounds of the layout\n"
    "  topo TOPOLOGY.yaml|SCENARIO.yaml [--json FILE]\n"
    "        build a network topology: endpoints, switches, links, diameter, bisection, cost\n"
    "  sweep SWEEP.yaml [--jobs N] [--out DIR] [--engine event|analytic]\n"
    "        run every point of a sweep (a base scenario and axes of --set values) in\n"
    "        parallel, resumably, and tabulate the chosen outputs (DIR/table.csv)\n"
    "  report INPUT... --out FILE.html\n"
    "        one self-contained HTML report (charts) of results (train --json), traces\n"
    "        (train --trace) and sweep folders\n"
    "  validate [--json FILE] [--engine event|analytic]\n"
    "        every published figure codesim predicts, simulated now, with its error and source\n"
    "  calibrate [--out FILE] [--quick]\n"
    "        run the CUDA microkernels on this machine's GPU and write a calibration file\n"
    "\n"
    "Run 'codesim train --help' for the options. Exit codes: 0 success, 2 bad input, 3 no GPU\n"
    "(calibrate).\n";

// The analytic engine's step time, as the event engine's progress line's estimate of the whole;
// 0 when the analytic engine cannot price the plan.
double expected_step_s(const codesim::workloads::AnalyticStepModel& analytic,
                       const codesim::workloads::TrainingScenario& scenario) {
  try {
    return analytic.step(scenario, scenario.plan.global_batch_sequences).step_time_s;
  } catch (const std::exception&) {
    return 0;
  }
}

int run_train(const std::vector<std::string>& args) {
  po::options_description options("codesim train SCENARIO.yaml [options]");
  std::string scenario_path;
  std::vector<std::string> sets;
  std::string json_path;
  std::string engine;  // empty: the event-driven engine where it can run the plan
  std::string trace_path;
  std::string trace_ranks_text;
  std::string report_path;
  options.add_options()("help,h", "show this help")(
      "set", po::value<std::vector<std::string>>(&sets)->composing(),
      "override a scenario key by its dotted path, e.g. --set plan.pp=8 (repeatable)")(
      "json", po::value<std::string>(&json_path), "write the result as JSON to FILE")(
      "engine", po::value<std::string>(&engine),
      "event (every rank event by event on the topology; the default) or analytic (closed-form "
      "step, the fast mode for sweeps)")(
      "trace", po::value<std::string>(&trace_path),
      "write a Chrome-trace/Perfetto JSON of the step to FILE (event engine)")(
      "trace-ranks", po::value<std::string>(&trace_ranks_text),
      "GPUs to trace, e.g. 0,128,256 (default: one full pipeline, replica 0)")(
      "report", po::value<std::string>(&report_path),
      "write an HTML report of the result to FILE (as codesim report does; with the event "
      "engine, the timeline of the traced GPUs)")("explain",
                                                  "list every assumption the estimate makes");
  po::variables_map vm;
  if (const auto exit = codesim::cli::parse_subcommand(args, "train", options, scenario_path, vm)) {
    return *exit;
  }

  if (!engine.empty() && engine != "analytic" && engine != "event") {
    std::cerr << "codesim train: error: --engine '" << engine
              << "' is not an engine; valid: analytic, event\n";
    return kExitBadInput;
  }
  if (!trace_path.empty() && engine == "analytic") {
    std::cerr << "codesim train: error: --trace needs --engine event (the analytic engine has no "
                 "timeline)\n";
    return kExitBadInput;
  }
  if (!trace_ranks_text.empty() && trace_path.empty()) {
    std::cerr << "codesim train: error: --trace-ranks needs --trace FILE\n";
    return kExitBadInput;
  }
  for (const auto& [option, path] :
       {std::pair<const char*, const std::string&>{"--json", json_path},
        {"--trace", trace_path},
        {"--report", report_path}}) {
    if (!path.empty()) codesim::cli::check_output_file(option, path);
  }
  const auto started = std::chrono::steady_clock::now();
  const auto scenario = codesim::cli::load_training_scenario(scenario_path, sets);
  if (engine.empty()) engine = "event";
  // Refused up front rather than found out by the engine.
  if (engine == "event" && scenario.micro_batches() > codesim::workloads::kMaxEngineMicroBatches) {
    codesim::cli::fail_at_key(
        scenario_path, sets, "plan.global_batch",
        fmt::format("gives {} micro-batches per replica; the event-driven engine holds at most {}",
                    scenario.micro_batches(), codesim::workloads::kMaxEngineMicroBatches),
        "a smaller plan.global_batch (or a larger plan.micro_batch), or --engine analytic");
  }
  if (engine == "event") {
    codesim::cli::check_event_engine_memory(scenario_path, sets, scenario.gpus(),
                                            codesim::workloads::kEngineBytesPerGpu);
  }
  // The report is checked for its chart renderer before a long run, not after.
  if (!report_path.empty()) {
    codesim::cli::report_scripts(codesim::cli::default_report_assets());
  }
  // A report of the event engine holds the timeline, as if --trace had been given.
  const bool traced = !trace_path.empty() || (!report_path.empty() && engine == "event");
  std::vector<int> trace_ranks;
  if (traced) trace_ranks = codesim::cli::parse_trace_ranks(trace_ranks_text, scenario);
  std::vector<codesim::workloads::TraceSpan> trace;
  const codesim::workloads::AnalyticStepModel analytic;
  codesim::workloads::EventStepModel event(trace_ranks, traced ? &trace : nullptr);
  codesim::cli::ProgressLine progress;
  if (progress.enabled() && engine == "event") {
    event.set_progress(
        codesim::cli::step_watcher(progress, "codesim train", expected_step_s(analytic, scenario)));
  }
  const codesim::workloads::StepTimeModel& model =
      engine == "event" ? static_cast<const codesim::workloads::StepTimeModel&>(event) : analytic;
  auto estimate = codesim::workloads::estimate_training(scenario, model,
                                                        engine == "event" ? &analytic : nullptr);
  progress.clear();
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const codesim::cli::RunInfo run{model.name(), wall_s};
  using codesim::cli::ReportInput;
  std::vector<ReportInput> report;
  if (!json_path.empty() || !report_path.empty()) {
    auto json = codesim::cli::training_json(scenario, estimate, run);
    if (!json_path.empty()) codesim::cli::write_file_atomically(json_path, json.dump(2) + "\n");
    report.push_back(ReportInput::of(ReportInput::Kind::kResult,
                                     json_path.empty() ? scenario_path : json_path,
                                     std::move(json)));
  }
  if (traced) {
    auto json =
        codesim::cli::chrome_trace(trace, trace_ranks, scenario.gpus_per_stage(), scenario.name);
    if (!trace_path.empty()) codesim::cli::write_file_atomically(trace_path, json.dump() + "\n");
    report.push_back(ReportInput::of(ReportInput::Kind::kTrace,
                                     trace_path.empty() ? scenario_path : trace_path,
                                     std::move(json)));
  }
  if (!report_path.empty()) {
    codesim::cli::write_report(report, report_path, codesim::cli::default_report_assets(),
                               codesim::cli::default_reference_path());
  }
  std::cout << codesim::cli::training_summary(scenario, estimate, run, vm.count("explain") > 0);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  codesim::cli::install_interrupt_handlers();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? kExitBadInput : kExitOk;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "train") return run_train(args);
    if (command == "infer") return codesim::cli::run_infer(args);
    if (command == "topo") return codesim::cli::run_topo(args);
    if (command == "calibrate") return codesim::cli::run_calibrate(args);
    if (command == "sweep") return codesim::cli::run_sweep(args);
    if (command == "validate") return codesim::cli::run_validate(args);
    if (command == "report") return codesim::cli::run_report(args);
    const std::vector<std::string> commands = {"train",  "infer",    "topo",     "sweep",
                                               "report", "validate", "calibrate"};
    const std::string guess = codesim::cli::did_you_mean(command, commands);
    std::cerr << "codesim: error: unknown command '" << command << "'"
              << (guess.empty() ? "" : "; did you mean '" + guess + "'?")
              << "\n  valid: train, infer, topo, sweep, report, validate, calibrate (codesim "
                 "--help)\n";
    return kExitBadInput;
  } catch (const codesim::cli::ScenarioError& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "codesim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}
