#include "cli/trace_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "cli/scenario_error.hpp"

namespace codesim::cli {
namespace {

double microseconds(sim::Time t) {
  return double(t.ps()) / 1e6;
}

// How the trace names each all-to-all.
const char* exchange_name(workloads::Exchange exchange) {
  switch (exchange) {
    case workloads::Exchange::kForwardDispatch:
      return "dispatch";
    case workloads::Exchange::kForwardCombine:
      return "combine";
    case workloads::Exchange::kBackwardCombine:
      return "combine backward";
    case workloads::Exchange::kBackwardDispatch:
      return "dispatch backward";
  }
  return "?";
}

}  // namespace

std::vector<int> parse_trace_ranks(const std::string& text,
                                   const workloads::TrainingScenario& scenario) {
  if (text.empty()) {
    std::vector<int> ranks;
    for (int p = 0; p < scenario.plan.pp; ++p) ranks.push_back(p * scenario.gpus_per_stage());
    return ranks;
  }
  return parse_gpu_list(text, scenario.gpus(), "--trace-ranks", "this cluster");
}

std::vector<int> parse_gpu_list(const std::string& text, int gpus, const std::string& option,
                                const std::string& of) {
  std::vector<int> ranks;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    std::size_t used = 0;
    int rank = -1;
    try {
      rank = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || rank < 0 || rank >= gpus) {
      throw ScenarioError({option + " " + text}, "",
                          fmt::format("'{}' is not a GPU of {}", item, of),
                          fmt::format("comma-separated GPU ranks from 0 to {}", gpus - 1));
    }
    if (std::find(ranks.begin(), ranks.end(), rank) == ranks.end()) ranks.push_back(rank);
    start = comma + 1;
  }
  return ranks;
}

nlohmann::ordered_json chrome_trace(const std::vector<workloads::TraceSpan>& spans,
                                    const std::vector<int>& ranks, int replicas,
                                    const std::string& scenario_name) {
  using workloads::TraceSpan;
  nlohmann::ordered_json events = nlohmann::ordered_json::array();
  for (int rank : ranks) {
    events.push_back({{"name", "process_name"},
                      {"ph", "M"},
                      {"pid", rank},
                      {"args",
                       {{"name", fmt::format("GPU {} (pipeline rank {}, rank {} of its stage)",
                                             rank, rank / replicas, rank % replicas)}}}});
    events.push_back({{"name", "process_sort_index"},
                      {"ph", "M"},
                      {"pid", rank},
                      {"args", {{"sort_index", rank}}}});
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", rank},
                      {"tid", 0},
                      {"args", {{"name", "compute"}}}});
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", rank},
                      {"tid", 1},
                      {"args", {{"name", "communication (reserved SMs)"}}}});
  }
  for (const TraceSpan& s : spans) {
    const bool compute = s.stream == TraceSpan::Stream::kCompute;
    const std::string what = s.kernel  ? std::string(s.kernel)
                             : compute ? std::string(1, s.pass)
                                       : std::string(exchange_name(s.exchange));
    events.push_back({{"name", fmt::format("{} mb{}", what, s.micro_batch)},
                      {"cat", compute ? "compute" : "all-to-all"},
                      {"ph", "X"},
                      {"pid", s.rank},
                      {"tid", compute ? 0 : 1},
                      {"ts", microseconds(s.start)},
                      {"dur", microseconds(s.end - s.start)},
                      {"args",
                       {{"pass", std::string(1, s.pass)},
                        {"kernel", s.kernel ? s.kernel : ""},
                        {"direction", s.direction},
                        {"stage", s.stage},
                        {"micro_batch", s.micro_batch}}}});
  }
  nlohmann::ordered_json trace;
  trace["traceEvents"] = std::move(events);
  trace["displayTimeUnit"] = "ms";
  trace["otherData"] = {{"scenario", scenario_name},
                        {"generator", "codesim train --engine event"},
                        {"passes", "F forward, B input backward, b full backward, W weights"}};
  return trace;
}

}  // namespace codesim::cli
