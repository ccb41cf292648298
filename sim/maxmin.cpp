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
  if (constraints_[c].component != kNone) {
    components_[constraints_[c].component].resolve_all = true;
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
  for (std::size_t i = 0; i < component.variables.size(); ++i) {
    if (!component.alive[i]) continue;  // its id may belong to another variable by now
    const VariableId id = component.variables[i];
    variables_[id].component = kNone;
    if (component.dirty) dirty_variables_.push_back(id);
  }
  for (ConstraintId c : component.constraints) {
    constraints_[c].component = kNone;
    if (component.dirty) dirty_constraints_.push_back(c);
  }
  component.variables.clear();
  component.constraints.clear();
  component.valid = false;
  component.dirty = false;
  free_components_.push_back(k);
}

MaxMinSystem::VariableId MaxMinSystem::add_variable(double weight, double bound) {
  if (!(weight > 0)) throw std::invalid_argument("MaxMinSystem: weight must be > 0");
  if (!(bound >= 0)) throw std::invalid_argument("MaxMinSystem: bound must be >= 0");
  VariableId id;
  if (!free_variables_.empty()) {
    id = free_variables_.take_lowest();
  } else {
    id = VariableId(variables_.size());
    variables_.push_back({});
    values_.push_back(0);
  }
  Variable& v = variables_[id];
  v.weight = weight;
  v.bound = bound;
  v.alive = true;
  v.component = kNone;
  v.constraints.clear();
  values_[id] = 0;
  dirty_variables_.push_back(id);
  return id;
}

void MaxMinSystem::expand(ConstraintId c, VariableId id, double coefficient) {
  if (!(coefficient > 0)) throw std::invalid_argument("MaxMinSystem: coefficient must be > 0");
  Variable& v = variables_.at(id);
  Constraint& constraint = constraints_.at(c);
  if (v.component != kNone) invalidate_component(v.component);
  if (constraint.component != kNone) invalidate_component(constraint.component);
  for (auto& use : v.constraints) {
    if (use.index == c) {
      use.coefficient += coefficient;
      for (auto& back : constraint.variables) {
        if (back.index == id && back.generation == v.generation) back.coefficient += coefficient;
      }
      mark_variable_dirty(id);
      return;
    }
  }
  v.constraints.push_back({c, 0, coefficient});
  constraint.variables.push_back({id, v.generation, coefficient});
  mark_variable_dirty(id);
}

MaxMinSystem::VariableId MaxMinSystem::add_variable(std::span<const ConstraintId> constraints,
                                                    double weight) {
  for (ConstraintId c : constraints) {
    if (c >= constraints_.size()) throw std::out_of_range("MaxMinSystem: unknown constraint");
  }
  const VariableId id = add_variable(weight);
  Variable& v = variables_[id];
  v.constraints.reserve(constraints.size());
  for (ConstraintId c : constraints) {
    Constraint& constraint = constraints_[c];
    if (constraint.component != kNone) invalidate_component(constraint.component);
    bool again = false;
    for (auto& use : v.constraints) {
      if (use.index != c) continue;
      again = true;
      ++use.coefficient;
      for (auto& back : constraint.variables) {
        if (back.index == id && back.generation == v.generation) ++back.coefficient;
      }
    }
    if (again) continue;
    v.constraints.push_back({c, 0, 1.0});
    constraint.variables.push_back({id, v.generation, 1.0});
  }
  return id;  // listed dirty by add_variable
}

void MaxMinSystem::remove_variable(VariableId id) {
  Variable& v = variables_.at(id);
  if (!v.alive) throw std::invalid_argument("MaxMinSystem: variable already removed");
  const std::uint32_t k = v.component;
  if (k != kNone) {
    // Dead in its component's arrays; the next solve re-solves from the batch that fixed it.
    Component& component = components_[k];
    component.alive[v.component_slot] = 0;
    ++component.dead;
    component.cut_batch = std::min(component.cut_batch, component.locals[v.component_slot].batch);
    v.component = kNone;
    mark_component_dirty(k);
  }
  // Its entries in the constraints' lists turn stale; the next search through them drops them.
  if (k == kNone) {
    for (const auto& use : v.constraints) dirty_constraints_.push_back(use.index);
  }
  v.constraints.clear();
  v.alive = false;
  ++v.generation;
  values_[id] = 0;
  free_variables_.release(id);
}

void MaxMinSystem::set_bound(VariableId id, double bound) {
  if (!(bound >= 0)) throw std::invalid_argument("MaxMinSystem: bound must be >= 0");
  Variable& v = variables_.at(id);
  v.bound = bound;
  if (v.component != kNone) {
    Component& component = components_[v.component];
    component.locals[v.component_slot].bound = bound;
    component.resolve_all = true;
    mark_component_dirty(v.component);
  } else {
    dirty_variables_.push_back(id);
  }
}

double MaxMinSystem::usage(ConstraintId c) const {
  double sum = 0;
  for (const auto& use : constraints_.at(c).variables) {
    if (variables_[use.index].generation != use.generation) continue;  // removed
    sum += use.coefficient * values_[use.index];
  }
  return sum;
}

void MaxMinSystem::solve() {
  ++stats_.solves;
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
      auto& list = constraints_[c].variables;
      for (std::size_t i = 0; i < list.size();) {
        const Use use = list[i];
        Variable& v = variables_[use.index];
        if (v.generation != use.generation) {  // removed: drop the stale entry
          list[i] = list.back();
          list.pop_back();
          continue;
        }
        ++i;
        if (v.mark == epoch_) continue;
        v.mark = epoch_;
        component_variables.push_back(use.index);
        for (const auto& back : v.constraints) visit_constraint(back.index);
      }
    }
    if (!component_variables.empty()) cache_and_solve(component_variables, component_constraints);
  };
  // Index loops: a search may append to the dirty lists (see cache_and_solve).
  for (std::size_t i = 0; i < dirty_variables_.size(); ++i) {
    const VariableId id = dirty_variables_[i];
    const Variable& v = variables_[id];
    if (v.alive && v.mark != epoch_) {
      if (v.component != kNone) {
        mark_component_dirty(v.component);
      } else {
        search_from({}, id, true);
      }
    }
  }
  for (std::size_t i = 0; i < dirty_constraints_.size(); ++i) {
    const ConstraintId c = dirty_constraints_[i];
    if (constraints_[c].mark != epoch_) {
      if (constraints_[c].component != kNone) {
        mark_component_dirty(constraints_[c].component);
      } else {
        search_from({c}, 0, false);
      }
    }
  }
  dirty_variables_.clear();
  dirty_constraints_.clear();
  // Components only removals or capacity and bound changes touched: solved as they are.
  for (std::size_t i = 0; i < dirty_components_.size(); ++i) {
    Component& component = components_[dirty_components_[i]];
    if (!component.valid || !component.dirty) continue;
    component.dirty = false;
    if (component.dead == component.variables.size()) {
      // Every variable removed (an all-to-all done): nothing to solve, nothing to keep. No live
      // variable uses its constraints (it would be one of them, or a use added since would
      // have dropped the component): their lists hold stale entries only.
      for (ConstraintId c : component.constraints) constraints_[c].variables.clear();
      invalidate_component(dirty_components_[i]);
      continue;
    }
    solve_component(component);
  }
  dirty_components_.clear();
}

void MaxMinSystem::sort_ids(std::vector<std::uint32_t>& ids, std::size_t universe) {
  // A large component is sorted through a bitmap of the id space (a linear pass); a small one
  // by std::sort.
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

void MaxMinSystem::transpose_uses(Component& component) {
  const std::size_t m = component.constraints.size();
  std::vector<std::uint32_t>& begin = component.constraint_begin;
  begin.assign(m + 1, 0);
  for (std::uint32_t c : component.use_constraint) ++begin[c + 1];
  for (std::size_t c = 0; c < m; ++c) begin[c + 1] += begin[c];
  component.constraint_variables.resize(component.use_constraint.size());
  std::vector<std::uint32_t> next(begin.begin(), begin.end() - 1);
  const auto& locals = component.locals;
  for (std::size_t v = 0; v < component.variables.size(); ++v) {
    for (std::uint32_t u = locals[v].first_use; u < locals[v + 1].first_use; ++u) {
      component.constraint_variables[next[component.use_constraint[u]]++] = std::uint32_t(v);
    }
  }
}

void MaxMinSystem::cache_and_solve(std::vector<VariableId>& vars, std::vector<ConstraintId>& cons) {
  ++stats_.components_searched;
  // Deterministic local numbering whatever order the search found them in.
  sort_ids(vars, variables_.size());
  sort_ids(cons, constraints_.size());
  for (ConstraintId c : cons) {
    if (constraints_[c].component != kNone) invalidate_component(constraints_[c].component);
  }
  for (VariableId id : vars) {
    if (variables_[id].component != kNone) invalidate_component(variables_[id].component);
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
  component.resolve_all = true;
  component.cut_batch = kNone;
  component.dead = 0;
  component.partial_solves = 0;
  component.variables.assign(vars.begin(), vars.end());
  component.constraints.assign(cons.begin(), cons.end());
  for (std::size_t i = 0; i < cons.size(); ++i) {
    constraints_[cons[i]].component = k;
    constraints_[cons[i]].component_slot = std::uint32_t(i);
  }
  const std::size_t n = vars.size();
  component.locals.resize(n + 1);
  component.alive.assign(n, 1);
  component.use_constraint.clear();
  component.use_coefficient.clear();
  bool unit = true;
  for (std::size_t i = 0; i < n; ++i) {
    Variable& v = variables_[vars[i]];
    v.component = k;
    v.component_slot = std::uint32_t(i);
    component.locals[i] = {v.weight, v.bound, values_[vars[i]],
                           std::uint32_t(component.use_constraint.size()), kNone};
    for (const auto& use : v.constraints) {
      component.use_constraint.push_back(constraints_[use.index].component_slot);
      component.use_coefficient.push_back(use.coefficient);
      unit = unit && use.coefficient == 1.0;
    }
  }
  component.locals[n] = {};
  component.locals[n].first_use = std::uint32_t(component.use_constraint.size());
  if (unit) component.use_coefficient.clear();
  transpose_uses(component);
  component.remaining.assign(cons.size(), 0);
  component.order.clear();
  component.batch_begin.clear();
  solve_component(component);
}

void MaxMinSystem::compact(Component& component) {
  const std::size_t n = component.variables.size();
  const bool unit = component.use_coefficient.empty();
  std::vector<std::uint32_t> index(n, kNone);  // old local index -> new
  std::uint32_t kept = 0, uses = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!component.alive[i]) continue;
    index[i] = kept;
    LocalVariable local = component.locals[i];
    const std::uint32_t end = component.locals[i + 1].first_use;
    for (std::uint32_t u = local.first_use; u < end; ++u, ++uses) {
      component.use_constraint[uses] = component.use_constraint[u];
      if (!unit) component.use_coefficient[uses] = component.use_coefficient[u];
    }
    local.first_use = uses - (end - local.first_use);
    component.locals[kept] = local;
    component.variables[kept] = component.variables[i];
    component.alive[kept] = 1;
    variables_[component.variables[kept]].component_slot = kept;
    ++kept;
  }
  component.variables.resize(kept);
  component.alive.resize(kept);
  component.locals.resize(kept + 1);
  component.locals[kept] = {};
  component.locals[kept].first_use = uses;
  component.use_constraint.resize(uses);
  if (!unit) component.use_coefficient.resize(uses);
  transpose_uses(component);
  // The record of the last solve holds live variables only; bounded variables may be dead.
  for (auto& v : component.order) v = index[v];
  std::erase_if(component.bounds, [&](const auto& b) { return index[b.second] == kNone; });
  for (auto& b : component.bounds) b.second = index[b.second];
  component.dead = 0;
}

void MaxMinSystem::solve_component(Component& component) {
  const std::size_t n = component.variables.size();
  ++stats_.components_solved;
  stats_.variables_solved += n;
  const std::size_t m = component.constraints.size();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double>& remaining = component.remaining;
  unfixed_weight_.assign(m, 0);
  unfixed_count_.assign(m, 0);
  std::size_t unfixed = 0;
  // Bitmap over the local variables, all zero between uses.
  const std::size_t words = n / 64 + 1;
  if (local_bits_.size() < words) local_bits_.resize(words, 0);
  LocalVariable* const locals = component.locals.data();
  const std::uint32_t* const use_constraint = component.use_constraint.data();
  const double* const use_coefficient = component.use_coefficient.data();
  const bool unit = component.use_coefficient.empty();
  auto coefficient = [&](std::uint32_t u) { return unit ? 1.0 : use_coefficient[u]; };
  // Dead variables count as fixed: the scans below skip them.
  auto unfix = [&](std::uint32_t v) {
    fixed_[v] = 0;
    ++unfixed;
    for (std::uint32_t u = locals[v].first_use; u < locals[v + 1].first_use; ++u) {
      unfixed_weight_[use_constraint[u]] += coefficient(u) * locals[v].weight;
      ++unfixed_count_[use_constraint[u]];
    }
  };
  if (component.cut_batch != kNone && ++component.partial_solves >= kFullSolveEvery) {
    component.resolve_all = true;
  }
  if (component.resolve_all) {
    component.partial_solves = 0;
    fixed_.assign(n, 1);
    for (std::size_t c = 0; c < m; ++c)
      remaining[c] = constraints_[component.constraints[c]].capacity;
    component.order.clear();
    component.batch_begin.clear();
    component.bounds.clear();
    for (std::uint32_t v = 0; v < n; ++v) {
      if (!component.alive[v]) continue;
      unfix(v);
      if (!std::isinf(locals[v].bound)) {
        component.bounds.emplace_back(locals[v].bound / locals[v].weight, v);
      }
    }
    std::sort(component.bounds.begin(), component.bounds.end());
  } else if (component.cut_batch != kNone) {
    // Partial re-solve: keep the batches before the first one that fixed a removed variable,
    // give the capacity of the later ones back, and fill on from there. Their variables are
    // visited in local order (through a bitmap) for a sequential walk of their uses.
    fixed_.assign(n, 1);
    const std::uint32_t cut = component.batch_begin[component.cut_batch];
    for (std::size_t p = cut; p < component.order.size(); ++p) {
      const std::uint32_t v = component.order[p];
      local_bits_[v / 64] |= std::uint64_t{1} << (v % 64);
    }
    for (std::size_t word = 0; word < words; ++word) {
      std::uint64_t bits = local_bits_[word];
      local_bits_[word] = 0;
      for (; bits != 0; bits &= bits - 1) {
        const auto v = std::uint32_t(word * 64 + std::size_t(std::countr_zero(bits)));
        const double value = locals[v].value;
        const double weight = locals[v].weight;
        const bool alive = component.alive[v];
        for (std::uint32_t u = locals[v].first_use; u < locals[v + 1].first_use; ++u) {
          const std::uint32_t c = use_constraint[u];
          const double k = coefficient(u);
          remaining[c] += k * value;
          if (alive) {
            unfixed_weight_[c] += k * weight;
            ++unfixed_count_[c];
          }
        }
        if (alive) {
          fixed_[v] = 0;
          ++unfixed;
        }
      }
    }
    component.order.resize(cut);
    component.batch_begin.resize(component.cut_batch);
  } else {
    return;  // nothing that changes values
  }
  component.resolve_all = false;
  component.cut_batch = kNone;

  // The tournament tree: leaf width + c holds a level of constraint c (padded to a power of
  // two with infinities); inner node i (1 <= i < width) holds the winner of its children 2i and
  // 2i + 1, level and index: the lower level, ties to the left (the lower index, so the lower
  // constraint id). Fixing a variable only raises the levels of its constraints (the t it is
  // fixed at is below them), so a leaf is left at its old level, a lower bound, and refreshed
  // only when it wins: the refreshed leaf walks up to the root recomputing the winners on its
  // path. A winner whose level is current is the lowest.
  const std::size_t width = std::bit_ceil(std::max<std::size_t>(m, 1));
  tree_level_.assign(2 * width, inf);
  tree_index_.resize(2 * width);
  auto level_of = [&](std::uint32_t c) {
    return unfixed_count_[c] > 0 && unfixed_weight_[c] > 0 ? remaining[c] / unfixed_weight_[c]
                                                           : inf;
  };
  for (std::uint32_t c = 0; c < width; ++c) {
    tree_index_[width + c] = c;
    if (c < m) tree_level_[width + c] = level_of(c);
  }
  for (std::size_t node = width - 1; node >= 1; --node) {
    const std::size_t child = 2 * node + (tree_level_[2 * node + 1] < tree_level_[2 * node]);
    tree_level_[node] = tree_level_[child];
    tree_index_[node] = tree_index_[child];
  }
  auto update = [&](std::uint32_t c, double level) {
    // Only ever called for the winner: every node above its leaf changes. The new winner is
    // carried up in registers, and the siblings it meets do not depend on it.
    std::size_t node = width + c;
    double winner_level = level;
    std::uint32_t winner = c;
    tree_level_[node] = level;
    for (; node > 1; node /= 2) {
      const double sibling_level = tree_level_[node ^ 1];
      const std::uint32_t sibling = tree_index_[node ^ 1];
      // A left sibling wins ties.
      const bool sibling_wins =
          (node & 1) ? !(winner_level < sibling_level) : sibling_level < winner_level;
      winner_level = sibling_wins ? sibling_level : winner_level;
      winner = sibling_wins ? sibling : winner;
      tree_level_[node / 2] = winner_level;
      tree_index_[node / 2] = winner;
    }
  };

  auto fix = [&](std::uint32_t v, double t) {
    LocalVariable& local = locals[v];
    const double weight = local.weight;
    const double value = std::min(local.bound, weight * t);
    fixed_[v] = 1;
    --unfixed;
    local.batch = std::uint32_t(component.batch_begin.size() - 1);
    component.order.push_back(v);
    if (value != local.value) {
      local.value = value;
      local_bits_[v / 64] |= std::uint64_t{1} << (v % 64);
    }
    for (std::uint32_t u = local.first_use; u < locals[v + 1].first_use; ++u) {
      const std::uint32_t c = use_constraint[u];
      const double k = coefficient(u);
      remaining[c] = std::max(0.0, remaining[c] - k * value);
      // Count rather than trust the subtraction to reach exactly zero.
      if (--unfixed_count_[c] == 0) {
        unfixed_weight_[c] = 0;
      } else {
        unfixed_weight_[c] -= k * weight;
      }
    }
  };
  auto begin_batch = [&] {
    component.batch_begin.push_back(std::uint32_t(component.order.size()));
  };

  std::size_t next_bound = 0;
  const auto& bounds = component.bounds;
  while (unfixed > 0) {
    // The lowest level is the tree's winner; a bound strictly below it comes first
    // (constraints first on ties).
    std::uint32_t top = tree_index_[1];
    double level = level_of(top);
    while (level != tree_level_[1]) {
      update(top, level);
      top = tree_index_[1];
      level = level_of(top);
    }
    while (next_bound < bounds.size() && fixed_[bounds[next_bound].second]) ++next_bound;
    if (next_bound < bounds.size() && bounds[next_bound].first < level) {
      const auto [t, v] = bounds[next_bound++];
      begin_batch();
      fix(v, t);
      continue;
    }
    if (level == inf) break;
    // Saturated: fix every unfixed variable of the constraint at this level.
    // Its unfixed variables are gathered first, without a branch (which of them are fixed is
    // anyone's guess), then fixed.
    begin_batch();
    const std::uint32_t begin = component.constraint_begin[top];
    const std::uint32_t end = component.constraint_begin[top + 1];
    if (batch_.size() < end - begin) batch_.resize(end - begin);
    std::size_t count = 0;
    for (std::uint32_t u = begin; u < end; ++u) {
      const std::uint32_t v = component.constraint_variables[u];
      batch_[count] = v;
      count += std::size_t{fixed_[v] == 0};
    }
    for (std::size_t i = 0; i < count; ++i) fix(batch_[i], level);
  }
  if (unfixed > 0) {
    // Left: variables that use no constraint and have no bound (reported as unbounded rather
    // than loop), or whose constraints' unfixed weights rounded to zero (left at zero).
    begin_batch();
    for (std::uint32_t v = 0; v < n; ++v) {
      if (fixed_[v]) continue;
      const bool free = locals[v].first_use == locals[v + 1].first_use;
      fix(v, free ? inf : 0.0);
    }
  }
  // Report the changed variables in local (so id) order.
  for (std::size_t word = 0; word < words; ++word) {
    std::uint64_t bits = local_bits_[word];
    local_bits_[word] = 0;
    for (; bits != 0; bits &= bits - 1) {
      const std::size_t v = word * 64 + std::size_t(std::countr_zero(bits));
      const VariableId id = component.variables[v];
      values_[id] = locals[v].value;
      solved_.push_back(id);
    }
  }
  if (component.dead > 0 && 2 * component.dead >= n) compact(component);
}

}  // namespace codesim::sim
