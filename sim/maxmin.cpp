#include "sim/maxmin.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace codesim::sim {

MaxMinSystem::ConstraintId MaxMinSystem::add_constraint(double capacity) {
  if (!(capacity >= 0)) throw std::invalid_argument("MaxMinSystem: capacity must be >= 0");
  constraints_.push_back({});
  constraints_.back().capacity = capacity;
  return ConstraintId(constraints_.size() - 1);
}

void MaxMinSystem::set_capacity(ConstraintId c, double capacity) {
  if (!(capacity >= 0)) throw std::invalid_argument("MaxMinSystem: capacity must be >= 0");
  constraints_.at(c).capacity = capacity;
  if (constraints_[c].component != kNoComponent) {
    mark_component_dirty(constraints_[c].component);
  } else {
    dirty_constraints_.push_back(c);
  }
}

void MaxMinSystem::mark_component_dirty(std::uint32_t k) {
  Component& component = components_[k];
  if (component.dirty) return;
  component.dirty = true;
  dirty_components_.push_back(k);
}

void MaxMinSystem::invalidate_component(std::uint32_t k) {
  Component& component = components_[k];
  for (VariableId id : component.variables) {
    variables_[id].component = kNoComponent;
    if (component.dirty) dirty_variables_.push_back(id);
  }
  for (ConstraintId c : component.constraints) {
    constraints_[c].component = kNoComponent;
    if (component.dirty) dirty_constraints_.push_back(c);
  }
  component.variables.clear();
  component.constraints.clear();
  component.valid = false;
  component.dirty = false;
  free_components_.push_back(k);
}

void MaxMinSystem::cache_component(const std::vector<VariableId>& vars,
                                   const std::vector<ConstraintId>& cons) {
  for (ConstraintId c : cons) {
    if (constraints_[c].component != kNoComponent) invalidate_component(constraints_[c].component);
  }
  for (VariableId id : vars) {
    if (variables_[id].component != kNoComponent) invalidate_component(variables_[id].component);
  }
  std::uint32_t k;
  if (!free_components_.empty()) {
    k = free_components_.back();
    free_components_.pop_back();
  } else {
    k = std::uint32_t(components_.size());
    components_.emplace_back();
  }
  Component& component = components_[k];
  component.valid = true;
  component.dirty = false;
  component.variables.assign(vars.begin(), vars.end());
  component.constraints.assign(cons.begin(), cons.end());
  for (std::size_t i = 0; i < vars.size(); ++i) {
    variables_[vars[i]].component = k;
    variables_[vars[i]].component_slot = std::uint32_t(i);
  }
  for (ConstraintId c : cons) constraints_[c].component = k;
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
  v.component = kNoComponent;
  v.constraints.clear();
  dirty_variables_.push_back(id);
  return id;
}

void MaxMinSystem::expand(ConstraintId c, VariableId id, double coefficient) {
  if (!(coefficient > 0)) throw std::invalid_argument("MaxMinSystem: coefficient must be > 0");
  Variable& v = variables_.at(id);
  Constraint& constraint = constraints_.at(c);
  if (v.component != kNoComponent) invalidate_component(v.component);
  if (constraint.component != kNoComponent) invalidate_component(constraint.component);
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
  const std::uint32_t k = v.component;
  if (k != kNoComponent) {
    Component& component = components_[k];
    const VariableId moved = component.variables.back();
    component.variables[v.component_slot] = moved;
    variables_[moved].component_slot = v.component_slot;
    component.variables.pop_back();
    v.component = kNoComponent;
    mark_component_dirty(k);
  }
  for (const auto& use : v.constraints) {
    auto& list = constraints_[use.index].variables;
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].index == id) {
        list[i] = list.back();
        list.pop_back();
        break;
      }
    }
    if (k == kNoComponent) dirty_constraints_.push_back(use.index);
  }
  v.constraints.clear();
  v.alive = false;
  v.value = 0;
  free_variables_.push_back(id);
}

void MaxMinSystem::set_bound(VariableId id, double bound) {
  if (!(bound >= 0)) throw std::invalid_argument("MaxMinSystem: bound must be >= 0");
  variables_.at(id).bound = bound;
  if (variables_[id].component != kNoComponent) {
    mark_component_dirty(variables_[id].component);
  } else {
    dirty_variables_.push_back(id);
  }
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
  auto search_from = [&](const std::vector<ConstraintId>& seeds, VariableId seed_variable,
                         bool has_var) {
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
    if (!component_variables.empty()) {
      solve_component(component_variables, component_constraints);
      cache_component(component_variables, component_constraints);
    }
  };
  // Index loops: a search may append to the dirty lists (see cache_component).
  for (std::size_t i = 0; i < dirty_variables_.size(); ++i) {
    const VariableId id = dirty_variables_[i];
    const Variable& v = variables_[id];
    if (v.alive && v.mark != epoch_) {
      if (v.component != kNoComponent) {
        mark_component_dirty(v.component);
      } else {
        search_from({}, id, true);
      }
    }
  }
  for (std::size_t i = 0; i < dirty_constraints_.size(); ++i) {
    const ConstraintId c = dirty_constraints_[i];
    if (constraints_[c].mark != epoch_) {
      if (constraints_[c].component != kNoComponent) {
        mark_component_dirty(constraints_[c].component);
      } else {
        search_from({c}, 0, false);
      }
    }
  }
  dirty_variables_.clear();
  dirty_constraints_.clear();
  // Components only removals changed since they were found: solved as they are, no search.
  for (std::size_t i = 0; i < dirty_components_.size(); ++i) {
    Component& component = components_[dirty_components_[i]];
    if (!component.valid || !component.dirty) continue;
    component.dirty = false;
    component_variables.assign(component.variables.begin(), component.variables.end());
    component_constraints.assign(component.constraints.begin(), component.constraints.end());
    if (!component_variables.empty()) solve_component(component_variables, component_constraints);
  }
  dirty_components_.clear();
}

void MaxMinSystem::sort_ids(std::vector<std::uint32_t>& ids, std::size_t universe) {
  // A large component is sorted through a bitmap of the id space (a linear pass, where sorting
  // thousands of ids on every solve was a sixth of a flow network's time); a small one by
  // std::sort.
  const std::size_t words = universe / 64 + 1;
  if (ids.size() * 8 < words) {
    std::sort(ids.begin(), ids.end());
    return;
  }
  if (id_bitmap_.size() < words) id_bitmap_.resize(words, 0);
  for (std::uint32_t id : ids) id_bitmap_[id / 64] |= std::uint64_t{1} << (id % 64);
  std::size_t out = 0;
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t bits = id_bitmap_[w];
    id_bitmap_[w] = 0;
    while (bits != 0) {
      ids[out++] = std::uint32_t(w * 64 + std::size_t(std::countr_zero(bits)));
      bits &= bits - 1;
    }
  }
}

void MaxMinSystem::solve_component(std::vector<VariableId>& vars, std::vector<ConstraintId>& cons) {
  // Deterministic order whatever order the search found them in.
  sort_ids(vars, variables_.size());
  sort_ids(cons, constraints_.size());
  // The constraints that still have unfixed variables, in a binary min-heap on (level, id)
  // whose entries know their positions, so that a changed level moves its one entry. (A heap
  // with lazily refreshed keys held mostly stale entries: a saturation changes the levels of
  // every link of every variable it fixes.) active_ holds the ids, levels_ their levels.
  active_.clear();
  levels_.clear();
  auto before = [&](std::size_t a, std::size_t b) {
    return levels_[a] < levels_[b] || (levels_[a] == levels_[b] && active_[a] < active_[b]);
  };
  auto swap_entries = [&](std::size_t a, std::size_t b) {
    std::swap(active_[a], active_[b]);
    std::swap(levels_[a], levels_[b]);
    constraints_[active_[a]].active_slot = std::uint32_t(a);
    constraints_[active_[b]].active_slot = std::uint32_t(b);
  };
  auto sift_up = [&](std::size_t i) {
    while (i > 0 && before(i, (i - 1) / 2)) {
      swap_entries(i, (i - 1) / 2);
      i = (i - 1) / 2;
    }
  };
  auto sift_down = [&](std::size_t i) {
    for (;;) {
      std::size_t least = i;
      const std::size_t left = 2 * i + 1, right = left + 1;
      if (left < active_.size() && before(left, least)) least = left;
      if (right < active_.size() && before(right, least)) least = right;
      if (least == i) return;
      swap_entries(i, least);
      i = least;
    }
  };
  auto activate = [&](ConstraintId c) {
    constraints_[c].active_slot = std::uint32_t(active_.size());
    active_.push_back(c);
    levels_.push_back(constraints_[c].remaining / constraints_[c].unfixed_weight);
    sift_up(active_.size() - 1);
  };
  for (ConstraintId c : cons) {
    Constraint& constraint = constraints_[c];
    constraint.remaining = constraint.capacity;
    constraint.unfixed_weight = 0;
    constraint.unfixed_count = std::uint32_t(constraint.variables.size());
    for (const auto& use : constraint.variables) {
      constraint.unfixed_weight += use.coefficient * variables_[use.index].weight;
    }
    constraint.active_slot = kInactive;
    if (constraint.unfixed_weight > 0) activate(c);
  }
  // Bounds as levels (bound / weight), smallest first; ties by variable id.
  std::vector<std::pair<double, VariableId>> bounds;
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
    if (!std::isinf(v.bound)) bounds.emplace_back(v.bound / v.weight, id);
  }
  std::sort(bounds.begin(), bounds.end());
  size_t next_bound = 0;

  // Constraints whose level changed in the current batch of fixes; refreshed after the batch.
  std::vector<ConstraintId> touched;
  auto fix = [&](VariableId id, double t) {
    Variable& v = variables_[id];
    v.fixed = true;
    v.value = std::isinf(v.bound) ? v.weight * t : std::min(v.bound, v.weight * t);
    --unfixed;
    for (const auto& use : v.constraints) {
      Constraint& c = constraints_[use.index];
      c.remaining = std::max(0.0, c.remaining - use.coefficient * v.value);
      if (!c.touched) {
        c.touched = true;
        touched.push_back(use.index);
      }
      // Count rather than trust the subtraction to reach exactly zero.
      if (--c.unfixed_count == 0) {
        c.unfixed_weight = 0;
      } else {
        c.unfixed_weight -= use.coefficient * v.weight;
      }
    }
  };
  auto refresh_touched = [&] {
    for (ConstraintId id : touched) {
      Constraint& c = constraints_[id];
      c.touched = false;
      if (c.active_slot == kInactive) continue;
      const std::size_t slot = c.active_slot;
      if (c.unfixed_count > 0 && c.unfixed_weight > 0) {
        // Levels only rise as variables are fixed, up to rounding.
        levels_[slot] = c.remaining / c.unfixed_weight;
        sift_up(slot);
        sift_down(c.active_slot);
        continue;
      }
      c.active_slot = kInactive;
      const std::size_t last = active_.size() - 1;
      if (slot != last) {
        active_[slot] = active_[last];
        levels_[slot] = levels_[last];
        constraints_[active_[slot]].active_slot = std::uint32_t(slot);
      }
      active_.pop_back();
      levels_.pop_back();
      if (slot < active_.size()) {
        const ConstraintId moved = active_[slot];
        sift_up(slot);
        sift_down(constraints_[moved].active_slot);
      }
    }
    touched.clear();
  };

  while (unfixed > 0) {
    // The lowest level (ties to the lowest constraint id) is at the top of the heap; a bound
    // strictly below it comes first (constraints first on ties).
    if (next_bound < bounds.size() && (active_.empty() || bounds[next_bound].first < levels_[0])) {
      const auto [t, id] = bounds[next_bound++];
      if (!variables_[id].fixed) {
        fix(id, t);
        refresh_touched();
      }
      continue;
    }
    if (active_.empty()) break;
    // Saturated: fix every unfixed variable of the constraint at this level.
    const double t = levels_[0];
    const Constraint& c = constraints_[active_[0]];
    for (const auto& use : c.variables) {
      if (!variables_[use.index].fixed) fix(use.index, t);
    }
    refresh_touched();
  }
  solved_.insert(solved_.end(), vars.begin(), vars.end());
}

}  // namespace codesim::sim
