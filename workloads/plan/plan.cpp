#include "workloads/plan/plan.hpp"

#include <stdexcept>

namespace codesim::workloads {

const std::vector<std::string>& schedule_names() {
  static const std::vector<std::string> kNames = {"1f1b", "zb1p", "dualpipe", "dualpipev"};
  return kNames;
}

Schedule schedule_from_name(const std::string& name) {
  if (name == "1f1b") return Schedule::k1F1B;
  if (name == "zb1p") return Schedule::kZeroBubble1P;
  if (name == "dualpipe") return Schedule::kDualPipe;
  if (name == "dualpipev") return Schedule::kDualPipeV;
  throw std::out_of_range("unknown schedule '" + name + "'");
}

std::string schedule_name(Schedule schedule) {
  switch (schedule) {
    case Schedule::k1F1B:
      return "1f1b";
    case Schedule::kZeroBubble1P:
      return "zb1p";
    case Schedule::kDualPipe:
      return "dualpipe";
    case Schedule::kDualPipeV:
      return "dualpipev";
  }
  return "?";
}

}  // namespace codesim::workloads
