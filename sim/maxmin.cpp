#include "sim/maxmin.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <stdexcept>

namespace codesim::sim {
namespace {

struct Level {
  double t;
  std::uint32_t index;    // constraint, or variable for a bound
  std::uint32_t version;  // constraint version when pushed; bounds never go stale
  bool is_bound;
  bool operator>(const Level& o) const {
    if (t != o.t) return t > o.t;
    if (is_bound != o.is_bound) return is_bound && !o.is_bound;  // constraints first on ties
    return index > o.index;
  }
};

}  // namespace

MaxMinSystem::ConstraintId MaxMinSystem::add_constraint(double capacity) {
  if (!(capacity >= 0)) throw std::invalid_argument("MaxMinSystem: capacity must be >= 0");
  constraints_.push_back({});
  constraints_.back().capacity = capacity;
  return ConstraintId(constraints_.size() - 1);
}

void MaxMinSystem::set_capacity(ConstraintId c, double capacity) {
  if (!(capacity >= 0)) throw std::invalid_argument("MaxMinSystem: capacity must be >= 0");
  constraints_.at(c).capacity = capacity;
  dirty_constraints_.push_back(c);
}

MaxMinSystem::VariableId MaxMinSystem::add_variable(double weight, double bound) {
  if (!(weight > 0)) throw std::invalid_argument("MaxMinSystem: weight must be > 0");
  if (!(bound >= 0)) throw std::invalid_argument("MaxMinSystem: bound must be >= 0");
  VariableId id;
  if (!free_variables_.empty()) {
    id = free_variables_.back();
    free_variables_.pop_back();
  } else {
    id = VariableId(variables_.size());
    variables_.push_back({});
  }
  Variable& v = variables_[id];
  v.weight = weight;
  v.bound = bound;
  v.value = 0;
  v.alive = true;
  v.constraints.clear();
  dirty_variables_.push_back(id);
  return id;
}

void MaxMinSystem::expand(ConstraintId c, VariableId id, double coefficient) {
  if (!(coefficient > 0)) throw std::invalid_argument("MaxMinSystem: coefficient must be > 0");
  Variable& v = variables_.at(id);
  Constraint& constraint = constraints_.at(c);
  for (auto& use : v.constraints) {
    if (use.index == c) {
      use.coefficient += coefficient;
      for (auto& back : constraint.variables) {
        if (back.index == id) back.coefficient += coefficient;
      }
      dirty_variables_.push_back(id);
      return;
    }
  }
  v.constraints.push_back({c, coefficient});
  constraint.variables.push_back({id, coefficient});
  dirty_variables_.push_back(id);
}

void MaxMinSystem::remove_variable(VariableId id) {
  Variable& v = variables_.at(id);
  if (!v.alive) throw std::invalid_argument("MaxMinSystem: variable already removed");
  for (const auto& use : v.constraints) {
    auto& list = constraints_[use.index].variables;
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].index == id) {
        list[i] = list.back();
        list.pop_back();
        break;
      }
    }
    dirty_constraints_.push_back(use.index);
  }
  v.constraints.clear();
  v.alive = false;
  v.value = 0;
  free_variables_.push_back(id);
}

void MaxMinSystem::set_bound(VariableId id, double bound) {
  if (!(bound >= 0)) throw std::invalid_argument("MaxMinSystem: bound must be >= 0");
  variables_.at(id).bound = bound;
  dirty_variables_.push_back(id);
}

double MaxMinSystem::usage(ConstraintId c) const {
  double sum = 0;
  for (const auto& use : constraints_.at(c).variables) {
    sum += use.coefficient * variables_[use.index].value;
  }
  return sum;
}

void MaxMinSystem::solve() {
  solved_.clear();
  ++epoch_;
  std::vector<VariableId> component_variables;
  std::vector<ConstraintId> component_constraints;
  std::vector<ConstraintId> stack;
  auto visit_constraint = [&](ConstraintId c) {
    if (constraints_[c].mark != epoch_) {
      constraints_[c].mark = epoch_;
      stack.push_back(c);
    }
  };
  auto search_from = [&](std::vector<ConstraintId> seeds, VariableId seed_variable, bool has_var) {
    component_variables.clear();
    component_constraints.clear();
    stack.clear();
    if (has_var) {
      Variable& v = variables_[seed_variable];
      v.mark = epoch_;
      component_variables.push_back(seed_variable);
      for (const auto& use : v.constraints) visit_constraint(use.index);
    }
    for (ConstraintId c : seeds) visit_constraint(c);
    while (!stack.empty()) {
      const ConstraintId c = stack.back();
      stack.pop_back();
      component_constraints.push_back(c);
      for (const auto& use : constraints_[c].variables) {
        Variable& v = variables_[use.index];
        if (v.mark == epoch_) continue;
        v.mark = epoch_;
        component_variables.push_back(use.index);
        for (const auto& back : v.constraints) visit_constraint(back.index);
      }
    }
    if (!component_variables.empty()) solve_component(component_variables, component_constraints);
  };
  for (VariableId id : dirty_variables_) {
    const Variable& v = variables_[id];
    if (v.alive && v.mark != epoch_) search_from({}, id, true);
  }
  for (ConstraintId c : dirty_constraints_) {
    if (constraints_[c].mark != epoch_) search_from({c}, 0, false);
  }
  dirty_variables_.clear();
  dirty_constraints_.clear();
}

void MaxMinSystem::solve_component(std::vector<VariableId>& vars, std::vector<ConstraintId>& cons) {
  // Deterministic order whatever order the search found them in.
  std::sort(vars.begin(), vars.end());
  std::sort(cons.begin(), cons.end());
  std::priority_queue<Level, std::vector<Level>, std::greater<Level>> heap;
  for (ConstraintId c : cons) {
    Constraint& constraint = constraints_[c];
    constraint.remaining = constraint.capacity;
    constraint.unfixed_weight = 0;
    constraint.unfixed_count = std::uint32_t(constraint.variables.size());
    for (const auto& use : constraint.variables) {
      constraint.unfixed_weight += use.coefficient * variables_[use.index].weight;
    }
    ++constraint.version;
    if (constraint.unfixed_weight > 0) {
      heap.push({constraint.remaining / constraint.unfixed_weight, c, constraint.version, false});
    }
  }
  size_t unfixed = 0;
  for (VariableId id : vars) {
    Variable& v = variables_[id];
    v.fixed = false;
    v.value = 0;
    if (v.constraints.empty() && std::isinf(v.bound)) {
      // Nothing limits it; report it as unbounded rather than loop.
      v.value = std::numeric_limits<double>::infinity();
      v.fixed = true;
      continue;
    }
    ++unfixed;
    if (!std::isinf(v.bound)) heap.push({v.bound / v.weight, id, 0, true});
  }

  auto fix = [&](VariableId id, double t) {
    Variable& v = variables_[id];
    v.fixed = true;
    v.value = std::isinf(v.bound) ? v.weight * t : std::min(v.bound, v.weight * t);
    --unfixed;
    for (const auto& use : v.constraints) {
      Constraint& c = constraints_[use.index];
      c.remaining = std::max(0.0, c.remaining - use.coefficient * v.value);
      ++c.version;
      // Count rather than trust the subtraction to reach exactly zero.
      if (--c.unfixed_count == 0) {
        c.unfixed_weight = 0;
      } else {
        c.unfixed_weight -= use.coefficient * v.weight;
        heap.push({c.remaining / c.unfixed_weight, use.index, c.version, false});
      }
    }
  };

  while (unfixed > 0 && !heap.empty()) {
    const Level level = heap.top();
    heap.pop();
    if (level.is_bound) {
      if (!variables_[level.index].fixed) fix(level.index, level.t);
      continue;
    }
    Constraint& c = constraints_[level.index];
    if (level.version != c.version || c.unfixed_weight <= 0) continue;  // stale
    // Saturated: fix every unfixed variable of the constraint at this level (fixing pushes heap
    // entries but leaves this list alone).
    for (const auto& use : c.variables) {
      if (!variables_[use.index].fixed) fix(use.index, level.t);
    }
  }
  solved_.insert(solved_.end(), vars.begin(), vars.end());
}

}  // namespace codesim::sim
