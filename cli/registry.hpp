#pragma once
// The one registry of the names a scenario, topology or calibration file may use: GPUs, models,
// topology kinds, schedules, routing models and precisions, each mapped to what it stands for.
// Nothing below cli/ looks anything up by name or turns an enum into one; what the files spell
// is decided here, and the output names things by the same table.

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "models/compute_cost.hpp"
#include "models/gpu.hpp"
#include "models/llm.hpp"
#include "topologies/topology.hpp"
#include "workloads/plan/plan.hpp"

namespace codesim::cli {

template <class T>
class Registry {
 public:
  struct Entry {
    std::string name;
    T value;
  };
  explicit Registry(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  // The value a name stands for; null for a name the registry lacks.
  const T* find(std::string_view name) const {
    for (const Entry& e : entries_) {
      if (e.name == name) return &e.value;
    }
    return nullptr;
  }
  // The name of a value (an enum's); throws std::logic_error for one the registry lacks.
  const std::string& name_of(const T& value) const {
    for (const Entry& e : entries_) {
      if (e.value == value) return e.name;
    }
    throw std::logic_error("registry: a value without a name");
  }
  // Every name, in the registry's order (what error messages list as valid).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.push_back(e.name);
    return out;
  }

 private:
  std::vector<Entry> entries_;
};

const Registry<models::GpuSpec>& gpu_registry();          // h800, h100-sxm, ...
const Registry<models::ModelConfig>& model_registry();    // deepseek-v3, llama-3.1-405b, ...
const Registry<topo::TopologyKind>& topology_registry();  // ft2, mpft, mrft, ft3, ...
const Registry<workloads::Schedule>& schedule_registry();  // 1f1b, zb1p, dualpipe, dualpipev
const Registry<workloads::RoutingSpec::Kind>& routing_registry();  // balanced, zipf, ...
const Registry<models::Precision>& precision_registry();           // fp8, bf16

}  // namespace codesim::cli
